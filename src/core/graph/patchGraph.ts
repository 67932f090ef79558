/**
 * Activation patching in the graph: each patchable point (blocks.{l}.resid_post, and attn_out /
 * mlp_out where the stream is exactly pre + branch) becomes a replaceable value. A residual sum
 * inside a fused Skip*LayerNormalization is made replaceable by structure: the node's normalised
 * output is recomputed by the plain norm from the patched sum. Per point, a mask
 * input [batch, tokens, 1] (bool) and a value input [batch, tokens, hidden] (float32, broadcast, so
 * [1, tokens, hidden] serves every row) feed a `Where` spliced into the stream: every node of the
 * model that read the point reads the `Where` instead (the node list is rewired, the weights are
 * never re-encoded). A point no row patches is fed a [1, 1, 1] false mask. Outputs: every point's
 * own value (float32 [batch, tokens, hidden], read from the clean run) and the logits at the last
 * position (float32 [batch, vocab]), which the metric needs.
 */
import type { onnx } from 'onnx-proto';
import type { OnnxModelFile } from '../onnx/modelFile';
import { AdditionBuilder, BOOL, FLOAT } from './additionBuilder';
import { indexGraph } from './graphIndex';
import { findLogits } from './lens';
import { ANALYSIS_PREFIX } from './names';
import type { GraphAddition } from './prune';
import type { Spine } from './spine';

const P = `${ANALYSIS_PREFIX}patch/`;

export type PatchPointKind = 'resid_post' | 'attn_out' | 'mlp_out';
export const PATCH_POINT_KINDS: readonly PatchPointKind[] = ['resid_post', 'attn_out', 'mlp_out'];

export interface PatchPoint {
  kind: PatchPointKind;
  layer: number;
  tensor: string;
  /** Index of the fused Skip*LayerNormalization node computing the point, taken apart to patch it. */
  fusedNorm?: number;
}

export const PATCH_IO = {
  lastLogits: `${P}last_logits`,
  mask: (i: number) => `${P}mask_${i}`,
  value: (i: number) => `${P}value_${i}`,
  point: (i: number) => `${P}point_${i}`,
} as const;

export class PatchUnsupportedError extends Error {}

export interface PatchGraph {
  addition: GraphAddition;
  points: PatchPoint[];
  /** Points that exist but cannot be patched here, with why. */
  unpatchable: { kind: PatchPointKind; layers?: number[]; reason: string }[];
}

/**
 * The points of `kinds` found in the spine; a kind the model lacks is simply absent. A point a
 * fused Skip*LayerNormalization computes carries that node: the node normalises its own sum of
 * the stream and the branch, so replacing the sum tensor alone would patch the stream but not the
 * next block's input; the patch graph takes the node apart (see buildPatchGraph).
 */
export function patchPoints(spine: Spine, kinds: readonly PatchPointKind[], nodes: readonly onnx.INodeProto[]): { points: PatchPoint[]; unpatchable: PatchGraph['unpatchable'] } {
  const points: PatchPoint[] = [];
  const unpatchable: PatchGraph['unpatchable'] = [];
  const refuse = (kind: PatchPointKind, layer: number, reason: string) => {
    const u = unpatchable.find((x) => x.kind === kind && x.reason === reason && x.layers);
    if (u) u.layers!.push(layer);
    else unpatchable.push({ kind, layers: [layer], reason });
  };
  for (const kind of kinds) {
    for (const layer of spine.layers) {
      if (kind === 'resid_post') {
        const join = spine.fusedJoins.get(layer.residual);
        if (!join) {
          points.push({ kind, layer: layer.layer, tensor: layer.residual });
          continue;
        }
        const node = nodes[join.node];
        // Its mean and inverse deviation (outputs 1, 2) would still be the unpatched sum's.
        if ((node.output ?? []).slice(1, 3).some((o) => o && nodes.some((n) => (n.input ?? []).includes(o)))) {
          refuse(kind, layer.layer, `the fused norm ${node.name || node.opType} that computes it also hands its mean or inverse deviation to other nodes`);
          continue;
        }
        points.push({ kind, layer: layer.layer, tensor: layer.residual, fusedNorm: join.node });
        continue;
      }
      const substep = layer.substeps.find((s) => s.kind === (kind === 'attn_out' ? 'attention' : 'mlp'));
      if (!substep) continue;
      // A fused join's branch operand feeds the node that adds it: replacing it patches the sum.
      const branch = substep.branch ?? spine.fusedJoins.get(substep.residual)?.branch;
      if (branch) points.push({ kind, layer: layer.layer, tensor: branch });
    }
  }
  return { points, unpatchable };
}

