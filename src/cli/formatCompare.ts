/** Comparison tables for the terminal: one per comparison, one row per layer. */
import type { CompareResults, Comparison } from '../core/compare/types';

const CORRECTION_NAMES = { bh: 'Benjamini–Hochberg q', holm: 'Holm-adjusted p', none: 'unadjusted p' } as const;

export function formatComparisons(c: CompareResults): string {
  return c.comparisons.map((cmp) => formatComparison(cmp, c)).join('\n');
}

function formatComparison(cmp: Comparison, c: CompareResults): string {
  const n = cmp.layers[0] ? ` (n = ${cmp.layers[0].a.n} vs ${cmp.layers[0].b.n})` : '';
  const rest = cmp.pooled ? ` = ${cmp.pooled.join(' + ')}` : '';
  const out = [
    `${cmp.a} vs ${cmp.b}${rest}: ${c.metric}${n}, difference = ${cmp.a} - ${cmp.b}; Welch's t; q: ${CORRECTION_NAMES[c.correction]}; * q ≤ ${c.alpha}`,
  ];
  const cols: [string, number][] = [['layer', 5], [`mean ${short(cmp.a)}`, 11], [`mean ${short(cmp.b)}`, 11], ['diff', 11], ['95% CI', 25], ['t', 8], ['df', 7], ['p', 9], ['q', 9]];
  const perm = cmp.layers.some((l) => l.permutation);
  if (perm) cols.push(['perm p', 9]);
  out.push('  ' + cols.map(([h, w]) => h.padStart(w)).join(' '));
  for (const l of cmp.layers) {
    const ci = l.ci95 ? `[${fmt(l.ci95[0])}, ${fmt(l.ci95[1])}]` : '—';
    const cells = [String(l.layer), fmt(l.a.mean), fmt(l.b.mean), fmt(l.diff), ci, stat(l.t), l.df === null ? '—' : l.df.toFixed(1), pv(l.p), pv(l.q)];
    if (perm) cells.push(pv(l.permutation?.p ?? null));
    const mark = l.significant ? `  * ${l.higher === 'a' ? cmp.a : l.higher === 'b' ? cmp.b : ''} higher` : l.degenerate === 'too-few-texts' ? '  (fewer than 2 texts)' : '';
    out.push('  ' + cells.map((v, i) => v.padStart(cols[i][1])).join(' ') + mark);
  }
  return out.join('\n') + '\n';
}

function short(name: string): string {
  return name.length > 6 ? name.slice(0, 5) + '…' : name;
}

function fmt(v: number | null): string {
  if (v === null || Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '-∞';
  return v === 0 || (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5) ? v.toFixed(5) : v.toExponential(2);
}

function stat(v: number | null): string {
  if (v === null) return '—';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '-∞';
  return v.toFixed(2);
}

function pv(v: number | null): string {
  if (v === null) return '—';
  return v === 0 ? '0' : v < 1e-4 ? v.toExponential(1) : v.toFixed(4);
}
