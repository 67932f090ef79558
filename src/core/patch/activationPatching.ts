/**
 * Activation patching as an analysis: the corrupted text run with one point (a layer's resid_post,
 * attn_out or mlp_out) at one position replaced by the clean run's value, for every layer and
 * position, many patches per batch (one per row), through the graph of graph/patchGraph.ts.
 */
import type { ModelSpec } from '../api';
import { ModelAnalysis, openAnalysis, type OpenedAnalysis } from '../analysisModel';
import { editForAnalysis } from '../graph/instrument';
import { buildPatchGraph, PATCH_POINT_KINDS, PatchUnsupportedError, type PatchPoint, type PatchPointKind } from '../graph/patchGraph';
import type { TextTokenizer } from '../model/tokenizer';
import type { OpenOptions } from '../modelLoading';
import { ProfileCancelledError } from '../runtime/cancel';
import { quantizesActivationsPerTensor } from '../runtime/probedSession';
import { WindowRunner, type SessionSettings } from '../runtime/windowRunner';
import { CleanReadout, encodePatch, PatchReadout, type PatchSpec, type PointValues } from './patchReadout';
import type { PatchGrid, PatchMetric, PatchText } from './patchResults';

export class PatchTextError extends Error {}

export interface PatchRequest {
  clean: { label: string; text: string };
  corrupted: { label: string; text: string };
  /** Named target and foil tokens (metric 'target'); default: the two runs' top next tokens. */
  target?: string;
  foil?: string;
  batchSize: number;
  /** Checked between batches: an aborted run stops with ProfileCancelledError. */
  signal?: AbortSignal;
  /** Patched runs done of the total, after each batch. */
  onProgress?: (done: number, total: number) => void;
}

export interface PatchOutcome {
  clean: PatchText;
  corrupted: PatchText;
  metric: PatchMetric;
  grids: PatchGrid[];
}

type CleanValues = { logits: Float32Array; points: PointValues };

export class ActivationPatching extends ModelAnalysis<Float32Array, WindowRunner<Float32Array>> {
  private constructor(
    opened: OpenedAnalysis<WindowRunner<Float32Array>>,
    readonly points: PatchPoint[],
    readonly notes: string[],
    private readonly readout: PatchReadout,
    private readonly cleanRunner: WindowRunner<CleanValues>,
  ) {
    super(opened);
  }

  static async open(spec: ModelSpec, opts: OpenOptions & { points?: readonly PatchPointKind[] } = {}): Promise<ActivationPatching> {
    const kinds = opts.points ?? PATCH_POINT_KINDS;
    let points: PatchPoint[] = [];
    const notes: string[] = [];
    let readout: PatchReadout | undefined;
    let cleanRunner: WindowRunner<CleanValues> | undefined;
    const opened = await openAnalysis(spec, { ...opts, incremental: false }, (model, spine) => {
      const graph = buildPatchGraph(model, spine, kinds);
      points = graph.points;
      for (const u of graph.unpatchable) notes.push(`${u.kind} not patched${u.layers ? ` at layer${u.layers.length > 1 ? 's' : ''} ${u.layers.join(', ')}` : ''}: ${u.reason}`);
      const fused = points.filter((p) => p.fusedNorm !== undefined).map((p) => p.layer);
      if (fused.length) notes.push(`resid_post at layer${fused.length > 1 ? 's' : ''} ${fused.join(', ')} is the sum inside a fused norm (Skip*LayerNormalization): the norm's output is recomputed from the patched sum by the plain norm with the same weights`);
      if (points.length === 0) throw new PatchUnsupportedError(`Nothing to patch on this model: ${notes.join('; ') || `no ${kinds.join(', ')} points were found`}.`);
      const edit = editForAnalysis(model, graph.addition, { prune: opts.prune });
      const oneAtATime = quantizesActivationsPerTensor(model);
      const patch = new PatchReadout(points.length);
      readout = patch;
      const runner = (session: import('onnxruntime-node').InferenceSession, settings: SessionSettings) => {
        const noCache = { ...settings, readsPast: false };
        cleanRunner = new WindowRunner(session, new CleanReadout(points.length, patch), oneAtATime, noCache);
        return new WindowRunner(session, patch, oneAtATime, noCache);
      };
      return { edit, runner };
    });
    if (!readout || !cleanRunner) throw new Error('the patching session did not open');
    return new ActivationPatching(opened, points, notes, readout, cleanRunner);
  }

  /** The unpatched run: every point's value and the last position's logits. */
  async runClean(ids: number[]): Promise<CleanValues> {
    const [clean] = await this.cleanRunner.run([ids], (await this.getTokenizer()).padId);
    return clean;
  }

