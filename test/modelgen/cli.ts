/**
 * Command line: npx tsx test/modelgen/cli.ts <style> <outDir> [--hidden 512 --layers 8 ...] [--json]
 * Used by the benchmark to make a bench-size model without a network.
 */
import { parseArgs } from 'node:util';
import { generateModel } from './generate';
import { ModelGenError } from './options';
import { isModelStyle, MODEL_STYLES, type GenOptions } from './types';

const NUMERIC = {
  seed: 'seed',
  'vocab-size': 'vocabSize',
  hidden: 'hidden',
  layers: 'layers',
  heads: 'heads',
  intermediate: 'intermediate',
  'max-positions': 'maxPositions',
} as const;

const USAGE = `Usage: tsx test/modelgen/cli.ts <style> <outDir> [--seed N] [--vocab-size N] [--hidden N] [--layers N] [--heads N] [--intermediate N] [--max-positions N] [--fp16] [--json]
Styles: ${MODEL_STYLES.join(', ')}`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...Object.fromEntries(Object.keys(NUMERIC).map((k) => [k, { type: 'string' as const }])),
      fp16: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [style, outDir] = positionals;
  if (!style || !outDir || positionals.length > 2) {
    console.error(USAGE);
    return 2;
  }
  if (!isModelStyle(style)) {
    console.error(`Unknown style "${style}". ${USAGE.split('\n')[1]}`);
    return 2;
  }
  const opts: Partial<GenOptions> = { fp16: values.fp16 === true };
  for (const [flag, key] of Object.entries(NUMERIC)) {
    const raw = (values as Record<string, unknown>)[flag];
    if (typeof raw !== 'string') continue;
    const n = Number(raw);
    if (!Number.isInteger(n)) {
      console.error(`--${flag} needs an integer (got "${raw}").`);
      return 2;
    }
    opts[key] = n;
  }
  const start = Date.now();
  const model = await generateModel(style, outDir, opts);
  if (values.json) console.log(JSON.stringify(model, null, 2));
  else console.log(`${style}: ${model.numLayers} layers, hidden ${model.hidden}, vocab ${model.vocabSize} -> ${model.onnxPath} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof ModelGenError ? err.message : err);
    process.exit(1);
  },
);
