/**
 * What the panel draws of an activation-patching run: per patched point kind, a layer × position
 * grid of the normalised effect (m_patched − m_corrupted) / (m_clean − m_corrupted), on a
 * diverging scale centred at 0 (patching changed nothing) that reaches at least ±1 (1: patching
 * restored the clean run's metric). Pure, so every number the grid draws is unit-tested.
 */
import type { PatchPointKind } from '../core/graph/patchGraph';
import { displayToken } from './chartData';
import { formatValue, type TableModel } from './chartText';
import type { PatchSelection } from './patchSelection';

export const POINT_TITLES: Record<PatchPointKind, string> = {
  resid_post: 'Residual stream after the layer (resid_post)',
  attn_out: 'Attention output (attn_out)',
  mlp_out: 'MLP output (mlp_out)',
};

export interface PatchGridView {
  point: PatchPointKind;
  /** Layers, top to bottom. */
  layers: number[];
  /** Column labels: the corrupted token, `clean→corrupted` where the texts differ there. */
  labels: string[];
  /** Positions where the clean and corrupted tokens differ. */
  differs: boolean[];
  /** values[row][col]; NaN where an effect is missing. */
  values: number[][];
  /** Half-width of the colour scale: the largest |effect|, never below 1, so 1 always has its place. */
  range: number;
  min: number;
  max: number;
}

export function patchGrids(sel: PatchSelection): PatchGridView[] {
  const differs = sel.corrupted.ids.map((id, p) => id !== sel.clean.ids[p]);
  const labels = sel.corrupted.tokens.map((t, p) => (differs[p] ? `${displayToken(sel.clean.tokens[p])}→${displayToken(t)}` : displayToken(t)));
  return sel.grids.map((g) => {
    const values = g.layers.map((l) => l.effect.map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : Number.NaN)));
    const finite = values.flat().filter(Number.isFinite);
    const min = finite.length ? Math.min(...finite) : Number.NaN;
    const max = finite.length ? Math.max(...finite) : Number.NaN;
    const range = Math.max(1, ...finite.map(Math.abs));
    return { point: g.point, layers: g.layers.map((l) => l.layer), labels, differs, values, range, min, max };
  });
}

/**
 * Where a value sits on the diverging scale, −1 (the most negative colour) … 0 (neutral) … +1:
 * v / range, clamped. NaN stays NaN (a cell with no value is left empty).
 */
export function divergingPosition(v: number, range: number): number {
  if (!Number.isFinite(v)) return Number.NaN;
  return Math.max(-1, Math.min(1, v / range));
}

/** The metric in words, as the section explains it. */
export function describeMetric(sel: PatchSelection): string {
  const m = sel.metric;
  const which = m.kind === 'logit-diff' ? 'the clean run’s top next token against the corrupted run’s' : 'the named target token against the foil';
  return `Metric: logit(“${displayToken(m.targetToken)}”) − logit(“${displayToken(m.foilToken)}”) at the last position (${which}). Clean run: ${formatValue(m.clean)}, corrupted run: ${formatValue(m.corrupted)}. Effect = (patched − corrupted) / (clean − corrupted): 0 is the corrupted run, 1 the clean one.`;
}

/** What the tooltip says of a cell: the exact effect and the metric it comes from. */
export function describePatchCell(sel: PatchSelection, grid: PatchGridView, row: number, col: number): string {
  const v = grid.values[row]?.[col];
  if (v === undefined) return '';
  const m = sel.metric;
  const token = grid.differs[col] ? `“${displayToken(sel.clean.tokens[col])}” (clean) / “${displayToken(sel.corrupted.tokens[col])}” (corrupted)` : `“${displayToken(sel.corrupted.tokens[col])}”`;
  const effect = Number.isFinite(v) ? String(Number(v.toPrecision(6))) : 'no value';
  const metric = Number.isFinite(v) ? ` · metric ${formatValue(m.corrupted + v * (m.clean - m.corrupted))}` : '';
  return `${grid.point} · layer ${grid.layers[row]} · position ${col} ${token} · effect ${effect}${metric}`;
}

/** A one-sentence summary of a grid for screen readers. */
export function describePatchGrid(sel: PatchSelection, grid: PatchGridView): string {
  let best = { v: -Infinity, row: -1, col: -1 };
  grid.values.forEach((r, row) => r.forEach((v, col) => (Number.isFinite(v) && v > best.v ? (best = { v, row, col }) : undefined)));
  const top = best.row >= 0 ? ` Largest effect ${formatValue(best.v)} at layer ${grid.layers[best.row]}, position ${best.col}.` : '';
  return `Activation patching of ${grid.point}, ${sel.clean.label} (clean) into ${sel.corrupted.label} (corrupted): ${grid.layers.length} layers by ${grid.labels.length} positions, effects from ${formatValue(grid.min)} to ${formatValue(grid.max)}.${top}`;
}

/** Every grid as one table: a row per point kind and layer, a column per position. */
export function patchTable(sel: PatchSelection, grids: readonly PatchGridView[]): TableModel {
  return {
    caption: `Normalised patching effect per layer and position: ${sel.clean.label} (clean) into ${sel.corrupted.label} (corrupted)`,
    columns: ['Point and layer', ...(grids[0]?.labels ?? []).map((t, i) => `${i}: ${t}`)],
    rows: grids.flatMap((g) => g.values.map((row, r) => [`${g.point} ${g.layers[r]}`, ...row.map((v) => (Number.isFinite(v) ? formatValue(v) : '–'))])),
  };
}
