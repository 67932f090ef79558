/** A seeded two-sample permutation test on per-text values (for small or skewed samples). */

/**
 * Two-sided permutation p of the difference of means: the share of random relabellings of the
 * pooled values whose |mean a - mean b| reaches the observed one, counted as
 * (1 + hits) / (1 + permutations) so that p is never 0 (Phipson & Smyth 2010). The same seed, values
 * and count give the same p on every machine (the generator is mulberry32, not Math.random).
 * Ties within a relative 1e-12 of the observed statistic count as reaching it.
 */
export function permutationTest(a: readonly number[], b: readonly number[], permutations: number, seed: number): number {
  if (a.length === 0 || b.length === 0) return Number.NaN;
  const pooled = [...a, ...b];
  const na = a.length;
  const total = pooled.reduce((s, x) => s + x, 0);
  const n = pooled.length;
  const stat = (sumA: number) => Math.abs(sumA / na - (total - sumA) / (n - na));
  const observed = stat(a.reduce((s, x) => s + x, 0));
  const tol = 1e-12 * Math.max(observed, Math.abs(total) / n, Number.MIN_VALUE);
  const rand = mulberry32(seed);
  let hits = 0;
  for (let r = 0; r < permutations; r++) {
    // Partial Fisher–Yates: the first na slots become a uniformly random subset.
    let sumA = 0;
    for (let i = 0; i < na; i++) {
      const j = i + Math.floor(rand() * (n - i));
      const tmp = pooled[i];
      pooled[i] = pooled[j];
      pooled[j] = tmp;
      sumA += pooled[i];
    }
    if (stat(sumA) >= observed - tol) hits++;
  }
  return (1 + hits) / (1 + permutations);
}

/** Small, fast, seedable 32-bit generator (Tommy Ettinger's mulberry32); values in [0, 1). */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
