/**
 * Pure chart data for the webviews: what each chart shows, computed from the ViewState.
 * No DOM and no Chart.js here, so every number a chart draws is unit-testable in Node.
 */
import type { DatasetResult, LayerSummary, Summary } from '../core/results';
import type { ViewState } from './protocol';

/** The per-layer summaries a chart can draw (those absent in a results file read as gaps). */
export type LayerStat = 'absMean' | 'mean' | 'l2' | 'residL2' | 'relChange' | 'cosine' | 'normGrowth';
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

/** A dataset's colour index: the one the host assigned for its lifetime, else its position. */
export function colorIndexOf(state: ViewState, name: string): number {
  const assigned = state.colors?.[name];
  if (typeof assigned === 'number' && Number.isInteger(assigned) && assigned >= 0) return assigned;
  return Math.max(0, allDatasets(state).findIndex((d) => d.name === name));
}

/** Datasets not hidden by the user, in results order, each with its stable colour index. */
export function visibleDatasets(state: ViewState): VisibleDataset[] {
  const hidden = new Set(state.hidden);
  return allDatasets(state)
    .map((dataset) => ({ dataset, colorIndex: colorIndexOf(state, dataset.name) }))
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

/**
 * The y range that fits the data and its error bars, widened to round numbers (so the axis's
 * first and last ticks read cleanly); `fromZero` stretches it to include 0. Undefined when there
 * is nothing finite to fit.
 */
export function yRange(data: LayerChartData, fromZero: boolean): { min: number; max: number } | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of data.series) {
    for (const p of s.points) {
      if (!Number.isFinite(p.value)) continue;
      const e = p.error !== undefined && Number.isFinite(p.error) ? p.error : 0;
      lo = Math.min(lo, p.value - e);
      hi = Math.max(hi, p.value + e);
    }
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return undefined;
  if (fromZero) (lo = Math.min(0, lo)), (hi = Math.max(0, hi));
  if (hi === lo) {
    const pad = Math.abs(hi) * 0.05 || 1;
    return { min: lo - pad, max: hi + pad };
  }
  const step = niceStep((hi - lo) / 8);
  return { min: Math.floor(lo / step) * step, max: Math.ceil(hi / step) * step };
}

/** The smallest of 1, 2 or 5 × 10^k that is at least `raw`. */
export function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
}

/** Variance across texts of the per-text absolute mean, per layer and dataset (no error bars). */
export function varianceChart(state: ViewState): LayerChartData {
  return buildLayerChart(state, (s) => ({ value: variance(s) ?? Number.NaN, error: undefined }), (l) => l.absMean);
}

/**
 * How sure each layer's average is: the standard error of the mean as a percentage of the mean,
 * 100 · (std / √n) / |mean|. Error bars of ± one SE are a few percent of the value and vanish at
 * the scale of the profile; this puts the uncertainty itself on the axis. NaN for n < 2 or a zero mean.
 */
export function relativeSemChart(state: ViewState, stat: LayerStat = 'absMean'): LayerChartData {
  return buildLayerChart(state, (s) => {
    const se = stdOfMean(s);
    return { value: se !== undefined && s.mean !== 0 ? (100 * se) / Math.abs(s.mean) : Number.NaN, error: undefined };
  }, stat);
}

/** ShortGPT's Block Influence, 1 − cosine(resid_pre, resid_post), ± the std of the per-text cosine (the same spread). */
export function blockInfluenceChart(state: ViewState): LayerChartData {
  return buildLayerChart(state, (s) => ({ value: 1 - s.mean, error: typeof s.std === 'number' ? s.std : undefined }), (l) => l.cosine);
}

/**
 * Attention's share of each layer's change, mean |attn_out| / (mean |attn_out| + mean |mlp_out|),
 * as the findings define it (0.5: both carry as much). A gap where the layer has no split.
 */
export function attentionShareChart(state: ViewState): LayerChartData {
  return buildLayerChart(state, (s) => ({ value: s.mean, error: undefined }), (l) => {
    const a = l.substeps?.find((x) => x.kind === 'attention')?.absMean;
    const m = l.substeps?.find((x) => x.kind === 'mlp')?.absMean;
    if (!a || !m || !(a.mean + m.mean > 0)) return undefined;
    return { mean: a.mean / (a.mean + m.mean), std: null, n: Math.min(a.n, m.n) };
  });
}

/** True when no series has a single finite value (e.g. a metric older results lack). */
export function isEmptyChart(data: LayerChartData): boolean {
  return data.series.every((s) => s.points.every((p) => !Number.isFinite(p.value)));
}

function buildLayerChart(state: ViewState, pick: (s: Summary) => { value: number; error: number | undefined }, stat: LayerStat | ((l: LayerSummary) => Summary | undefined)): LayerChartData {
  const visible = visibleDatasets(state);
  const layers = layerIndices(visible);
  const read = typeof stat === 'function' ? stat : (l: LayerSummary) => l[stat];
  const series = visible.map(({ dataset, colorIndex }) => {
    const byLayer = new Map(dataset.layers.map((l) => [l.layer, read(l)]));
    const points = layers.map((layer): SeriesPoint => {
      const s = byLayer.get(layer);
      if (!s || typeof s.mean !== 'number') return { layer, value: Number.NaN, n: 0 };
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
  /** Names beside the rows; the row index (the layer) when absent. */
  rowLabels?: string[];
  /** Columns that have no values by design (a token only one compared text has), drawn hatched. */
  gapColumns?: boolean[];
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
