/**
 * The logit lens in the graph: the model's own final norm and head — every node between the last
 * residual point and `logits`, whatever its ops (decomposed or fused norms, soft-capping, scaling,
 * tied or quantized heads, Casts) — cloned once per residual point and applied to it, then reduced
 * to what is kept: per position the entropy, the top-k ids and probabilities, the log-probability
 * of the actual next token, and the KL divergence from the final layer's distribution. The last
 * point reads the model's own logits, so it reproduces them by construction.
 */
import { onnx } from 'onnx-proto';
import type { OnnxModelFile } from '../onnx/modelFile';
import { consumersOf, indexGraph, type GraphIndex } from './graphIndex';
import { ANALYSIS_PREFIX } from './names';
import { SKIP_NORM } from './opKinds';
import type { GraphAddition } from './prune';
import type { Spine } from './spine';

const P = `${ANALYSIS_PREFIX}lens/`;

/** The lens's graph input (next token id per position, [batch, tokens, 1]) and outputs, each [batch, tokens, points(·k)]. */
export const LENS_IO = {
  nextIds: `${P}next_ids`,
  entropy: `${P}entropy`,
  nextLogProb: `${P}next_logprob`,
  klToFinal: `${P}kl_to_final`,
  topIds: `${P}top_ids`,
  topProbs: `${P}top_probs`,
} as const;

export class LensUnsupportedError extends Error {}

export interface LensGraph {
  addition: GraphAddition;
  /** Lens points in order: -1 (the embedding output), then each block's resid_post. */
  layers: number[];
  k: number;
  /** The logits output the head ends in. */
  logits: string;
}

const INT = onnx.AttributeProto.AttributeType.INT;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

export function buildLens(model: OnnxModelFile, spine: Spine, k: number): LensGraph {
  if (spine.norm === 'post') {
    throw new LensUnsupportedError('The logit lens reads next-token predictions, and this model is a post-norm encoder (BERT-style) without a next-token head.');
  }
  const g = indexGraph({ ...model.graph, node: [...(model.graph.node ?? []), ...spine.addedNodes] });
  const logits = findLogits(model, g);
  const head = headRegion(g, spine, logits);
  const b = new LensBuilder(model.opset, k);
  const last = spine.layers[spine.layers.length - 1].residual;
  const points = [spine.layers[0].residualIn, ...spine.layers.map((l) => l.residual)];
  const lastShape = b.node('Shape', [last], 'stream_shape');
  const pointLogits = points.map((point, i) => (i === points.length - 1 ? logits : b.cloneHead(g, head, point, lastShape, i, logits)));
  b.reduce(pointLogits);
  const addition = b.addition();
  // The residual sums the spine adds (fused norms that do not emit them) are points too.
  addition.nodes.unshift(...spine.addedNodes);
  return { addition, layers: points.map((_, i) => i - 1), k, logits };
}

/** The graph output holding the next-token logits: named so, or the one output the last residual reaches. */
export function findLogits(model: OnnxModelFile, g: GraphIndex): string {
  const named = model.outputs.find((o) => /logits/i.test(o.name));
  if (named) return named.name;
  const candidates = model.outputs.filter((o) => !/present|past|cache/i.test(o.name));
  if (candidates.length === 1 && g.producer.has(candidates[0].name)) return candidates[0].name;
  throw new LensUnsupportedError(`No logits output found (outputs: ${model.outputs.map((o) => o.name).join(', ')}): the logit lens needs the model's head.`);
}

interface HeadRegion {
  /** Nodes between the last residual and the logits, in topological order. */
  nodes: number[];
  /** The tensor the head reads the residual from (the last resid_post, or a fused norm's inputs). */
  entry: string;
  /** A fused final norm (Skip*LayerNormalization) reading the stream as input + skip. */
  fusedNorm?: number;
}

