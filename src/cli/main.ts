/**
 * `layer-profiler`: the command line on the same core as the extension.
 * Progress goes to stderr, tables and JSON to stdout; exit 0 on success, non-zero with a one-line reason.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_MAX_FILE_BYTES, DEFAULT_PROFILE_OPTIONS, type DatasetInput, type LoadOptions } from '../core/api';
import { inspectModel, LayerProfiler } from '../core/profiler';
import type { DatasetResult, ProfileResults } from '../core/results';
import { buildResults, mergeResults, toCsv, toJson } from '../core/results/build';
import { readResultsFile } from './resultsFile';
import { TOOL_VERSION } from '../core/version';
import { describeDownload, throttled } from '../core/downloadProgress';
import { formatInspect, formatProgress, formatResultsTable } from './format';
import { parseDatasetArg, parseModelArg, UsageError } from './modelArg';
import { registerCompareCommand, reportProfileComparisons } from './compareCommand';
import { registerLensCommand } from './lensCommand';
import { registerDiffCommand } from './diffCommand';
import { registerPatchCommand } from './patchCommand';

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
};
const collect = (v: string, prev: string[] = []) => [...prev, v];

interface CommonOptions {
  model?: string;
  dtype?: string;
  revision?: string;
  cacheDir?: string;
  hubUrl?: string;
  threads?: number;
  graphOptimization?: 'disabled' | 'basic' | 'extended' | 'all';
  tokenizer?: string;
}

function loadOptions(o: CommonOptions, signal: AbortSignal, quiet: boolean): LoadOptions {
  return {
    cacheDir: o.cacheDir,
    hubUrl: o.hubUrl ?? process.env.HF_ENDPOINT,
    threads: o.threads,
    graphOptimizationLevel: o.graphOptimization,
    ...(o.tokenizer ? { tokenizer: o.tokenizer } : {}),
    signal,
    onDownloadProgress: quiet ? undefined : throttled(1000, (p) => process.stderr.write(`${describeDownload(p)}\n`)),
  };
}

/** `commandArgs`: the arguments after the program name, recorded in the results' provenance. */
export function buildProgram(signal: AbortSignal, commandArgs: string[] = []): Command {
  const program = new Command('layer-profiler')
    .description('Measure how much each transformer layer changes the residual stream, on your texts.')
    .version(TOOL_VERSION)
    // Before any subcommand exists, so they inherit it: errors come back to main() as exceptions.
    .exitOverride()
    .showHelpAfterError('(add --help for usage)');

  const withModelOptions = (c: Command) =>
    c
      .option('--model <id|folder>', 'Hugging Face model id, model folder or .onnx file (default onnx-community/Qwen2.5-Coder-0.5B-Instruct)')
      .option('--dtype <dtype>', 'which weights: fp32, fp16, q8, int8, uint8, q4, q4f16, bnb4 (transformers.js names, onnx/model_q4.onnx for q4); a Hub model defaults to q8, a local folder to model.onnx or onnx/model.onnx')
      .option('--revision <rev>', 'Hub revision (branch, tag or commit)')
      .option('--cache-dir <dir>', 'where Hub downloads are kept (default ~/.cache/layer-profiler/hub, or $LAYER_PROFILER_CACHE)')
      .option('--hub-url <url>', 'Hub endpoint (default https://huggingface.co, or $HF_ENDPOINT)')
      .option('--threads <n>', 'ONNX Runtime intra-op threads (default: all cores)', positiveInt)
      .addOption(new Option('--graph-optimization <level>', 'ONNX Runtime graph optimization level').choices(['disabled', 'basic', 'extended', 'all']).default('all'));

  withModelOptions(program.command('profile'))
    .description('profile datasets (folders or files) and report per-layer statistics')
    .option('--tokenizer <path>', "a tokenizer.json file, or a folder holding tokenizer.json and tokenizer_config.json, used instead of the model's")
    .requiredOption('--dataset <name=path>', 'a dataset: name=folder or name=file (repeatable)', collect)
    .option('--json <file>', 'write results JSON (layer-profiler/profile@1)')
    .option('--csv <file>', 'write one CSV row per dataset and layer')
    .option('--max-tokens <n>', 'longest window of tokens; longer texts are split and pooled', positiveInt, DEFAULT_PROFILE_OPTIONS.maxTokens)
    .option('--batch-size <n>', 'windows per forward pass', positiveInt, DEFAULT_PROFILE_OPTIONS.batchSize)
    .option('--include <glob>', 'only files matching (repeatable)', collect)
    .option('--exclude <glob>', 'skip files matching (repeatable)', collect)
    .option('--max-file-size <bytes>', 'skip larger files', positiveInt, DEFAULT_MAX_FILE_BYTES)
    .option('--skip-first-token', "leave each text's first position (BOS) out of every statistic")
    .option('--merge-into <file>', 'merge with an earlier results JSON of the same model')
    .option('--compare-json <file>', 'with two or more datasets, write the comparison of every pair (layer-profiler/compare@1)')
    .option('--quiet', 'no progress on stderr')
    .action(async (o: CommonOptions & { dataset: string[]; json?: string; csv?: string; compareJson?: string; maxTokens: number; batchSize: number; include?: string[]; exclude?: string[]; maxFileSize: number; mergeInto?: string; skipFirstToken?: boolean; quiet?: boolean }) => {
      const spec = parseModelArg(o.model, o.dtype, o.revision);
      const datasets = o.dataset.map(parseDatasetArg);
      const names = new Set<string>();
      for (const d of datasets) {
        if (names.has(d.name)) throw new UsageError(`Two datasets are named '${d.name}'; give each a distinct name=path.`);
        names.add(d.name);
      }
      // A mistyped dataset path fails now, not after the model has loaded.
      for (const d of datasets) if (!existsSync(d.path)) throw new UsageError(`Dataset '${d.name}': ${d.path} does not exist.`);
      const log = (line: string) => !o.quiet && process.stderr.write(line + '\n');
      log(`loading ${spec.kind === 'hub' ? `${spec.id} (${spec.dtype})` : spec.dtype ? `${spec.path} (${spec.dtype})` : spec.path}`);
      const profiler = await LayerProfiler.open(spec, loadOptions(o, signal, !!o.quiet));
      try {
        log(`found ${profiler.numLayers} layers`);
        const opts = { maxTokens: o.maxTokens, batchSize: o.batchSize, skipFirstToken: !!o.skipFirstToken };
        const results: DatasetResult[] = [];
        for (const d of datasets) {
          const input: DatasetInput = { name: d.name, paths: [d.path], include: o.include, exclude: o.exclude, maxFileBytes: o.maxFileSize };
          const run = profiler.profileDataset(input, opts, signal);
          for (;;) {
            const step = await run.next();
            if (step.done) {
              results.push(step.value);
              break;
            }
            log(formatProgress(step.value));
          }
          if (signal.aborted) break;
        }
        const settings = { ...profiler.effectiveSettings(opts), maxFileBytes: o.maxFileSize, ...(o.include ? { include: o.include } : {}), ...(o.exclude ? { exclude: o.exclude } : {}) };
        if (settings.windowTokens < o.maxTokens) log(`windows of ${settings.windowTokens} tokens: the model takes no more in one pass`);
        let out: ProfileResults = buildResults(profiler.modelInfo(), profiler.runtimeInfo(), settings, results, { createdAt: new Date().toISOString(), commandLine: ['layer-profiler', ...commandArgs] });
        if (o.mergeInto) out = mergeResults(await readResultsFile(o.mergeInto), out);
        for (const d of results) for (const s of d.skipped) log(`skipped ${s.path}: ${s.reason}`);
        if (o.json) await writeOutput(o.json, toJson(out));
        if (o.csv) await writeOutput(o.csv, toCsv(out));
        process.stdout.write(formatResultsTable(out));
        await reportProfileComparisons(out, o.compareJson, writeOutput);
        if (signal.aborted) {
          log('cancelled: the results above hold the texts finished before the interrupt');
          process.exitCode = 130;
        }
      } finally {
        await profiler.dispose();
      }
    });

  withModelOptions(program.command('inspect'))
    .description('list the transformer layers found in a model and the residual tensors probed')
    .option('--json', 'print { model, layers: [{ layer, residual, substeps }] }')
    .action(async (o: CommonOptions & { json?: boolean }) => {
      const spec = parseModelArg(o.model, o.dtype, o.revision);
      const result = await inspectModel(spec, loadOptions(o, signal, !!o.json));
      process.stdout.write(o.json ? JSON.stringify(result, null, 2) + '\n' : formatInspect(result));
    });

  program
    .command('merge')
    .description('merge results JSON files of the same model (datasets with one name combine exactly)')
    .argument('<files...>')
    .requiredOption('--json <file>', 'where to write the merged results')
    .option('--csv <file>', 'also write CSV')
    .action(async (files: string[], o: { json: string; csv?: string }) => {
      const all = await Promise.all(files.map(readResultsFile));
      const merged = all.slice(1).reduce(mergeResults, all[0]);
      await writeOutput(o.json, toJson(merged));
      if (o.csv) await writeOutput(o.csv, toCsv(merged));
      process.stdout.write(formatResultsTable(merged));
    });

  registerCompareCommand(program, writeOutput);
  const deps = { loadOptions: (o: CommonOptions, quiet: boolean) => loadOptions(o, signal, quiet), writeOutput, signal, commandArgs };
  registerLensCommand(withModelOptions(program.command('lens')), deps);
  registerDiffCommand(withModelOptions(program.command('diff')), deps);
  registerPatchCommand(withModelOptions(program.command('patch')), deps);

  return program;
}

/** Writes beside the target and renames, so a reader never sees half a file. */
async function writeOutput(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, content);
  const { rename } = await import('node:fs/promises');
  await rename(tmp, file);
}

export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\ninterrupt: finishing the current batch (press Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  const program = buildProgram(controller.signal, argv.slice(2));
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    const message = (err as Error).message ?? String(err);
    process.stderr.write(`layer-profiler: error: ${message.split('\n')[0]}\n`);
    if (process.env.LAYER_PROFILER_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    return err instanceof UsageError ? 2 : 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
