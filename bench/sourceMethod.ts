/**
 * The CLI end to end against the source experiments' method (bench/source_method.py: eager
 * PyTorch, a forward hook per decoder layer, `.cpu()` and `.item()` per layer, one text at a time),
 * on the same model and texts. The model is a Llama-shaped decoder built in plain PyTorch with
 * seeded weights and exported with torch.onnx.export, so both sides run identical weights; the
 * texts fit one window, so both run one exact pass per text and their per-layer values must agree
 * (checked, and printed). Each side runs as a whole process (start, load, every text, results),
 * in interleaved rounds whose order alternates, so machine noise favours neither; the ratio is
 * taken round by round (source time / CLI time).
 *
 * Skipped, with the reason, where the Python has no PyTorch (or no onnx, which export needs).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadTokenizer } from '../src/core/model/tokenizer';
import type { ProfileResults, TextRecord } from '../src/core/results';
import { buildTokenizerFiles } from '../test/modelgen/tokenizer/tokenizerFiles';
import { writeBenchTexts, type BenchText } from './sourceTexts';
import { defaultThreads } from '../src/core/runtime/cores';
import { range, type Range } from './summary';
import { ceilingFrom, ortGemmGflops, profilePassFlops, projectionShapes, type Ceiling, type GemmRate, type ProjectionShape } from './gemmCeiling';
import { DEFAULT_MAX_BATCH_TOKENS } from '../src/core/batching';

const ROOT = path.resolve(__dirname, '..');
const SCRIPT = path.join(__dirname, 'source_method.py');

export interface SourceComparisonOptions {
  python?: string;
  hidden?: number;
  layers?: number;
  heads?: number;
  kvHeads?: number;
  intermediate?: number;
  vocabSize?: number;
  /** Texts per run (each a file of up to one window). */
  texts?: number;
  /** Timed rounds, after one untimed warm-up round. */
  rounds?: number;
  /**
   * Threads of both sides (torch.set_num_threads, the CLI's --threads). Unset: the CLI runs at its
   * defaults, as users run it, and torch gets as many threads as the CLI's default (torch's own
   * default counts one core on the 2-core VM these numbers come from, as ORT's did).
   */
  threads?: number;
  /** Where the exported model and texts are kept between runs. */
  workDir?: string;
  log?: (line: string) => void;
}

export interface SourceComparison {
  /** Source seconds / CLI seconds, round by round. */
  ratio: Range;
  sourceSeconds: Range;
  cliSeconds: Range;
  texts: number;
  tokens: number;
  rounds: number;
  /**
   * The sides' per-text, per-layer values compared: absMean relative difference, and mean
   * difference relative to the same layer's absMean (means sit near zero).
   */
  agreement: { maxAbsMeanRelDiff: number; maxMeanDiffOverAbsMean: number; ok: boolean };
  model: { hidden: number; layers: number; heads: number; kvHeads: number; intermediate: number; vocabSize: number; onnxBytes: number };
  machine: { cpus: number; cpuModel: string; threads: number; torch: string; torchMatmulGflops: number };
  /** Torch's BLAS is too slow to stand for the source method: the ratio flatters the CLI. */
  slowBlas: boolean;
  /**
   * The machine's bound (gemmCeiling.ts): the passes' matrix products at the fastest float32 GEMM
   * rates measured here, and the source method's median time over that floor, the largest
   * speed-up any exact float32 profiler could show on this machine.
   */
  ceiling: Ceiling & {
    maxRatio: number;
    /** The same bound with ONNX Runtime's own GEMMs (the only ones onnxruntime-node runs): source time / ortSeconds. */
    maxRatioWithOrt: number;
  };
}

export type SourceComparisonResult = SourceComparison | { skipped: string };

const AGREEMENT_TOLERANCE = 1e-3;
/** Bump when source_method.py's export changes, so cached exports are remade. */
const EXPORT_VERSION = 1;
/**
 * Below this, torch's matmul runs on a reference BLAS (Debian's torch without OpenBLAS measures
 * about 1.5 GFLOPS on two cores, with OpenBLAS about 30-40): the source side would be slowed by a
 * build no experiment would use, and the ratio would flatter the CLI.
 */
