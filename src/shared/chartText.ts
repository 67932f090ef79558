/**
 * The words and tables behind each chart: number formatting, the aria-label summaries and the
 * accessible tables that show the same numbers as the charts. Pure, like chartData.
 */
import type { HeatmapGrid, LayerChartData } from './chartData';

/** Four significant digits; exponent form for very small or large magnitudes. */
export function formatValue(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return '–';
  if (v === 0) return '0';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  const abs = Math.abs(v);
  const text = abs >= 1e4 || abs < 1e-3 ? v.toExponential(2) : String(Number(v.toPrecision(4)));
  return text.replace(/-/g, '−');
}

export interface TableModel {
  caption: string;
  /** Column headers; the first column holds each row's header. */
  columns: string[];
  rows: string[][];
}

/** Layer rows, and per dataset a value column and (when asked) its ± error column. */
export function layerTable(data: LayerChartData, caption: string, valueName: string, errorName?: string): TableModel {
  const columns = ['Layer'];
  for (const s of data.series) {
    columns.push(`${s.name}: ${valueName}`);
    if (errorName) columns.push(`${s.name}: ± ${errorName}`);
  }
  const rows = data.layers.map((layer, i) => {
    const row = [String(layer)];
    for (const s of data.series) {
      const p = s.points[i];
      row.push(formatValue(p?.value));
      if (errorName) row.push(formatValue(p?.error));
    }
    return row;
  });
  return { caption, columns, rows };
}

export function heatmapTable(grid: HeatmapGrid, label: string): TableModel {
  return {
    caption: `Absolute mean of the layer delta per token and layer: ${label}`,
    columns: ['Layer', ...grid.labels.map((t, i) => `${i}: ${t}`)],
    rows: grid.values.map((row, layer) => [String(layer), ...row.map((v) => formatValue(v))]),
  };
}

/** A one-sentence summary of a per-layer chart for screen readers: where each series peaks. */
export function describeLayerChart(data: LayerChartData, what: string): string {
  if (data.series.length === 0) return `${what}: no dataset to show.`;
  const parts = data.series.map((s) => {
    const finite = s.points.filter((p) => Number.isFinite(p.value));
    if (finite.length === 0) return `${s.name}: no values`;
    const hi = finite.reduce((m, p) => (p.value > m.value ? p : m));
    const lo = finite.reduce((m, p) => (p.value < m.value ? p : m));
    return `${s.name}: highest at layer ${hi.layer} (${formatValue(hi.value)}), lowest at layer ${lo.layer} (${formatValue(lo.value)})`;
  });
  return `${what}, ${data.layers.length} layers, ${data.series.length} dataset${data.series.length === 1 ? '' : 's'}. ${parts.join('; ')}.`;
}

export function describeHeatmap(grid: HeatmapGrid, label: string): string {
  return `Heatmap of ${label}: ${grid.rows} layers by ${grid.cols} tokens, absolute mean of the layer delta from ${formatValue(grid.min)} to ${formatValue(grid.max)}.`;
}
