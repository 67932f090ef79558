/**
 * Finds the residual stream ("spine") of a transformer graph by structure.
 *
 * A residual step is an `Add` (or a fused Skip*LayerNormalization) one of whose operands is the
 * current stream tensor x and whose other operand is computed from x through at least one
 * weight-applying op (MatMul and kin). Walking such steps from the first one found gives every
 * point of the stream; steps are then grouped into blocks (attention + MLP, or one parallel step).
 * Names are never needed; they only make messages readable.
 */
import type { onnx } from 'onnx-proto';
import type { SubstepKind } from '../results';
import { consumersOf, type GraphIndex } from './graphIndex';
import { ATTENTION_LIKE, GENERATION_LOOPS, MATMUL_LIKE, METADATA_ONLY, PASS_THROUGH, PRODUCT_OPS, SKIP_NORM } from './opKinds';

export interface ResidualStep {
  /** Index of the Add / Skip node. */
  node: number;
  /** Stream tensor entering the step. */
  streamIn: string;
  /** Stream tensor leaving the step (for post-norm models, the norm's output). */
  streamOut: string;
  kind: SubstepKind;
  /**
   * The branch tensor when the step's output is exactly streamIn + branch (a plain residual Add,
   * pre-norm): its statistics are the delta's, without computing the difference.
   */
  branch?: string;
}

export interface SpineLayer {
  layer: number;
  residualIn: string;
  residual: string;
  substeps: Substep[];
}

export interface Substep {
  kind: SubstepKind;
  /** Stream tensor after the sub-step (resid_mid after attention, resid_post after the MLP). */
  residual: string;
  /** The sub-step's output added to the stream (attn_out, mlp_out), when the stream is exactly pre + it. */
  branch?: string;
}

export interface Spine {
  embeddingOutput: string;
  layers: SpineLayer[];
  norm: 'pre' | 'post';
  /** Nodes to add so every residual point exists as a tensor (fused norms that do not emit it). */
  addedNodes: onnx.INodeProto[];
  /**
   * Residual points computed inside a fused Skip*LayerNormalization (its output 3, or the sum
   * added for it), keyed by the point's tensor: what an analysis that replaces the point must
   * take apart (the node normalises its own sum, not the tensor).
   */
  fusedJoins: ReadonlyMap<string, FusedJoin>;
  /** Human-readable notes on what had to be added. */
  notes: string[];
}

export interface FusedJoin {
  /** Index of the Skip*LayerNormalization node in the graph's node list. */
  node: number;
  /** The operand added to the stream (attn_out, mlp_out), when the other operand is the stream itself. */
  branch?: string;
}

export class SpineNotFoundError extends Error {}

const ADDED_PREFIX = 'layer_profiler/';

export function findSpine(g: GraphIndex, hints: { postNorm?: boolean } = {}): Spine {
  const loop = g.nodes.find((n) => GENERATION_LOOPS.has(n.opType ?? ''));
  if (loop) {
    throw new SpineNotFoundError(
      `This model wraps its network in a ${loop.opType} node (${loop.name || 'unnamed'}), a whole generation loop in one operator, so its layers cannot be probed. Export the plain decoder (for example with Optimum, or the onnxruntime-genai model builder) and profile that instead.`,
    );
  }
  const finder = new SpineWalker(g);
  const first = finder.firstStep();
  if (!first) {
    const counts = opCounts(g);
    throw new SpineNotFoundError(
      `No residual stream found: no Add or Skip*LayerNormalization joins a tensor with a branch computed from it through a MatMul. The graph has ${g.nodes.length} nodes (${counts}).`,
    );
  }
  const steps = finder.walk(first, hints.postNorm);
  const layers = groupIntoLayers(steps);
  return {
    embeddingOutput: first.streamIn,
    layers,
    norm: finder.postNorm ? 'post' : 'pre',
    addedNodes: finder.addedNodes,
    fusedJoins: finder.fusedJoins,
    notes: finder.notes,
  };
}

