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
 */
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { ensureModel, type ModelStyle } from '../test/modelgen';
import type { FromSide, Side, SideArgs, ToSide } from './side';

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

const log = (s: string) => !json && process.stderr.write(s + '\n');

interface Range {
  min: number;
  median: number;
  max: number;
}
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const quantile = (xs: number[], q: number) => {
  const s = sorted(xs);
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  return s[lo] + (s[Math.ceil(at)] - s[lo]) * (at - lo);
};
const range = (xs: number[]): Range => ({ min: Math.min(...xs), median: quantile(xs, 0.5), max: Math.max(...xs) });

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

async function main(): Promise<void> {
  log(`generating ${STYLE}: hidden ${HIDDEN}, ${LAYERS} layers, ${HEADS} heads, vocabulary ${VOCAB}`);
  const model = await ensureModel(STYLE, { hidden: HIDDEN, layers: LAYERS, heads: HEADS, intermediate: INTERMEDIATE, vocabSize: VOCAB, maxPositions: Math.max(TOKENS, 512), seed: 1 });
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
    machine: { cpus: os.availableParallelism(), cpuModel: os.cpus()[0]?.model ?? 'unknown', threads: THREADS || 'all (ORT default)' },
  };
  if (json) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return;
  }
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
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
  process.stdout.write(lines.join('\n'));
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
