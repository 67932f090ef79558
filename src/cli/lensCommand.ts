/** `layer-profiler lens`: what each layer would predict next, read through the model's own final norm and head. */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_PROFILE_OPTIONS, type LoadOptions } from '../core/api';
import { DEFAULT_MAX_BATCH_TOKENS } from '../core/batching';
import { lensTokensToCsv, lensToCsv, lensToJson } from '../core/lens/lensExport';
import { LENS_SCHEMA, type LensDataset, type LensResults, type LensText } from '../core/lens/lensResults';
import { DEFAULT_LENS_K, LogitLens } from '../core/lens/logitLens';
import { walkedOnce } from '../core/dataset/sources';
import { datasetPasses, textPasses } from '../core/workload';
import type { WriteOutput } from './compareCommand';
import { formatProgress } from './format';
import { formatLensDatasets, formatLensText } from './formatLens';
import { parseDatasetArg, parseModelArg, UsageError } from './modelArg';
import { collect, positiveInt } from './optionParsers';

export interface LensCommandDeps<O> {
  loadOptions: (o: O, quiet: boolean) => LoadOptions;
  writeOutput: WriteOutput;
  signal: AbortSignal;
  commandArgs: string[];
}

interface LensOptions {
  model?: string;
  dtype?: string;
  revision?: string;
  text?: string[];
  file?: string[];
  dataset?: string[];
  k: number;
  maxTokens: number;
  batchSize: number;
  maxBatchTokens: number;
  json?: string;
  csv?: string;
  csvTokens?: string;
  quiet?: boolean;
}


/** `command` already carries the model options every subcommand shares. */
export function registerLensCommand<O extends object>(command: Command, deps: LensCommandDeps<O>): Command {
  return command
    .description("the logit lens: each layer's next-token prediction through the model's own final norm and head")
    .option('--text <text>', 'a text to read through the lens (repeatable)', collect)
    .option('--file <file>', 'a file to read through the lens (repeatable)', collect)
    .option('--dataset <name=path>', 'a dataset (folder or file) summarised per layer (repeatable)', collect)
    .option('--k <n>', 'top-k predictions kept per position', positiveInt, DEFAULT_LENS_K)
    .option('--max-tokens <n>', 'longest window of tokens', positiveInt, DEFAULT_PROFILE_OPTIONS.maxTokens)
    .option('--batch-size <n>', 'most windows per forward pass', positiveInt, DEFAULT_PROFILE_OPTIONS.batchSize)
    .option('--max-batch-tokens <n>', 'most tokens per forward pass (windows × padded length), up to --batch-size windows', positiveInt, DEFAULT_MAX_BATCH_TOKENS)
    .option('--json <file>', 'write lens results JSON (layer-profiler/lens@1)')
    .option('--csv <file>', 'write one CSV row per dataset and layer')
    .option('--csv-tokens <file>', 'write one CSV row per text, layer and position (for --text / --file)')
    .option('--quiet', 'no progress on stderr')
    .action(async (o: LensOptions & O) => {
      if (!o.text?.length && !o.file?.length && !o.dataset?.length) throw new UsageError('Give something to read through the lens: --text "...", --file FILE or --dataset NAME=PATH.');
      const outputs = [o.json, o.csv, o.csvTokens].filter((f): f is string => !!f);
      if (new Set(outputs.map((f) => path.resolve(f))).size !== outputs.length) throw new UsageError('--json, --csv and --csv-tokens must name different files.');
      const texts: { label: string; text: string; path?: string }[] = (o.text ?? []).map((text, i) => ({ label: `text ${i + 1}`, text }));
      for (const file of o.file ?? []) {
        try {
          texts.push({ label: file, text: await readFile(file, 'utf8'), path: file });
        } catch (err) {
          throw new UsageError(`Cannot read ${file}: ${(err as Error).message}`);
        }
      }
      const datasets = (o.dataset ?? []).map(parseDatasetArg);
      const log = (line: string) => !o.quiet && process.stderr.write(line + '\n');
      const spec = parseModelArg(o.model, o.dtype, o.revision);
      log(`loading ${spec.kind === 'hub' ? `${spec.id} (${spec.dtype})` : spec.path}`);
      const opts = { maxTokens: o.maxTokens, batchSize: o.batchSize, maxBatchTokens: o.maxBatchTokens };
      // The pass estimate and the run share one walk of each folder.
      const inputs = datasets.map((d) => walkedOnce({ name: d.name, paths: [d.path] }));
      const expectedPasses = textPasses(texts.map((t) => t.text), opts) + (await datasetPasses(inputs, opts));
      // Texts read through the lens show their tokens, which the main thread's tokenizer gives; datasets need only ids.
      const lens = await LogitLens.open(spec, { ...deps.loadOptions(o, !!o.quiet), k: o.k, expectedPasses, tokenizeInWorker: texts.length === 0 });
      try {
        const read: LensText[] = [];
        for (const t of texts) read.push(await lens.lensText(t.label, t.text, opts, deps.signal, t.path));
        const summaries: LensDataset[] = [];
        for (const input of inputs) {
          const run = lens.lensDataset(input, opts, deps.signal);
          for (;;) {
            const step = await run.next();
            if (step.done) {
              summaries.push(step.value);
              break;
            }
            log(formatProgress(step.value));
          }
        }
        const policy = lens.windowPolicy(opts);
        const results: LensResults = {
          schema: LENS_SCHEMA,
          model: lens.modelInfo(),
          runtime: lens.runtimeInfo(),
          settings: { k: o.k, maxTokens: o.maxTokens, windowTokens: policy.windowLength, windowsContinueThroughCache: policy.carriesCache, batchSize: o.batchSize },
          provenance: { createdAt: new Date().toISOString(), commandLine: ['layer-profiler', ...deps.commandArgs] },
          k: o.k,
          texts: read,
          datasets: summaries,
        };
        if (o.json) await deps.writeOutput(o.json, lensToJson(results));
        if (o.csv) await deps.writeOutput(o.csv, lensToCsv(results));
        if (o.csvTokens) await deps.writeOutput(o.csvTokens, lensTokensToCsv(results));
        for (const t of read) process.stdout.write(formatLensText(t));
        if (summaries.length) process.stdout.write(formatLensDatasets(summaries));
      } finally {
        await lens.dispose();
      }
    });
}
