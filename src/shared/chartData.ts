/**
 * Pure chart data for the webviews: what each chart shows, computed from the ViewState.
 * No DOM and no Chart.js here, so every number a chart draws is unit-testable in Node.
 */
import type { DatasetResult, Summary } from '../core/results';
import type { ViewState } from './protocol';

export type LayerStat = 'absMean' | 'mean';
/** What an error bar spans: ± the sample std across texts, or ± the standard error of the mean. */
export type ErrorKind = 'std' | 'sem';

export interface SeriesPoint {
  layer: number;
  /** NaN when the dataset has no value for this layer (a gap in the chart). */
  value: number;
  /** Half-width of the error bar; undefined draws none (n < 2, or no value). */
  error?: number;
  n: number;
}

export interface LayerSeries {
  name: string;
  /** Index of the dataset among all datasets, so a dataset keeps its colour when others are hidden. */
  colorIndex: number;
  /** One point per entry of LayerChartData.layers, aligned by position. */
  points: SeriesPoint[];
}

export interface LayerChartData {
  layers: number[];
  series: LayerSeries[];
}

export interface VisibleDataset {
  dataset: DatasetResult;
  colorIndex: number;
}

/** Every dataset of the results, skipping malformed entries (the webview trusts nothing it cannot check). */
export function allDatasets(state: ViewState): DatasetResult[] {
  const datasets = state.results?.datasets;
  if (!Array.isArray(datasets)) return [];
  return datasets.filter((d) => d && typeof d.name === 'string' && Array.isArray(d.layers));
}

/** Datasets not hidden by the user, in results order, each with its stable colour index. */
export function visibleDatasets(state: ViewState): VisibleDataset[] {
  const hidden = new Set(state.hidden);
  return allDatasets(state)
    .map((dataset, colorIndex) => ({ dataset, colorIndex }))
    .filter(({ dataset }) => !hidden.has(dataset.name));
}

/** Standard error of the mean, std/√n; undefined when the std is unknown (n < 2). */
export function stdOfMean(s: Summary): number | undefined {
  if (s.std === null || typeof s.std !== 'number' || !(s.n >= 1)) return undefined;
  return s.std / Math.sqrt(s.n);
}

/** Sample variance (std²); undefined when the std is unknown (n < 2). */
export function variance(s: Summary): number | undefined {
  return typeof s.std === 'number' ? s.std * s.std : undefined;
}

function layerIndices(datasets: VisibleDataset[]): number[] {
  const set = new Set<number>();
  for (const { dataset } of datasets) for (const l of dataset.layers) set.add(l.layer);
  return [...set].sort((x, y) => x - y);
}

/**
 * One series per visible dataset of a per-layer statistic, with error bars of the chosen kind.
 * Layers are the union over visible datasets, so series stay aligned on one x axis.
 */
export function layerChart(state: ViewState, stat: LayerStat, error: ErrorKind): LayerChartData {
  return buildLayerChart(state, (s) => ({ value: s.mean, error: error === 'std' ? (typeof s.std === 'number' ? s.std : undefined) : stdOfMean(s) }), stat);
}

/** Variance across texts of the per-text absolute mean, per layer and dataset (no error bars). */
export function varianceChart(state: ViewState): LayerChartData {
  return buildLayerChart(state, (s) => ({ value: variance(s) ?? Number.NaN, error: undefined }), 'absMean');
}

function buildLayerChart(state: ViewState, pick: (s: Summary) => { value: number; error: number | undefined }, stat: LayerStat): LayerChartData {
  const visible = visibleDatasets(state);
  const layers = layerIndices(visible);
  const series = visible.map(({ dataset, colorIndex }) => {
    const byLayer = new Map(dataset.layers.map((l) => [l.layer, l[stat]]));
    const points = layers.map((layer): SeriesPoint => {
      const s = byLayer.get(layer);
      if (!s) return { layer, value: Number.NaN, n: 0 };
      const { value, error } = pick(s);
      return error === undefined || !Number.isFinite(error) ? { layer, value, n: s.n } : { layer, value, error, n: s.n };
    });
    return { name: dataset.name, colorIndex, points };
  });
  return { layers, series };
}

