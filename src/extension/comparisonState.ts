/**
 * The comparison and findings the panel shows, computed in the host with core/compare (so the
 * webview bundle carries no t distribution): the user's request resolved against the visible
 * datasets, Welch tests per layer with the correction across layers, and the plain-words findings.
 */
import { COMPARE_SCHEMA, CompareError, compareResults, DEFAULT_ALPHA, DEFAULT_CORRECTION, findings, findingsMarkdown, metricsIn, type CompareResults, type Findings, type Selection } from '../core/compare';
import type { ProfileResults } from '../core/results';
import { COMPARISON_METRICS, type ComparisonMetric, type ComparisonRequest, type ComparisonView } from '../shared/protocol';

export interface ComparisonState {
  compare?: ComparisonView | { reason: string };
  findings?: Findings;
}

/** The visible datasets with profiled texts, as a results document of their own. */
export function visibleResults(results: ProfileResults, hidden: readonly string[]): ProfileResults {
  const off = new Set(hidden);
  return { ...results, datasets: results.datasets.filter((d) => !off.has(d.name) && d.layers.length > 0) };
}

/**
 * The request to honour: the user's where its datasets are visible and distinct, else filled in
 * from the first visible datasets (a pair), on a metric every visible dataset has.
 */
export function resolveRequest(names: readonly string[], metrics: readonly ComparisonMetric[], wanted: ComparisonRequest | undefined): ComparisonRequest | undefined {
  if (names.length < 2) return undefined;
  const metric = wanted && metrics.includes(wanted.metric) ? wanted.metric : 'absMean';
  const choice = wanted?.choice;
  if (choice?.kind === 'vsRest' && names.includes(choice.name)) return { choice, metric };
  let a = choice?.kind === 'pair' && names.includes(choice.a) ? choice.a : undefined;
  let b = choice?.kind === 'pair' && names.includes(choice.b) && choice.b !== a ? choice.b : undefined;
  a ??= names.find((n) => n !== b);
  b ??= names.find((n) => n !== a);
  return { choice: { kind: 'pair', a: a!, b: b! }, metric };
}

/** The panel's findings as Markdown (Export Results…): the same visible datasets and comparison. */
export function findingsMarkdownFor(results: ProfileResults, hidden: readonly string[], wanted: ComparisonRequest | undefined): string {
  const { visible, compared } = compute(results, hidden, wanted);
  return findingsMarkdown(visible, compared);
}

export function comparisonState(results: ProfileResults | undefined, hidden: readonly string[], wanted: ComparisonRequest | undefined): ComparisonState {
  if (!results) return {};
  const { visible, request, metrics, compared, reason } = compute(results, hidden, wanted);
  const comparison = request && compared.comparisons[0];
  const compare: ComparisonView | { reason: string } = comparison
    ? jsonSafe({ request, metrics, a: comparison.a, b: comparison.b, ...(comparison.pooled ? { pooled: comparison.pooled } : {}), correction: compared.correction, alpha: compared.alpha, layers: comparison.layers })
    : { reason: reason ?? 'Nothing to compare.' };
  return { compare, ...(visible.datasets.length > 0 ? { findings: findings(visible, compared) } : {}) };
}

function compute(results: ProfileResults, hidden: readonly string[], wanted: ComparisonRequest | undefined) {
  const visible = visibleResults(results, hidden);
  const names = visible.datasets.map((d) => d.name);
  const present = new Set(metricsIn(visible));
  const metrics = COMPARISON_METRICS.filter((m) => present.has(m));
  const request = resolveRequest(names, metrics, wanted);
  let compared: CompareResults | undefined;
  let reason: string | undefined;
  if (!request) reason = names.length === 0 ? 'Profile two datasets to compare them.' : 'Show or profile a second dataset to compare two of them.';
  else {
    try {
      compared = compareResults(visible, { metric: request.metric, selection: selectionOf(request) });
    } catch (err) {
      if (!(err instanceof CompareError)) throw err;
      reason = err.message;
    }
  }
  // With nothing to compare, the findings still describe each dataset.
  const none: CompareResults = { schema: COMPARE_SCHEMA, model: results.model, metric: request?.metric ?? 'absMean', correction: DEFAULT_CORRECTION, alpha: DEFAULT_ALPHA, comparisons: [] };
  return { visible, request, metrics, compared: compared ?? none, reason };
}

function selectionOf(request: ComparisonRequest): Selection {
  return request.choice.kind === 'pair' ? { kind: 'pair', a: request.choice.a, b: request.choice.b } : { kind: 'vsRest', name: request.choice.name };
}

/** As the webview will receive it: ±Infinity (t and g of constant sides) becomes null, as in compare@1 JSON. */
function jsonSafe<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))) as T;
}

/** Remembers the last answer: snapshots go out on every progress tick, the results rarely change. */
export class ComparisonCache {
  private last: { results: ProfileResults | undefined; key: string; state: ComparisonState } | undefined;

  get(results: ProfileResults | undefined, hidden: readonly string[], wanted: ComparisonRequest | undefined): ComparisonState {
    const key = JSON.stringify([hidden, wanted ?? null]);
    if (this.last && this.last.results === results && this.last.key === key) return this.last.state;
    const state = comparisonState(results, hidden, wanted);
    this.last = { results, key, state };
    return state;
  }
}
