/**
 * The engine: opens a model (local or Hub), instruments it, and profiles texts and datasets into
 * per-layer statistics. The CLI calls it in-process; the VS Code extension calls it in a child process.
 */
import { type DatasetInput, type InspectResult, type LoadOptions, type ModelSpec, type ProfileOptions, type ProfileProgress } from './api';
import { ModelAnalysis, openAnalysis } from './analysisModel';
import { datasetSources } from './dataset/sources';
import { tokenOffsets } from './model/tokenOffsets';
import type { OpenOptions } from './modelLoading';
import { instrumentForProfile } from './profileGraph';
import type { DatasetResult, ProfileSettings, SkippedFile, TextRecord, TokenProfile } from './results';
import { consecutiveBatches, DEFAULT_MAX_BATCH_TOKENS, WindowQueue } from './batching';
import { inShard } from './dataset/shard';
import type { RecordCache } from './cache/recordCache';
import { streamed } from './runtime/streamed';
import { nonFiniteValues, NonFiniteValuesError } from './stats/finite';

export { NonFiniteValuesError, nonFiniteValues };
import { ProfileCancelledError } from './runtime/cancel';
import { ProbedSession, quantizesActivationsPerTensor, type WindowProbeValues } from './runtime/probedSession';
import { addText, emptyDatasetMoments, summarizeLayers } from './stats/datasetStats';
import { feedWindow } from './stats/feedWindow';
import { textRecord } from './stats/records';
import { sha256Text } from './hash';
import { TextAccumulator, type TextStats } from './stats/textStats';
import { planTextWindows, type TextWindows } from './windows';

export { ProfileCancelledError };
export { defaultCacheDir, LayerCountMismatchError, loadAndAnalyze, ModelLoadError, type OpenOptions } from './modelLoading';

/** Hears of a dataset run's texts as they finish. */
export interface DatasetObserver {
  text?(record: TextRecord): void;
  /**
   * Set by the run while it goes: the texts finished so far, marked partial (for a caller that must
   * save them at once, on a second interrupt).
   */
  snapshot?: () => DatasetResult;
}

export class LayerProfiler extends ModelAnalysis<WindowProbeValues, ProbedSession> {
  static async open(spec: ModelSpec, opts: OpenOptions = {}): Promise<LayerProfiler> {
    const opened = await openAnalysis(spec, opts, (model, spine) => {
      const instrumented = instrumentForProfile(model, spine, { raw: opts.raw, prune: opts.prune });
      const layout = { numLayers: spine.layers.length, substepKinds: instrumented.probes.substepKinds, perTensorActivationScales: quantizesActivationsPerTensor(model) };
      return { edit: instrumented.edit, runner: (session, settings) => new ProbedSession(session, layout, settings, opts.raw) };
    });
    return new LayerProfiler(opened);
  }

  /** Runs independent token windows in batches and returns each window's per-token probe values. */
  async runWindows(windows: number[][], batchSize: number, padId = 0): Promise<WindowProbeValues[]> {
    const out: WindowProbeValues[] = [];
    for (let i = 0; i < windows.length; i += batchSize) out.push(...(await this.session.run(windows.slice(i, i + batchSize), padId)));
    return out;
  }

  /**
   * Runs one text's windows: segments continue through the KV cache where the model has one,
   * else its windows run in batches within the batch budget. Yields each window's values in
   * order; cancellable between windows.
   */
  async *runText(planned: TextWindows, opts: Pick<ProfileOptions, 'batchSize' | 'maxBatchTokens'>, padId: number, signal?: AbortSignal): AsyncGenerator<WindowProbeValues> {
    const capacity = this.batchCapacity(opts);
    for (const segment of planned.segments) {
      if (this.session.carriesCache && segment.length > 1) {
        // Each window as it finishes, so progress moves inside a long text.
        yield* streamed<WindowProbeValues>((onWindow) => this.session.runContinued(segment, signal, undefined, onWindow));
        continue;
      }
      for (const batch of consecutiveBatches(segment, capacity)) {
        if (signal?.aborted) throw new ProfileCancelledError();
        for (const values of await this.session.run(batch, padId)) yield values;
      }
    }
  }

