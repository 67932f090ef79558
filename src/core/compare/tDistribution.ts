/**
 * The Student t distribution and the gamma function, from stdlib (https://stdlib.io): maintained,
 * tested against reference values, typed, and pure JavaScript so esbuild bundles it into the CLI,
 * engine and webview alike. Special functions are not written by hand here.
 */
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import gammaln from '@stdlib/math-base-special-gammaln';

/**
 * Two-sided p of Student's t with `df` degrees of freedom (df may be fractional, as Welch's is).
 * Computed from the lower tail at -|t| so that small p keep their precision (1 - cdf would round to 0).
 */
export function twoSidedP(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return Number.NaN;
  return Math.min(1, 2 * tCdf(-Math.abs(t), df));
}

/** The p-quantile of Student's t with `df` degrees of freedom. */
export function tQuantileAt(p: number, df: number): number {
  return tQuantile(p, df);
}

/** ln Γ(x). */
export function lnGamma(x: number): number {
  return gammaln(x);
}
