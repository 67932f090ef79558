/**
 * The bench's memory and throughput sections (see run.ts), each configuration in its own process
 * so that its peak RSS is its own:
 * - batching: tokens/s and peak RSS for batches of 1, 4 and 16 windows of 512 and 2048 tokens
 *   (the token budget opened to batch × window so the count decides, as a fixed batch did), and
 *   at the default budget;
 * - folders: peak RSS of the command line (`profile`, or `lens`) over folders of growing size at
 *   the default settings: flat (within 10%) and within the model's size + 1 GB;
 * - cache: the same folder profiled with an empty record cache, then again (no model loaded).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_PROFILE_OPTIONS } from '../src/core/api';
import type { CliPeak } from './cliPeak';
import type { PassArgs, PassResult } from './passSide';
import { writeTextFolder } from './texts';

const GIB = 2 ** 30;

/** Runs a bench script under tsx and returns its stdout and stderr; fails with its stderr. */
function runScript(script: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', path.join(__dirname, script), ...args], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${script} failed: ${stderr || err.message}`));
      else resolve({ stdout, stderr });
    });
  });
}

export interface BatchRow extends PassResult {
  window: number;
  batchSize: number;
  maxBatchTokens: number;
}

/** Batches of 1, 4 and 16 windows (the count deciding), and the default batch and budget, for each window length. */
export async function batchingSection(modelDir: string, o: { windows: number[]; batches: number[]; defaultBudget: number; texts: (window: number) => number; threads?: number; log: (s: string) => void }): Promise<BatchRow[]> {
  const rows: BatchRow[] = [];
  for (const window of o.windows) {
    const configs = [...o.batches.map((b) => ({ batchSize: b, maxBatchTokens: b * window })), { batchSize: DEFAULT_PROFILE_OPTIONS.batchSize, maxBatchTokens: o.defaultBudget }];
    for (const c of configs) {
      const args: PassArgs = { modelDir, window, ...c, texts: o.texts(window), threads: o.threads };
      const result = JSON.parse((await runScript('passSide.ts', [JSON.stringify(args)])).stdout) as PassResult;
      rows.push({ window, ...c, ...result });
      o.log(`  window ${window}, batch ${c.batchSize} within ${c.maxBatchTokens} tokens: ${result.tokensPerSecond.toFixed(0)} tokens/s, largest pass ${result.largestBatch} windows, peak RSS ${mib(result.runPeakRssBytes)} (loading ${mib(result.loadPeakRssBytes)})`);
    }
  }
  return rows;
}

export interface FolderRun extends CliPeak {
  files: number;
  tokens: number;
}

export interface FolderMemory {
  command: 'profile' | 'lens';
  modelBytes: number;
  /** The model's size + 1 GiB. */
  limitBytes: number;
  runs: FolderRun[];
  /** Largest peak over smallest. */
  peakRatio: number;
  flat: boolean;
  withinLimit: boolean;
}

/** The model's bytes: the .onnx file and its external data. */
export async function modelBytes(onnxPath: string): Promise<number> {
  const dir = path.dirname(onnxPath);
  let n = (await stat(onnxPath)).size;
  for (const f of [`${path.basename(onnxPath)}.data`, `${path.basename(onnxPath)}_data`]) n += await stat(path.join(dir, f)).then((s) => s.size, () => 0);
  return n;
}

/** Peak RSS of `command` over folders of each size (written under `root`), at the default settings. */
export async function folderSection(command: 'profile' | 'lens', modelDir: string, onnxPath: string, o: { sizes: number[]; root: string; medianChars: number; longChars: number; threads?: number; log: (s: string) => void }): Promise<FolderMemory> {
  const runs: FolderRun[] = [];
  for (const n of o.sizes) {
    const folder = await writeTextFolder(o.root, n, o.medianChars, o.longChars);
    const out = path.join(o.root, `${command}-${n}.json`);
    const peakFile = path.join(o.root, `${command}-${n}.peak.json`);
    const args = [peakFile, '--', command, '--model', modelDir, '--dataset', `d=${folder}`, '--json', out, '--quiet', ...(command === 'profile' ? ['--no-cache'] : []), ...(o.threads ? ['--threads', String(o.threads)] : [])];
    await runScript('cliPeak.ts', args);
    const peak = JSON.parse(await readFile(peakFile, 'utf8')) as CliPeak;
    const written = JSON.parse(await readFile(out, 'utf8')) as { datasets: { tokens: number }[] };
    runs.push({ files: n, tokens: written.datasets[0].tokens, ...peak });
    o.log(`  ${command} over ${n} files (${written.datasets[0].tokens} tokens): peak RSS ${mib(peak.peakRssBytes)}, at the end ${mib(peak.endRssBytes)}, ${peak.seconds.toFixed(1)} s`);
  }
  const bytes = await modelBytes(onnxPath);
  const peaks = runs.map((r) => r.peakRssBytes);
  const peakRatio = Math.max(...peaks) / Math.min(...peaks);
  return { command, modelBytes: bytes, limitBytes: bytes + GIB, runs, peakRatio, flat: peakRatio <= 1.1, withinLimit: Math.max(...peaks) <= bytes + GIB };
}

export interface CachedRerun {
  files: number;
  first: CliPeak;
  rerun: CliPeak;
  /** First run's time over the re-run's (whole process). */
  speedup: number;
  /** The re-run said it did not load the model. */
  rerunLoadedNoModel: boolean;
  /** The two runs' datasets are identical (records and statistics). */
  identical: boolean;
}

/** A folder profiled into an empty record cache, then again from it. */
export async function cacheSection(modelDir: string, o: { files: number; root: string; medianChars: number; longChars: number; threads?: number; log: (s: string) => void }): Promise<CachedRerun> {
  const folder = await writeTextFolder(o.root, o.files, o.medianChars, o.longChars);
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'lp-bench-records-'));
  try {
    const once = async (name: string) => {
      const out = path.join(o.root, `cache-${name}.json`);
      const peakFile = path.join(o.root, `cache-${name}.peak.json`);
      const { stderr } = await runScript('cliPeak.ts', [peakFile, '--', 'profile', '--model', modelDir, '--dataset', `d=${folder}`, '--json', out, '--record-cache', cacheDir, ...(o.threads ? ['--threads', String(o.threads)] : [])]);
      const results = JSON.parse(await readFile(out, 'utf8')) as { datasets: unknown[] };
      return { peak: JSON.parse(await readFile(peakFile, 'utf8')) as CliPeak, stderr, datasets: JSON.stringify(results.datasets) };
    };
    const first = await once('first');
    const rerun = await once('rerun');
    const result: CachedRerun = {
      files: o.files,
      first: first.peak,
      rerun: rerun.peak,
      speedup: first.peak.seconds / rerun.peak.seconds,
      rerunLoadedNoModel: /the model was not loaded/.test(rerun.stderr),
      identical: first.datasets === rerun.datasets,
    };
    o.log(`  ${o.files} files: first run ${first.peak.seconds.toFixed(1)} s (peak RSS ${mib(first.peak.peakRssBytes)}), cached re-run ${rerun.peak.seconds.toFixed(2)} s (peak RSS ${mib(rerun.peak.peakRssBytes)}): ${result.speedup.toFixed(0)}× faster${result.rerunLoadedNoModel ? ', no model loaded' : ''}${result.identical ? ', identical results' : ', RESULTS DIFFER'}`);
    return result;
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}

export const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
