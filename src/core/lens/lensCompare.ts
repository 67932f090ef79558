/**
 * Lens datasets compared layer by layer with the statistics of core/compare: each text's own
 * per-point lens value (its mean over its positions) is one observation, so Welch's test, the
 * correction across layers and the findings work on lens metrics exactly as on profile metrics.
 */
import { compareLayers, type LayerSide, type TestOptions } from '../compare/compare';
import type { LayerComparison } from '../compare/types';
import type { Summary } from '../results';
import type { LensMetric } from './lensMetrics';
import type { LensPointSummary, LensTextRecord } from './lensResults';

export { isLensMetric, LENS_METRIC_WORDS, LENS_METRICS, type LensMetric } from './lensMetrics';

/**
 * Each point's values over the texts, `[point][text]`, leaving out texts without a value there
 * (a one-token text has no next token, so no NLL or top-1 accuracy).
 */
export function perTextLensValues(records: readonly Pick<LensTextRecord, 'points'>[], points: number, metric: LensMetric): number[][] {
  const out: number[][] = Array.from({ length: points }, () => []);
  for (const r of records) {
    r.points.forEach((p: LensPointSummary, i) => {
      const v = p[metric];
      if (i < points && typeof v === 'number' && Number.isFinite(v)) out[i].push(v);
    });
  }
  return out;
}

/** Mean and sample standard deviation (n − 1) of the values; std null below two values. */
export function summaryOf(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, std: null, n: 0 };
  // Welford's update: stable for the many near-equal values a lens metric gives.
  let mean = 0;
  let m2 = 0;
  values.forEach((v, i) => {
    const d = v - mean;
    mean += d / (i + 1);
    m2 += d * (v - mean);
  });
  return { mean, std: n > 1 ? Math.sqrt(m2 / (n - 1)) : null, n };
}

/** One dataset's side of a comparison: per point, the summary of its texts' values (and the values). */
export function lensSides(records: readonly Pick<LensTextRecord, 'points'>[], layers: readonly number[], metric: LensMetric): LayerSide[] {
  const values = perTextLensValues(records, layers.length, metric);
  return layers.map((layer, i) => ({ layer, summary: summaryOf(values[i]), values: values[i] }));
}

/** Two lens datasets compared per point on one metric (diff = a − b), p adjusted across the points. */
export function compareLensDatasets(
  a: { records: readonly Pick<LensTextRecord, 'points'>[]; layers: readonly number[] },
  b: { records: readonly Pick<LensTextRecord, 'points'>[]; layers: readonly number[] },
  metric: LensMetric,
  options: TestOptions = {},
): LayerComparison[] {
  return compareLayers(lensSides(a.records, a.layers, metric), lensSides(b.records, b.layers, metric), options);
}