  /**
   * `ids` run once per spec (undefined: unpatched), `batchSize` rows per pass, with the clean
   * values `clean` patched in: the last position's logits of each.
   */
  async runPatches(ids: number[], clean: PointValues, specs: (PatchSpec | undefined)[], batchSize: number, signal?: AbortSignal, onProgress?: (done: number, total: number) => void): Promise<Float32Array[]> {
    this.readout.clean = clean;
    const padId = (await this.getTokenizer()).padId;
    const out: Float32Array[] = [];
    for (let i = 0; i < specs.length; i += batchSize) {
      if (signal?.aborted) throw new ProfileCancelledError();
      const chunk = specs.slice(i, i + batchSize);
      out.push(...(await this.session.run(chunk.map(() => ids), padId, chunk.map(encodePatch))));
      onProgress?.(out.length, specs.length);
    }
    return out;
  }

  async patch(request: PatchRequest): Promise<PatchOutcome> {
    const tokenizer = await this.getTokenizer();
    const clean = tokenizer.encode(request.clean.text);
    const corrupted = tokenizer.encode(request.corrupted.text);
    const named = request.target !== undefined || request.foil !== undefined;
    if (named && (request.target === undefined || request.foil === undefined)) throw new PatchTextError('Give both --target and --foil, or neither.');
    const pair = named ? { target: singleToken(tokenizer, request.target!), foil: singleToken(tokenizer, request.foil!) } : undefined;
    const { metric, grids } = await this.patchIds(clean.ids, corrupted.ids, { batchSize: request.batchSize, signal: request.signal, onProgress: request.onProgress, ...(pair ? { named: pair } : {}) });
    return {
      clean: { label: request.clean.label, ids: clean.ids, tokens: clean.tokens },
      corrupted: { label: request.corrupted.label, ids: corrupted.ids, tokens: corrupted.tokens },
      metric,
      grids,
    };
  }

  /**
   * The grids for two token sequences of equal length: every point at every position of the
   * corrupted run patched with the clean run's value. `named`: the metric's token pair; default
   * the clean and corrupted runs' top next tokens.
   */
  async patchIds(clean: number[], corrupted: number[], opts: { batchSize: number; named?: { target: number; foil: number }; signal?: AbortSignal; onProgress?: (done: number, total: number) => void }): Promise<{ metric: PatchMetric; grids: PatchGrid[] }> {
    const tokenizer = await this.getTokenizer();
    const n = clean.length;
    if (n === 0) throw new PatchTextError('The clean text has no tokens.');
    if (corrupted.length !== n) throw new PatchTextError(`The clean and corrupted texts must have the same number of tokens (${n} and ${corrupted.length}), so that each position of one has a counterpart in the other.`);
    if (n > this.windowLength({ maxTokens: n })) throw new PatchTextError(`The texts have ${n} tokens, more than one pass of this model holds.`);
    const cleanRun = await this.runClean(clean);
    const [corruptedLogits] = await this.runPatches(corrupted, cleanRun.points, [undefined], 1);
    const named = opts.named;
    const target = named ? named.target : argmax(cleanRun.logits);
    const foil = named ? named.foil : argmax(corruptedLogits);
    const decodeOne = (id: number) => tokenizer.decode([id]);
    if (target === foil) throw new PatchTextError(`The metric compares two different next tokens, but both are '${decodeOne(target)}' (id ${target})${named ? '' : ': the clean and corrupted runs predict the same top token'}; name a pair with --target and --foil.`);
    const metric = (logits: Float32Array) => logits[target] - logits[foil];
    const mClean = metric(cleanRun.logits);
    const mCorrupted = metric(corruptedLogits);
    if (mClean === mCorrupted) throw new PatchTextError('The metric is the same on the clean and corrupted texts, so no effect can be normalised by their difference.');
    const specs: PatchSpec[] = this.points.flatMap((_, point) => clean.map((__, p) => ({ point, positions: [p] })));
    const patched = await this.runPatches(corrupted, cleanRun.points, specs, opts.batchSize, opts.signal, opts.onProgress);
    const effect = (logits: Float32Array) => (metric(logits) - mCorrupted) / (mClean - mCorrupted);
    const grids: PatchGrid[] = [];
    this.points.forEach((point, i) => {
      let grid = grids.find((g) => g.point === point.kind);
      if (!grid) grids.push((grid = { point: point.kind, layers: [] }));
      grid.layers.push({ layer: point.layer, effect: clean.map((_, p) => effect(patched[i * n + p])) });
    });
    return {
      metric: { kind: named ? 'target' : 'logit-diff', target, foil, targetToken: decodeOne(target), foilToken: decodeOne(foil), clean: mClean, corrupted: mCorrupted },
      grids,
    };
  }
}

/** A token given as text: the one id its encoding adds to what an empty text encodes to (BOS and the like). */
function singleToken(tokenizer: TextTokenizer, token: string): number {
    const empty = new Set(tokenizer.encode('').ids);
    const ids = tokenizer.encode(token).ids.filter((id) => !empty.has(id));
    if (ids.length !== 1) throw new PatchTextError(`'${token}' is ${ids.length} tokens for this tokenizer (${ids.join(', ')}); the metric needs a single token.`);
    return ids[0];
}

function argmax(v: Float32Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}
