/** Per-point distances of aligned pairs, from the graph's reductions or from two runs' states (float64 here). */
import type { DiffReductions, DiffStates } from './diffReadout';
import type { DiffPoint } from './diffResults';

interface PairNumbers {
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

export function distancesFromStates(a: DiffStates, b: DiffStates, layers: number[]): DiffPoint[] {
  const H = a.hidden;
  return layers.map((layer, k) =>
    point(
      layer,
      Array.from({ length: a.pairs }, (_, i) => {
        let d2 = 0;
        let na = 0;
        let nb = 0;
        let dot = 0;
        for (let h = 0; h < H; h++) {
          const x = a.states[k][i * H + h];
          const y = b.states[k][i * H + h];
          d2 += (x - y) * (x - y);
          na += x * x;
          nb += y * y;
          dot += x * y;
        }
        return { l2: Math.sqrt(d2), normA: Math.sqrt(na), normB: Math.sqrt(nb), dot };
      }),
    ),
  );
}
