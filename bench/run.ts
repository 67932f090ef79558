/**
 * `npm run bench [-- --json]`: what profiling costs, measured so that it cannot flatter. On a
 * generated model of realistic shape (32k vocabulary, grouped-query attention, hidden 512), three
 * sides run the same tokens in the same interleaved rounds, each in its own process (so each has
 * its own peak RSS):
 * - plain: the unmodified model, every output fetched (what a user's forward pass costs);
 * - floor: the same graph cut after the last residual point, no probes (the least any profile
 *   pass must compute);
 * - profile: the profiler's pass as it runs (probes, pruned to what it reads).
 * overheadRatio = profile time / floor time (what the probes cost); plainRatio = profile time /
 * plain time. Ratios are taken round by round (the sides of a round ran back to back), then their
 * median, with min and max beside it.
 *
 * Memory and throughput sections follow (bench/memory.ts): tokens/s and peak RSS per batch size
 * and window length, peak RSS of `profile` and `lens` over growing folders, and the cached
 * re-run. Last, where a Python with PyTorch is installed (skipped otherwise), the command line end to
 * end against the source experiments' method (bench/sourceMethod.ts; `npm run bench:source` runs it
 * alone). `--only speed,batching,folders,lens-folders,cache,source` runs some sections alone.
 */
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { ensureModel, type ModelStyle } from '../test/modelgen';
import { DEFAULT_MAX_BATCH_TOKENS } from '../src/core/batching';
import { batchingSection, cacheSection, folderSection, mib, type BatchRow, type CachedRerun, type FolderMemory } from './memory';
import type { FromSide, Side, SideArgs, ToSide } from './side';
import { formatSourceComparison, runSourceMethodComparison } from './sourceMethod';
import { quantile, range, type Range } from './summary';
import { defaultThreads } from '../src/core/runtime/cores';

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const arg = (name: string, fallback: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const HIDDEN = arg('hidden', 512);
const LAYERS = arg('layers', 8);
const HEADS = arg('heads', Math.max(2, HIDDEN / 64));
const VOCAB = arg('vocab-size', 32000);
const INTERMEDIATE = arg('intermediate', HIDDEN * 4);
const TOKENS = arg('tokens', 512);
const ROUNDS = arg('rounds', arg('reps', 21));
const WARMUP = arg('warmup', 2);
const THREADS = arg('threads', 0);
const STYLE = (argv.includes('--style') ? argv[argv.indexOf('--style') + 1] : 'genai-gqa') as ModelStyle;
/** Also run the profile pass over the whole graph (no pruning), to show what pruning saves. */
const WITH_UNPRUNED = argv.includes('--with-unpruned');
const SECTIONS = ['speed', 'batching', 'folders', 'lens-folders', 'cache', 'source'] as const;
type Section = (typeof SECTIONS)[number];
const list = (name: string, fallback: string[]) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1].split(',') : fallback;
};
const ONLY = list('only', [...SECTIONS]) as Section[];
for (const s of ONLY) if (!SECTIONS.includes(s)) throw new Error(`--only: unknown section '${s}' (sections: ${SECTIONS.join(', ')})`);
const numbers = (name: string, fallback: number[]) => list(name, fallback.map(String)).map(Number);
/** Folder sizes for the profile and lens memory sections (the lens reads each text alone, with the head at every point: slower). */
const FOLDER_SIZES = numbers('folder-files', [10, 100, 1000]);
const LENS_FOLDER_SIZES = numbers('lens-folder-files', [10, 100]);
/** Folder texts: log-normal lengths around this many characters, the first one longer than a window. */
const FOLDER_MEDIAN_CHARS = arg('folder-median-chars', 80);
// About 600 tokens: one full 512-token window and a continuation.
const LONG_CHARS = 1200;
const CACHE_FILES = arg('cache-files', 100);
const BATCH_WINDOWS = numbers('batch-windows', [512, 2048]);
const BATCH_SIZES = numbers('batch-sizes', [1, 4, 16]);
/** Window-filling texts per configuration (default: three batches of 4 at 512 tokens, one at 2048; slow on two cores). */
const BATCH_TEXTS = argv.includes('--batch-texts') ? arg('batch-texts', 12) : undefined;
const BENCH_ROOT = argv.includes('--folder-root') ? argv[argv.indexOf('--folder-root') + 1] : path.join(os.tmpdir(), 'layer-profiler-bench');

