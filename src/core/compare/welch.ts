/** Welch's unequal-variance t-test and Hedges' g from two summaries {mean, std, n}. */
import type { Summary } from '../results';
import { lnGamma, tQuantileAt, twoSidedP } from './tDistribution';
import type { WelchResult } from './types';

const NULLS = { se: null, t: null, df: null, p: null, ci95: null, hedgesG: null } as const;

export function welchTest(a: Summary, b: Summary): WelchResult {
  const diff = a.mean - b.mean;
  if (a.n < 2 || b.n < 2 || a.std === null || b.std === null) return { diff, ...NULLS, degenerate: 'too-few-texts' };
  const va = (a.std * a.std) / a.n;
  const vb = (b.std * b.std) / b.n;
  const se = Math.sqrt(va + vb);
  const g = hedgesG(a, b);
  if (se === 0) {
    if (diff === 0) return { diff, se, t: null, df: null, p: 1, ci95: [0, 0], hedgesG: null, degenerate: 'no-variance-equal-means' };
    return { diff, se, t: diff > 0 ? Infinity : -Infinity, df: null, p: 0, ci95: [diff, diff], hedgesG: diff > 0 ? Infinity : -Infinity, degenerate: 'no-variance-different-means' };
  }
  const t = diff / se;
  // Welch–Satterthwaite; a side with zero spread contributes nothing, leaving the other side's n - 1.
  const df = (va + vb) ** 2 / (va * va / (a.n - 1) + vb * vb / (b.n - 1));
  const p = twoSidedP(t, df);
  const half = tQuantileAt(0.975, df) * se;
  return { diff, se, t, df, p, ci95: [diff - half, diff + half], hedgesG: g };
}

/**
 * Hedges' g: (mean a - mean b) / s_pooled, s_pooled = sqrt(((na-1)·sa² + (nb-1)·sb²) / (na+nb-2))
 * (the pooled sd of Cohen's d, weighting each variance by its degrees of freedom), times the exact
 * small-sample correction J(m) = Γ(m/2) / (sqrt(m/2) · Γ((m-1)/2)), m = na + nb - 2 (Hedges 1981).
 * Null when a side has fewer than 2 texts; ±Infinity when the pooled sd is 0 and the means differ;
 * null when the pooled sd is 0 and the means are equal.
 */
export function hedgesG(a: Summary, b: Summary): number | null {
  if (a.n < 2 || b.n < 2 || a.std === null || b.std === null) return null;
  const m = a.n + b.n - 2;
  const sp = Math.sqrt(((a.n - 1) * a.std * a.std + (b.n - 1) * b.std * b.std) / m);
  const diff = a.mean - b.mean;
  if (sp === 0) return diff === 0 ? null : diff > 0 ? Infinity : -Infinity;
  return (diff / sp) * correctionJ(m);
}

/** Hedges' exact bias correction of d with m degrees of freedom (m >= 2 here). */
export function correctionJ(m: number): number {
  return Math.exp(lnGamma(m / 2) - lnGamma((m - 1) / 2)) / Math.sqrt(m / 2);
}
