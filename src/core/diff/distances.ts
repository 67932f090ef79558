/** Per-point distances of aligned pairs, from the graph's reductions or from two runs' states (float64 here). */
import type { DiffReductions, DiffStates } from './diffReadout';
import type { DiffPoint } from './diffResults';

export interface PairNumbers {
  l2: number;
  normA: number;
  normB: number;
  dot: number;
}

/** Identical states (l2 exactly 0) have cosine exactly 1, whatever the rounding of their norms. */
function point(layer: number, pairs: PairNumbers[]): DiffPoint {
  return {
    layer,
    l2: pairs.map((p) => p.l2),
    cosine: pairs.map((p) => (p.normA > 0 && p.normB > 0 ? (p.l2 === 0 ? 1 : Math.max(-1, Math.min(1, p.dot / (p.normA * p.normB)))) : null)),
    relL2: pairs.map((p) => (p.normA > 0 ? p.l2 / p.normA : null)),
  };
}

export function distancesFromReductions(r: DiffReductions, layers: number[]): DiffPoint[] {
  const P = layers.length;
  return layers.map((layer, k) =>
    point(
      layer,
      Array.from({ length: r.pairs }, (_, i) => ({ l2: r.l2[i * P + k], normA: r.normA[i * P + k], normB: r.normB[i * P + k], dot: r.dot[i * P + k] })),
    ),
  );
}

/** One pair's numbers in float64 from its two states: `x` at `i * H` and `y` at `j * H`. */
export function pairNumbers(x: Float32Array, i: number, y: Float32Array, j: number, H: number): PairNumbers {
  let d2 = 0;
  let na = 0;
  let nb = 0;
  let dot = 0;
  for (let h = 0; h < H; h++) {
    const u = x[i * H + h];
    const v = y[j * H + h];
    d2 += (u - v) * (u - v);
    na += u * u;
    nb += v * v;
    dot += u * v;
  }
  return { l2: Math.sqrt(d2), normA: Math.sqrt(na), normB: Math.sqrt(nb), dot };
}

/** Per point, every pair's numbers (in the pairs' order). */
export function distancesFromPairNumbers(perPoint: PairNumbers[][], layers: number[]): DiffPoint[] {
  return layers.map((layer, k) => point(layer, perPoint[k]));
}

export function distancesFromStates(a: DiffStates, b: DiffStates, layers: number[]): DiffPoint[] {
  return layers.map((layer, k) => point(layer, Array.from({ length: a.pairs }, (_, i) => pairNumbers(a.states[k], i, b.states[k], i, a.hidden))));
}
