/** Exact moments of a union of groups from each group's {mean, std, n} ("dataset vs rest"). */
import type { Summary } from '../results';

/**
 * The summary of all values of the groups together, exactly as if computed over the concatenated
 * values: n = Σ nᵢ, mean = Σ nᵢ·meanᵢ / n, M2 = Σ (nᵢ - 1)·stdᵢ² + Σ nᵢ·(meanᵢ - mean)²,
 * std = sqrt(M2 / (n - 1)) (null when n < 2). Groups with n = 0 are left out; a group with n = 1
 * (std null) contributes no within-group spread.
 */
export function poolSummaries(groups: readonly Summary[]): Summary {
  const gs = groups.filter((g) => g.n > 0);
  const n = gs.reduce((s, g) => s + g.n, 0);
  if (n === 0) return { mean: Number.NaN, std: null, n: 0 };
  const mean = gs.reduce((s, g) => s + g.n * g.mean, 0) / n;
  const m2 = gs.reduce((s, g) => s + (g.n - 1) * (g.std ?? 0) ** 2 + g.n * (g.mean - mean) ** 2, 0);
  return { mean, std: n > 1 ? Math.sqrt(m2 / (n - 1)) : null, n };
}
