/**
 * The logit lens as an analysis: the model opened with its own final norm and head cloned onto
 * every residual point (graph/lens.ts), texts run through the same window runner as profiling
 * (KV cache carried across windows where the graph has one), and per-position predictions pooled
 * into per-text records and dataset summaries.
 */
import type { DatasetInput, ModelSpec, ProfileOptions, ProfileProgress } from '../api';
import { ModelAnalysis, openAnalysis, type OpenedAnalysis } from '../analysisModel';
import { consecutiveBatches } from '../batching';
import { datasetSources } from '../dataset/sources';
import { editForAnalysis } from '../graph/instrument';
import { buildLens } from '../graph/lens';
import type { OpenOptions } from '../modelLoading';
import { profileKeeps } from '../profileGraph';
import type { SkippedFile } from '../results';
import { ProfileCancelledError } from '../runtime/cancel';
import { quantizesActivationsPerTensor } from '../runtime/probedSession';
import { WindowRunner } from '../runtime/windowRunner';
import { sha256Text } from '../hash';
import { planTextWindows } from '../windows';
import { concatLensValues, LensReadout, type LensWindowValues } from './lensReadout';
import type { LensDataset, LensText, LensTextRecord } from './lensResults';
import { addTextPositions, emptySums, mergeSums, summarizeLastPosition, summarizePoints } from './lensStats';

export const DEFAULT_LENS_K = 5;

export class EmptyLensTextError extends Error {}

/** One text through the lens: its ids, next ids, and its windows' values joined. */
export interface LensRun {
  ids: number[];
  next: number[];
  values: LensWindowValues;
}

export class LogitLens extends ModelAnalysis<LensWindowValues, WindowRunner<LensWindowValues>> {
  private constructor(
    opened: OpenedAnalysis<WindowRunner<LensWindowValues>>,
    /** Points in order: -1 (embedding output), then each block. */
    readonly layers: number[],
    readonly k: number,
  ) {
    super(opened);
  }

  static async open(spec: ModelSpec, opts: OpenOptions & { k?: number } = {}): Promise<LogitLens> {
    const k = opts.k ?? DEFAULT_LENS_K;
    let layers: number[] = [];
    const opened = await openAnalysis(spec, opts, (model, spine) => {
      const lens = buildLens(model, spine, k);
      layers = lens.layers;
      // Keeps what profiling keeps of the original outputs (present.* where the cache is carried).
      const edit = editForAnalysis(model, lens.addition, { original: profileKeeps(model, { prune: opts.prune }).original, prune: opts.prune });
      const oneAtATime = quantizesActivationsPerTensor(model);
      return { edit, runner: (session, settings) => new WindowRunner(session, new LensReadout(lens.layers.length, k), oneAtATime, settings) };
    });
    return new LogitLens(opened, layers, k);
  }

  /** Runs token ids through the lens: windows continue through the KV cache where the model has one. */
  async runIds(ids: number[], opts: Pick<ProfileOptions, 'maxTokens' | 'batchSize' | 'maxBatchTokens'>, padId: number, signal?: AbortSignal): Promise<LensRun> {
    const next = ids.map((_, t) => (t + 1 < ids.length ? ids[t + 1] : -1));
    const planned = planTextWindows(ids, this.windowPolicy(opts));
    // The lens's logits grow with the batch's tokens too: the same budget as profiling.
    const capacity = this.batchCapacity(opts);
    const parts: LensWindowValues[] = [];
    let start = 0;
    const targetsOf = (windows: number[][]) =>
      windows.map((w) => {
        const t = next.slice(start, start + w.length);
        start += w.length;
        return t;
      });
    for (const segment of planned.segments) {
      if (signal?.aborted) throw new ProfileCancelledError();
      if (this.session.carriesCache && segment.length > 1) parts.push(...(await this.session.runContinued(segment, signal, targetsOf(segment))));
      else for (const batch of consecutiveBatches(segment, capacity)) parts.push(...(await this.session.run(batch, padId, targetsOf(batch))));
    }
    const values = parts.length === 1 ? parts[0] : concatLensValues(parts);
    return { ids, next, values };
  }

