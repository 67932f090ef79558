/** A dataset's per-layer moments over its texts' statistics, and the summaries written to results. */
import type { DatasetMoments, LayerMoments, LayerSummary, SubstepKind } from '../results';
import { emptyMoments, mergeMoments, pushValue, summarize } from './moments';
import type { TextStats } from './textStats';

export function emptyDatasetMoments(numLayers: number, substepKinds: SubstepKind[]): DatasetMoments {
  return {
    layers: Array.from({ length: numLayers }, () => ({
      mean: emptyMoments(),
      absMean: emptyMoments(),
      l2: emptyMoments(),
      residL2: emptyMoments(),
      substeps: substepKinds.map((kind) => ({ kind, mean: emptyMoments(), absMean: emptyMoments(), l2: emptyMoments() })),
    })),
  };
}

export function addText(m: DatasetMoments, text: TextStats): void {
  text.layers.forEach((t, l) => {
    const lm = m.layers[l];
    pushValue(lm.mean, t.mean);
    pushValue(lm.absMean, t.absMean);
    pushValue(lm.l2, t.l2);
    pushValue(lm.residL2, t.residL2);
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
      return {
        mean: mergeMoments(la.mean, lb.mean),
        absMean: mergeMoments(la.absMean, lb.absMean),
        l2: mergeMoments(la.l2, lb.l2),
        residL2: mergeMoments(la.residL2, lb.residL2),
        substeps: la.substeps && lb.substeps && la.substeps.length === lb.substeps.length
          ? la.substeps.map((s, i) => ({ kind: s.kind, mean: mergeMoments(s.mean, lb.substeps![i].mean), absMean: mergeMoments(s.absMean, lb.substeps![i].absMean), l2: mergeMoments(s.l2, lb.substeps![i].l2) }))
          : undefined,
      };
    }),
  };
}

/** Per-layer summaries; none for a dataset with no profiled texts (there is nothing to summarize). */
export function summarizeLayers(m: DatasetMoments): LayerSummary[] {
  if ((m.layers[0]?.mean.n ?? 0) === 0) return [];
  return m.layers.map((lm, layer) => ({
    layer,
    mean: summarize(lm.mean),
    absMean: summarize(lm.absMean),
    l2: summarize(lm.l2),
    residL2: summarize(lm.residL2),
    ...(lm.substeps && lm.substeps.length ? { substeps: lm.substeps.map((s) => ({ kind: s.kind, mean: summarize(s.mean), absMean: summarize(s.absMean), l2: summarize(s.l2) })) } : {}),
  }));
}
