/** The comparison's words: table, tooltip lines and the screen-reader summary. Pure. */
import type { LayerComparison } from '../core/compare/types';
import { formatValue, type TableModel } from './chartText';
import { comparisonLabel, metricLabel, qName, sideB } from './comparisonData';
import type { DifferenceView } from './protocol';

/** A p or q value: two significant digits, exponent form below 0.001. */
export function formatP(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (v === 0) return '0';
  return v < 0.001 ? v.toExponential(1).replace('-', '−') : String(Number(v.toPrecision(2)));
}

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '–' : formatValue(v));

export function formatCi(ci: [number, number] | null): string {
  return ci ? `${fmt(ci[0])} to ${fmt(ci[1])}` : '–';
}

/** Why a layer has no ordinary test, in words; undefined for an ordinary one. */
export function degenerateNote(l: LayerComparison): string | undefined {
  switch (l.degenerate) {
    case 'too-few-texts':
      return 'not tested: a side has fewer than 2 texts';
    case 'no-variance-equal-means':
      return 'both sides are constant and equal';
    case 'no-variance-different-means':
      return 'both sides are constant and differ';
    default:
      return undefined;
  }
}

/** Tooltip lines for one layer: difference with CI, then the test. */
export function comparisonTooltip(view: DifferenceView, l: LayerComparison): string[] {
  const q = qName(view);
  const lines = [`${comparisonLabel(view)}: ${fmt(l.diff)}`, `95% CI ${formatCi(l.ci95)}`, `t = ${fmt(l.t)}, df = ${fmt(l.df)}`, `p = ${formatP(l.p)}, ${q} = ${formatP(l.q)}`, `Hedges' g = ${fmt(l.hedgesG)}`, `n = ${l.a.n} ${view.a}, ${l.b.n} ${sideB(view)}`];
  const note = degenerateNote(l);
  if (note) lines.push(note);
  lines.push(l.significant ? `significant (${q} ≤ ${view.alpha}): ${l.higher === 'a' ? view.a : sideB(view)} higher` : `not significant at ${q} ≤ ${view.alpha}`);
  return lines;
}

export function comparisonTable(view: DifferenceView, rows: LayerComparison[]): TableModel {
  const q = qName(view);
  return {
    caption: `Difference of ${metricLabel(view.request.metric)}, ${comparisonLabel(view)}, per layer with Welch's t-test; layers ranked by p`,
    columns: ['Layer', 'Difference', '95% CI', 't', 'df', 'p', q, "Hedges' g", `Significant (${q} ≤ ${view.alpha})`],
    rows: rows.map((l) => [`layer ${l.layer}`, fmt(l.diff), formatCi(l.ci95), fmt(l.t), fmt(l.df), formatP(l.p), formatP(l.q), fmt(l.hedgesG), l.significant ? `yes, ${l.higher === 'a' ? view.a : sideB(view)} higher` : (degenerateNote(l) ?? 'no')]),
  };
}

export function describeComparison(view: DifferenceView, rows: LayerComparison[]): string {
  const sig = rows.filter((r) => r.significant);
  const q = qName(view);
  const which = sig.length ? `Significant after correction (${q} ≤ ${view.alpha}): ${sig.map((r) => `layer ${r.layer}`).join(', ')}.` : `No layer is significant after correction (${q} ≤ ${view.alpha}).`;
  return `Difference of ${metricLabel(view.request.metric)}, ${comparisonLabel(view)}, with 95% confidence intervals, for ${rows.length} layers. ${which}`;
}
