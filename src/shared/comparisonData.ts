/**
 * The comparison chart's data: the host's per-layer Welch tests (ViewState.compare) checked and
 * ranked for drawing, and the picker's logic. Pure, like chartData.
 */
import { metricWords } from '../core/compare/findings';
import type { LayerComparison } from '../core/compare/types';
import type { ComparisonChoice, ComparisonView, DifferenceView, ViewState } from './protocol';

export type ComparisonChartData = { view: ComparisonView; rows: LayerComparison[] } | { view: undefined; reason: string };

const isNumOrNull = (v: unknown) => v === null || typeof v === 'number';

function isLayerComparison(v: unknown): v is LayerComparison {
  if (typeof v !== 'object' || v === null) return false;
  const l = v as Record<string, unknown>;
  const ci = l.ci95;
  return typeof l.layer === 'number' && typeof l.diff === 'number' && ['se', 't', 'df', 'p', 'q', 'hedgesG'].every((k) => isNumOrNull(l[k])) && (ci === null || (Array.isArray(ci) && ci.length === 2)) && typeof l.significant === 'boolean';
}

/** The comparison to draw, layers ranked by p (most convincing first; untestable layers last), or why there is none. */
export function comparisonChart(state: ViewState): ComparisonChartData {
  const c = state.compare;
  if (!c) return { view: undefined, reason: 'Profile two datasets to compare them.' };
  if ('reason' in c) return { view: undefined, reason: String(c.reason) };
  if (!Array.isArray(c.layers)) return { view: undefined, reason: 'The comparison could not be read.' };
  const rows = c.layers.filter(isLayerComparison).sort(rank);
  return { view: c, rows };
}

function rank(x: LayerComparison, y: LayerComparison): number {
  const px = x.p ?? Infinity;
  const py = y.p ?? Infinity;
  if (px !== py) return px - py;
  return Math.abs(y.diff) - Math.abs(x.diff) || x.layer - y.layer;
}

/** How the B side reads: a dataset's name, or "rest (x, y)". */
export function sideB(view: DifferenceView): string {
  return view.b === 'rest' ? 'the rest' : view.b;
}

export function comparisonLabel(view: DifferenceView): string {
  return `${view.a} − ${sideB(view)}`;
}

/** The metric in words, e.g. "mean |Δ|". */
export function metricLabel(metric: string): string {
  return metricWords(metric).label;
}

/** The choice after the user picks `value` for one side of a pair; picking the other side's dataset swaps them. */
export function pickPair(current: { a: string; b: string }, side: 'a' | 'b', value: string): ComparisonChoice {
  if (side === 'a') return value === current.b ? { kind: 'pair', a: value, b: current.a } : { kind: 'pair', a: value, b: current.b };
  return value === current.a ? { kind: 'pair', a: current.b, b: value } : { kind: 'pair', a: current.a, b: value };
}

/** The adjusted p's name for the correction used: q (BH), Holm p, or plain p. */
export function qName(view: DifferenceView): string {
  return view.correction === 'bh' ? 'q' : view.correction === 'holm' ? 'Holm p' : 'p';
}