  /**
   * Profiles one text (an editor selection) and keeps per-token values for the heatmap and the
   * editor: for its first MAX_TOKEN_VIEW tokens, so a huge selection cannot bloat stored state
   * (its statistics still pool every token). Cancellable between batches.
   */
  async profileText(text: string, opts: ProfileOptions, signal?: AbortSignal): Promise<{ stats: TextStats; tokens: TokenProfile }> {
    const tokenizer = await this.getTokenizer();
    const { ids, tokens } = tokenizer.encode(text);
    if (ids.length === 0) throw new EmptyTextError('The text has no tokens to profile.');
    if (opts.skipFirstToken && ids.length < 2) throw new EmptyTextError('The text has one token, and the first token is left out of the statistics (skip first token).');
    const planned = planTextWindows(ids, this.windowPolicy(opts));
    const acc = new TextAccumulator(this.numLayers, this.session.substepKinds);
    const L = this.numLayers;
    const kept = Math.min(ids.length, MAX_TOKEN_VIEW);
    const absMean: number[][] = Array.from({ length: L }, () => []);
    const l2: number[][] = Array.from({ length: L }, () => []);
    let seen = 0;
    for await (const v of this.runText(planned, opts, tokenizer.padId, signal)) {
      feedWindow(acc, v, L, seen === 0 && opts.skipFirstToken ? 1 : 0);
      for (let t = 0; t < v.tokens && seen + t < kept; t++) {
        for (let l = 0; l < L; l++) {
          absMean[l].push(v.absMean[t * L + l]);
          l2[l].push(v.l2[t * L + l]);
        }
      }
      seen += v.tokens;
    }
    const offsets = tokenOffsets(tokenizer.decode, ids.slice(0, kept), text);
    const stats = acc.finish(planned);
    const bad = nonFiniteValues(stats);
    if (bad) throw new NonFiniteValuesError(`The model's values are not finite for this text: ${bad}.`);
    return { stats, tokens: { tokens: tokens.slice(0, kept), offsets, absMean, l2, ...(kept < ids.length ? { totalTokens: ids.length } : {}) } };
  }

