/**
 * `npm run bench [-- --json]`: profiling versus a plain forward pass of the unmodified model,
 * measured side by side (interleaved runs, same session options, same inputs) on a generated
 * model of realistic shape, plus memory across growing datasets.
 */
import * as ort from 'onnxruntime-node';
import { ortSessionOptions } from '../src/core/runtime/probedSession';
import { performance } from 'node:perf_hooks';
import { LayerProfiler } from '../src/core/profiler';
import { buildFeeds, planFeeds } from '../src/core/runtime/feeds';
import { PROBE_OUTPUTS } from '../src/core/graph/probes';
import { ensureModel } from '../test/modelgen';

const json = process.argv.includes('--json');
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const HIDDEN = arg('hidden', 512);
const LAYERS = arg('layers', 8);
const TOKENS = arg('tokens', 512);
const REPS = arg('reps', 7);
const THREADS = arg('threads', 0);

const log = (s: string) => !json && process.stderr.write(s + '\n');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  log(`generating optimum-llama: hidden ${HIDDEN}, ${LAYERS} layers`);
  const model = await ensureModel('optimum-llama', { hidden: HIDDEN, layers: LAYERS, heads: 8, intermediate: HIDDEN * 4, vocabSize: 4096, maxPositions: Math.max(TOKENS, 512), seed: 1 });
  // Same options for both sessions; no spinning, or one session's idle workers would slow the other's run.
  const settings = { threads: THREADS || undefined, graphOptimizationLevel: 'all' as const, allowSpinning: false };
  const plain = await ort.InferenceSession.create(model.onnxPath, ortSessionOptions(settings));
  const profiler = await LayerProfiler.open({ kind: 'local', path: model.dir }, settings);
  const probed = profiler.session.session;

  const ids = Array.from({ length: TOKENS }, (_, i) => (i * 37 + 11) % 4000);
  const feeds = buildFeeds(planFeeds(plain.inputMetadata), { ids: [ids], length: TOKENS, padId: 0 });
  const probes = Object.values(PROBE_OUTPUTS);
  const runs = {
    plain: () => plain.run(feeds),
    profile: () => probed.run(feeds, probes),
    // The probes' own cost: the instrumented graph asked for the same logits as the plain pass too.
    profileWithLogits: () => probed.run(feeds, ['logits', ...probes]),
  };
  const times: Record<keyof typeof runs, number[]> = { plain: [], profile: [], profileWithLogits: [] };
  for (const run of Object.values(runs)) await run(); // warm-up
  const order = Object.entries(runs) as [keyof typeof runs, () => Promise<unknown>][];
  for (let r = 0; r < REPS; r++) {
    // Interleave, rotating the order, so machine noise and warm caches favour no variant.
    for (let k = 0; k < order.length; k++) {
      const [name, run] = order[(r + k) % order.length];
      const t0 = performance.now();
      await run();
      times[name].push(performance.now() - t0);
    }
  }
  const tps = (ms: number) => (TOKENS / ms) * 1000;
  const plainMs = median(times.plain);
  const profileMs = median(times.profile);
  const withLogitsMs = median(times.profileWithLogits);
  // Ratios are taken round by round (the variants of one round ran back to back), then the
  // median: slow drifts of a shared machine cancel within a round.
  const pairedRatio = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]));

  // Memory must not grow with the number of texts: profile 10 then 40 texts, compare peak RSS.
  const texts = (n: number) => Array.from({ length: n }, (_, i) => ({ label: `t${i}`, text: `int f${i}(int x) { return x * ${i}; }\n`.repeat(40) }));
  const rssAfter = async (n: number) => {
    const run = profiler.profileDataset({ name: `n${n}`, texts: texts(n) }, { maxTokens: 256, batchSize: 4 });
    for (let s = await run.next(); !s.done; s = await run.next());
    return process.memoryUsage().rss;
  };
  const rss10 = await rssAfter(10);
  const rss40 = await rssAfter(40);
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;

  const result = {
    plainTokensPerSecond: tps(plainMs),
    profileTokensPerSecond: tps(profileMs),
    overheadRatio: pairedRatio(times.profile, times.plain),
    peakRssBytes,
    profileWithLogitsOverheadRatio: pairedRatio(times.profileWithLogits, times.plain),
    rssGrowthBytes10to40Texts: rss40 - rss10,
    shape: { hidden: HIDDEN, layers: LAYERS, tokens: TOKENS, reps: REPS },
  };
  await profiler.dispose();
  await plain.release();
  if (json) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return;
  }
  const pct = (r: number) => `${((r - 1) * 100).toFixed(1)}%`;
  process.stdout.write(
    [
      `model: generated optimum-llama, hidden ${HIDDEN}, ${LAYERS} layers; ${TOKENS} tokens per pass, medians of ${REPS} interleaved rounds`,
      `plain forward pass (unmodified model, all outputs):  ${result.plainTokensPerSecond.toFixed(0)} tokens/s (${plainMs.toFixed(1)} ms)`,
      `profiling (probe outputs only, as the profiler runs): ${result.profileTokensPerSecond.toFixed(0)} tokens/s (${profileMs.toFixed(1)} ms)`,
      `  overhead ratio profile / plain:                     ${result.overheadRatio.toFixed(3)} (${pct(result.overheadRatio)})`,
      `profiling while also computing logits:                ${withLogitsMs.toFixed(1)} ms, ratio ${result.profileWithLogitsOverheadRatio.toFixed(3)} (${pct(result.profileWithLogitsOverheadRatio)})`,
      `(ratios: median over rounds of the round's profile time / plain time)`,
      `peak RSS: ${(peakRssBytes / 2 ** 20).toFixed(0)} MiB; RSS change from 10 to 40 profiled texts: ${((rss40 - rss10) / 2 ** 20).toFixed(1)} MiB`,
      `target: overhead ratio <= 1.05 — ${result.overheadRatio <= 1.05 ? 'met' : 'NOT met'}`,
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