const SLOW_BLAS_GFLOPS = 10;


export interface TorchProbe {
  torch: string;
  /** float32 matmul speed at the bench's threads: a reference (unoptimised) BLAS shows here. */
  matmulGflops: number;
  /** Rates on the shapes asked for. */
  shapes: { m: number; k: number; n: number; gflops: number }[];
}

/** The environment of a torch process on `threads` threads: torch's OpenMP pool and the BLAS's own threads. */
function torchEnv(threads: number): NodeJS.ProcessEnv {
  return { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
}

/** Torch's version and speed (also on `shapes`, [m, k, n] each), or why the comparison cannot run here. */
export function probeTorch(python: string, threads: number, shapes: [number, number, number][] = []): TorchProbe | { unavailable: string } {
  const shapeArgs = shapes.length ? ['--shapes', shapes.map((s) => s.join(',')).join(';')] : [];
  const probe = spawnSync(python, [SCRIPT, 'probe', '--threads', String(threads), ...shapeArgs], { encoding: 'utf8', env: torchEnv(threads) });
  if (probe.error) return { unavailable: `${python} cannot be run (${probe.error.message})` };
  if (probe.status !== 0) return { unavailable: `${python} has no PyTorch or no onnx package (${probe.stderr.trim().split('\n').pop()})` };
  return JSON.parse(probe.stdout) as TorchProbe;
}

/** Runs a process to its end; its wall time in seconds, or an error with its stderr. */
function timed(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: env ?? process.env });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve((performance.now() - start) / 1000) : reject(new Error(`${path.basename(cmd)} ${args[0]} exited ${code}:\n${stderr}`))));
  });
}

export type SourceModelShape = Omit<SourceComparison['model'], 'onnxBytes'>;

/**
 * The exported model folder (model.onnx, weights.pt, config.json, tokenizer) for `shape`, made
 * once under `workDir` and reused.
 */
export async function ensureSourceModel(python: string, workDir: string, shape: SourceModelShape, log: (s: string) => void = () => undefined): Promise<string> {
  const key = `v${EXPORT_VERSION}-${shape.hidden}-${shape.layers}-${shape.heads}-${shape.kvHeads}-${shape.intermediate}-${shape.vocabSize}`;
  const dir = path.join(workDir, `model-${key}`);
  if (existsSync(path.join(dir, 'model.onnx')) && existsSync(path.join(dir, 'tokenizer.json'))) return dir;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  log(`exporting the PyTorch model to ONNX in ${dir}`);
  const args = [SCRIPT, 'export', '--out', dir, '--hidden', shape.hidden, '--layers', shape.layers, '--heads', shape.heads, '--kv-heads', shape.kvHeads, '--intermediate', shape.intermediate, '--vocab-size', shape.vocabSize].map(String);
  await timed(python, args);
  const tok = buildTokenizerFiles(shape.vocabSize, 1024);
  await writeFile(path.join(dir, 'tokenizer.json'), JSON.stringify(tok.tokenizerJson));
  await writeFile(path.join(dir, 'tokenizer_config.json'), JSON.stringify(tok.tokenizerConfig));
  return dir;
}

/** One whole run of the source method over `idsFile` (BenchText[] as JSON); its records go to `outFile`. Resolves to its wall time in seconds. */
export function runSourceSide(python: string, modelDir: string, idsFile: string, outFile: string, threads: number): Promise<number> {
  return timed(python, [SCRIPT, 'run', '--model', modelDir, '--ids', idsFile, '--out', outFile, '--threads', String(threads)], torchEnv(threads));
}

export interface SourceRecord {
  label: string;
  layers: { mean: number; absMean: number }[];
}