const log = (s: string) => !json && process.stderr.write(s + '\n');
/** The machine the numbers come from, and the ORT threads every side ran with. */
const MACHINE = { cpus: os.availableParallelism(), cpuModel: os.cpus()[0]?.model ?? 'unknown', threads: THREADS || defaultThreads() };

/** A side's process, answering one message at a time. */
class SideProcess {
  private readonly child: ChildProcess;
  private pending: ((m: FromSide) => void) | undefined;
  private readonly first: Promise<FromSide>;

  constructor(args: SideArgs) {
    this.child = fork(path.join(__dirname, 'side.ts'), [JSON.stringify(args)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.first = this.next();
    this.child.on('message', (m: FromSide) => {
      const p = this.pending;
      this.pending = undefined;
      p?.(m);
    });
    this.child.on('exit', (code) => this.pending?.({ error: `the ${args.side} side exited (${code})` }));
  }

  private next(): Promise<FromSide> {
    return new Promise((resolve) => (this.pending = resolve));
  }

  async ready(): Promise<number> {
    return expect(await this.first, 'loadMs');
  }

  async ask(m: ToSide): Promise<FromSide> {
    const answer = this.next();
    this.child.send(m);
    return answer;
  }
}

function expect<K extends string>(m: FromSide, key: K): number {
  if ('error' in m) throw new Error(m.error);
  const v = (m as Record<string, unknown>)[key];
  if (typeof v !== 'number') throw new Error(`unexpected answer ${JSON.stringify(m)}`);
  return v;
}

type Model = Awaited<ReturnType<typeof ensureModel>>;

/** The three (four) sides in interleaved rounds: the JSON fields of issue 12's contract, and the lines to print. */
async function speedSection(model: Model): Promise<{ result: Record<string, unknown>; lines: string[] }> {
  const sides: Side[] = ['plain', 'floor', 'profile', 'lens', ...(WITH_UNPRUNED ? (['profile-unpruned'] as const) : [])];
  const procs = new Map<Side, SideProcess>();
  const loadMs: Partial<Record<Side, number>> = {};
  // One at a time, so loading one side does not slow another's.
  for (const side of sides) {
    const p = new SideProcess({ side, dir: model.dir, onnxPath: model.onnxPath, tokens: TOKENS, vocabSize: VOCAB, threads: THREADS || undefined });
    procs.set(side, p);
    loadMs[side] = await p.ready();
  }
  const run = async (side: Side) => expect(await procs.get(side)!.ask({ cmd: 'run' }), 'ms');
  for (let w = 0; w < WARMUP; w++) for (const side of sides) await run(side);
  const times = Object.fromEntries(sides.map((s) => [s, [] as number[]])) as Record<Side, number[]>;
  for (let r = 0; r < ROUNDS; r++) {
    // Interleaved, the order rotating, so machine noise and warm caches favour no side.
    for (let k = 0; k < sides.length; k++) {
      const side = sides[(r + k) % sides.length];
      times[side].push(await run(side));
    }
    if ((r + 1) % 5 === 0) log(`round ${r + 1}/${ROUNDS}`);
  }
  const peak: Partial<Record<Side, number>> = {};
  for (const side of sides) peak[side] = expect(await procs.get(side)!.ask({ cmd: 'done' }), 'peakRssBytes');

  const tps = (side: Side) => range(times[side].map((ms) => (TOKENS / ms) * 1000));
  const ratio = (a: Side, b: Side) => range(times[a].map((x, i) => x / times[b][i]));
  const overhead = ratio('profile', 'floor');
  const plainRatio = ratio('profile', 'plain');
  // Too noisy to trust when the middle half of the rounds' overhead ratios spans more than 10%.
  const spread = (quantile(times.profile.map((x, i) => x / times.floor[i]), 0.75) - quantile(times.profile.map((x, i) => x / times.floor[i]), 0.25)) / overhead.median;
  const noisy = spread > 0.1;
  const result = {
    vocabSize: VOCAB,
    plainTokensPerSecond: tps('plain').median,
    floorTokensPerSecond: tps('floor').median,
    profileTokensPerSecond: tps('profile').median,
    overheadRatio: overhead.median,
    plainRatio: plainRatio.median,
    lensTokensPerSecond: tps('lens').median,
    lensPlainRatio: ratio('lens', 'plain').median,
    peakRssBytes: { plain: peak.plain!, floor: peak.floor!, profile: peak.profile!, lens: peak.lens!, ...(WITH_UNPRUNED ? { profileUnpruned: peak['profile-unpruned']! } : {}) },
    rounds: ROUNDS,
    ranges: {
      overheadRatio: overhead,
      plainRatio,
      plainTokensPerSecond: tps('plain'),
      floorTokensPerSecond: tps('floor'),
      profileTokensPerSecond: tps('profile'),
      lensTokensPerSecond: tps('lens'),
      lensPlainRatio: ratio('lens', 'plain'),
      ...(WITH_UNPRUNED ? { profileUnprunedTokensPerSecond: tps('profile-unpruned'), unprunedOverheadRatio: ratio('profile-unpruned', 'floor') } : {}),
    },
    noisy,
    loadMs,
    model: { style: STYLE, hidden: HIDDEN, layers: LAYERS, heads: HEADS, kvHeads: model.kvHeads, intermediate: INTERMEDIATE, vocabSize: VOCAB, tokensPerPass: TOKENS, batch: 1 },
    machine: MACHINE,
  };
  const r3 = (r: Range, d = 3) => `${r.median.toFixed(d)} (min ${r.min.toFixed(d)}, max ${r.max.toFixed(d)})`;
  const lines = [
    `model: generated ${STYLE}, hidden ${HIDDEN}, ${LAYERS} layers, ${HEADS} heads (${model.kvHeads} KV), MLP ${INTERMEDIATE}, vocabulary ${VOCAB}; ${TOKENS} tokens per pass, ${ROUNDS} interleaved rounds`,
    `machine: ${result.machine.cpus} CPUs (${result.machine.cpuModel}), ORT threads: ${result.machine.threads}`,
    `tokens/s, median (min, max):`,
    `  plain   (unmodified model, all outputs):      ${r3(tps('plain'), 0)}   peak RSS ${mib(peak.plain!)}`,
    `  floor   (cut after the last residual point): ${r3(tps('floor'), 0)}   peak RSS ${mib(peak.floor!)}`,
    `  profile (probes, pruned as the profiler runs): ${r3(tps('profile'), 0)}   peak RSS ${mib(peak.profile!)}`,
    `  lens    (the head at every point, in-graph): ${r3(tps('lens'), 0)}   peak RSS ${mib(peak.lens!)}`,
    ...(WITH_UNPRUNED ? [`  profile over the unpruned graph:              ${r3(tps('profile-unpruned'), 0)}   peak RSS ${mib(peak['profile-unpruned']!)}`] : []),
    `overhead ratio profile / floor: ${r3(overhead)}`,
    `plain ratio    profile / plain: ${r3(plainRatio)}`,
    `lens ratio     lens / plain:    ${r3(ratio('lens', 'plain'))}  (the lens applies the head ${LAYERS + 1} times)`,
    ...(WITH_UNPRUNED ? [`unpruned profile / floor:       ${r3(ratio('profile-unpruned', 'floor'))}`] : []),
    noisy ? `NOISY: the middle half of the rounds' overhead ratios spans ${(spread * 100).toFixed(0)}% of the median; rerun on a quieter machine or with more --rounds` : `stable: the middle half of the rounds' overhead ratios spans ${(spread * 100).toFixed(1)}% of the median`,
    '',
  ];
  return { result, lines };
}

async function main(): Promise<void> {
  log(`generating ${STYLE}: hidden ${HIDDEN}, ${LAYERS} layers, ${HEADS} heads, vocabulary ${VOCAB}`);
  // Positions for the 2048-token windows of the batching section.
  const model = await ensureModel(STYLE, { hidden: HIDDEN, layers: LAYERS, heads: HEADS, intermediate: INTERMEDIATE, vocabSize: VOCAB, maxPositions: Math.max(TOKENS, 2048), seed: 1 });
  const threads = THREADS || undefined;
  const out: Record<string, unknown> = { sections: ONLY };
  const lines: string[] = [];
  const section = (title: string) => log(`${title}:`);
  if (ONLY.includes('speed')) {
    section('speed (interleaved rounds)');
    const speed = await speedSection(model);
    Object.assign(out, speed.result);
    lines.push(...speed.lines);
  } else {
    out.model = { style: STYLE, hidden: HIDDEN, layers: LAYERS, heads: HEADS, kvHeads: model.kvHeads, intermediate: INTERMEDIATE, vocabSize: VOCAB };
    out.machine = MACHINE;
  }
  if (ONLY.includes('batching')) {
    section('batching (one process per configuration; a fixed batch opens the token budget to batch × window)');
    const rows: BatchRow[] = await batchingSection(model.dir, { windows: BATCH_WINDOWS, batches: BATCH_SIZES, defaultBudget: DEFAULT_MAX_BATCH_TOKENS, texts: (w) => BATCH_TEXTS ?? (w <= 512 ? 12 : 4), threads, log });
    out.batching = rows;
    lines.push('batching: tokens/s and peak RSS while profiling (apart from loading), one run each', ...rows.map((r) => `  window ${r.window}, batch ${r.batchSize} within ${r.maxBatchTokens} tokens (largest pass ${r.largestBatch}): ${r.tokensPerSecond.toFixed(0)} tokens/s, peak RSS ${mib(r.runPeakRssBytes)}`));
  }
  const folderLines = (f: FolderMemory) => [
    `${f.command} over folders at the default settings (model ${mib(f.modelBytes)}, limit ${mib(f.limitBytes)}):`,
    ...f.runs.map((r) => `  ${r.files} files, ${r.tokens} tokens: peak RSS ${mib(r.peakRssBytes)}, at the end ${mib(r.endRssBytes)}, ${r.seconds.toFixed(1)} s`),
    `  largest / smallest peak ${f.peakRatio.toFixed(3)}: ${f.flat ? 'flat (within 10%)' : 'NOT FLAT'}; ${f.withinLimit ? 'within' : 'OVER'} model size + 1 GiB`,
  ];
  const folderOpts = { root: BENCH_ROOT, medianChars: FOLDER_MEDIAN_CHARS, longChars: LONG_CHARS, threads, log };
  if (ONLY.includes('folders')) {
    section('profile over growing folders (the command line, one process each)');
    const f = await folderSection('profile', model.dir, model.onnxPath, { ...folderOpts, sizes: FOLDER_SIZES });
    out.folderMemory = f;
    lines.push(...folderLines(f));
  }
  if (ONLY.includes('lens-folders')) {
    section('lens over growing folders');
    const f = await folderSection('lens', model.dir, model.onnxPath, { ...folderOpts, sizes: LENS_FOLDER_SIZES });
    out.lensFolderMemory = f;
    lines.push(...folderLines(f));
  }
  if (ONLY.includes('cache')) {
    section('cached re-run');
    const c: CachedRerun = await cacheSection(model.dir, { ...folderOpts, files: CACHE_FILES });
    out.cachedRerun = c;
    lines.push(`cached re-run of ${c.files} files: first ${c.first.seconds.toFixed(1)} s, re-run ${c.rerun.seconds.toFixed(2)} s (${c.speedup.toFixed(1)}×)${c.rerunLoadedNoModel ? ', no model loaded' : ', MODEL LOADED'}, ${c.identical ? 'identical results' : 'RESULTS DIFFER'}; peak RSS ${mib(c.first.peakRssBytes)} vs ${mib(c.rerun.peakRssBytes)}`);
  }
  if (ONLY.includes('source')) {
    section('the command line against the source method (PyTorch eager with hooks)');
    const source = await runSourceMethodComparison({ texts: arg('source-texts', 24), rounds: arg('source-rounds', 3), threads: THREADS || undefined, log });
    out.sourceMethod = source;
    lines.push(...formatSourceComparison(source));
  }
  if (json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  else process.stdout.write(lines.join('\n') + '\n');
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
