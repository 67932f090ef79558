/** The comparison as JSON (`layer-profiler/compare@1`) and CSV. */
import type { CompareResults } from './types';

/** JSON for files and webviews: non-finite numbers (±Infinity t and g, see `degenerate`) become null. */
export function toCompareJson(c: CompareResults): string {
  return JSON.stringify(c, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

export const COMPARE_CSV_COLUMNS = [
  'a', 'b', 'metric', 'layer', 'n_a', 'mean_a', 'std_a', 'n_b', 'mean_b', 'std_b', 'diff', 'se', 'ci95_low', 'ci95_high', 't', 'df', 'p', 'q', 'hedges_g', 'significant', 'higher', 'degenerate', 'permutation_p', 'permutation_q',
] as const;

/** One row per comparison and layer; empty cells for null (and infinite) values. */
export function toCompareCsv(c: CompareResults): string {
  const rows: string[] = [COMPARE_CSV_COLUMNS.join(',')];
  for (const cmp of c.comparisons) {
    for (const l of cmp.layers) {
      rows.push([
        field(cmp.a), field(cmp.b), field(c.metric), l.layer,
        l.a.n, num(l.a.mean), num(l.a.std), l.b.n, num(l.b.mean), num(l.b.std),
        num(l.diff), num(l.se), num(l.ci95?.[0] ?? null), num(l.ci95?.[1] ?? null),
        num(l.t), num(l.df), num(l.p), num(l.q), num(l.hedgesG), l.significant, l.higher ?? '', l.degenerate ?? '',
        num(l.permutation?.p ?? null), num(l.permutation?.q ?? null),
      ].join(','));
    }
  }
  return rows.join('\n') + '\n';
}

function num(v: number | null): string {
  return v === null || !Number.isFinite(v) ? '' : String(v);
}

function field(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
