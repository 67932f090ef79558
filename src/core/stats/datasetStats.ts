/** A dataset's per-layer moments over its texts' statistics, and the summaries written to results. */
import type { DatasetMoments, LayerMoments, LayerSummary, Moments, SubstepKind } from '../results';
import { emptyMoments, mergeMoments, pushValue, summarize } from './moments';
import type { TextLayerStats, TextStats } from './textStats';

/** Metrics with a summary per layer; the last three are absent from @1 results. */
const LAYER_METRICS = ['mean', 'absMean', 'l2', 'residL2', 'relChange', 'cosine', 'normGrowth'] as const;
const ADDED_IN_V2 = new Set<string>(['relChange', 'cosine', 'normGrowth']);
type LayerMetric = (typeof LAYER_METRICS)[number];

export function emptyDatasetMoments(numLayers: number, substepKinds: SubstepKind[]): DatasetMoments {
  return {
    layers: Array.from({ length: numLayers }, () => ({
      mean: emptyMoments(),
      absMean: emptyMoments(),
      l2: emptyMoments(),
      residL2: emptyMoments(),
      relChange: emptyMoments(),
      cosine: emptyMoments(),
      normGrowth: emptyMoments(),
      substeps: substepKinds.map((kind) => ({ kind, mean: emptyMoments(), absMean: emptyMoments(), l2: emptyMoments() })),
    })),
  };
}

export function addText(m: DatasetMoments, text: TextStats): void {
  text.layers.forEach((t: TextLayerStats, l) => {
    const lm = m.layers[l];
    for (const metric of LAYER_METRICS) {
      const moments = lm[metric];
      if (moments) pushValue(moments, t[metric]);
    }
    lm.substeps?.forEach((s, i) => {
      pushValue(s.mean, t.substeps[i].mean);
      pushValue(s.absMean, t.substeps[i].absMean);
      pushValue(s.l2, t.substeps[i].l2);
    });
  });
}

export function mergeDatasetMoments(a: DatasetMoments, b: DatasetMoments): DatasetMoments {
  if (a.layers.length !== b.layers.length) throw new Error(`Cannot merge results with ${a.layers.length} and ${b.layers.length} layers.`);
  return {
    layers: a.layers.map((la, l): LayerMoments => {
      const lb = b.layers[l];
      const merged: LayerMoments = { mean: mergeMoments(la.mean, lb.mean), absMean: mergeMoments(la.absMean, lb.absMean), l2: mergeMoments(la.l2, lb.l2), residL2: mergeMoments(la.residL2, lb.residL2) };
      // A metric only one side has (an @1 file merged with an @2 one) would summarise a subset of the texts: drop it.
      for (const metric of ['relChange', 'cosine', 'normGrowth'] as const) {
        const x = la[metric];
        const y = lb[metric];
        if (x && y) merged[metric] = mergeMoments(x, y);
      }
      merged.substeps =
        la.substeps && lb.substeps && la.substeps.length === lb.substeps.length
          ? la.substeps.map((s, i) => ({ kind: s.kind, mean: mergeMoments(s.mean, lb.substeps![i].mean), absMean: mergeMoments(s.absMean, lb.substeps![i].absMean), l2: mergeMoments(s.l2, lb.substeps![i].l2) }))
          : undefined;
      return merged;
    }),
  };
}

/** Per-layer summaries; none for a dataset with no profiled texts (there is nothing to summarize). */
export function summarizeLayers(m: DatasetMoments): LayerSummary[] {
  if ((m.layers[0]?.mean.n ?? 0) === 0) return [];
  return m.layers.map((lm, layer) => {
    const summary: LayerSummary = { layer, mean: summarize(lm.mean), absMean: summarize(lm.absMean), l2: summarize(lm.l2), residL2: summarize(lm.residL2) };
    for (const metric of LAYER_METRICS) {
      const moments: Moments | undefined = lm[metric];
      if (ADDED_IN_V2.has(metric) && moments) summary[metric as Exclude<LayerMetric, 'mean' | 'absMean' | 'l2' | 'residL2'>] = summarize(moments);
    }
    if (lm.substeps && lm.substeps.length) summary.substeps = lm.substeps.map((s) => ({ kind: s.kind, mean: summarize(s.mean), absMean: summarize(s.absMean), l2: summarize(s.l2) }));
    return summary;
  });
}