function opCounts(g: GraphIndex): string {
  const counts = new Map<string, number>();
  for (const n of g.nodes) counts.set(n.opType ?? '?', (counts.get(n.opType ?? '?') ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([op, c]) => `${c} ${op}`)
    .join(', ');
}

interface Candidate {
  node: number;
  /** The operand that is (an alias of) the stream. */
  streamOperand: string;
  /** The branch operand. */
  branch: string;
}

class SpineWalker {
  readonly addedNodes: onnx.INodeProto[] = [];
  readonly fusedJoins = new Map<string, FusedJoin>();
  readonly notes: string[] = [];
  postNorm = false;
  private postNormSignature: string | undefined;
  private dynamicTensors: Set<string> | undefined;

  constructor(private readonly g: GraphIndex) {}

  /** Tensors computed from the graph's inputs (activations), as opposed to weights and constants. */
  private get dynamic(): Set<string> {
    if (!this.dynamicTensors) {
      const dynamic = new Set([...this.g.graphInputs].filter((t) => !this.g.constants.has(t)));
      const order = [...this.g.nodes.keys()].sort((a, b) => this.g.rank[a] - this.g.rank[b]);
      for (const i of order) {
        const node = this.g.nodes[i];
        if ((node.input ?? []).some((t) => t && dynamic.has(t))) for (const out of node.output ?? []) if (out) dynamic.add(out);
      }
      this.dynamicTensors = dynamic;
    }
    return this.dynamicTensors;
  }

  /** A fused attention op, or a product of two activations (scores Q·Kᵀ, or scores·V). */
  private mixesTokens(n: number): boolean {
    const node = this.g.nodes[n];
    const op = node.opType ?? '';
    if (ATTENTION_LIKE.has(op)) return true;
    if (!PRODUCT_OPS.has(op)) return false;
    const operands = (node.input ?? []).filter(Boolean);
    return operands.length >= 2 && operands.every((t) => this.dynamic.has(t));
  }

  /** The earliest residual step in topological order: its stream operand is the embedding output. */
  firstStep(): ResidualStep | undefined {
    const order = [...this.g.nodes.keys()].sort((a, b) => this.g.rank[a] - this.g.rank[b]);
    for (const i of order) {
      const node = this.g.nodes[i];
      for (const [a, b] of this.operandPairs(node)) {
        const origin = this.unalias(a);
        const source = this.g.producer.get(origin);
        if (source === undefined) continue;
        if (this.dependsThroughMatmul(b, new Set([source]))) {
          return this.makeStep({ node: i, streamOperand: a, branch: b }, origin, undefined);
        }
      }
    }
    return undefined;
  }

  walk(first: ResidualStep, postNormHint: boolean | undefined): ResidualStep[] {
    const steps = [first];
    let current = first;
    // Bounded: a graph of residual steps larger than any real model means a walk gone wrong.
    for (let guard = 0; guard < 4096; guard++) {
      const sources = this.sourcesFor(current.streamOut, current.streamIn);
      const candidate = this.earliest(this.candidates(current.streamOut, sources, current.node));
      if (!candidate) break;
      current = this.makeStep(candidate, current.streamOut, current.streamIn);
      steps.push(current);
    }
    if (postNormHint && !this.postNorm) this.notes.push('config suggests a post-norm model but the graph reads as pre-norm');
    return steps;
  }

  private sourcesFor(...streams: string[]): Set<number> {
    const sources = new Set<number>();
    for (const s of streams) {
      const p = this.g.producer.get(this.unalias(s));
      if (p !== undefined) sources.add(p);
    }
    return sources;
  }

  /** Builds the step for a residual node, deciding where the stream continues. */
  private makeStep(c: Candidate, streamIn: string, streamBefore: string | undefined): ResidualStep {
    const node = this.g.nodes[c.node];
    const isSkip = SKIP_NORM.has(node.opType ?? '');
    const sum = isSkip ? node.output?.[3] || undefined : node.output?.[0];
    const lookahead = (t: string | undefined) =>
      t !== undefined && this.candidates(t, this.sourcesFor(t, streamIn), c.node).length > 0;
    let streamOut: string;
    if (!this.postNorm && lookahead(sum)) {
      streamOut = sum!;
    } else if (isSkip && (this.postNorm || lookahead(node.output?.[0]))) {
      this.postNorm = true;
      streamOut = node.output![0];
    } else {
      const sumTensor = sum ?? this.addSkipResidual(c.node);
      const normed = this.postNormOutput(sumTensor, streamIn, c.node);
      if (normed) {
        this.postNorm = true;
        streamOut = normed;
      } else {
        streamOut = sumTensor;
      }
    }
    if (isSkip && !this.postNorm) this.fusedJoins.set(streamOut, { node: c.node, ...(c.streamOperand === streamIn ? { branch: c.branch } : {}) });
    return {
      node: c.node,
      streamIn,
      streamOut,
      kind: this.branchKind(c.branch, streamIn, streamBefore),
      ...(node.opType === 'Add' && streamOut === sum && c.streamOperand === streamIn ? { branch: c.branch } : {}),
    };
  }

  /**
   * For post-norm models the stream continues after the norm that follows the residual add.
   * Looks through the non-weight ops after `sum` for the tensor the next step uses as its stream;
   * at the last block, for the tensor reached through the same ops as the earlier blocks' norms.
   */
  private postNormOutput(sum: string, streamIn: string, residualNode: number): string | undefined {
    const region = this.normRegion(sum);
    for (const t of region.tensors) {
      if (this.candidates(t, this.sourcesFor(t, streamIn), residualNode).length > 0) {
        this.postNormSignature = this.signature(sum, t, region.nodes);
        return t;
      }
    }
    if (this.postNorm && this.postNormSignature) {
      for (const t of region.tensors) if (this.signature(sum, t, region.nodes) === this.postNormSignature) return t;
    }
    return undefined;
  }

  /** Nodes reachable from `start` without passing a weight-applying op, in topological order. */
  private normRegion(start: string): { nodes: Set<number>; tensors: string[] } {
    const nodes = new Set<number>();
    const queue = [start];
    while (queue.length && nodes.size < 48) {
      const t = queue.shift()!;
      for (const c of consumersOf(this.g, t)) {
        const op = this.g.nodes[c].opType ?? '';
        if (nodes.has(c) || MATMUL_LIKE.has(op) || ATTENTION_LIKE.has(op) || SKIP_NORM.has(op)) continue;
        nodes.add(c);
        for (const out of this.g.nodes[c].output ?? []) if (out) queue.push(out);
      }
    }
    const ordered = [...nodes].sort((a, b) => this.g.rank[a] - this.g.rank[b]);
    return { nodes, tensors: ordered.flatMap((n) => (this.g.nodes[n].output ?? []).filter(Boolean)) };
  }

  /** The op types on the paths from `from` to `to` within `region`: the shape of a norm. */
  private signature(from: string, to: string, region: Set<number>): string {
    const ops: string[] = [];
    const seen = new Set<number>();
    const stack = [to];
    while (stack.length) {
      const t = stack.pop()!;
      if (t === from) continue;
      const p = this.g.producer.get(t);
      if (p === undefined || !region.has(p) || seen.has(p)) continue;
      seen.add(p);
      ops.push(this.g.nodes[p].opType ?? '');
      for (const i of this.g.nodes[p].input ?? []) if (i) stack.push(i);
    }
    return ops.sort().join(',');
  }

  /** Fused norms that do not emit their residual sum (output 3) get an Add computing it. */
  private addSkipResidual(nodeIndex: number): string {
    const node = this.g.nodes[nodeIndex];
    const inputs = node.input ?? [];
    const base = `${ADDED_PREFIX}residual_of_${node.name || `node${nodeIndex}`}`;
    let sum = `${base}/sum`;
    this.addedNodes.push({ opType: 'Add', name: `${base}/Add`, input: [inputs[0], inputs[1]], output: [sum] });
    const bias = node.opType === 'SkipLayerNormalization' ? inputs[4] : undefined;
    if (bias) {
      const withBias = `${base}/sum_bias`;
      this.addedNodes.push({ opType: 'Add', name: `${base}/AddBias`, input: [sum, bias], output: [withBias] });
      sum = withBias;
    }
    this.notes.push(`added the residual sum that ${node.opType} ${node.name || ''} does not emit (its output 3)`);
    return sum;
  }

  private earliest(cands: Candidate[]): Candidate | undefined {
    return cands.sort((a, b) => this.g.rank[a.node] - this.g.rank[b.node])[0];
  }

  /** Residual nodes that take `stream` (or a Cast of it) directly and add a branch computed from `sources`. */
  private candidates(stream: string, sources: Set<number>, blocked?: number): Candidate[] {
    const found: Candidate[] = [];
    for (const alias of this.aliases(stream)) {
      for (const c of consumersOf(this.g, alias)) {
        for (const [a, b] of this.operandPairs(this.g.nodes[c])) {
          if (a === alias && this.dependsThroughMatmul(b, sources, blocked)) found.push({ node: c, streamOperand: a, branch: b });
        }
      }
    }
    return found;
  }

  /** (stream candidate, branch) operand pairs of a node that could be a residual join. */
  private operandPairs(node: onnx.INodeProto): [string, string][] {
    const op = node.opType ?? '';
    if (op !== 'Add' && !SKIP_NORM.has(op)) return [];
    if (node.domain && node.domain !== 'com.microsoft' && node.domain !== 'ai.onnx') return [];
    const [a, b] = node.input ?? [];
    if (!a || !b || this.g.constants.has(a) || this.g.constants.has(b)) return [];
    return [
      [a, b],
      [b, a],
    ];
  }

  /** The tensor and everything it passes through unchanged (Cast, Identity). */
  private aliases(t: string): string[] {
    const out = [t];
    for (let i = 0; i < out.length; i++) {
      for (const c of consumersOf(this.g, out[i])) {
        const n = this.g.nodes[c];
        if (PASS_THROUGH.has(n.opType ?? '') && n.output?.[0]) out.push(n.output[0]);
      }
    }
    return out;
  }

  private unalias(t: string): string {
    let cur = t;
    for (;;) {
      const p = this.g.producer.get(cur);
      const n = p === undefined ? undefined : this.g.nodes[p];
      if (!n || !PASS_THROUGH.has(n.opType ?? '') || !n.input?.[0]) return cur;
      cur = n.input[0];
    }
  }

  /** Whether `tensor` is computed from one of the `sources` nodes through a weight-applying op. */
  private dependsThroughMatmul(tensor: string, sources: Set<number>, blocked?: number): boolean {
    if (sources.size === 0) return false;
    const minRank = Math.min(...[...sources].map((s) => this.g.rank[s]));
    const start = this.g.producer.get(tensor);
    if (start === undefined || sources.has(start)) return false;
    const seen = new Set<number>();
    const stack: [number, boolean][] = [[start, MATMUL_LIKE.has(this.g.nodes[start].opType ?? '')]];
    while (stack.length) {
      const [n, viaMatmul] = stack.pop()!;
      const key = n * 2 + (viaMatmul ? 1 : 0);
      if (seen.has(key)) continue;
      seen.add(key);
      for (const input of this.g.nodes[n].input ?? []) {
        const p = input ? this.g.producer.get(input) : undefined;
        if (p === undefined || this.g.rank[p] < minRank) continue;
        if (sources.has(p)) {
          if (viaMatmul) return true;
          continue;
        }
        // Paths through the step just taken lead back to the stream itself, not to a new branch.
        if (p === blocked) continue;
        stack.push([p, viaMatmul || MATMUL_LIKE.has(this.g.nodes[p].opType ?? '')]);
      }
    }
    return false;
  }

  /**
   * Attention if the branch mixes tokens, MLP otherwise; parallel when the branch joins an attention
   * path with a separate weight path (x + attn(x) + mlp(x) written as one Add of the two).
   */
  private branchKind(branch: string, streamIn: string, streamBefore: string | undefined): SubstepKind {
    const region = this.branchNodes(branch, this.sourcesFor(streamIn, ...(streamBefore ? [streamBefore] : [])));
    const hasAttention = (n: number) => this.mixesTokens(n);
    if (![...region].some(hasAttention)) return 'mlp';
    const ancestry = (t: string) => this.branchNodes(t, this.sourcesFor(streamIn, ...(streamBefore ? [streamBefore] : [])));
    for (const n of region) {
      const node = this.g.nodes[n];
      if (node.opType !== 'Add' && node.opType !== 'Sum') continue;
      const inputs = (node.input ?? []).filter((i) => i && !this.g.constants.has(i));
      if (inputs.length < 2) continue;
      const kinds = inputs.map((i) => {
        const up = [...ancestry(i)];
        return up.some(hasAttention) ? 'attention' : up.some((m) => MATMUL_LIKE.has(this.g.nodes[m].opType ?? '')) ? 'weights' : 'other';
      });
      if (kinds.includes('attention') && kinds.includes('weights')) return 'parallel';
    }
    return 'attention';
  }

  /**
   * Nodes between the sources and `branch` (ancestors of the branch above the sources) whose values
   * reach it: a Shape reads only its input's dimensions, so what lies behind it is not followed.
   */
  private branchNodes(branch: string, sources: Set<number>): Set<number> {
    const minRank = Math.min(...[...sources].map((s) => this.g.rank[s]));
    const region = new Set<number>();
    const stack = [this.g.producer.get(branch)];
    while (stack.length) {
      const n = stack.pop();
      if (n === undefined || region.has(n) || sources.has(n) || this.g.rank[n] < minRank) continue;
      region.add(n);
      if (METADATA_ONLY.has(this.g.nodes[n].opType ?? '')) continue;
      for (const i of this.g.nodes[n].input ?? []) if (i) stack.push(this.g.producer.get(i));
    }
    return region;
  }
}

/** Sequential blocks are attention then MLP; parallel blocks are one step, or two reading the same stream. */
export function groupIntoLayers(steps: ResidualStep[]): SpineLayer[] {
  const layers: SpineLayer[] = [];
  for (let i = 0; i < steps.length; ) {
    const s = steps[i];
    const next = steps[i + 1];
    if (s.kind === 'attention' && next && next.kind === 'mlp') {
      layers.push({
        layer: layers.length,
        residualIn: s.streamIn,
        residual: next.streamOut,
        substeps: [substep(s, 'attention'), substep(next, 'mlp')],
      });
      i += 2;
    } else {
      layers.push({ layer: layers.length, residualIn: s.streamIn, residual: s.streamOut, substeps: [substep(s, s.kind)] });
      i += 1;
    }
  }
  return layers;
}

function substep(s: ResidualStep, kind: SubstepKind): Substep {
  return { kind, residual: s.streamOut, ...(s.branch ? { branch: s.branch } : {}) };
}
