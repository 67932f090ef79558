/**
 * One side of `npm run bench`, in its own process so that its peak RSS is its own: opens its
 * session, then runs one forward pass per `run` message from the parent (which interleaves the
 * sides round by round) and answers with the pass's time; `done` answers with the peak RSS.
 *
 * Sides: plain (the unmodified model, every output fetched: what a user's forward pass costs),
 * floor (the same graph cut after the last residual point, no probes), profile (the profiler's
 * own pass, pruned as it runs by default; profile-unpruned: the whole graph plus probes), lens
 * (the logit lens: the model's head at every point, reduced in the graph).
 */
import * as ort from 'onnxruntime-node';
import { performance } from 'node:perf_hooks';
import { floorEdit } from '../src/core/graph/instrument';
import { readModelConfig } from '../src/core/model/localModel';
import { LogitLens } from '../src/core/lens/logitLens';
import { loadAndAnalyze, LayerProfiler } from '../src/core/profiler';
import { buildFeeds, planFeeds } from '../src/core/runtime/feeds';
import { createOrtSession, ortSessionOptions, stageModel } from '../src/core/runtime/probedSession';

export type Side = 'plain' | 'floor' | 'profile' | 'profile-unpruned' | 'lens';

export interface SideArgs {
  side: Side;
  dir: string;
  onnxPath: string;
  tokens: number;
  vocabSize: number;
  threads?: number;
}

export type ToSide = { cmd: 'run' } | { cmd: 'done' };
export type FromSide = { ready: true; loadMs: number } | { ms: number } | { peakRssBytes: number } | { error: string };

const send = (m: FromSide) => process.send!(m);

/** The ids of a pass: the same for every side. */
export function benchIds(tokens: number, vocabSize: number): number[] {
  return Array.from({ length: tokens }, (_, i) => (i * 7919 + 11) % (vocabSize - 2));
}

async function open(a: SideArgs): Promise<() => Promise<unknown>> {
  const settings = { threads: a.threads, graphOptimizationLevel: 'all' as const, allowSpinning: false };
  const ids = benchIds(a.tokens, a.vocabSize);
  const config = await readModelConfig(a.dir);
  const cache = { kvHeads: config?.kvHeads, headDim: config?.headDim };
  if (a.side === 'lens') {
    const lens = await LogitLens.open({ kind: 'local', path: a.dir }, settings);
    return () => lens.runIds(ids, { maxTokens: a.tokens, batchSize: 1 }, 0);
  }
  if (a.side === 'profile' || a.side === 'profile-unpruned') {
    const profiler = await LayerProfiler.open({ kind: 'local', path: a.dir }, { ...settings, prune: a.side === 'profile' });
    return () => profiler.runWindows([ids], 1);
  }
  let session: ort.InferenceSession;
  if (a.side === 'plain') {
    session = await ort.InferenceSession.create(a.onnxPath, ortSessionOptions(settings));
  } else {
    const { model, spine } = await loadAndAnalyze({ kind: 'local', path: a.dir }, {});
    session = await createOrtSession(await stageModel(model, floorEdit(model, spine)), settings);
  }
  const feeds = buildFeeds(planFeeds(session.inputMetadata, cache), { ids: [ids], length: a.tokens, padId: 0 });
  return () => session.run(feeds);
}

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2]) as SideArgs;
  const t0 = performance.now();
  const run = await open(a);
  send({ ready: true, loadMs: performance.now() - t0 });
  process.on('message', (m: ToSide) => {
    if (m.cmd === 'done') {
      send({ peakRssBytes: process.resourceUsage().maxRSS * 1024 });
      process.disconnect();
      return;
    }
    const start = performance.now();
    run().then(
      () => send({ ms: performance.now() - start }),
      (err: Error) => send({ error: err.stack ?? String(err) }),
    );
  });
}

main().catch((err: Error) => {
  send({ error: err.stack ?? String(err) });
  process.disconnect();
});
