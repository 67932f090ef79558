/** Assembling, merging and serializing results (DESIGN.md's JSON and CSV contracts). */
import { mergeDatasetMoments, summarizeLayers } from '../stats/datasetStats';
import { RESULTS_SCHEMA, type DatasetResult, type ModelInfo, type ProfileResults, type ProfileSettings, type RuntimeInfo } from '../results';

export function buildResults(model: ModelInfo, runtime: RuntimeInfo, settings: ProfileSettings, datasets: DatasetResult[]): ProfileResults {
  return { schema: RESULTS_SCHEMA, model, runtime, settings, datasets };
}

export class IncompatibleResultsError extends Error {}

/**
 * Merges two results of the same model exactly: datasets with the same name combine their
 * moments (as if profiled in one run), others are appended.
 */
export function mergeResults(a: ProfileResults, b: ProfileResults): ProfileResults {
  if (a.model.sha256 !== b.model.sha256 || a.model.numLayers !== b.model.numLayers) {
    throw new IncompatibleResultsError(`Cannot merge results of different models (${a.model.id} ${a.model.sha256.slice(0, 12)} vs ${b.model.id} ${b.model.sha256.slice(0, 12)}).`);
  }
  const datasets = a.datasets.map((d) => ({ ...d }));
  for (const d of b.datasets) {
    const i = datasets.findIndex((x) => x.name === d.name);
    if (i < 0) datasets.push(d);
    else datasets[i] = mergeDataset(datasets[i], d);
  }
  return { ...a, datasets };
}

export function mergeDataset(a: DatasetResult, b: DatasetResult): DatasetResult {
  const moments = mergeDatasetMoments(a.moments, b.moments);
  return {
    name: a.name,
    ...(a.source || b.source ? { source: [a.source, b.source].filter(Boolean).join(', ') } : {}),
    texts: a.texts + b.texts,
    tokens: a.tokens + b.tokens,
    skipped: [...a.skipped, ...b.skipped],
    moments,
    layers: summarizeLayers(moments),
    ...(a.partial || b.partial ? { partial: true } : {}),
  };
}

export const CSV_COLUMNS = [
  'dataset', 'layer', 'n', 'mean_of_mean', 'std_of_mean', 'mean_of_abs_mean', 'std_of_abs_mean', 'mean_of_l2', 'std_of_l2', 'mean_of_resid_l2', 'std_of_resid_l2',
] as const;

export function toCsv(results: ProfileResults): string {
  const rows: string[] = [CSV_COLUMNS.join(',')];
  for (const d of results.datasets) {
    for (const l of d.layers) {
      rows.push([csvField(d.name), l.layer, l.absMean.n, num(l.mean.mean), num(l.mean.std), num(l.absMean.mean), num(l.absMean.std), num(l.l2.mean), num(l.l2.std), num(l.residL2.mean), num(l.residL2.std)].join(','));
    }
  }
  return rows.join('\n') + '\n';
}

function num(v: number | null): string {
  return v === null || Number.isNaN(v) ? '' : String(v);
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** JSON for files and webviews: NaN (a mean of no texts) becomes null, as JSON has no NaN. */
export function toJson(results: ProfileResults): string {
  return JSON.stringify(results, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}
