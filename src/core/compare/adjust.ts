/** Adjusting p-values across the layers of one comparison. */
import type { Correction } from './types';

/**
 * Adjusted p-values in input order. Nulls (layers that could not be tested) are skipped and stay
 * null; m is the number of non-null p-values.
 * - `bh`: Benjamini–Hochberg q (false discovery rate): q₍ᵢ₎ = min over j ≥ i of m·p₍ⱼ₎ / j, capped at 1.
 * - `holm`: Holm's step-down (family-wise error rate): max over j ≤ i of (m - j + 1)·p₍ⱼ₎, capped at 1.
 * - `none`: p unchanged.
 */
export function adjustPValues(p: readonly (number | null)[], correction: Correction): (number | null)[] {
  if (correction === 'none') return [...p];
  const idx = p.map((v, i) => [v, i] as const).filter((x): x is readonly [number, number] => x[0] !== null).sort((x, y) => x[0] - y[0]);
  const m = idx.length;
  const out: (number | null)[] = p.map(() => null);
  if (correction === 'bh') {
    let run = 1;
    for (let k = m - 1; k >= 0; k--) {
      run = Math.min(run, (m * idx[k][0]) / (k + 1));
      out[idx[k][1]] = run;
    }
  } else {
    let run = 0;
    for (let k = 0; k < m; k++) {
      run = Math.max(run, Math.min(1, (m - k) * idx[k][0]));
      out[idx[k][1]] = run;
    }
  }
  return out;
}
