/**
 * The lens datasets the panel shows, computed in the host (so the webview bundle carries no t
 * distribution): each dataset's per-text summaries per metric, the comparison the user asked for
 * (Welch per layer, Benjamini–Hochberg across layers) and the findings in plain words.
 */
import { DEFAULT_ALPHA, DEFAULT_CORRECTION } from '../core/compare/compare';
import { compareLensDatasets, isLensMetric, LENS_METRICS, lensSides, type LensMetric } from '../core/lens/lensCompare';
import { lensFindings } from '../core/lens/lensFindings';
import type { Summary } from '../core/results';
import type { LensComparisonRequest, LensComparisonView, LensDatasetEntry, LensDatasetsView } from '../shared/lensDatasets';

/** The request to honour: the user's where both datasets exist and differ, else the first two, on top-1 accuracy. */
export function resolveLensRequest(names: readonly string[], wanted: LensComparisonRequest | undefined): LensComparisonRequest | undefined {
  if (names.length < 2) return undefined;
  const metric: LensMetric = wanted && isLensMetric(wanted.metric) ? wanted.metric : 'top1';
  let a = wanted && names.includes(wanted.a) ? wanted.a : undefined;
  let b = wanted && names.includes(wanted.b) && wanted.b !== a ? wanted.b : undefined;
  a ??= names.find((n) => n !== b);
  b ??= names.find((n) => n !== a);
  return { a: a!, b: b!, metric };
}

export function lensDatasetsView(entries: readonly LensDatasetEntry[], colorOf: (name: string, index: number) => number, wanted: LensComparisonRequest | undefined): LensDatasetsView {
  const datasets = entries.map((e, i) => {
    const byText = Object.fromEntries(LENS_METRICS.map((m) => [m, lensSides(e.records, e.layers, m).map((s): Summary => s.summary)])) as Record<LensMetric, Summary[]>;
    return { name: e.name, texts: e.texts, tokens: e.tokens, ...(e.partial ? { partial: true } : {}), colorIndex: colorOf(e.name, i), layers: e.layers, byText };
  });
  const request = resolveLensRequest(entries.map((e) => e.name), wanted);
  let compare: LensComparisonView | { reason: string };
  if (!request) compare = { reason: entries.length === 0 ? 'Read two folders through the lens to compare them.' : 'Read a second folder through the lens (Logit Lens on Folder as Dataset) to compare two of them.' };
  else {
    const a = entries.find((e) => e.name === request.a)!;
    const b = entries.find((e) => e.name === request.b)!;
    const layers = compareLensDatasets(a, b, request.metric, { correction: DEFAULT_CORRECTION, alpha: DEFAULT_ALPHA });
    compare = { request, a: a.name, b: b.name, correction: DEFAULT_CORRECTION, alpha: DEFAULT_ALPHA, layers };
  }
  const findings = lensFindings(
    entries.map((e) => ({ name: e.name, texts: e.texts, points: e.pooled })),
    'layers' in compare ? { a: compare.a, b: compare.b, metric: compare.request.metric, correction: compare.correction, alpha: compare.alpha, layers: compare.layers } : undefined,
  );
  return jsonSafe({ datasets, compare, findings });
}

/** As the webview will receive it: non-finite numbers (t of constant sides, means of no texts) become null. */
function jsonSafe<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))) as T;
}
