/**
 * Activation patching in the graph: each patchable point (blocks.{l}.resid_post, and attn_out /
 * mlp_out where the stream is exactly pre + branch) becomes a replaceable value. Per point, a mask
 * input [batch, tokens, 1] (bool) and a value input [batch, tokens, hidden] (float32, broadcast, so
 * [1, tokens, hidden] serves every row) feed a `Where` spliced into the stream: every node of the
 * model that read the point reads the `Where` instead (the node list is rewired, the weights are
 * never re-encoded). A point no row patches is fed a [1, 1, 1] false mask. Outputs: every point's
 * own value (float32 [batch, tokens, hidden], read from the clean run) and the logits at the last
 * position (float32 [batch, vocab]), which the metric needs.
 */
import type { OnnxModelFile } from '../onnx/modelFile';
import { AdditionBuilder, BOOL, FLOAT } from './additionBuilder';
import { indexGraph } from './graphIndex';
import { findLogits } from './lens';
import { ANALYSIS_PREFIX } from './names';
import { SKIP_NORM } from './opKinds';
import type { GraphAddition } from './prune';
import type { Spine } from './spine';

const P = `${ANALYSIS_PREFIX}patch/`;

export type PatchPointKind = 'resid_post' | 'attn_out' | 'mlp_out';
export const PATCH_POINT_KINDS: readonly PatchPointKind[] = ['resid_post', 'attn_out', 'mlp_out'];

export interface PatchPoint {
  kind: PatchPointKind;
  layer: number;
  tensor: string;
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

/** The points of `kinds` found in the spine; a kind the model lacks is simply absent. */
export function patchPoints(spine: Spine, kinds: readonly PatchPointKind[], producerOp: (tensor: string) => string | undefined): { points: PatchPoint[]; unpatchable: PatchGraph['unpatchable'] } {
  // A residual sum the spine had to add (a fused norm that does not emit it) feeds nothing of the
  // model's own; one a fused norm emits is not what that norm normalises (it adds its inputs
  // itself), so replacing it would patch the stream but not the next block's input.
  const added = new Set(spine.addedNodes.flatMap((n) => n.output ?? []));
  const points: PatchPoint[] = [];
  const unpatchable: PatchGraph['unpatchable'] = [];
  for (const kind of kinds) {
    for (const layer of spine.layers) {
      const tensor = kind === 'resid_post' ? layer.residual : layer.substeps.find((s) => s.kind === (kind === 'attn_out' ? 'attention' : 'mlp'))?.branch;
      if (!tensor) continue;
      if (added.has(tensor) || SKIP_NORM.has(producerOp(tensor) ?? '')) {
        const u = unpatchable.find((x) => x.kind === kind && x.layers);
        if (u) u.layers!.push(layer.layer);
        else unpatchable.push({ kind, layers: [layer.layer], reason: 'the model computes it inside a fused norm (Skip*LayerNormalization), which normalises its own sum of the stream and the branch, so there is no tensor whose replacement reaches the next block' });
        continue;
      }
      points.push({ kind, layer: layer.layer, tensor });
    }
  }
  return { points, unpatchable };
}

export function buildPatchGraph(model: OnnxModelFile, spine: Spine, kinds: readonly PatchPointKind[]): PatchGraph {
  if (spine.norm === 'post') throw new PatchUnsupportedError('Activation patching reads a next-token metric, and this model is a post-norm encoder (BERT-style) without a next-token head.');
  const logits = findLogits(model, indexGraph({ ...model.graph, node: [...(model.graph.node ?? []), ...spine.addedNodes] }));
  const producer = new Map<string, string>();
  for (const n of model.graph.node ?? []) for (const o of n.output ?? []) producer.set(o, n.opType ?? '');
  const { points, unpatchable } = patchPoints(spine, kinds, (t) => producer.get(t));
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
    rewire.set(point.tensor, stream === point.tensor ? patched : b.node('Reshape', [patched, b.node('Shape', [point.tensor], `${label}/shape`)], `${label}/as_point`));
    b.output(PATCH_IO.point(i), b.asFloat(stream, `${label}/value_out`));
  });
  const last = b.node('Gather', [logits, b.constant('last_position', [], [-1])], 'logits/last', [b.int('axis', 1)]);
  b.output(PATCH_IO.lastLogits, b.asFloat(last, 'logits'));
  return { addition: b.addition(spine.addedNodes, rewire), points, unpatchable };
}