  /**
   * Profiles a dataset, yielding progress about once a second (also inside a long text) and
   * returning its result. When `signal` aborts, it stops between windows and returns what it has,
   * marked partial: only whole texts count. `observer` hears of each text as it finishes, so a
   * caller can keep the finished texts even if this process dies before the run returns, and gets
   * a `snapshot` of them while the run goes. With a `cache`, texts an earlier run profiled with
   * the same model and settings are taken from it, and new ones are stored in it.
   */
  async *profileDataset(input: DatasetInput, opts: ProfileOptions, signal?: AbortSignal, observer?: DatasetObserver, cache?: RecordCache): AsyncGenerator<ProfileProgress, DatasetResult> {
    const started = Date.now();
    const tokenizer = await this.getIdsEncoder();
    const policy = this.windowPolicy(opts);
    const session = this.session;
    const numLayers = this.numLayers;
    const moments = emptyDatasetMoments(numLayers, session.substepKinds);
    const skipped: SkippedFile[] = [];
    const sources = await datasetSources(input, skipped);
    const progress: ProfileProgress = { dataset: input.name, textsDone: 0, textsTotal: sources.length, tokensDone: 0, elapsedMs: 0 };
    let lastReport = 0;
    let partial = false;
    /** Tokens of the texts that made it into the statistics (a cancelled run drops unfinished ones). */
    let datasetTokens = 0;
    const records: TextRecord[] = [];
    const storing: Promise<void>[] = [];
    // Time left comes from tokens: those of the texts tokenized so far, and the rest estimated from
    // their bytes at the tokens-per-byte seen so far.
    let bytesLeft = sources.reduce((n, src) => n + src.bytes, 0);
    let bytesSeen = 0;
    let tokensSeen = 0;

    const snapshot = (): DatasetResult => ({
      name: input.name,
      ...(input.paths?.length ? { source: input.paths.join(', ') } : {}),
      texts: moments.layers[0]?.mean.n ?? 0,
      tokens: datasetTokens,
      skipped: [...skipped],
      records: [...records],
      moments: structuredClone(moments),
      layers: summarizeLayers(moments),
      ...(partial ? { partial: true } : {}),
    });
    if (observer) observer.snapshot = () => ({ ...snapshot(), partial: true });

    /** When the first window started: the rate leaves out loading and the first tokenization. */
    let runStarted: number | undefined;
    /** Time since then spent reading and tokenizing rather than running passes. */
    let preparingMs = 0;
    const report = (): ProfileProgress => {
      const elapsedMs = Date.now() - started;
      const tokensExpected = Math.round(tokensSeen + (bytesSeen > 0 ? (bytesLeft * tokensSeen) / bytesSeen : 0));
      const runMs = runStarted === undefined ? 0 : Date.now() - runStarted - preparingMs;
      // A rate over less than a second of passes says little.
      const secondsLeft = progress.tokensDone > 0 && runMs >= 1000 && tokensExpected >= progress.tokensDone ? Math.round(((tokensExpected - progress.tokensDone) * runMs) / progress.tokensDone / 1000) : undefined;
      return { ...progress, elapsedMs, ...(tokensExpected > 0 ? { tokensExpected } : {}), ...(secondsLeft !== undefined ? { secondsLeft } : {}) };
    };
    const due = () => {
      if (Date.now() - lastReport < 1000) return false;
      lastReport = Date.now();
      return true;
    };

    interface Pending {
      label: string;
      sha256: string;
      acc: TextAccumulator;
      planned: TextWindows;
      remaining: number;
      /** Run alone, outside the queue (windows continued through the KV cache): its result still joins in queue order. */
      alone?: boolean;
    }
    const feed = (text: Pending, values: WindowProbeValues) => {
      const first = text.remaining === text.planned.windows;
      feedWindow(text.acc, values, numLayers, first && opts.skipFirstToken ? 1 : 0);
      progress.tokensDone += values.tokens;
      if (--text.remaining === 0) {
        if (text.alone) queue.pushReady(() => finishText(text));
        else finishText(text);
      }
    };
    /** A text's statistics join the dataset's, in the order the texts came (see WindowQueue.pushReady). */
    const finishText = (text: Pending) => {
      const stats = text.acc.finish(text.planned);
      const bad = nonFiniteValues(stats);
      if (bad) {
        // One text's NaN would make every statistic of the dataset NaN.
        skipped.push({ path: text.label, reason: `the model's values are not finite: ${bad}` });
        progress.textsTotal -= 1;
        return;
      }
      addText(moments, stats);
      const record = textRecord(text.label, text.sha256, stats);
      records.push(record);
      observer?.text?.(record);
      if (cache) storing.push(cache.put(record));
      datasetTokens += text.acc.tokenCount;
      progress.textsDone += 1;
      progress.current = text.label;
    };
    // Independent windows of different texts share batches, grouped by length, as many as the
    // batch budget allows at their padded length (see batching.ts).
    const queue = new WindowQueue<Pending, WindowProbeValues>({ batchSize: opts.batchSize, capacity: this.batchCapacity(opts), run: (windows) => session.run(windows, tokenizer.padId), deliver: feed });
    async function* flush(all: boolean): AsyncGenerator<ProfileProgress> {
      for (;;) {
        if (signal?.aborted) {
          partial = true;
          return;
        }
        if (!(await queue.runOne(all))) return;
        if (due()) yield report();
      }
    }

    for (const source of sources) {
      if (signal?.aborted) {
        partial = true;
        break;
      }
      bytesLeft -= source.bytes;
      const preparing = Date.now();
      const text = await source.read();
      if (!text.ok) {
        skipped.push({ path: source.label, reason: text.reason });
        progress.textsTotal -= 1;
        continue;
      }
      const sha256 = sha256Text(text.text);
      if (!inShard(sha256, input.shard)) {
        progress.textsTotal -= 1;
        continue;
      }
      const cached = await cache?.get(source.label, sha256);
      if (cached) {
        // In queue order, after the texts still waiting for a batch: the statistics then add up
        // in the same order as a run that profiles every text (the same numbers to the last bit).
        queue.pushReady(() => {
          addText(moments, cached);
          records.push(cached);
          observer?.text?.(cached);
          datasetTokens += cached.tokens;
          progress.textsDone += 1;
        });
        continue;
      }
      let ids: number[];
      try {
        ids = await tokenizer.ids(text.text);
      } catch (err) {
        skipped.push({ path: source.label, reason: `the tokenizer failed on it: ${(err as Error).message}` });
        progress.textsTotal -= 1;
        continue;
      }
      if (ids.length === 0 || (opts.skipFirstToken && ids.length < 2)) {
        skipped.push({ path: source.label, reason: ids.length === 0 ? 'no tokens' : 'one token, and the first token is left out (skip first token)' });
        progress.textsTotal -= 1;
        continue;
      }
      bytesSeen += source.bytes;
      tokensSeen += ids.length;
      progress.current = source.label;
      const planned = planTextWindows(ids, policy);
      if (runStarted === undefined) runStarted = Date.now();
      else preparingMs += Date.now() - preparing;
      const alone = policy.carriesCache && planned.windows > 1;
      const pending: Pending = { label: source.label, sha256, acc: new TextAccumulator(numLayers, session.substepKinds), planned, remaining: planned.windows, alone };
      if (alone) {
        // Its windows continue one another through the cache: run them in order, alone.
        try {
          for await (const values of this.runText(planned, opts, tokenizer.padId, signal)) {
            feed(pending, values);
            if (due()) yield report();
          }
        } catch (err) {
          if (!(err instanceof ProfileCancelledError)) throw err;
          partial = true;
          break;
        }
      } else {
        for (const window of planned.segments.flat()) queue.push(pending, window);
        yield* flush(false);
        if (partial) break;
      }
      if (due()) yield report();
    }
    if (!partial) yield* flush(true);
    await Promise.all(storing);
    if (signal?.aborted && progress.textsDone < progress.textsTotal) partial = true;
    // A cancelled run keeps only whole texts: a text's statistic needs all of its tokens.
    yield report();
    if (observer) observer.snapshot = undefined;
    return snapshot();
  }

