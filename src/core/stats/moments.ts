/**
 * Streaming, mergeable moments (Welford's update, Chan et al.'s merge): count, mean and M2 are
 * enough for mean and sample variance, memory does not grow with the data, and two partial
 * results combine exactly as if the values had been seen in one pass.
 */
import type { Moments, Summary } from '../results';

export function emptyMoments(): Moments {
  return { n: 0, mean: 0, m2: 0 };
}

export function pushValue(m: Moments, x: number): void {
  m.n += 1;
  const d = x - m.mean;
  m.mean += d / m.n;
  m.m2 += d * (x - m.mean);
}

export function mergeMoments(a: Moments, b: Moments): Moments {
  const n = a.n + b.n;
  if (n === 0) return emptyMoments();
  const d = b.mean - a.mean;
  return { n, mean: a.mean + (d * b.n) / n, m2: a.m2 + b.m2 + (d * d * a.n * b.n) / n };
}

/** Mean, sample standard deviation (n-1; null when n < 2) and n. */
export function summarize(m: Moments): Summary {
  return { mean: m.n > 0 ? m.mean : Number.NaN, std: m.n > 1 ? Math.sqrt(Math.max(0, m.m2 / (m.n - 1))) : null, n: m.n };
}
