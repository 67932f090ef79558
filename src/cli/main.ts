/**
 * `layer-profiler`: the command line on the same core as the extension.
 * Progress goes to stderr, tables and JSON to stdout; exit 0 on success, non-zero with a one-line reason.
 */
import { Command, CommanderError, Option } from 'commander';
import { statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_MAX_FILE_BYTES, DEFAULT_PROFILE_OPTIONS, type DatasetInput, type LoadOptions } from '../core/api';
import { DEFAULT_MAX_BATCH_TOKENS } from '../core/batching';
import { inspectModel, LayerProfiler } from '../core/profiler';
import type { DatasetResult, ProfileResults } from '../core/results';
import { buildResults, IncompatibleResultsError, mergeResults, toCsv, toJson } from '../core/results/build';
import { mergeProblems } from '../core/results/mergeCheck';
import { describeKind } from '../core/dataset/collect';
import { readResultsFile } from './resultsFile';
import { checkDistinctOutputs, checkOutputPath, OutputError, STDOUT, writeOutput as writeOutputNow } from './output';
import { TOOL_VERSION } from '../core/version';
import { describeDownload, throttled } from '../core/downloadProgress';
import { formatProgress, formatResultsTable } from './format';
import { formatInspect } from '../shared/inspectText';
import { parseDatasetArg, parseModelArg, UsageError } from './modelArg';
import { collect, positiveInt } from './optionParsers';
import { registerCompareCommand, reportProfileComparisons } from './compareCommand';
import { registerLensCommand } from './lensCommand';
import { allFromCache, openRecordCache } from '../core/cache/cachedRun';
import { defaultRecordCacheDir } from '../core/cache/recordCache';
import { resolveThreads } from '../core/runtime/cores';
import { keepFileHashesUnder } from '../core/onnx/fileHashStore';
import { parseShard, shardFromEnvironment } from '../core/dataset/shard';
import { DEVICES, type DeviceChoice } from '../core/runtime/device';
import { walkedOnce } from '../core/dataset/sources';
import { datasetPasses } from '../core/workload';
import { registerDiffCommand } from './diffCommand';
import { registerPatchCommand } from './patchCommand';


interface CommonOptions {
  model?: string;
  dtype?: string;
  revision?: string;
  cacheDir?: string;
  hubUrl?: string;
  threads?: number;
  graphOptimization?: 'disabled' | 'basic' | 'extended' | 'all';
  device?: DeviceChoice;
  tokenizer?: string;
}

function loadOptions(o: CommonOptions, signal: AbortSignal, quiet: boolean): LoadOptions {
  return {
    cacheDir: o.cacheDir,
    hubUrl: o.hubUrl ?? process.env.HF_ENDPOINT,
    threads: o.threads,
    graphOptimizationLevel: o.graphOptimization,
    ...(o.device ? { device: o.device } : {}),
    ...(o.tokenizer ? { tokenizer: o.tokenizer } : {}),
    signal,
    onDownloadProgress: quiet ? undefined : throttled(1000, (p) => process.stderr.write(`${describeDownload(p)}\n`)),
  };
}