  /**
   * The settings a run with `opts` actually uses: the window after the graph's caps, whether long
   * texts are exact, the first-token choice.
   */
  effectiveSettings(opts: ProfileOptions): Pick<ProfileSettings, 'maxTokens' | 'positionLimit' | 'batchSize'> & Required<Pick<ProfileSettings, 'windowTokens' | 'windowsContinueThroughCache' | 'skipFirstToken' | 'maxBatchTokens'>> {
    const policy = this.windowPolicy(opts);
    return {
      maxTokens: opts.maxTokens,
      windowTokens: policy.windowLength,
      windowsContinueThroughCache: policy.carriesCache,
      ...(policy.positionLimit !== undefined ? { positionLimit: policy.positionLimit } : {}),
      batchSize: opts.batchSize,
      maxBatchTokens: opts.maxBatchTokens ?? DEFAULT_MAX_BATCH_TOKENS,
      skipFirstToken: !!opts.skipFirstToken,
    };
  }


}

export class EmptyTextError extends Error {}


/** Tokens of a profiled selection kept per token (heatmap, editor shading). */
export const MAX_TOKEN_VIEW = 4096;

/**
 * The layers found in a model (`layer-profiler inspect`). The instrumented model is opened in
 * ONNX Runtime as profiling opens it, so what inspect accepts is known to load.
 */
export async function inspectModel(spec: ModelSpec, opts: LoadOptions = {}): Promise<InspectResult> {
  const profiler = await LayerProfiler.open(spec, opts);
  try {
    return profiler.inspect();
  } finally {
    await profiler.dispose();
  }
}

