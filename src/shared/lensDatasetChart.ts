/**
 * The lens dataset charts' data: per metric, a line per lens dataset across the points (the
 * embedding output, then each layer), at the mean over its texts with ± one standard error.
 * Pure, like chartData: the numbers drawn are unit-tested.
 */
import { LENS_METRIC_WORDS, type LensMetric } from '../core/lens/lensMetrics';
import type { Summary } from '../core/results';
import type { LayerChartData, SeriesPoint } from './chartData';
import { formatValue, type TableModel } from './chartText';
import type { LensComparisonView, LensDatasetsView } from './lensDatasets';

/** One chart per metric, in this order; the first three answer "how well does each layer predict". */
export const LENS_CHARTS: readonly { metric: LensMetric; title: string; explanation: string }[] = [
  { metric: 'top1', title: 'From which layer on does the lens predict the actual next token?', explanation: 'Top-1 accuracy of each layer read through the lens: the share of positions whose most likely token is the actual next one.' },
  { metric: 'nll', title: 'How surprised is each layer by the actual next token?', explanation: 'Mean negative log-likelihood (nats) of the actual next token per layer; exp of it is the layer’s perplexity. Lower: the layer already expects the token.' },
  { metric: 'entropy', title: 'How sure is each layer of its prediction?', explanation: 'Mean entropy (nats) of each layer’s next-token distribution. Lower: a more peaked prediction.' },
  { metric: 'agreeFinal', title: 'When does each layer agree with the model’s output?', explanation: 'The share of positions whose top-1 token is the model’s own top-1 (the last row is 100% by construction).' },
  { metric: 'klToFinal', title: 'How far is each layer from the model’s output distribution?', explanation: 'Mean KL divergence (nats) of the model’s output distribution from the layer’s (0 at the output by construction).' },
];

/** The point name used on the x axis: the embedding output, then each block. */
export function lensPointLabel(layer: number): string {
  return layer < 0 ? 'emb' : String(layer);
}

/** mean ± std/√n from a summary that crossed JSON (null where a number was not finite). */
function point(layer: number, s: Summary | undefined): SeriesPoint {
  const mean = typeof s?.mean === 'number' ? s.mean : Number.NaN;
  const n = typeof s?.n === 'number' ? s.n : 0;
  const se = typeof s?.std === 'number' && n >= 2 ? s.std / Math.sqrt(n) : undefined;
  return se === undefined || !Number.isFinite(mean) ? { layer, value: mean, n } : { layer, value: mean, error: se, n };
}

/** A line per dataset on the union of their points. */
export function lensMetricChart(view: LensDatasetsView, metric: LensMetric): LayerChartData {
  const layers = [...new Set(view.datasets.flatMap((d) => d.layers))].sort((x, y) => x - y);
  return {
    layers,
    series: view.datasets.map((d) => {
      const at = new Map(d.layers.map((l, i) => [l, d.byText[metric]?.[i]]));
      return { name: d.name, colorIndex: d.colorIndex, points: layers.map((l) => point(l, at.get(l))) };
    }),
  };
}

export function lensMetricLabel(metric: LensMetric): string {
  const w = LENS_METRIC_WORDS[metric];
  return w.unit === 'nats' ? `${w.label} (nats)` : w.label;
}

/** The comparison in the shape the difference chart draws (its metric label is the lens metric's). */
export function lensDifferenceView(c: LensComparisonView): { a: string; b: string; correction: LensComparisonView['correction']; alpha: number; request: { metric: string } } {
  return { a: c.a, b: c.b, correction: c.correction, alpha: c.alpha, request: { metric: lensMetricLabel(c.request.metric) } };
}

export function lensMetricTable(data: LayerChartData, metric: LensMetric): TableModel {
  return {
    caption: `${lensMetricLabel(metric)} per layer, mean over texts ± standard error`,
    columns: ['Point', ...data.series.flatMap((s) => [`${s.name}: mean`, `${s.name}: SE`, `${s.name}: n`])],
    rows: data.layers.map((layer, i) => [lensPointLabel(layer), ...data.series.flatMap((s) => [formatValue(s.points[i].value), formatValue(s.points[i].error), String(s.points[i].n)])]),
  };
}