/**
 * The norm half of a fused Skip*LayerNormalization, reading `x` (the patched sum): the plain
 * norm ONNX Runtime runs for the model's own first norm, with the node's weights and epsilon.
 */
function normOnly(b: AdditionBuilder, node: onnx.INodeProto, x: string, label: string): string {
  const [, , gamma, beta] = node.input ?? [];
  const epsilon = (node.attribute ?? []).filter((a) => a.name === 'epsilon');
  const common = [...epsilon, b.int('axis', -1), b.int('stash_type', 1)];
  if (node.opType === 'SkipSimplifiedLayerNormalization') return b.node('SimplifiedLayerNormalization', [x, gamma], label, common);
  return b.node('LayerNormalization', beta ? [x, gamma, beta] : [x, gamma], label, common);
}

export function buildPatchGraph(model: OnnxModelFile, spine: Spine, kinds: readonly PatchPointKind[]): PatchGraph {
  if (spine.norm === 'post') throw new PatchUnsupportedError('Activation patching reads a next-token metric, and this model is a post-norm encoder (BERT-style) without a next-token head.');
  const logits = findLogits(model, indexGraph({ ...model.graph, node: [...(model.graph.node ?? []), ...spine.addedNodes] }));
  const nodes = model.graph.node ?? [];
  const { points, unpatchable } = patchPoints(spine, kinds, nodes);
  const activationType = (model.graph.output ?? []).find((o) => o.name === logits)?.type?.tensorType?.elemType ?? FLOAT;
  const b = new AdditionBuilder(P, model.opset, spine.layers[0].residualIn);
  const rewire = new Map<string, string>();
  points.forEach((point, i) => {
    const label = `p${i}`;
    const stream = b.asStream(point.tensor, label);
    const mask = b.input(PATCH_IO.mask(i), BOOL, [`mask_batch_${i}`, `mask_tokens_${i}`, 1]);
    const value = b.input(PATCH_IO.value(i), FLOAT, [`value_batch_${i}`, `value_tokens_${i}`, `value_hidden_${i}`]);
    // The point's own type (fp16 models); a float32 round trip of fp16 values is exact. Before
    // CastLike (opset 15), the logits' type stands for the activations'.
    const typed = model.opset >= 15 ? b.node('CastLike', [value, stream], `${label}/value_typed`) : activationType === FLOAT ? value : b.node('Cast', [value], `${label}/value_typed`, [b.int('to', activationType)]);
    const patched = b.node('Where', [mask, typed, stream], `${label}/where`);
    const replaced = stream === point.tensor ? patched : b.node('Reshape', [patched, b.node('Shape', [point.tensor], `${label}/shape`)], `${label}/as_point`);
    rewire.set(point.tensor, replaced);
    if (point.fusedNorm !== undefined) {
      // The fused node's normalised output now comes from the patched sum: whatever read it reads
      // a plain norm of the replaced value (the node itself still emits the sum that is patched).
      const fused = nodes[point.fusedNorm];
      rewire.set(fused.output![0], normOnly(b, fused, replaced, `${label}/norm`));
    }
    b.output(PATCH_IO.point(i), b.asFloat(stream, `${label}/value_out`));
  });
  const last = b.node('Gather', [logits, b.constant('last_position', [], [-1])], 'logits/last', [b.int('axis', 1)]);
  b.output(PATCH_IO.lastLogits, b.asFloat(last, 'logits'));
  // The sums the spine adds for fused norms that do not emit them read the norm's own operands,
  // which may be patched branches: they read the patched values, as the fused node does.
  const added = spine.addedNodes.map((n) => ((n.input ?? []).some((t) => rewire.has(t)) ? { ...n, input: (n.input ?? []).map((t) => rewire.get(t) ?? t) } : n));
  return { addition: b.addition(added, rewire), points, unpatchable };
}
