/**
 * Lens datasets as the host keeps them and the panel receives them. The host stores each folder's
 * lens summaries and per-text records (what Welch's test needs); the panel gets, per dataset and
 * metric, the summary over texts of every point, plus the comparison the host computed.
 */
import type { LayerComparison } from '../core/compare/types';
import type { Findings } from '../core/compare/findings';
import type { LensMetric } from '../core/lens/lensMetrics';
import type { LensDataset, LensPointSummary, LensTextRecord } from '../core/lens/lensResults';
import type { Summary } from '../core/results';

/** One folder read through the lens, as stored: no position sums (they are for merging files). */
export interface LensDatasetEntry {
  name: string;
  source: string;
  texts: number;
  tokens: number;
  skipped: number;
  partial?: boolean;
  /** Points in order: -1 (embedding output), then each block. */
  layers: number[];
  /** Pooled over every position of every text. */
  pooled: LensPointSummary[];
  records: LensTextRecord[];
}

export function lensDatasetEntryOf(d: LensDataset, source: string): LensDatasetEntry {
  return { name: d.name, source, texts: d.texts, tokens: d.tokens, skipped: d.skipped.length, ...(d.partial ? { partial: true } : {}), layers: d.points.map((p) => p.layer), pooled: d.points, records: d.records };
}

/** The user's lens comparison: which two datasets, on which metric. */
export interface LensComparisonRequest {
  a: string;
  b: string;
  metric: LensMetric;
}

/** What the panel draws for one lens dataset: per metric, per point, its texts' summary. */
export interface LensDatasetView {
  name: string;
  texts: number;
  tokens: number;
  partial?: boolean;
  colorIndex: number;
  layers: number[];
  /** Per metric, per point (as `layers`): mean, sample std and n over the texts' own values. */
  byText: Record<LensMetric, Summary[]>;
}

export interface LensComparisonView {
  request: LensComparisonRequest;
  a: string;
  b: string;
  correction: 'bh' | 'holm' | 'none';
  alpha: number;
  layers: LayerComparison[];
}

export interface LensDatasetsView {
  datasets: LensDatasetView[];
  compare: LensComparisonView | { reason: string };
  findings: Findings;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isNumber = (v: unknown): v is number => typeof v === 'number';
const isPoint = (v: unknown): v is LensPointSummary => isObject(v) && isNumber(v.layer);

/** Checks a stored lens dataset written by another version; anything malformed is dropped. */
export function parseLensDatasetEntry(raw: unknown): LensDatasetEntry | undefined {
  if (!isObject(raw) || typeof raw.name !== 'string' || typeof raw.source !== 'string' || !isNumber(raw.texts) || !isNumber(raw.tokens)) return undefined;
  if (!Array.isArray(raw.layers) || !raw.layers.every(isNumber) || !Array.isArray(raw.pooled) || !raw.pooled.every(isPoint) || raw.pooled.length !== raw.layers.length) return undefined;
  const points = raw.layers.length;
  if (!Array.isArray(raw.records) || !raw.records.every((r) => isObject(r) && Array.isArray(r.points) && r.points.length === points && r.points.every(isPoint))) return undefined;
  return raw as unknown as LensDatasetEntry;
}

/** Checks the lens datasets of a snapshot before the panel draws them. */
export function parseLensDatasetsView(raw: unknown): LensDatasetsView | undefined {
  if (!isObject(raw) || !Array.isArray(raw.datasets) || !isObject(raw.compare) || !isObject(raw.findings)) return undefined;
  const ok = raw.datasets.every(
    (d) => isObject(d) && typeof d.name === 'string' && isNumber(d.colorIndex) && Array.isArray(d.layers) && d.layers.every(isNumber) && isObject(d.byText) && Object.values(d.byText).every((s) => Array.isArray(s) && s.length === (d.layers as number[]).length),
  );
  return ok ? (raw as unknown as LensDatasetsView) : undefined;
}