/** Number of points per series, as the UI tests read it from `data-points`. */
export function pointCounts(data: LayerChartData): Record<string, number> {
  return Object.fromEntries(data.series.map((s) => [s.name, s.points.length]));
}

// ---- Comparison of two datasets -------------------------------------------------------------

export interface ComparisonPair {
  a: string;
  b: string;
}

/**
 * The two visible datasets to compare: the user's choice where both are still visible and
 * distinct, otherwise filled in from the first visible datasets. Undefined with fewer than two.
 */
export function resolveComparison(state: ViewState): ComparisonPair | undefined {
  const names = visibleDatasets(state).map((d) => d.dataset.name);
  if (names.length < 2) return undefined;
  const wanted = state.comparison;
  let a = wanted && names.includes(wanted.a) ? wanted.a : undefined;
  let b = wanted && names.includes(wanted.b) && wanted.b !== a ? wanted.b : undefined;
  a ??= names.find((n) => n !== b);
  b ??= names.find((n) => n !== a);
  return a !== undefined && b !== undefined ? { a, b } : undefined;
}

/** The pair after the user picks `value` for one side; picking the other side's dataset swaps them. */
export function pickComparison(current: ComparisonPair, side: 'a' | 'b', value: string): ComparisonPair {
  if (side === 'a') return value === current.b ? { a: value, b: current.a } : { a: value, b: current.b };
  return value === current.a ? { a: current.b, b: value } : { a: current.a, b: value };
}

export interface DifferenceRow {
  layer: number;
  /** Absolute mean of A minus that of B. */
  diff: number;
  /** Standard error of the difference, sqrt(sa²/na + sb²/nb); undefined when either std is unknown. */
  se?: number;
  /** diff / se; undefined when se is undefined or zero. */
  z?: number;
}

/**
 * Per-layer difference of absolute means (a − b), ranked by |diff|/se, largest first: the layers
 * that react most differently to A than to B. Layers without a z go last, by |diff|.
 */
export function differenceRows(a: DatasetResult, b: DatasetResult): DifferenceRow[] {
  const bByLayer = new Map(b.layers.map((l) => [l.layer, l.absMean]));
  const rows: DifferenceRow[] = [];
  for (const la of a.layers) {
    const sb = bByLayer.get(la.layer);
    if (!sb) continue;
    const sa = la.absMean;
    const row: DifferenceRow = { layer: la.layer, diff: sa.mean - sb.mean };
    if (typeof sa.std === 'number' && typeof sb.std === 'number' && sa.n >= 1 && sb.n >= 1) {
      row.se = Math.sqrt((sa.std * sa.std) / sa.n + (sb.std * sb.std) / sb.n);
      if (row.se > 0) row.z = row.diff / row.se;
    }
    rows.push(row);
  }
  return rows.sort(compareRank);
}

function compareRank(x: DifferenceRow, y: DifferenceRow): number {
  if (x.z !== undefined && y.z !== undefined) return Math.abs(y.z) - Math.abs(x.z) || x.layer - y.layer;
  if (x.z !== undefined) return -1;
  if (y.z !== undefined) return 1;
  return Math.abs(y.diff) - Math.abs(x.diff) || x.layer - y.layer;
}

export type DifferenceChartData = { pair: ComparisonPair; rows: DifferenceRow[] } | { pair: undefined; reason: string };