/** Compares the sides' per-text values (texts matched by file name). */
export function agreement(source: SourceRecord[], profiled: Pick<TextRecord, 'path' | 'layers'>[]): SourceComparison['agreement'] {
  const byName = new Map(profiled.map((r) => [path.basename(r.path), r]));
  let maxAbsMeanRelDiff = 0;
  let maxMeanDiffOverAbsMean = 0;
  for (const s of source) {
    const c = byName.get(path.basename(s.label));
    if (!c || c.layers.length !== s.layers.length) return { maxAbsMeanRelDiff: Infinity, maxMeanDiffOverAbsMean: Infinity, ok: false };
    s.layers.forEach((l, i) => {
      maxAbsMeanRelDiff = Math.max(maxAbsMeanRelDiff, Math.abs(c.layers[i].absMean - l.absMean) / Math.abs(l.absMean));
      maxMeanDiffOverAbsMean = Math.max(maxMeanDiffOverAbsMean, Math.abs(c.layers[i].mean - l.mean) / Math.abs(l.absMean));
    });
  }
  const ok = source.length === byName.size && maxAbsMeanRelDiff <= AGREEMENT_TOLERANCE && maxMeanDiffOverAbsMean <= AGREEMENT_TOLERANCE;
  return { maxAbsMeanRelDiff, maxMeanDiffOverAbsMean, ok };
}

