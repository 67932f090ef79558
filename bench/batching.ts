/**
 * `npx tsx bench/batching.ts [--json]`: is batching windows worth it? Profiles one dataset of
 * texts of varied length (seeded, log-normal lengths as source files have) with several batch
 * sizes, interleaved round by round in one process, on the bench's default model shape.
 */
import { performance } from 'node:perf_hooks';
import { WindowQueue } from '../src/core/batching';
import { LayerProfiler } from '../src/core/profiler';
import { planTextWindows } from '../src/core/windows';
import { ensureModel, type ModelStyle } from '../test/modelgen';
import { makeTexts } from './texts';

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const arg = (name: string, fallback: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const list = (name: string, fallback: number[]) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1].split(',').map(Number) : fallback;
};
const HIDDEN = arg('hidden', 512);
const LAYERS = arg('layers', 8);
const VOCAB = arg('vocab-size', 32000);
const TEXTS = arg('texts', 32);
const ROUNDS = arg('rounds', 5);
const MAX_TOKENS = arg('max-tokens', 512);
const BATCHES = list('batch', [1, 4]);
const MEDIAN_CHARS = arg('median-chars', 400);
const STYLE = (argv.includes('--style') ? argv[argv.indexOf('--style') + 1] : 'genai-gqa') as ModelStyle;
const log = (s: string) => !json && process.stderr.write(s + '\n');

async function main(): Promise<void> {
  const model = await ensureModel(STYLE, { hidden: HIDDEN, layers: LAYERS, heads: Math.max(2, HIDDEN / 64), intermediate: HIDDEN * 4, vocabSize: VOCAB, maxPositions: 2048, seed: 1 });
  const profiler = await LayerProfiler.open({ kind: 'local', path: model.dir }, { allowSpinning: false });
  const texts = makeTexts(TEXTS, MEDIAN_CHARS);
  const tokenizer = await profiler.getTokenizer();
  const policy = profiler.windowPolicy({ maxTokens: MAX_TOKENS });
  const planned = texts.map((t) => planTextWindows(tokenizer.encode(t.text).ids, policy));
  const tokens = planned.reduce((n, p) => n + p.segments.flat().reduce((m, w) => m + w.length, 0), 0);
  // Windows that share batches: those of texts that are not continued through the KV cache.
  const batchable = planned.filter((p) => !(policy.carriesCache && p.windows > 1)).flatMap((p) => p.segments.flat());
  const padding: Record<number, { grouped: number; arrivalOrder: number }> = {};
  for (const b of BATCHES) {
    const q = new WindowQueue<number, null>({ batchSize: b, run: async (ws) => ws.map(() => null), deliver: () => {} });
    for (const [i, w] of batchable.entries()) {
      q.push(i, w);
      await q.flush(false);
    }
    await q.flush(true);
    let slots = 0;
    for (let i = 0; i < batchable.length; i += b) slots += Math.max(...batchable.slice(i, i + b).map((w) => w.length)) * batchable.slice(i, i + b).length;
    const real = batchable.reduce((n, w) => n + w.length, 0);
    padding[b] = { grouped: q.padding.slots / q.padding.tokens - 1, arrivalOrder: slots / real - 1 };
  }
  log(`${TEXTS} texts, ${tokens} tokens, ${batchable.length} batchable windows; model ${STYLE} hidden ${HIDDEN}, ${LAYERS} layers, vocabulary ${VOCAB}`);

  const times: Record<number, number[]> = Object.fromEntries(BATCHES.map((b) => [b, []]));
  const runOnce = async (batchSize: number) => {
    const run = profiler.profileDataset({ name: 'bench', texts }, { maxTokens: MAX_TOKENS, batchSize });
    for (let s = await run.next(); !s.done; s = await run.next());
  };
  for (const b of BATCHES) await runOnce(b); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < BATCHES.length; k++) {
      const b = BATCHES[(r + k) % BATCHES.length];
      const t0 = performance.now();
      await runOnce(b);
      times[b].push(performance.now() - t0);
    }
    log(`round ${r + 1}/${ROUNDS}: ${BATCHES.map((b) => `batch ${b} ${(times[b][r] / 1000).toFixed(2)} s`).join(', ')}`);
  }
  await profiler.dispose();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const result = {
    texts: TEXTS,
    tokens,
    batchableWindows: batchable.length,
    carriesCache: policy.carriesCache,
    rounds: ROUNDS,
    batches: BATCHES.map((b) => ({
      batchSize: b,
      medianSeconds: median(times[b]) / 1000,
      tokensPerSecond: tokens / (median(times[b]) / 1000),
      // Ratio to the first batch size, round by round.
      ratioToFirst: median(times[b].map((t, i) => t / times[BATCHES[0]][i])),
      paddingGrouped: padding[b].grouped,
      paddingArrivalOrder: padding[b].arrivalOrder,
    })),
  };
  if (json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else for (const b of result.batches) process.stdout.write(`batch ${b.batchSize}: ${b.tokensPerSecond.toFixed(0)} tokens/s (median ${b.medianSeconds.toFixed(2)} s), time ratio to batch ${BATCHES[0]}: ${b.ratioToFirst.toFixed(3)}; padding ${(b.paddingGrouped * 100).toFixed(1)}% grouped by length (${(b.paddingArrivalOrder * 100).toFixed(1)}% in arrival order)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
