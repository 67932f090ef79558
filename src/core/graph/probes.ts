/**
 * In-graph probes: nodes that reduce each layer's residual delta to per-token statistics inside
 * ONNX Runtime, so only [batch, tokens, layers]-sized tensors leave it.
 */
import { onnx } from 'onnx-proto';
import type { SubstepKind } from '../results';
import type { SpineLayer } from './spine';

const P = 'layer_profiler/';

/** Names of the probe outputs, each shaped [batch, tokens, layers]. */
export const PROBE_OUTPUTS = {
  mean: `${P}delta_mean`,
  absMean: `${P}delta_abs_mean`,
  l2: `${P}delta_l2`,
  residL2: `${P}resid_post_l2`,
  /** ‖resid_pre‖ of block 0 (the embedding output), [batch, tokens, 1]: with residL2, every point's norm. */
  embedL2: `${P}resid_pre0_l2`,
} as const;

export type ProbeStat = 'mean' | 'absMean' | 'l2';

export function substepOutput(kind: SubstepKind, stat: ProbeStat): string {
  return `${P}${kind}_${stat === 'mean' ? 'delta_mean' : stat === 'absMean' ? 'delta_abs_mean' : 'delta_l2'}`;
}

/** Name of the raw residual output exposed for point `k` (0 = embedding output) in raw mode. */
export function rawResidualOutput(k: number): string {
  return `${P}raw_resid_${k}`;
}

/** Raw mode: the stream after block `layer`'s first sub-step (resid_mid). */
export function rawMidOutput(layer: number): string {
  return `${P}raw_resid_mid_${layer}`;
}

export interface ProbeGraph {
  nodes: onnx.INodeProto[];
  initializers: onnx.ITensorProto[];
  outputs: onnx.IValueInfoProto[];
  /** Sub-step kinds probed per layer (same for every layer), empty when the blocks have no split. */
  substepKinds: SubstepKind[];
}

export interface ProbeOptions {
  opset: number;
  /** Also output every residual point as float32 [batch, tokens, hidden] (tests, independent checks). */
  raw?: boolean;
}

export function buildProbes(layers: SpineLayer[], opts: ProbeOptions): ProbeGraph {
  const b = new ProbeBuilder(opts.opset, layers[0].residualIn);
  const perStat: Record<'mean' | 'absMean' | 'l2' | 'residL2', string[]> = { mean: [], absMean: [], l2: [], residL2: [] };
  for (const layer of layers) {
    const stats = b.deltaStats(layer.residual, layer.residualIn, `layer${layer.layer}`);
    perStat.mean.push(stats.mean);
    perStat.absMean.push(stats.absMean);
    perStat.l2.push(stats.l2);
    perStat.residL2.push(b.reduce('ReduceL2', b.asFloat(layer.residual), `layer${layer.layer}/resid_l2`));
  }
  for (const key of Object.keys(perStat) as (keyof typeof perStat)[]) b.concatOutput(perStat[key], PROBE_OUTPUTS[key]);
  b.identityOutput(b.reduce('ReduceL2', b.asFloat(layers[0].residualIn), 'embed_l2'), PROBE_OUTPUTS.embedL2);

  const substepKinds = uniformSubsteps(layers);
  if (substepKinds.length > 1) {
    substepKinds.forEach((kind, s) => {
      const sub: Record<ProbeStat, string[]> = { mean: [], absMean: [], l2: [] };
      for (const layer of layers) {
        const before = s === 0 ? layer.residualIn : layer.substeps[s - 1].residual;
        const step = layer.substeps[s];
        const stats = step.branch ? b.branchStats(step.branch, step.residual, before, `layer${layer.layer}/${kind}`) : b.deltaStats(step.residual, before, `layer${layer.layer}/${kind}`);
        sub.mean.push(stats.mean);
        sub.absMean.push(stats.absMean);
        sub.l2.push(stats.l2);
      }
      for (const stat of ['mean', 'absMean', 'l2'] as const) b.concatOutput(sub[stat], substepOutput(kind, stat));
    });
  }

  if (opts.raw) {
    const points = [layers[0].residualIn, ...layers.map((l) => l.residual)];
    points.forEach((t, k) => b.identityOutput(b.asFloat(t), rawResidualOutput(k)));
    if (substepKinds.length > 1) layers.forEach((l) => b.identityOutput(b.asFloat(l.substeps[0].residual), rawMidOutput(l.layer)));
  }
  return { nodes: b.nodes, initializers: b.initializers, outputs: b.outputs, substepKinds: substepKinds.length > 1 ? substepKinds : [] };
}

/** The sub-step kinds shared by every layer, or [] when layers differ (then only whole-layer stats). */
function uniformSubsteps(layers: SpineLayer[]): SubstepKind[] {
  const kinds = layers[0]?.substeps.map((s) => s.kind) ?? [];
  const same = layers.every((l) => l.substeps.length === kinds.length && l.substeps.every((s, i) => s.kind === kinds[i]));
  return same ? kinds : [];
}

class ProbeBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly floatOf = new Map<string, string>();
  private readonly meanCache = new Map<string, string>();
  private hidden: string | undefined;
  private axesInput: string | undefined;
  private counter = 0;

  private referenceShape: string | undefined;

  /** `reference`: the residual entering block 0, whose [batch, tokens, hidden] shape every point takes. */
  constructor(
    private readonly opset: number,
    private readonly reference: string,
  ) {}

  /**
   * Float32 [batch, tokens, hidden] view of a residual tensor: one Cast per tensor (ORT drops it
   * when already float) and, for points other than the reference, a Reshape to the reference's
   * shape, since some exporters run a sublayer and its residual Add on a flattened
   * [batch·tokens, hidden] view (OPT's MLP). A Reshape aliases its input: nothing is copied.
   */
  asFloat(t: string): string {
    let f = this.floatOf.get(t);
    if (!f) {
      f = this.node('Cast', [t], `cast`, [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: onnx.TensorProto.DataType.FLOAT }]);
      if (t !== this.reference) f = this.node('Reshape', [f, this.shapeOfReference()], 'as_stream');
      this.floatOf.set(t, f);
    }
    return f;
  }

  private shapeOfReference(): string {
    if (!this.referenceShape) this.referenceShape = this.node('Shape', [this.asFloat(this.reference)], 'stream/shape');
    return this.referenceShape;
  }

  /**
   * Per-token statistics of `after - before`, with as few passes over [batch, tokens, hidden] as
   * possible (they are memory-bound): one Sub, one ReduceL1, one ReduceL2. The mean of the delta
   * is the difference of the two points' means, each computed once and shared between layers.
   */
  deltaStats(after: string, before: string, label: string): Record<ProbeStat, string> {
    const delta = this.node('Sub', [this.asFloat(after), this.asFloat(before)], `${label}/delta`);
    return {
      mean: this.node('Sub', [this.meanOf(after), this.meanOf(before)], `${label}/mean`),
      absMean: this.node('Div', [this.reduce('ReduceL1', delta, `${label}/abs_sum`), this.hiddenSize(after)], `${label}/abs_mean`),
      l2: this.reduce('ReduceL2', delta, `${label}/l2`),
    };
  }

  /** Statistics of a sub-step whose delta is its branch tensor: no difference to compute. */
  branchStats(branch: string, after: string, before: string, label: string): Record<ProbeStat, string> {
    const value = this.asFloat(branch);
    return {
      mean: this.node('Sub', [this.meanOf(after), this.meanOf(before)], `${label}/mean`),
      absMean: this.node('Div', [this.reduce('ReduceL1', value, `${label}/abs_sum`), this.hiddenSize(after)], `${label}/abs_mean`),
      l2: this.reduce('ReduceL2', value, `${label}/l2`),
    };
  }

  private meanOf(t: string): string {
    let m = this.meanCache.get(t);
    if (!m) {
      m = this.reduce('ReduceMean', this.asFloat(t), 'point_mean');
      this.meanCache.set(t, m);
    }
    return m;
  }

  /** The hidden size as a float scalar, read off a residual's shape at run time (only metadata). */
  private hiddenSize(t: string): string {
    if (!this.hidden) {
      const shape = this.node('Shape', [this.asFloat(t)], 'hidden/shape');
      const last = this.node('Gather', [shape, this.constant('last_index', [], [-1])], 'hidden/last');
      this.hidden = this.node('Cast', [last], 'hidden/float', [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: onnx.TensorProto.DataType.FLOAT }]);
    }
    return this.hidden;
  }

  /** Reduce over the hidden (last) axis, keeping it so per-layer results concatenate along it. */
  reduce(op: 'ReduceMean' | 'ReduceL1' | 'ReduceL2', input: string, label: string): string {
    const keepdims = { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 1 };
    if (this.opset >= 18) return this.node(op, [input, this.lastAxis()], label, [keepdims]);
    return this.node(op, [input], label, [keepdims, { name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [-1] }]);
  }

  concatOutput(parts: string[], name: string): void {
    this.nodes.push({ opType: 'Concat', name: `${name}/Concat`, input: parts, output: [name], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 }] });
    this.declareOutput(name);
  }

  identityOutput(input: string, name: string): void {
    this.nodes.push({ opType: 'Identity', name: `${name}/Identity`, input: [input], output: [name] });
    this.declareOutput(name);
  }

  private declareOutput(name: string): void {
    this.outputs.push({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } });
  }

  private lastAxis(): string {
    if (!this.axesInput) this.axesInput = this.constant('axes_last', [1], [-1]);
    return this.axesInput;
  }

  private constant(label: string, dims: number[], int64Data: number[]): string {
    const name = `${P}${label}`;
    this.initializers.push({ name, dataType: onnx.TensorProto.DataType.INT64, dims, int64Data });
    return name;
  }

  private node(opType: string, input: string[], label: string, attribute: onnx.IAttributeProto[] = []): string {
    const out = `${P}${label}/${opType}_${this.counter++}`;
    this.nodes.push({ opType, name: out, input, output: [out], attribute });
    return out;
  }
}