export async function runSourceMethodComparison(opts: SourceComparisonOptions = {}): Promise<SourceComparisonResult> {
  const log = opts.log ?? (() => undefined);
  const python = opts.python ?? process.env.LAYER_PROFILER_PYTHON ?? '/usr/bin/python3';
  const threads = opts.threads ?? defaultThreads();
  const torch = probeTorch(python, threads);
  if ('unavailable' in torch) return { skipped: `source-method comparison skipped: ${torch.unavailable}` };
  const hidden = opts.hidden ?? 512;
  const heads = opts.heads ?? Math.max(2, hidden / 64);
  const shape = { hidden, layers: opts.layers ?? 8, heads, kvHeads: opts.kvHeads ?? Math.max(1, heads / 4), intermediate: opts.intermediate ?? hidden * 4, vocabSize: opts.vocabSize ?? 32000, onnxBytes: 0 };
  const rounds = opts.rounds ?? 5;
  const textCount = opts.texts ?? 24;

  const workDir = opts.workDir ?? path.join(ROOT, 'test-output', 'source-method');
  const modelDir = await ensureSourceModel(python, workDir, shape, log);
  shape.onnxBytes = (await stat(path.join(modelDir, 'model.onnx'))).size;

  const tokenizer = await loadTokenizer(modelDir);
  const textDir = path.join(workDir, `texts-${textCount}`);
  await rm(textDir, { recursive: true, force: true });
  const texts: BenchText[] = await writeBenchTexts(textDir, textCount, tokenizer, 512);
  const idsFile = path.join(workDir, `ids-${textCount}.json`);
  await writeFile(idsFile, JSON.stringify(texts));
  const tokens = texts.reduce((n, t) => n + t.ids.length, 0);

  // The CLI as users run it: the bundle, rebuilt so it is the code of this checkout.
  log('building the CLI bundle');
  await timed(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')]);
  const sourceOut = path.join(workDir, 'source-out.json');
  const cliOut = path.join(workDir, 'cli-out.json');
  const runSource = () => runSourceSide(python, modelDir, idsFile, sourceOut, threads);
  // --no-cache: a re-run of the same texts would otherwise come from the record cache and not run the model at all.
  const runCli = () => timed(process.execPath, [path.join(ROOT, 'bin', 'layer-profiler.js'), 'profile', '--model', modelDir, '--dataset', `bench=${textDir}`, '--json', cliOut, '--no-cache', ...(opts.threads ? ['--threads', String(opts.threads)] : [])]);

  if (torch.matmulGflops < SLOW_BLAS_GFLOPS) log(`WARNING: torch's float32 matmul runs at ${torch.matmulGflops.toFixed(1)} GFLOPS (a reference BLAS?); the ratio will flatter the CLI. On Debian: apt install libopenblas0-pthread.`);
  log(`model: Llama-shaped, hidden ${shape.hidden}, ${shape.layers} layers, ${shape.heads} heads (${shape.kvHeads} KV), MLP ${shape.intermediate}, vocabulary ${shape.vocabSize}; ${textCount} texts, ${tokens} tokens; ${threads} threads per side${opts.threads ? '' : ' (the CLI at its default)'}`);
  log('warm-up round');
  await runSource();
  await runCli();
  const sourceTimes: number[] = [];
  const cliTimes: number[] = [];
  const rateRounds: GemmRates[] = [];
  for (let r = 0; r < rounds; r++) {
    // The order alternates, so neither side always runs on a machine the other just warmed or loaded.
    if (r % 2 === 0) {
      sourceTimes.push(await runSource());
      cliTimes.push(await runCli());
    } else {
      cliTimes.push(await runCli());
      sourceTimes.push(await runSource());
    }
    log(`round ${r + 1}/${rounds}: source ${sourceTimes[r].toFixed(2)} s, CLI ${cliTimes[r].toFixed(2)} s, ratio ${(sourceTimes[r] / cliTimes[r]).toFixed(2)}`);
    // GEMM rates once per round, on the same machine state as the round's runs; the fastest of all rounds counts.
    rateRounds.push(await measureGemmRates(python, shape, threads));
  }
  const ceiling = ceilingFrom(profilePassFlops(shape, texts.map((t) => t.ids.length)), fastestRates(rateRounds), GEMM_ROWS);
  const sourceSeconds = range(sourceTimes);
  const source = JSON.parse(await readFile(sourceOut, 'utf8')) as { records: SourceRecord[] };
  const cli = JSON.parse(await readFile(cliOut, 'utf8')) as ProfileResults;
  return {
    ratio: range(sourceTimes.map((s, i) => s / cliTimes[i])),
    sourceSeconds,
    cliSeconds: range(cliTimes),
    texts: textCount,
    tokens,
    rounds,
    agreement: agreement(source.records, cli.datasets.flatMap((d) => d.records ?? [])),
    model: shape,
    machine: { cpus: os.availableParallelism(), cpuModel: os.cpus()[0]?.model ?? 'unknown', threads, torch: torch.torch, torchMatmulGflops: torch.matmulGflops },
    slowBlas: torch.matmulGflops < SLOW_BLAS_GFLOPS,
    ceiling: { ...ceiling, maxRatio: sourceSeconds.median / ceiling.floorSeconds, maxRatioWithOrt: sourceSeconds.median / ceiling.ortSeconds },
  };
}

type GemmRates = (ProjectionShape & GemmRate)[];

/**
 * Row counts the GEMMs are timed at: a pass holds one text of 100-512 tokens (the bench's texts)
 * or a batch of up to DEFAULT_MAX_BATCH_TOKENS slots, and a GEMM's rate depends on its rows (how
 * its panels fit the caches); the fastest of them counts.
 */
const GEMM_ROWS = [128, 256, DEFAULT_MAX_BATCH_TOKENS];

/**
 * Each projection shape of the model timed at GEMM_ROWS rows in ONNX Runtime and in torch, on the
 * threads both sides run with; per shape and library, the fastest.
 */
async function measureGemmRates(python: string, shape: SourceModelShape, threads: number): Promise<GemmRates> {
  const shapes = projectionShapes(shape);
  const torch = probeTorch(python, threads, GEMM_ROWS.flatMap((m) => shapes.map((p): [number, number, number] => [m, p.k, p.n])));
  const rates: GemmRates = [];
  for (const [i, p] of shapes.entries()) {
    let ort = 0;
    for (const m of GEMM_ROWS) ort = Math.max(ort, await ortGemmGflops(m, p.k, p.n, threads, 120, 3));
    const torchRates = 'unavailable' in torch ? [] : GEMM_ROWS.map((_, r) => torch.shapes[r * shapes.length + i]?.gflops ?? 0);
    rates.push({ ...p, ort, torch: torchRates.length ? Math.max(...torchRates) : undefined });
  }
  return rates;
}

/** Per shape, the fastest rate any round measured for each library (a generous floor). */
function fastestRates(rounds: GemmRates[]): GemmRates {
  return rounds[0].map((p, i) => ({
    ...p,
    ort: Math.max(...rounds.map((r) => r[i].ort)),
    torch: p.torch === undefined ? undefined : Math.max(...rounds.map((r) => r[i].torch ?? 0)),
  }));
}

/** The comparison as lines for a terminal. */
export function formatSourceComparison(r: SourceComparisonResult): string[] {
  if ('skipped' in r) return [r.skipped];
  const f = (x: Range, d = 2) => `${x.median.toFixed(d)} (min ${x.min.toFixed(d)}, max ${x.max.toFixed(d)})`;
  const m = r.model;
  return [
    `model: Llama-shaped decoder built in PyTorch and exported with torch.onnx.export: hidden ${m.hidden}, ${m.layers} layers, ${m.heads} heads (${m.kvHeads} KV), MLP ${m.intermediate}, vocabulary ${m.vocabSize} (${(m.onnxBytes / 2 ** 20).toFixed(0)} MiB fp32)`,
    `texts: ${r.texts} files, ${r.tokens} tokens; ${r.rounds} interleaved rounds; ${r.machine.threads} threads per side; ${r.machine.cpus} CPUs (${r.machine.cpuModel}); torch ${r.machine.torch} (matmul ${r.machine.torchMatmulGflops.toFixed(1)} GFLOPS)`,
    `source method (eager PyTorch, hooks, .cpu()/.item() per layer, one text at a time), whole process: ${f(r.sourceSeconds)} s`,
    `layer-profiler CLI (profile --no-cache), whole process:                                          ${f(r.cliSeconds)} s`,
    `speed-up, source / CLI: ${f(r.ratio)}x`,
    ...(r.slowBlas ? [`WARNING: torch's BLAS is slow (${r.machine.torchMatmulGflops.toFixed(1)} GFLOPS, a reference BLAS?): this ratio flatters the CLI; install OpenBLAS (Debian: libopenblas0-pthread) and rerun`] : []),
    ...formatCeiling(r),
    `sanity check, per-text per-layer values of the two sides: absMean max relative difference ${r.agreement.maxAbsMeanRelDiff.toExponential(2)}, mean max difference / absMean ${r.agreement.maxMeanDiffOverAbsMean.toExponential(2)}: ${r.agreement.ok ? 'agree' : `DISAGREE (tolerance ${AGREEMENT_TOLERANCE})`}`,
  ];
}

function formatCeiling(r: SourceComparison): string[] {
  const c = r.ceiling;
  const rates = c.rates.map((p) => `${p.name} ${p.k}x${p.n}: ORT ${p.ort.toFixed(0)}${p.torch === undefined ? '' : `, torch ${p.torch.toFixed(0)}`}`).join('; ');
  return [
    `float32 GEMM rates here, GFLOPS (${r.machine.threads} threads; the fastest at ${c.rows.join(', ')} rows over ${r.rounds} rounds): ${rates}`,
    `ceiling: the passes are ${(c.flops / 1e9).toFixed(0)} GFLOP of matrix products (no LM head); at the fastest rates above that alone takes ${c.floorSeconds.toFixed(2)} s, so no exact float32 profiler using these GEMMs can be more than ${c.maxRatio.toFixed(2)}x the source method on this machine`,
    `the CLI's matrix products at ONNX Runtime's rates above: ${c.ortSeconds.toFixed(2)} s (so at most ${c.maxRatioWithOrt.toFixed(2)}x with ONNX Runtime's GEMMs); the CLI took ${r.cliSeconds.median.toFixed(2)} s in all`,
  ];
}
