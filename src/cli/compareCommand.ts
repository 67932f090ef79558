/**
 * `layer-profiler compare`: per-layer statistics between the datasets of a results file, and the
 * comparison tables `profile` prints after its per-dataset tables.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { comparableDatasets, compareResults, CompareError, defaultPerTextValues, DEFAULT_ALPHA, DEFAULT_METRIC, DEFAULT_SEED, type Selection } from '../core/compare/compare';
import { toCompareCsv, toCompareJson } from '../core/compare/export';
import { findingsMarkdown } from '../core/compare/findings';
import type { CompareResults, Correction } from '../core/compare/types';
import { readResultsFile } from './resultsFile';
import type { ProfileResults } from '../core/results';
import { formatComparisons } from './formatCompare';
import { UsageError } from './modelArg';

export type WriteOutput = (file: string, content: string) => Promise<void>;

interface CompareCliOptions {
  a?: string;
  b?: string;
  vsRest?: string;
  metric: string;
  correction: Correction;
  alpha: number;
  permutations?: number;
  seed: number;
  json?: string;
  csv?: string;
  markdown?: string;
}

const alphaArg = (v: string) => {
  const n = Number(v);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError('expected a number between 0 and 1, like 0.05');
  return n;
};
const intArg = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer of at least ${min}`);
  return n;
};

export function registerCompareCommand(program: Command, writeOutput: WriteOutput): Command {
  return program
    .command('compare')
    .description('compare the datasets of a results file layer by layer (Welch t, 95% CI, Hedges g, p adjusted across layers)')
    .argument('<results>', 'results JSON written by profile or merge')
    .option('--a <name>', 'first dataset of one pair (with --b)')
    .option('--b <name>', 'second dataset of one pair (with --a)')
    .option('--vs-rest <name>', 'one dataset against all the others pooled')
    .option('--metric <name>', 'per-layer metric: absMean, mean, l2, residL2, relChange, cosine (those in the file)', DEFAULT_METRIC)
    .addOption(new Option('--correction <method>', 'adjustment across the layers of each comparison').choices(['bh', 'holm', 'none']).default('bh'))
    .option('--alpha <a>', 'significance level for the adjusted p', alphaArg, DEFAULT_ALPHA)
    .option('--permutations <n>', 'also run a seeded permutation test with n relabellings (needs per-text values in the file)', intArg(1))
    .option('--seed <s>', 'seed of the permutation test', intArg(0), DEFAULT_SEED)
    .option('--json <file>', 'write the comparison JSON (layer-profiler/compare@1)')
    .option('--csv <file>', 'write one CSV row per comparison and layer')
    .option('--markdown <file>', 'write the findings in plain words as Markdown')
    .option('--skip-first-token', "compare statistics that leave each text's first position out: the results must have been profiled with --skip-first-token")
    .action(async (file: string, o: CompareCliOptions & { skipFirstToken?: boolean }) => {
      const results = await readResultsFile(file);
      // Statistics are computed when profiling; a comparison can only check which way they were.
      if (o.skipFirstToken && !results.settings.skipFirstToken) {
        throw new UsageError(`${file} was profiled with every text's first position included; profile again with --skip-first-token to compare statistics without it.`);
      }
      const selection = parseSelection(o);
      if (o.permutations) {
        const missing = comparableDatasets(results).filter((d) => !defaultPerTextValues(d, o.metric));
        if (missing.length) throw new UsageError(`--permutations needs per-text values, which ${file} does not have for ${missing.map((d) => d.name).join(', ')} (${results.schema} keeps per-layer summaries only).`);
      }
      const cmp = run(() => compareResults(results, { metric: o.metric, correction: o.correction, alpha: o.alpha, selection, ...(o.permutations ? { permutations: o.permutations, seed: o.seed } : {}) }));
      const skipped = results.datasets.filter((d) => d.layers.length === 0).map((d) => d.name);
      if (skipped.length) process.stderr.write(`left out (no profiled texts): ${skipped.join(', ')}\n`);
      if (o.json) await writeOutput(o.json, toCompareJson(cmp));
      if (o.csv) await writeOutput(o.csv, toCompareCsv(cmp));
      if (o.markdown) await writeOutput(o.markdown, findingsMarkdown(results, cmp));
      process.stdout.write(formatComparisons(cmp));
    });
}

/**
 * For `profile`: with two or more profiled datasets, prints a comparison table per pair (absMean,
 * Benjamini–Hochberg) after the per-dataset tables and writes the same as JSON to `compareJson`.
 * Returns the comparison, or undefined when there is nothing to compare.
 */
export async function reportProfileComparisons(results: ProfileResults, compareJson: string | undefined, writeOutput: WriteOutput, table: NodeJS.WritableStream = process.stdout): Promise<CompareResults | undefined> {
  if (comparableDatasets(results).length < 2) {
    if (compareJson) process.stderr.write(`--compare-json: nothing to compare (needs two datasets with profiled texts); ${compareJson} not written\n`);
    return undefined;
  }
  const cmp = compareResults(results);
  table.write('\n' + formatComparisons(cmp));
  if (compareJson) await writeOutput(compareJson, toCompareJson(cmp));
  return cmp;
}

function parseSelection(o: CompareCliOptions): Selection {
  if (o.vsRest !== undefined) {
    if (o.a !== undefined || o.b !== undefined) throw new UsageError('Use either --a NAME --b NAME or --vs-rest NAME, not both.');
    return { kind: 'vsRest', name: o.vsRest };
  }
  if ((o.a === undefined) !== (o.b === undefined)) throw new UsageError('--a and --b go together: name both datasets of the pair (or neither, for every pair).');
  return o.a !== undefined && o.b !== undefined ? { kind: 'pair', a: o.a, b: o.b } : { kind: 'pairs' };
}


function run<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof CompareError) throw new UsageError(err.message);
    throw err;
  }
}
