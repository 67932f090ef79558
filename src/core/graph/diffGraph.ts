/**
 * Two-text distances in the graph: texts A and B run as rows 0 and 1 of one batch; at every
 * residual point the aligned positions of each row are gathered (index inputs the readout feeds)
 * and reduced over the hidden axis, so only [pairs, points] values leave ONNX Runtime: ‖h_A − h_B‖,
 * ‖h_A‖, ‖h_B‖ and ⟨h_A, h_B⟩. Same ids at the same positions of one batch give bit-identical
 * states, so identical leading tokens of a causal model give exactly 0.
 *
 * Where a text's numbers depend on what shares its batch (dynamically quantized activations, one
 * scale per tensor), the texts run alone instead, and the graph gathers each run's aligned states
 * ([pairs, hidden] per point) for a float64 reduction outside ('separate').
 *
 * Texts longer than one window run as windows continued through the KV cache. Where the pairs of
 * a window are not at the same positions of both texts (LCS alignment), a pair's two states lie
 * in different runs, so paired graphs also gather each row's aligned states on their own (the
 * row-state index inputs; empty when unused) for a float64 reduction outside.
 */
import type { OnnxModelFile } from '../onnx/modelFile';
import { AdditionBuilder, INT64 } from './additionBuilder';
import { ANALYSIS_PREFIX } from './names';
import type { GraphAddition } from './prune';
import type { Spine } from './spine';

const P = `${ANALYSIS_PREFIX}diff/`;

/** Inputs (positions of A in row 0, of B in row 1, [pairs]) and outputs ([pairs, points]). */
export const DIFF_IO = {
  indexA: `${P}index_a`,
  indexB: `${P}index_b`,
  rowIndexA: `${P}row_index_a`,
  rowIndexB: `${P}row_index_b`,
  l2: `${P}l2`,
  normA: `${P}norm_a`,
  normB: `${P}norm_b`,
  dot: `${P}dot`,
} as const;

/** 'separate' mode: the aligned states of point `k` of the batch's only row, [pairs, hidden]. */
export function diffStateOutput(k: number): string {
  return `${P}state_${k}`;
}

/** Paired graphs: the states of row 0 ('a', at rowIndexA) or row 1 ('b', at rowIndexB) at point `k`, [positions, hidden]. */
export function diffRowStateOutput(side: 'a' | 'b', k: number): string {
  return `${P}row_state_${side}_${k}`;
}

export type DiffMode = 'paired' | 'separate';

export interface DiffGraph {
  addition: GraphAddition;
  /** Points in order: -1 (the embedding output), then each block's resid_post. */
  layers: number[];
}

export function buildDiffGraph(model: OnnxModelFile, spine: Spine, mode: DiffMode = 'paired'): DiffGraph {
  const reference = spine.layers[0].residualIn;
  const b = new AdditionBuilder(P, model.opset, reference);
  const indexA = b.input(DIFF_IO.indexA, INT64, ['pairs']);
  const row0 = b.constant('row0', [], [0]);
  const points = [reference, ...spine.layers.map((l) => l.residual)];
  const layers = points.map((_, i) => i - 1);
  if (mode === 'separate') {
    points.forEach((point, k) => {
      const row = b.node('Gather', [b.asStream(point, `p${k}`), row0], `p${k}/row`, [b.int('axis', 0)]);
      b.output(diffStateOutput(k), b.asFloat(b.node('Gather', [row, indexA], `p${k}/pairs`, [b.int('axis', 0)]), `p${k}/state`));
    });
    return { addition: b.addition(spine.addedNodes), layers };
  }
  const indexB = b.input(DIFF_IO.indexB, INT64, ['pairs']);
  const row1 = b.constant('row1', [], [1]);
  const rowIndexA = b.input(DIFF_IO.rowIndexA, INT64, ['row_positions_a']);
  const rowIndexB = b.input(DIFF_IO.rowIndexB, INT64, ['row_positions_b']);
  const per = { l2: [] as string[], normA: [] as string[], normB: [] as string[], dot: [] as string[] };
  points.forEach((point, k) => {
    const label = `p${k}`;
    const stream = b.asStream(point, label);
    const gathered = (row: string, index: string, side: string) => b.asFloat(b.node('Gather', [b.node('Gather', [stream, row], `${label}/row_${side}`, [b.int('axis', 0)]), index], `${label}/pairs_${side}`, [b.int('axis', 0)]), `${label}/${side}`);
    const a = gathered(row0, indexA, 'a');
    const c = gathered(row1, indexB, 'b');
    per.l2.push(b.reduceLast('ReduceL2', b.node('Sub', [a, c], `${label}/diff`), `${label}/l2`));
    per.normA.push(b.reduceLast('ReduceL2', a, `${label}/norm_a`));
    per.normB.push(b.reduceLast('ReduceL2', c, `${label}/norm_b`));
    per.dot.push(b.reduceLast('ReduceSum', b.node('Mul', [a, c], `${label}/prod`), `${label}/dot`));
    b.output(diffRowStateOutput('a', k), gathered(row0, rowIndexA, 'row_a'));
    b.output(diffRowStateOutput('b', k), gathered(row1, rowIndexB, 'row_b'));
  });
  for (const key of Object.keys(per) as (keyof typeof per)[]) b.concatOutput(per[key], DIFF_IO[key]);
  // The residual sums the spine adds (fused norms that do not emit them) are points too.
  return { addition: b.addition(spine.addedNodes), layers };
}