/** The difference chart for the resolved pair, or why there is none. */
export function differenceChart(state: ViewState): DifferenceChartData {
  const pair = resolveComparison(state);
  if (!pair) {
    const n = visibleDatasets(state).length;
    return { pair: undefined, reason: n === 0 ? 'Profile two datasets to compare them.' : 'Show or profile a second dataset to compare two of them.' };
  }
  const byName = new Map(allDatasets(state).map((d) => [d.name, d]));
  const a = byName.get(pair.a);
  const b = byName.get(pair.b);
  return a && b ? { pair, rows: differenceRows(a, b) } : { pair: undefined, reason: 'The datasets to compare are missing.' };
}

/** The label of the single series of the difference chart. */
export function differenceLabel(pair: ComparisonPair): string {
  return `${pair.a} − ${pair.b}`;
}

// ---- Token x layer heatmap ------------------------------------------------------------------

const SPACE = '·';
const NEWLINE = '⏎';
const TAB = '→';

/**
 * A token as the model saw it, made visible: byte-level BPE markers (Ġ space, Ċ newline, ĉ tab),
 * SentencePiece's ▁ and byte fallbacks (<0x0A>), and plain whitespace become ·, ⏎ and →.
 */
export function displayToken(raw: string): string {
  if (raw.length === 0) return '∅';
  const shown = raw
    .replace(/<0x0D><0x0A>|\r\n|čĊ/g, NEWLINE)
    .replace(/<0x0A>|\n|Ċ/g, NEWLINE)
    .replace(/<0x0D>|\r|č/g, '␍')
    .replace(/<0x09>|\t|ĉ/g, TAB)
    .replace(/<0x20>| |Ġ|▁/g, SPACE);
  return shown;
}

export interface HeatmapGrid {
  /** Layers. */
  rows: number;
  /** Tokens. */
  cols: number;
  labels: string[];
  /** values[layer][token]; NaN where the profile has no finite value. */
  values: number[][];
  min: number;
  max: number;
  rowMin: number[];
  rowMax: number[];
}

/** The heatmap of a token profile's absolute means: rows are layers, columns are tokens. */
export function heatmapGrid(profile: { tokens: string[]; absMean: number[][] }): HeatmapGrid {
  const tokens = Array.isArray(profile.tokens) ? profile.tokens : [];
  const source = Array.isArray(profile.absMean) ? profile.absMean : [];
  const cols = tokens.length;
  const values = source.map((row) => Array.from({ length: cols }, (_, c) => (Array.isArray(row) && Number.isFinite(row[c]) ? row[c] : Number.NaN)));
  const rowMin = values.map((row) => finiteExtreme(row, Math.min));
  const rowMax = values.map((row) => finiteExtreme(row, Math.max));
  return {
    rows: values.length,
    cols,
    labels: tokens.map((t) => displayToken(String(t))),
    values,
    min: finiteExtreme(rowMin, Math.min),
    max: finiteExtreme(rowMax, Math.max),
    rowMin,
    rowMax,
  };
}

function finiteExtreme(values: number[], pick: (...v: number[]) => number): number {
  const finite = values.filter(Number.isFinite);
  return finite.length ? finite.reduce((acc, v) => pick(acc, v)) : Number.NaN;
}

/**
 * Where a cell falls on the colour scale, 0..1 (NaN for a missing value). The scale is
 * logarithmic: magnitudes span orders of magnitude (the first token and the last layers dwarf
 * the rest), and a linear scale would paint everything else the same dark colour. With
 * `perLayer`, each layer spans the whole scale, so the tokens a layer reacts to stand out even
 * where other layers change the stream far more. Ranges reaching zero or below fall back to linear.
 */
export function heatPosition(grid: HeatmapGrid, row: number, col: number, perLayer: boolean): number {
  const v = grid.values[row]?.[col];
  if (v === undefined || !Number.isFinite(v)) return Number.NaN;
  const lo = perLayer ? grid.rowMin[row] : grid.min;
  const hi = perLayer ? grid.rowMax[row] : grid.max;
  if (!(hi > lo)) return 0.5;
  if (lo > 0) return Math.log(v / lo) / Math.log(hi / lo);
  return (v - lo) / (hi - lo);
}