/** `commandArgs`: the arguments after the program name, recorded in the results' provenance. */
export function buildProgram(signal: AbortSignal, commandArgs: string[] = [], hooks: SignalHooks = { exitCode: () => 130 }): Command {
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
      .option('--threads <n>', 'ONNX Runtime intra-op threads (default: one per physical core)', positiveInt)
      .addOption(new Option('--graph-optimization <level>', 'ONNX Runtime graph optimization level').choices(['disabled', 'basic', 'extended', 'all']).default('all'))
      .addOption(new Option('--device <device>', 'where to run: auto takes the first accelerator whose free memory fits the model, else the CPU').choices([...DEVICES]).default('auto'));

  withModelOptions(program.command('profile'))
    .description('profile datasets (folders or files) and report per-layer statistics')
    .option('--tokenizer <path>', "a tokenizer.json file, or a folder holding tokenizer.json and tokenizer_config.json, used instead of the model's")
    .requiredOption('--dataset <name=path>', 'a dataset: name=folder or name=file (repeatable)', collect)
    .option('--json <file>', 'write results JSON (layer-profiler/profile@2); - for stdout')
    .option('--csv <file>', 'write one CSV row per dataset and layer; - for stdout')
    .option('--max-tokens <n>', 'longest window of tokens; longer texts are split and pooled', positiveInt, DEFAULT_PROFILE_OPTIONS.maxTokens)
    .option('--batch-size <n>', 'most windows per forward pass', positiveInt, DEFAULT_PROFILE_OPTIONS.batchSize)
    .option('--max-batch-tokens <n>', 'most tokens per forward pass (windows × padded length): a batch holds as many windows as fit, up to --batch-size, so memory follows tokens', positiveInt, DEFAULT_MAX_BATCH_TOKENS)
    .option('--include <glob>', 'only files matching (repeatable)', collect)
    .option('--exclude <glob>', 'skip files matching (repeatable)', collect)
    .option('--max-file-size <bytes>', 'skip larger files', positiveInt, DEFAULT_MAX_FILE_BYTES)
    .option('--skip-first-token', "leave each text's first position (BOS) out of every statistic")
    .option('--merge-into <file>', 'merge with an earlier results JSON of the same model and settings')
    .option('--force', 'with --merge-into: merge even where texts overlap or settings differ')
    .option('--compare-json <file>', 'with two or more datasets, write the comparison of every pair (layer-profiler/compare@1)')
    .option('--no-cache', "profile every text again instead of reusing earlier runs' per-text records")
    .option('--record-cache <dir>', 'where per-text records are kept between runs (default ~/.cache/layer-profiler/records, or $LAYER_PROFILER_RECORD_CACHE)')
    .option('--shard <K/N>', 'profile only the K-th of N shards of every dataset (by content hash; Slurm arrays and Kubernetes Indexed Jobs are read from the environment)')
    .option('--quiet', 'no progress on stderr')
    .action(async (o: CommonOptions & { cache: boolean; recordCache?: string; shard?: string; dataset: string[]; json?: string; csv?: string; compareJson?: string; maxTokens: number; batchSize: number; maxBatchTokens: number; include?: string[]; exclude?: string[]; maxFileSize: number; mergeInto?: string; force?: boolean; skipFirstToken?: boolean; quiet?: boolean }) => {
      const spec = parseModelArg(o.model, o.dtype, o.revision);
      const datasets = o.dataset.map(parseDatasetArg);
      const names = new Set<string>();
      for (const d of datasets) {
        if (names.has(d.name)) throw new UsageError(`Two datasets are named '${d.name}'; give each a distinct name=path.`);
        names.add(d.name);
      }
      const log = (line: string) => !o.quiet && process.stderr.write(line + '\n');
      // Everything that can be checked is checked now, not after the model has loaded and run.
      for (const d of datasets) checkDatasetPath(d.name, d.path);
      checkDistinctOutputs([{ option: '--json', file: o.json }, { option: '--csv', file: o.csv }, { option: '--compare-json', file: o.compareJson }]);
      if (o.json) checkOutputPath(o.json, '--json');
      if (o.csv) checkOutputPath(o.csv, '--csv');
      if (o.compareJson) checkOutputPath(o.compareJson, '--compare-json');
      const earlier = o.mergeInto ? await readResultsFile(o.mergeInto) : undefined;
      const threads = capThreads(o.threads, (line) => process.stderr.write(line + '\n'));
      // With results on stdout, the tables go to stderr.
      const table = o.json === STDOUT || o.csv === STDOUT || o.compareJson === STDOUT ? process.stderr : process.stdout;

      const shard = o.shard !== undefined ? parseShard(o.shard) : shardFromEnvironment(process.env);
      if (shard && shard.count > 1) log(`shard ${shard.index + 1} of ${shard.count}`);
      const inputOf = (d: { name: string; path: string }): DatasetInput => ({ name: d.name, paths: [d.path], include: o.include, exclude: o.exclude, maxFileBytes: o.maxFileSize, ...(shard ? { shard } : {}) });
      // The cache check, the pass estimate and the run share one walk of each folder.
      const inputs = datasets.map((d) => walkedOnce(inputOf(d)));
      const cacheDir = o.recordCache ?? defaultRecordCacheDir();
      // Everything the run keeps goes where --record-cache says, the model files' hashes too.
      if (o.recordCache) keepFileHashesUnder(o.recordCache);
      const cache = o.cache && cacheDir
        ? await openRecordCache(cacheDir, spec, loadOptions({ ...o, threads }, signal, !!o.quiet), { maxTokens: o.maxTokens, skipFirstToken: !!o.skipFirstToken, graphOptimizationLevel: o.graphOptimization ?? 'all', threads: resolveThreads(threads) })
        : undefined;
      const cacheNote = () => (cache ? { cache: { profiled: cache.stored, fromCache: cache.hits } } : {});
      const fromCache = cache ? await allFromCache(inputs, cache) : undefined;
      if (fromCache) {
        // Every text was profiled before with this model and these settings: no model is loaded.
        log(`0 profiled, ${cache!.hits} from cache (${cacheDir}); the model was not loaded`);
        const settings = { ...fromCache.facts.settings, batchSize: o.batchSize, maxBatchTokens: o.maxBatchTokens, maxFileBytes: o.maxFileSize, ...(o.include ? { include: o.include } : {}), ...(o.exclude ? { exclude: o.exclude } : {}) };
        let out = buildResults(fromCache.facts.model, fromCache.facts.runtime, settings, fromCache.datasets, { createdAt: new Date().toISOString(), commandLine: ['layer-profiler', ...commandArgs], ...cacheNote() });
        if (earlier) {
          refuseOrWarn(mergeProblems(earlier, out, o.mergeInto!, 'this run'), `--merge-into ${o.mergeInto}`, !!o.force);
          out = mergeResults(earlier, out);
        }
        const saved = saveOutputs(out, o);
        table.write(formatResultsTable(out));
        if (saved) throw new OutputError(saved);
        await reportProfileComparisons(out, o.compareJson, async (f, c) => writeOutputNow(f, c), table);
        return;
      }
      // Some text must run: count only what the real run takes from the cache.
      if (cache) cache.hits = 0;

      log(`loading ${spec.kind === 'hub' ? `${spec.id} (${spec.dtype})` : spec.dtype ? `${spec.path} (${spec.dtype})` : spec.path}`);
      const expectedPasses = await datasetPasses(inputs, o);
      const profiler = await LayerProfiler.open(spec, { ...loadOptions({ ...o, threads }, signal, !!o.quiet), expectedPasses, tokenizeInWorker: true });
      try {
        log(`found ${profiler.numLayers} layers`);
        const opts = { maxTokens: o.maxTokens, batchSize: o.batchSize, maxBatchTokens: o.maxBatchTokens, skipFirstToken: !!o.skipFirstToken };
        const settings = { ...profiler.effectiveSettings(opts), maxFileBytes: o.maxFileSize, ...(o.include ? { include: o.include } : {}), ...(o.exclude ? { exclude: o.exclude } : {}) };
        const provenance = () => ({ createdAt: new Date().toISOString(), commandLine: ['layer-profiler', ...commandArgs], ...cacheNote() });
        const assemble = (done: DatasetResult[]) => buildResults(profiler.modelInfo(), profiler.runtimeInfo(), settings, done, provenance());
        if (earlier) {
          // The model and the settings are known now: a merge that must fail fails before the run.
          // The tokenizer's hash comes from the thread that will read the texts (no second load).
          await profiler.getIdsEncoder();
          if (earlier.model.sha256 !== profiler.modelInfo().sha256) throw new UsageError(`--merge-into ${o.mergeInto} holds results of another model (${earlier.model.id}, sha256 ${earlier.model.sha256.slice(0, 12)}); this run's model is ${profiler.modelInfo().sha256.slice(0, 12)}.`);
          refuseOrWarn(mergeProblems(earlier, assemble([]), o.mergeInto!, 'this run'), `--merge-into ${o.mergeInto}`, !!o.force);
        }
        if (settings.windowTokens < o.maxTokens) log(`windows of ${settings.windowTokens} tokens: the model takes no more in one pass`);
        const results: DatasetResult[] = [];
        const live: { snapshot?: () => DatasetResult } = {};
        // A second interrupt: save what is finished at once, then quit.
        hooks.emergency = () => {
          const done = [...results, ...(live.snapshot ? [live.snapshot()] : [])];
          if (!done.some((d) => d.texts > 0)) return 'nothing was finished; nothing written';
          let out = assemble(done);
          if (earlier) {
            if (mergeProblems(earlier, out, o.mergeInto!, 'this run').length && !o.force) return `not merged into ${o.mergeInto} (they overlap or differ); this run's results are saved in ${saveRecovery(out)}`;
            out = mergeResults(earlier, out);
          }
          return saveOutputs(out, o);
        };
        for (const input of inputs) {
          const run = profiler.profileDataset(input, opts, signal, live, cache);
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
        hooks.emergency = undefined;
        for (const d of results) for (const s of d.skipped) log(`skipped ${s.path}: ${s.reason}`);
        if (cache) {
          await cache.putFacts({ model: profiler.modelInfo(), runtime: profiler.runtimeInfo(), settings: profiler.effectiveSettings(opts), substepKinds: profiler.session.substepKinds });
          await cache.evict();
          log(`${cache.stored} profiled, ${cache.hits} from cache`);
        }
        let out: ProfileResults = assemble(results);
        const profiled = results.reduce((n, d) => n + d.texts, 0);
        if (profiled === 0) {
          table.write(formatResultsTable(out));
          const why = signal.aborted ? 'the run was interrupted before a text was finished' : results.map((d) => `dataset ${d.name}: ${d.skipped.length} skipped`).join(', ');
          throw new NothingProfiledError(`No text was profiled (${why}); no output written.`);
        }
        if (earlier) {
          const problems = mergeProblems(earlier, out, o.mergeInto!, 'this run');
          try {
            refuseOrWarn(problems, `--merge-into ${o.mergeInto}`, !!o.force);
            out = mergeResults(earlier, out);
          } catch (err) {
            const recovery = saveRecovery(out);
            table.write(formatResultsTable(out));
            throw new UsageError(`${(err as Error).message} This run's results are saved in ${recovery}.`);
          }
        }
        const saved = saveOutputs(out, o);
        table.write(formatResultsTable(out));
        if (saved) throw new OutputError(saved);
        await reportProfileComparisons(out, o.compareJson, async (f, c) => writeOutputNow(f, c), table);
        if (signal.aborted) {
          log('cancelled: the results above hold the texts finished before the interrupt');
          process.exitCode = hooks.exitCode();
        }
      } finally {
        hooks.emergency = undefined;
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
    .description('merge results JSON files of the same model and settings (datasets with one name combine exactly)')
    .argument('<files...>')
    .requiredOption('--json <file>', 'where to write the merged results (- for stdout)')
    .option('--csv <file>', 'also write CSV (- for stdout)')
    .option('--force', 'merge even where the files share texts or their settings differ')
    .action(async (files: string[], o: { json: string; csv?: string; force?: boolean }) => {
      checkDistinctOutputs([{ option: '--json', file: o.json }, { option: '--csv', file: o.csv }]);
      checkOutputPath(o.json, '--json');
      if (o.csv) checkOutputPath(o.csv, '--csv');
      const all = [];
      for (const f of files) all.push(await readResultsFile(f));
      let merged = all[0];
      for (let i = 1; i < all.length; i++) {
        const sofar = files.slice(0, i).join(' + ');
        refuseOrWarn(mergeProblems(merged, all[i], sofar, files[i]), 'merge', !!o.force);
        try {
          merged = mergeResults(merged, all[i]);
        } catch (err) {
          const reason = err instanceof IncompatibleResultsError ? err.message : `they do not fit together (${(err as Error).message})`;
          throw new UsageError(`Cannot merge ${files[i]} with ${sofar}: ${reason}`);
        }
      }
      if (all.length > 1) merged = { ...merged, provenance: { ...merged.provenance!, commandLine: ['layer-profiler', ...commandArgs] } };
      writeOutputNow(o.json, toJson(merged));
      if (o.csv) writeOutputNow(o.csv, toCsv(merged));
      (o.json === STDOUT || o.csv === STDOUT ? process.stderr : process.stdout).write(formatResultsTable(merged));
    });

  registerCompareCommand(program, async (f, c) => writeOutputNow(f, c));
  const deps = { loadOptions: (o: CommonOptions, quiet: boolean) => loadOptions(o, signal, quiet), writeOutput: async (f: string, c: string) => writeOutputNow(f, c), signal, commandArgs };
  registerLensCommand(withModelOptions(program.command('lens')), deps);
  registerDiffCommand(withModelOptions(program.command('diff')), deps);
  registerPatchCommand(withModelOptions(program.command('patch')), deps);

  return program;
}

/** A run that profiled no text at all (every file skipped, or interrupted before one was finished). */
class NothingProfiledError extends Error {}

/** What main() and the profile command share about interrupts. */
export interface SignalHooks {
  /** Saves what is finished, synchronously; returns an error line if a write failed. */
  emergency?: () => string | undefined;
  /** Exit status for the signal received (128 + its number). */
  exitCode: () => number;
}

/** Writes the JSON and CSV outputs; returns a message naming the recovery file when one failed. */
function saveOutputs(out: ProfileResults, o: { json?: string; csv?: string }): string | undefined {
  const failures: string[] = [];
  for (const [file, content] of [[o.json, () => toJson(out)], [o.csv, () => toCsv(out)]] as const) {
    if (!file) continue;
    try {
      writeOutputNow(file, content());
    } catch (err) {
      failures.push((err as Error).message);
    }
  }
  if (!failures.length) return undefined;
  const recovery = saveRecovery(out);
  return `${failures.join(' ')} The results are saved in ${recovery}.`;
}

/** Saves results that could not go where asked, in the current folder or else the temporary one. */
function saveRecovery(out: ProfileResults): string {
  const name = `layer-profiler-recovery-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.json`;
  for (const dir of [process.cwd(), os.tmpdir()]) {
    const file = path.join(dir, name);
    try {
      writeFileSync(file, toJson(out), { flag: 'wx' });
      return file;
    } catch {
      // try the next folder
    }
  }
  return '(nowhere: neither the current nor the temporary folder is writable)';
}

function refuseOrWarn(problems: string[], what: string, force: boolean): void {
  if (!problems.length) return;
  if (!force) throw new UsageError(`${what}: ${problems.join('; ')}. Pass --force to merge anyway.`);
  for (const p of problems) process.stderr.write(`warning: ${what}: ${p} (merged anyway: --force)\n`);
}

/** A dataset path must be a folder or a regular file: a FIFO or a device would block or never end. */
function checkDatasetPath(name: string, p: string): void {
  let info;
  try {
    info = statSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`Dataset '${name}': ${p} ${code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be read (${(err as Error).message})`}.`);
  }
  if (!info.isFile() && !info.isDirectory()) throw new UsageError(`Dataset '${name}': ${p} is ${describeKind(info)}; give a folder or a text file.`);
}

/** More ONNX Runtime threads than cores only slows it down (threads wait on one another). */
function capThreads(threads: number | undefined, warn: (line: string) => void): number | undefined {
  const cores = os.availableParallelism();
  if (threads === undefined || threads <= cores) return threads;
  warn(`warning: --threads ${threads} is more than the ${cores} cores here; using ${cores} (more threads than cores slows ONNX Runtime down)`);
  return cores;
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  let received: string | undefined;
  const hooks: SignalHooks = { exitCode: () => 128 + (SIGNAL_NUMBERS[received ?? 'SIGINT'] ?? 2) };
  const onSignal = (sig: NodeJS.Signals) => {
    received = sig;
    if (controller.signal.aborted) {
      // The second one: save what is finished now rather than wait for the current pass.
      const save = hooks.emergency;
      hooks.emergency = undefined;
      let note = 'quitting at once';
      if (save) {
        try {
          const failed = save();
          note = failed ? `quitting; ${failed}` : 'quitting; the finished texts are written';
        } catch (err) {
          note = `quitting; saving failed: ${(err as Error).message}`;
        }
      }
      process.stderr.write(`\n${sig}: ${note}\n`);
      process.exit(hooks.exitCode());
    }
    const what = sig === 'SIGINT' ? 'interrupt' : sig;
    process.stderr.write(`\n${what}: finishing the current window, then writing the finished texts (${sig === 'SIGINT' ? 'press Ctrl-C' : `send ${sig}`} again to save them and quit at once)\n`);
    controller.abort();
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const sig of signals) process.on(sig, onSignal);
  // After SIGHUP the terminal may be gone: a failed progress line must not stop results being written.
  const ignore = () => {};
  process.stderr.on('error', ignore);
  const program = buildProgram(controller.signal, argv.slice(2), hooks);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    const message = (err as Error).message ?? String(err);
    process.stderr.write(`layer-profiler: error: ${message.split('\n')[0]}\n`);
    if (process.env.LAYER_PROFILER_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    if (controller.signal.aborted) return hooks.exitCode();
    return err instanceof UsageError ? 2 : 1;
  } finally {
    for (const sig of signals) process.off(sig, onSignal);
    process.stderr.off('error', ignore);
  }
}
