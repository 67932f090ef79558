/** Assembling, merging and serializing results (DESIGN.md's JSON and CSV contracts). */
import { stringify } from 'csv-stringify/sync';
import { addText, emptyDatasetMoments, mergeDatasetMoments, summarizeLayers } from '../stats/datasetStats';
import { textRecord } from '../stats/records';
import type { TextStats } from '../stats/textStats';
import { RESULTS_SCHEMA, type DatasetResult, type ModelInfo, type ProfileResults, type ProfileSettings, type Provenance, type RuntimeInfo, type SubstepKind } from '../results';

export function buildResults(model: ModelInfo, runtime: RuntimeInfo, settings: ProfileSettings, datasets: DatasetResult[], provenance: Provenance = { createdAt: new Date().toISOString() }): ProfileResults {
  return { schema: RESULTS_SCHEMA, model, runtime, settings, provenance, datasets };
}

/** A dataset of one profiled text (an editor selection). */
export function datasetOfOneText(name: string, sha256: string, stats: TextStats, substepKinds: SubstepKind[]): DatasetResult {
  const moments = emptyDatasetMoments(stats.layers.length, substepKinds);
  addText(moments, stats);
  return { name, texts: 1, tokens: stats.tokens, skipped: [], records: [textRecord(name, sha256, stats)], moments, layers: summarizeLayers(moments) };
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
  const origins = (r: ProfileResults) => r.provenance?.mergedFrom ?? [{ ...(r.provenance?.createdAt ? { createdAt: r.provenance.createdAt } : {}), ...(r.provenance?.commandLine ? { commandLine: r.provenance.commandLine } : {}), settings: r.settings }];
  // The merged settings are the first input's; every input's own settings stay recorded here.
  return { ...a, provenance: { createdAt: new Date().toISOString(), mergedFrom: [...origins(a), ...origins(b)] }, datasets };
}

export function mergeDataset(a: DatasetResult, b: DatasetResult): DatasetResult {
  const moments = mergeDatasetMoments(a.moments, b.moments);
  return {
    name: a.name,
    ...(a.source || b.source ? { source: [a.source, b.source].filter(Boolean).join(', ') } : {}),
    texts: a.texts + b.texts,
    tokens: a.tokens + b.tokens,
    skipped: [...a.skipped, ...b.skipped],
    records: [...a.records, ...b.records],
    moments,
    layers: summarizeLayers(moments),
    ...(a.partial || b.partial ? { partial: true } : {}),
  };
}

export const CSV_COLUMNS = [
  'dataset', 'layer', 'n', 'mean_of_mean', 'std_of_mean', 'mean_of_abs_mean', 'std_of_abs_mean', 'mean_of_l2', 'std_of_l2', 'mean_of_resid_l2', 'std_of_resid_l2',
  'mean_of_rel_change', 'std_of_rel_change', 'mean_of_cosine', 'std_of_cosine', 'mean_of_norm_growth', 'std_of_norm_growth', 'partial',
] as const;

/**
 * One row per dataset and layer (a dataset with no profiled text keeps one row with n = 0, so it
 * does not vanish); `partial` is true where a run was cancelled before the dataset was finished.
 */
export function toCsv(results: ProfileResults): string {
  const rows: (string | number)[][] = [];
  for (const d of results.datasets) {
    const name = spreadsheetSafe(d.name);
    const partial = d.partial ? 'true' : 'false';
    if (d.layers.length === 0) rows.push([name, '', 0, ...Array(CSV_COLUMNS.length - 4).fill(''), partial]);
    for (const l of d.layers) {
      const pair = (s: { mean: number; std: number | null } | undefined) => [num(s?.mean ?? null), num(s?.std ?? null)];
      rows.push([name, l.layer, l.absMean.n, ...pair(l.mean), ...pair(l.absMean), ...pair(l.l2), ...pair(l.residL2), ...pair(l.relChange), ...pair(l.cosine), ...pair(l.normGrowth), partial]);
    }
  }
  return stringify(rows, { header: true, columns: [...CSV_COLUMNS], record_delimiter: 'unix' });
}

function num(v: number | null): string {
  return v === null || !Number.isFinite(v) ? '' : String(v);
}

/**
 * A name a spreadsheet would run as a formula (=, +, -, @, or a tab or carriage return first)
 * gets a leading apostrophe, as OWASP advises against CSV injection.
 */
export function spreadsheetSafe(s: string): string {
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

/** JSON for files and webviews: NaN (a mean of no texts) becomes null, as JSON has no NaN. */
export function toJson(results: ProfileResults): string {
  return JSON.stringify(results, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}
