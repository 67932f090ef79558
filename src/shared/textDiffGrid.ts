/**
 * What the panel draws of two compared texts: a token × point grid of the L2 distance (aligned
 * pairs as columns, tokens only one text has as empty columns in their place), and a line per
 * token across the points for the tokens that part most.
 */
import { displayToken, type HeatmapGrid, type LayerChartData } from './chartData';
import { formatValue } from './chartText';
import type { TableModel } from './chartText';
import type { TextDiffSelection } from './textDiffSelection';

export type DiffColumn = { kind: 'pair'; a: number; b: number; pair: number } | { kind: 'onlyA'; a: number } | { kind: 'onlyB'; b: number };

export interface TextDiffGrid extends HeatmapGrid {
  columns: DiffColumn[];
}

/** Tokens shown as lines across the points. */
export const DIFF_LINES = 8;

/** The point name beside a row: the embedding output, then each block. */
export function pointLabel(layer: number): string {
  return layer < 0 ? 'emb' : String(layer);
}

/** Columns in reading order: each pair, preceded by the unpaired tokens of A (then B) before it. */
export function diffColumns(sel: TextDiffSelection): DiffColumn[] {
  const columns: DiffColumn[] = [];
  const onlyA = sel.onlyA.slice().sort((x, y) => x - y);
  const onlyB = sel.onlyB.slice().sort((x, y) => x - y);
  let ia = 0;
  let ib = 0;
  const flush = (beforeA: number, beforeB: number) => {
    while (ia < onlyA.length && onlyA[ia] < beforeA) columns.push({ kind: 'onlyA', a: onlyA[ia++] });
    while (ib < onlyB.length && onlyB[ib] < beforeB) columns.push({ kind: 'onlyB', b: onlyB[ib++] });
  };
  sel.pairs.forEach(([a, b], pair) => {
    flush(a, b);
    columns.push({ kind: 'pair', a, b, pair });
  });
  flush(Infinity, Infinity);
  return columns;
}

/** A column's label: the shared token, `A→B` where the pair differs, `−A` / `+B` for a token only one text has. */
export function columnLabel(sel: TextDiffSelection, c: DiffColumn): string {
  if (c.kind === 'onlyA') return `−${displayToken(sel.a.tokens[c.a])}`;
  if (c.kind === 'onlyB') return `+${displayToken(sel.b.tokens[c.b])}`;
  const a = displayToken(sel.a.tokens[c.a]);
  const b = displayToken(sel.b.tokens[c.b]);
  return a === b ? a : `${a}→${b}`;
}

export function textDiffGrid(sel: TextDiffSelection): TextDiffGrid {
  const columns = diffColumns(sel);
  const values = sel.l2.map((row) => columns.map((c) => (c.kind === 'pair' && Number.isFinite(row[c.pair]) ? row[c.pair] : Number.NaN)));
  const rowMin = values.map((row) => extreme(row, Math.min));
  const rowMax = values.map((row) => extreme(row, Math.max));
  return {
    rows: values.length,
    cols: columns.length,
    labels: columns.map((c) => columnLabel(sel, c)),
    rowLabels: sel.layers.map(pointLabel),
    gapColumns: columns.map((c) => c.kind !== 'pair'),
    values,
    min: extreme(rowMin, Math.min),
    max: extreme(rowMax, Math.max),
    rowMin,
    rowMax,
    columns,
  };
}

function extreme(values: number[], pick: (...v: number[]) => number): number {
  const finite = values.filter(Number.isFinite);
  return finite.length ? finite.reduce((acc, v) => pick(acc, v)) : Number.NaN;
}

/** What the heatmap's tooltip says of a cell. */
export function describeDiffCell(sel: TextDiffSelection, grid: TextDiffGrid, row: number, col: number): string {
  const c = grid.columns[col];
  const point = `${sel.layers[row] < 0 ? 'embedding output' : `layer ${sel.layers[row]}`}`;
  if (!c) return '';
  if (c.kind === 'onlyA') return `A token ${c.a} “${displayToken(sel.a.tokens[c.a])}” has no partner in B`;
  if (c.kind === 'onlyB') return `B token ${c.b} “${displayToken(sel.b.tokens[c.b])}” has no partner in A`;
  return `A token ${c.a} “${displayToken(sel.a.tokens[c.a])}” · B token ${c.b} “${displayToken(sel.b.tokens[c.b])}” · ${point} · L2 distance ${formatValue(grid.values[row][col])}`;
}

/** A line per token across the points, for the DIFF_LINES aligned pairs whose distance peaks highest. */
export function textDiffLines(sel: TextDiffSelection, count = DIFF_LINES): LayerChartData {
  const grid = textDiffGrid(sel);
  const peaks = grid.columns
    .map((c, col) => ({ c, col, peak: extreme(grid.values.map((row) => row[col]), Math.max) }))
    .filter((p) => p.c.kind === 'pair' && Number.isFinite(p.peak))
    .sort((x, y) => y.peak - x.peak || x.col - y.col)
    .slice(0, count)
    .sort((x, y) => x.col - y.col);
  return {
    layers: sel.layers.slice(),
    series: peaks.map((p, i) => ({
      name: `${p.col}: ${grid.labels[p.col]}`,
      colorIndex: i,
      points: sel.layers.map((layer, r) => ({ layer, value: grid.values[r][p.col], n: 1 })),
    })),
  };
}

/** A one-sentence summary for screen readers. */
export function describeTextDiff(sel: TextDiffSelection, grid: TextDiffGrid): string {
  const paired = grid.columns.filter((c) => c.kind === 'pair').length;
  return `L2 distance between ${sel.a.label} and ${sel.b.label}: ${grid.rows} points by ${paired} aligned token pairs (${sel.onlyA.length} tokens only in A, ${sel.onlyB.length} only in B), from ${formatValue(grid.min)} to ${formatValue(grid.max)}.`;
}

/** The grid as a table (the section's "show as table"). */
export function textDiffTable(sel: TextDiffSelection, grid: TextDiffGrid): TableModel {
  return {
    caption: `L2 distance per aligned token pair and point: ${sel.a.label} vs ${sel.b.label}`,
    columns: ['Point', ...grid.labels.map((t, i) => `${i}: ${t}`)],
    rows: grid.values.map((row, r) => [pointLabel(sel.layers[r]), ...row.map((v) => (Number.isFinite(v) ? formatValue(v) : '–'))]),
  };
}