  /** A text through the lens, with every position's predictions kept (the `texts` of lens results). */
  async lensText(label: string, text: string, opts: Pick<ProfileOptions, 'maxTokens' | 'batchSize' | 'maxBatchTokens'>, signal?: AbortSignal, path?: string): Promise<LensText> {
    const tokenizer = await this.getTokenizer();
    const { ids, tokens } = tokenizer.encode(text);
    if (ids.length === 0) throw new EmptyLensTextError(`${label} has no tokens to read through the lens.`);
    const { next, values } = await this.runIds(ids, opts, tokenizer.padId, signal);
    const P = this.layers.length;
    const decoded = new Map<number, string>();
    const token = (id: number) => decoded.get(id) ?? (decoded.set(id, tokenizer.decode([id])), decoded.get(id)!);
    const points = this.layers.map((layer, p) => {
      const final = p === P - 1;
      return {
        layer,
        entropy: ids.map((_, t) => values.entropy[t * P + p]),
        top: ids.map((_, t) => Array.from({ length: this.k }, (_, j) => {
          const at = (t * P + p) * this.k + j;
          return { id: values.topIds[at], token: token(values.topIds[at]), p: values.topProbs[at] };
        })),
        nextLogProb: ids.map((_, t) => (next[t] >= 0 ? values.nextLogProb[t * P + p] : null)),
        // The final point is the model's own distribution: its KL to itself is 0 by construction.
        klToFinal: ids.map((_, t) => (final ? 0 : values.klToFinal[t * P + p])),
      };
    });
    return { label, ...(path ? { path } : {}), ids, tokens, points };
  }

  /** A dataset through the lens: per-text records and per-point summaries; progress about once a second. */
  async *lensDataset(input: DatasetInput, opts: Pick<ProfileOptions, 'maxTokens' | 'batchSize' | 'maxBatchTokens'>, signal?: AbortSignal): AsyncGenerator<ProfileProgress, LensDataset> {
    const started = Date.now();
    const tokenizer = await this.getIdsEncoder();
    const skipped: SkippedFile[] = [];
    const sources = await datasetSources(input, skipped);
    const P = this.layers.length;
    let sums = emptySums(P);
    const records: LensTextRecord[] = [];
    const progress: ProfileProgress = { dataset: input.name, textsDone: 0, textsTotal: sources.length, tokensDone: 0, elapsedMs: 0 };
    let partial = false;
    let lastReport = 0;
    for (const source of sources) {
      if (signal?.aborted) {
        partial = true;
        break;
      }
      const text = await source.read();
      const ids = text.ok ? await tokenizer.ids(text.text) : [];
      if (!text.ok || ids.length === 0) {
        skipped.push({ path: source.label, reason: text.ok ? 'no tokens' : text.reason });
        progress.textsTotal -= 1;
        continue;
      }
      let run: LensRun;
      try {
        run = await this.runIds(ids, opts, tokenizer.padId, signal);
      } catch (err) {
        if (!(err instanceof ProfileCancelledError)) throw err;
        partial = true;
        break;
      }
      const own = emptySums(P);
      addTextPositions(own, run.values, run.next, this.k);
      sums = mergeSums(sums, own);
      records.push({ path: source.label, sha256: sha256Text(text.text), tokens: ids.length, points: summarizePoints(own, this.layers) });
      progress.textsDone += 1;
      progress.tokensDone += ids.length;
      progress.current = source.label;
      if (Date.now() - lastReport >= 1000) {
        lastReport = Date.now();
        yield { ...progress, elapsedMs: Date.now() - started };
      }
    }
    yield { ...progress, elapsedMs: Date.now() - started };
    return {
      name: input.name,
      texts: records.length,
      tokens: records.reduce((n, r) => n + r.tokens, 0),
      skipped,
      points: summarizePoints(sums, this.layers),
      lastPosition: summarizeLastPosition(sums, this.layers),
      records,
      sums,
      ...(partial ? { partial: true } : {}),
    };
  }
}
