/**
 * Two texts side by side as an analysis: where their hidden states part. The model is opened with
 * the distance graph (graph/diffGraph.ts); A and B run as the two rows of one batch and only
 * [pairs, points] reductions come back. Where batching would change a text's numbers (dynamically
 * quantized activations), each text runs alone and the distances are reduced here in float64.
 * Texts longer than one window run as windows continued through the KV cache (windowedDiff.ts).
 */
import type { ModelSpec, ProfileOptions } from '../api';
import { ModelAnalysis, openAnalysis, type OpenedAnalysis } from '../analysisModel';
import { buildDiffGraph, type DiffMode } from '../graph/diffGraph';
import { editForAnalysis } from '../graph/instrument';
import type { OpenOptions } from '../modelLoading';
import { quantizesActivationsPerTensor } from '../runtime/probedSession';
import { WindowRunner } from '../runtime/windowRunner';
import { alignTokens, type AlignMode, type Alignment } from './align';
import { profileKeeps } from '../profileGraph';
import { DiffReadout, DiffRowStatesReadout, DiffStatesReadout, pairFlags, type DiffRunValues } from './diffReadout';
import type { DiffPoint, DiffText } from './diffResults';
import { distancesFromReductions, distancesFromStates } from './distances';
import { samePositionWindows, separateWindows, shiftedWindows } from './windowedDiff';

export class DiffTextError extends Error {}

export interface TextPair {
  a: { label: string; text: string; path?: string };
  b: { label: string; text: string; path?: string };
}

export interface DiffOutcome {
  a: DiffText;
  b: DiffText;
  alignment: Alignment;
  points: DiffPoint[];
  /** How the distances were computed: in one batch in the graph, or from two separate runs. */
  mode: DiffMode;
  /** Passes per text (windows continued through the KV cache when more than one). */
  windows: number;
  /** Where the pairs were reduced: in the graph, or here in float64 from gathered states. */
  reducedIn: 'graph' | 'float64';
}

export interface DiffComparison {
  alignment: Alignment;
  points: DiffPoint[];
  windows: number;
  reducedIn: 'graph' | 'float64';
}

export class TextDiff extends ModelAnalysis<DiffRunValues, WindowRunner<DiffRunValues>> {
  private constructor(
    opened: OpenedAnalysis<WindowRunner<DiffRunValues>>,
    /** Points in order: -1 (embedding output), then each block. */
    readonly layers: number[],
    readonly mode: DiffMode,
    /** Paired mode: both rows' aligned states, for windows whose pairs sit at different positions. */
    private readonly rowStates: WindowRunner<DiffRunValues> | undefined,
  ) {
    super(opened);
  }

  static async open(spec: ModelSpec, opts: OpenOptions = {}): Promise<TextDiff> {
    let layers: number[] = [];
    let mode: DiffMode = 'paired';
    let rowStates: WindowRunner<DiffRunValues> | undefined;
    const opened = await openAnalysis(spec, { ...opts, incremental: false }, (model, spine) => {
      mode = quantizesActivationsPerTensor(model) ? 'separate' : 'paired';
      const graph = buildDiffGraph(model, spine, mode);
      layers = graph.layers;
      // Keeps the present.* outputs where the cache can be carried (long texts' windows).
      const edit = editForAnalysis(model, graph.addition, { original: profileKeeps(model, { prune: opts.prune }).original, prune: opts.prune });
      const readout = mode === 'paired' ? new DiffReadout() : new DiffStatesReadout(layers.length);
      return {
        edit,
        runner: (session, settings) => {
          if (mode === 'paired') rowStates = new WindowRunner(session, new DiffRowStatesReadout(layers.length), false, settings);
          return new WindowRunner(session, readout, false, settings);
        },
      };
    });
    return new TextDiff(opened, layers, mode, rowStates);
  }

  /** Token ids of two texts compared at every residual point. */
  async compareIds(a: number[], b: number[], opts: Pick<ProfileOptions, 'maxTokens'>, align?: AlignMode): Promise<DiffComparison> {
    if (a.length === 0 || b.length === 0) throw new DiffTextError('Both texts need at least one token.');
    const window = this.windowLength(opts);
    const alignment = alignTokens(a, b, align);
    if (alignment.pairs.length === 0) return { alignment, points: this.layers.map((layer) => ({ layer, l2: [], cosine: [], relL2: [] })), windows: 1, reducedIn: 'graph' };
    const padId = (await this.getTokenizer()).padId;
    const longest = Math.max(a.length, b.length);
    if (longest > window) return this.compareInWindows(a, b, alignment, window, padId);
    const flagsA = pairFlags(a.length, alignment.pairs.map((p) => p[0]));
    const flagsB = pairFlags(b.length, alignment.pairs.map((p) => p[1]));
    if (this.mode === 'paired') {
      const [values] = await this.session.run([a, b], padId, [flagsA, flagsB]);
      if (values.kind !== 'paired') throw new Error('unexpected distance values');
      return { alignment, points: distancesFromReductions(values, this.layers), windows: 1, reducedIn: 'graph' };
    }
    const [statesA] = await this.session.run([a], padId, [flagsA]);
    const [statesB] = await this.session.run([b], padId, [flagsB]);
    if (statesA.kind !== 'states' || statesB.kind !== 'states') throw new Error('unexpected distance values');
    return { alignment, points: distancesFromStates(statesA, statesB, this.layers), windows: 1, reducedIn: 'float64' };
  }

  /** Texts longer than one window: windows continued through the KV cache, so the states are one pass's. */
  private async compareInWindows(a: number[], b: number[], alignment: Alignment, window: number, padId: number): Promise<DiffComparison> {
    const longest = Math.max(a.length, b.length);
    if (!this.session.carriesCache) throw new DiffTextError(`A text has ${longest} tokens, more than one pass of this model holds (${window}), and the model has no KV cache to carry a pass on from window to window; compare shorter texts or raise --max-tokens.`);
    const last = alignment.pairs[alignment.pairs.length - 1];
    const needed = Math.max(last[0], last[1]) + 1;
    const limit = this.positionLimit;
    if (limit !== undefined && needed > limit) throw new DiffTextError(`A text has ${needed} tokens up to its last aligned one, more positions than this model has (${limit}).`);
    const w = { a, b, pairs: alignment.pairs, window, padId, layers: this.layers };
    const windows = Math.ceil(needed / window);
    if (this.mode === 'separate') return { alignment, points: await separateWindows(this.session, w), windows, reducedIn: 'float64' };
    if (alignment.pairs.every(([i, j]) => i === j)) return { alignment, points: await samePositionWindows(this.session, w), windows, reducedIn: 'graph' };
    if (!this.rowStates) throw new Error('the distance session did not open its row-state runner');
    return { alignment, points: await shiftedWindows(this.rowStates, w), windows, reducedIn: 'float64' };
  }

  async compareTexts(pair: TextPair, opts: Pick<ProfileOptions, 'maxTokens'>, align?: AlignMode): Promise<DiffOutcome> {
    const tokenizer = await this.getTokenizer();
    const a = tokenizer.encode(pair.a.text);
    const b = tokenizer.encode(pair.b.text);
    const { alignment, points, windows, reducedIn } = await this.compareIds(a.ids, b.ids, opts, align);
    const text = (t: TextPair['a'], e: { ids: number[]; tokens: string[] }): DiffText => ({ label: t.label, ...(t.path ? { path: t.path } : {}), ids: e.ids, tokens: e.tokens });
    return { a: text(pair.a, a), b: text(pair.b, b), alignment, points, mode: this.mode, windows, reducedIn };
  }
}
