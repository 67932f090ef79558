/**
 * A dataset rebuilt from its per-text records: what a host keeps of a run that did not finish (the
 * engine crashed or was cancelled) or shows while one is still going. The summaries are the mean
 * and sample standard deviation of the records' per-layer values, exactly as the engine computes
 * them, because each record holds the text's own values.
 */
import type { DatasetResult, SkippedFile, SubstepKind, TextRecord } from '../results';
import { addText, emptyDatasetMoments, summarizeLayers } from './datasetStats';

export interface DatasetFromRecordsOptions {
  source?: string;
  skipped?: SkippedFile[];
  /** The run stopped before every text of the dataset was profiled. */
  partial?: boolean;
  /** Layer count and sub-step kinds when there are no records to read them from. */
  numLayers?: number;
  substepKinds?: SubstepKind[];
}

export function datasetFromRecords(name: string, records: readonly TextRecord[], opts: DatasetFromRecordsOptions = {}): DatasetResult {
  const first = records[0]?.layers;
  const numLayers = first?.length ?? opts.numLayers ?? 0;
  const substepKinds = first?.[0]?.substeps.map((s) => s.kind) ?? opts.substepKinds ?? [];
  const moments = emptyDatasetMoments(numLayers, substepKinds);
  let tokens = 0;
  for (const r of records) {
    if (r.layers.length !== numLayers) throw new Error(`Record ${r.path} has ${r.layers.length} layers, the others ${numLayers}.`);
    addText(moments, r);
    tokens += r.tokens;
  }
  return {
    name,
    ...(opts.source ? { source: opts.source } : {}),
    texts: records.length,
    tokens,
    skipped: opts.skipped ?? [],
    records: records.slice(),
    moments,
    layers: summarizeLayers(moments),
    ...(opts.partial ? { partial: true } : {}),
  };
}