function headRegion(g: GraphIndex, spine: Spine, logits: string): HeadRegion {
  const last = spine.layers[spine.layers.length - 1].residual;
  const ancestors = ancestorsOf(g, logits);
  const added = spine.addedNodes.find((n) => n.output?.includes(last));
  let fusedNorm: number | undefined;
  let starts = [last];
  if (added) {
    // The residual sum the fused final norm does not emit (input + skip [+ bias], added by the
    // spine): the norm reading those same two inputs starts the head.
    const addedInputs = new Set(spine.addedNodes.flatMap((n) => n.input ?? []));
    fusedNorm = [...ancestors].find((n) => SKIP_NORM.has(g.nodes[n].opType ?? '') && (g.nodes[n].input ?? []).slice(0, 2).every((t) => addedInputs.has(t)) && spine.addedNodes.some((a) => (a.input ?? []).includes(g.nodes[n].input?.[0] ?? '') && (a.input ?? []).includes(g.nodes[n].input?.[1] ?? '')));
    if (fusedNorm === undefined) throw new LensUnsupportedError(`The final norm after ${last} was not found.`);
    starts = (g.nodes[fusedNorm].output ?? []).filter(Boolean);
  }
  const below = descendantsOf(g, starts);
  if (fusedNorm !== undefined) below.add(fusedNorm);
  const nodes = [...below].filter((n) => ancestors.has(n)).sort((x, y) => g.rank[x] - g.rank[y]);
  if (nodes.length === 0) throw new LensUnsupportedError(`No path from the last residual point (${last}) to ${logits}.`);
  return { nodes, entry: last, fusedNorm };
}

function ancestorsOf(g: GraphIndex, tensor: string): Set<number> {
  const seen = new Set<number>();
  const stack = [g.producer.get(tensor)];
  while (stack.length) {
    const n = stack.pop();
    if (n === undefined || seen.has(n)) continue;
    seen.add(n);
    for (const i of g.nodes[n].input ?? []) if (i) stack.push(g.producer.get(i));
  }
  return seen;
}

function descendantsOf(g: GraphIndex, tensors: string[]): Set<number> {
  const seen = new Set<number>();
  const stack = [...tensors];
  while (stack.length) {
    const t = stack.pop()!;
    for (const c of consumersOf(g, t)) {
      if (seen.has(c)) continue;
      seen.add(c);
      for (const o of g.nodes[c].output ?? []) if (o) stack.push(o);
    }
  }
  return seen;
}

class LensBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private counter = 0;

  constructor(
    private readonly opset: number,
    private readonly k: number,
  ) {}

  node(opType: string, input: string[], label: string, attribute: onnx.IAttributeProto[] = [], outputs = 1): string {
    const base = `${P}${label}/${opType}_${this.counter++}`;
    const output = outputs === 1 ? [base] : Array.from({ length: outputs }, (_, i) => `${base}:${i}`);
    this.nodes.push({ opType, name: base, input, output, attribute });
    return output[0];
  }

  /** The head applied to `point` (viewed in the last residual's shape): its logits tensor. */
  cloneHead(g: GraphIndex, head: HeadRegion, point: string, lastShape: string, index: number, logits: string): string {
    const prefix = `${P}p${index}/`;
    const input = this.node('Reshape', [point, lastShape], `p${index}/as_stream`);
    const renamed = new Map<string, string>([[head.entry, input]]);
    const rename = (t: string) => (t ? (renamed.get(t) ?? t) : t);
    for (const n of head.nodes) {
      const node = g.nodes[n];
      let inputs = (node.input ?? []).map(rename);
      let outputs = node.output ?? [];
      if (n === head.fusedNorm) {
        // norm(input + skip [+ bias]) with the point as input and no skip: the point already holds
        // the residual sum (bias included, as the spine's added sum does for SkipLayerNormalization).
        const zeros = this.node('Sub', [input, input], `p${index}/no_skip`);
        inputs = [input, zeros, ...inputs.slice(2)];
        if (node.opType === 'SkipLayerNormalization' && inputs.length > 4) inputs[4] = '';
        outputs = [outputs[0] ?? ''];
      }
      const out = outputs.map((o) => (o ? `${prefix}${o}` : ''));
      outputs.forEach((o, i) => o && renamed.set(o, out[i]));
      this.nodes.push({ ...node, name: `${prefix}${node.name ?? n}`, input: inputs, output: out });
    }
    const cloned = renamed.get(logits);
    if (!cloned) throw new LensUnsupportedError(`The head's clone for point ${index} does not reach ${logits}.`);
    return cloned;
  }

  /** Per-position entropy, top-k, next-token log-probability and KL from the final point, for every point. */
  reduce(pointLogits: string[]): void {
    const floats = pointLogits.map((l, i) => this.node('Cast', [l], `p${i}/float`, [{ name: 'to', type: INT, i: FLOAT }]));
    const final = floats[floats.length - 1];
    const finalProbs = this.node('Softmax', [final], 'final/probs', [{ name: 'axis', type: INT, i: -1 }]);
    const finalLse = this.reduceLast('ReduceLogSumExp', final, 'final/lse');
    const finalEntropy = this.node('Sub', [finalLse, this.reduceLast('ReduceSum', this.node('Mul', [finalProbs, final], 'final/p_logits'), 'final/sum_p_logits')], 'final/entropy');
    const next = LENS_IO.nextIds;
    const per = { entropy: [] as string[], nextLogProb: [] as string[], klToFinal: [] as string[], topIds: [] as string[], topProbs: [] as string[] };
    floats.forEach((logits, i) => {
      const isFinal = i === floats.length - 1;
      const lse = isFinal ? finalLse : this.reduceLast('ReduceLogSumExp', logits, `p${i}/lse`);
      const entropy = isFinal
        ? finalEntropy
        : this.node('Sub', [lse, this.reduceLast('ReduceSum', this.node('Mul', [this.node('Softmax', [logits], `p${i}/probs`, [{ name: 'axis', type: INT, i: -1 }]), logits], `p${i}/p_logits`), `p${i}/sum_p_logits`)], `p${i}/entropy`);
      // KL(final || point) = Σ p_f log p_f − Σ p_f logits_p + lse_p = −H_f − Σ p_f logits_p + lse_p.
      const crossLogits = this.reduceLast('ReduceSum', this.node('Mul', [finalProbs, logits], `p${i}/pf_logits`), `p${i}/sum_pf_logits`);
      const kl = this.node('Add', [this.node('Neg', [this.node('Add', [finalEntropy, crossLogits], `p${i}/h_plus_cross`)], `p${i}/neg`), lse], `p${i}/kl`);
      const nextLogit = this.node('GatherElements', [logits, next], `p${i}/next_logit`, [{ name: 'axis', type: INT, i: -1 }]);
      const nextLogProb = this.node('Sub', [nextLogit, lse], `p${i}/next_logprob`);
      const top = `${P}p${i}/TopK_${this.counter++}`;
      this.nodes.push({ opType: 'TopK', name: top, input: [logits, this.constant('k', [1], [this.k])], output: [`${top}:values`, `${top}:indices`], attribute: [{ name: 'axis', type: INT, i: -1 }] });
      const topProbs = this.node('Exp', [this.node('Sub', [`${top}:values`, lse], `p${i}/top_logprob`)], `p${i}/top_probs`);
      per.entropy.push(entropy);
      per.nextLogProb.push(nextLogProb);
      per.klToFinal.push(kl);
      per.topIds.push(`${top}:indices`);
      per.topProbs.push(topProbs);
    });
    for (const key of Object.keys(per) as (keyof typeof per)[]) {
      this.nodes.push({ opType: 'Concat', name: `${LENS_IO[key]}/Concat`, input: per[key], output: [LENS_IO[key]], attribute: [{ name: 'axis', type: INT, i: -1 }] });
      this.outputs.push({ name: LENS_IO[key], type: { tensorType: { elemType: key === 'topIds' ? onnx.TensorProto.DataType.INT64 : FLOAT } } });
    }
  }

  private reduceLast(op: 'ReduceSum' | 'ReduceLogSumExp', input: string, label: string): string {
    const keepdims = { name: 'keepdims', type: INT, i: 1 };
    // ReduceSum takes its axes as an input from opset 13, the other reductions from opset 18.
    const axesAsInput = op === 'ReduceSum' ? this.opset >= 13 : this.opset >= 18;
    if (axesAsInput) return this.node(op, [input, this.constant('axes_last', [1], [-1])], label, [keepdims]);
    return this.node(op, [input], label, [keepdims, { name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [-1] }]);
  }

  private constant(label: string, dims: number[], int64Data: number[]): string {
    const name = `${P}${label}`;
    if (!this.initializers.some((t) => t.name === name)) this.initializers.push({ name, dataType: onnx.TensorProto.DataType.INT64, dims, int64Data });
    return name;
  }

  addition(): GraphAddition {
    return { nodes: this.nodes, initializers: this.initializers, outputs: this.outputs, inputs: [{ name: LENS_IO.nextIds, type: { tensorType: { elemType: onnx.TensorProto.DataType.INT64, shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'tokens' }, { dimValue: 1 }] } } } }] };
  }
}
