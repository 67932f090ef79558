/**
 * Two texts side by side as an analysis: where their hidden states part. The model is opened with
 * the distance graph (graph/diffGraph.ts); A and B run as the two rows of one batch and only
 * [pairs, points] reductions come back. Where batching would change a text's numbers (dynamically
 * quantized activations), each text runs alone and the distances are reduced here in float64.
 */
import type { ModelSpec, ProfileOptions } from '../api';
import { ModelAnalysis, openAnalysis, type OpenedAnalysis } from '../analysisModel';
import { buildDiffGraph, type DiffMode } from '../graph/diffGraph';
import { editForAnalysis } from '../graph/instrument';
import type { OpenOptions } from '../modelLoading';
import { quantizesActivationsPerTensor } from '../runtime/probedSession';
import { WindowRunner } from '../runtime/windowRunner';
import { alignTokens, type AlignMode, type Alignment } from './align';
import { DiffReadout, DiffStatesReadout, type DiffRunValues } from './diffReadout';
import type { DiffPoint, DiffText } from './diffResults';
import { distancesFromReductions, distancesFromStates } from './distances';

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
}

export class TextDiff extends ModelAnalysis<DiffRunValues, WindowRunner<DiffRunValues>> {
  private constructor(
    opened: OpenedAnalysis<WindowRunner<DiffRunValues>>,
    /** Points in order: -1 (embedding output), then each block. */
    readonly layers: number[],
    readonly mode: DiffMode,
  ) {
    super(opened);
  }

  static async open(spec: ModelSpec, opts: OpenOptions = {}): Promise<TextDiff> {
    let layers: number[] = [];
    let mode: DiffMode = 'paired';
    const opened = await openAnalysis(spec, { ...opts, incremental: false }, (model, spine) => {
      mode = quantizesActivationsPerTensor(model) ? 'separate' : 'paired';
      const graph = buildDiffGraph(model, spine, mode);
      layers = graph.layers;
      const edit = editForAnalysis(model, graph.addition, { prune: opts.prune });
      const readout = mode === 'paired' ? new DiffReadout() : new DiffStatesReadout(layers.length);
      return { edit, runner: (session, settings) => new WindowRunner(session, readout, false, { ...settings, readsPast: false }) };
    });
    return new TextDiff(opened, layers, mode);
  }

  /** Token ids of two texts compared at every residual point. */
  async compareIds(a: number[], b: number[], opts: Pick<ProfileOptions, 'maxTokens'>, align?: AlignMode): Promise<{ alignment: Alignment; points: DiffPoint[] }> {
    const window = this.windowLength(opts);
    const longest = Math.max(a.length, b.length);
    if (longest > window) throw new DiffTextError(`A text has ${longest} tokens, more than one pass of this model holds (${window}); compare shorter texts or raise --max-tokens.`);
    if (a.length === 0 || b.length === 0) throw new DiffTextError('Both texts need at least one token.');
    const alignment = alignTokens(a, b, align);
    if (alignment.pairs.length === 0) return { alignment, points: this.layers.map((layer) => ({ layer, l2: [], cosine: [], relL2: [] })) };
    const positionsA = alignment.pairs.map((p) => p[0]);
    const positionsB = alignment.pairs.map((p) => p[1]);
    const padId = (await this.getTokenizer()).padId;
    if (this.mode === 'paired') {
      const [values] = await this.session.run([a, b], padId, [positionsA, positionsB]);
      if (values.kind !== 'paired') throw new Error('unexpected distance values');
      return { alignment, points: distancesFromReductions(values, this.layers) };
    }
    const [statesA] = await this.session.run([a], padId, [positionsA]);
    const [statesB] = await this.session.run([b], padId, [positionsB]);
    if (statesA.kind !== 'states' || statesB.kind !== 'states') throw new Error('unexpected distance values');
    return { alignment, points: distancesFromStates(statesA, statesB, this.layers) };
  }

  async compareTexts(pair: TextPair, opts: Pick<ProfileOptions, 'maxTokens'>, align?: AlignMode): Promise<DiffOutcome> {
    const tokenizer = await this.getTokenizer();
    const a = tokenizer.encode(pair.a.text);
    const b = tokenizer.encode(pair.b.text);
    const { alignment, points } = await this.compareIds(a.ids, b.ids, opts, align);
    const text = (t: TextPair['a'], e: { ids: number[]; tokens: string[] }): DiffText => ({ label: t.label, ...(t.path ? { path: t.path } : {}), ids: e.ids, tokens: e.tokens });
    return { a: text(pair.a, a), b: text(pair.b, b), alignment, points, mode: this.mode };
  }
}
