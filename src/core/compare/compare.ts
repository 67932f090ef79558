/**
 * Comparisons of datasets layer by layer: every pair, one pair, or a dataset against all the
 * others pooled. Works from the per-layer summaries {mean, std, n} every results file has; per-text
 * values, where a results file has them, add a permutation test.
 */
import type { DatasetResult, ProfileResults, Summary } from '../results';
import { adjustPValues } from './adjust';
import { permutationTest } from './permutation';
import { poolSummaries } from './pool';
import { COMPARE_SCHEMA, type CompareResults, type Comparison, type Correction, type LayerComparison } from './types';
import { welchTest } from './welch';

export class CompareError extends Error {}

/** One layer of one side of a comparison: its summary, and its per-text values when known. */
export interface LayerSide {
  layer: number;
  summary: Summary;
  values?: readonly number[];
}

export interface TestOptions {
  correction?: Correction;
  alpha?: number;
  /** Permutations of the per-text values per layer (0 or absent: none). Needs `values` on both sides. */
  permutations?: number;
  seed?: number;
}

export const DEFAULT_CORRECTION: Correction = 'bh';
export const DEFAULT_ALPHA = 0.05;
export const DEFAULT_SEED = 1;

/**
 * Compares two sides layer by layer (sides are matched by `layer`; layers missing on either side
 * are left out) and adjusts p across the layers compared. `diff` is a minus b.
 */
export function compareLayers(a: readonly LayerSide[], b: readonly LayerSide[], options: TestOptions = {}): LayerComparison[] {
  const correction = options.correction ?? DEFAULT_CORRECTION;
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  const byLayer = new Map(b.map((s) => [s.layer, s]));
  const pairs = a.filter((s) => byLayer.has(s.layer)).map((s) => [s, byLayer.get(s.layer)!] as const);
  const tests = pairs.map(([x, y]) => welchTest(x.summary, y.summary));
  const q = adjustPValues(tests.map((t) => t.p), correction);
  const perms = options.permutations && options.permutations > 0 ? options.permutations : 0;
  const permP = pairs.map(([x, y]) => (perms && x.values && y.values && x.values.length && y.values.length ? permutationTest(x.values, y.values, perms, options.seed ?? DEFAULT_SEED) : null));
  const permQ = adjustPValues(permP, correction);
  return pairs.map(([x, y], i): LayerComparison => {
    const t = tests[i];
    const significant = q[i] !== null && q[i]! <= alpha;
    // Keys in the order of the contract (issue 7), so the JSON reads as documented.
    const layer: LayerComparison = {
      layer: x.layer,
      a: x.summary,
      b: y.summary,
      diff: t.diff,
      se: t.se,
      ci95: t.ci95,
      t: t.t,
      df: t.df,
      p: t.p,
      q: q[i],
      hedgesG: t.hedgesG,
      significant,
      higher: significant ? (t.diff > 0 ? 'a' : t.diff < 0 ? 'b' : null) : null,
      ...(t.degenerate ? { degenerate: t.degenerate } : {}),
    };
    if (permP[i] !== null) layer.permutation = { p: permP[i]!, q: permQ[i]!, significant: permQ[i]! <= alpha };
    return layer;
  });
}

/** Which comparisons to make: every pair (default), one pair, or one dataset (or each) against the rest. */
export type Selection = { kind: 'pairs' } | { kind: 'pair'; a: string; b: string } | { kind: 'vsRest'; name: string } | { kind: 'eachVsRest' };

/** Reads one text's per-layer values of a metric from a dataset: values[layer][text], or undefined when the file has none. */
export type PerTextValues = (dataset: DatasetResult, metric: string) => number[][] | undefined;

export interface CompareOptions extends TestOptions {
  /** A per-layer summary key of the results: absMean (default), mean, l2, residL2, relChange, cosine… */
  metric?: string;
  selection?: Selection;
  /** Where per-text values come from (default: `defaultPerTextValues`). */
  perTextValues?: PerTextValues;
}

export const DEFAULT_METRIC = 'absMean';

/** The per-layer summary metrics present in every dataset that has layers, in file order. */
export function metricsIn(results: ProfileResults): string[] {
  const withLayers = results.datasets.filter((d) => d.layers.length > 0);
  if (withLayers.length === 0) return [];
  const keys = Object.keys(withLayers[0].layers[0]).filter((k) => isSummary(layerValue(withLayers[0].layers[0], k)));
  return keys.filter((k) => withLayers.every((d) => d.layers.every((l) => isSummary(layerValue(l, k)))));
}

/** Datasets that have profiled texts (a dataset with none has nothing to compare). */
export function comparableDatasets(results: ProfileResults): DatasetResult[] {
  return results.datasets.filter((d) => d.layers.length > 0);
}

export function compareResults(results: ProfileResults, options: CompareOptions = {}): CompareResults {
  const metric = options.metric ?? DEFAULT_METRIC;
  const present = metricsIn(results);
  if (!present.includes(metric)) {
    throw new CompareError(`Metric '${metric}' is not in these results; they have: ${present.join(', ') || 'no per-layer metrics (no dataset has profiled texts)'}.`);
  }
  const datasets = comparableDatasets(results);
  const byName = (name: string): DatasetResult => {
    const d = results.datasets.find((x) => x.name === name);
    if (!d) throw new CompareError(`No dataset named '${name}'; the results have: ${results.datasets.map((x) => x.name).join(', ')}.`);
    if (d.layers.length === 0) throw new CompareError(`Dataset '${name}' has no profiled texts to compare.`);
    return d;
  };
  const read = options.perTextValues ?? defaultPerTextValues;
  const sides = (d: DatasetResult): LayerSide[] => {
    const values = options.permutations ? read(d, metric) : undefined;
    return d.layers.map((l, i) => ({ layer: l.layer, summary: layerValue(l, metric) as Summary, ...(values ? { values: values[i] } : {}) }));
  };
  const rest = (d: DatasetResult): LayerSide[] => {
    const others = datasets.filter((x) => x !== d).map(sides);
    return sides(d).map((s, i) => {
      const parts = others.map((o) => o.find((x) => x.layer === s.layer) ?? o[i]);
      const values = parts.every((p) => p.values) ? parts.flatMap((p) => [...p.values!]) : undefined;
      return { layer: s.layer, summary: poolSummaries(parts.map((p) => p.summary)), ...(values ? { values } : {}) };
    });
  };
  const vsRest = (d: DatasetResult): Comparison => {
    if (datasets.length < 2) throw new CompareError(`'${d.name}' vs rest needs at least one other dataset with profiled texts.`);
    return { a: d.name, b: 'rest', pooled: datasets.filter((x) => x !== d).map((x) => x.name), layers: compareLayers(sides(d), rest(d), options) };
  };
  const selection = options.selection ?? { kind: 'pairs' };
  let comparisons: Comparison[];
  switch (selection.kind) {
    case 'pair': {
      if (selection.a === selection.b) throw new CompareError(`Compare two different datasets (both are '${selection.a}').`);
      const a = byName(selection.a);
      const b = byName(selection.b);
      comparisons = [{ a: a.name, b: b.name, layers: compareLayers(sides(a), sides(b), options) }];
      break;
    }
    case 'vsRest':
      comparisons = [vsRest(byName(selection.name))];
      break;
    case 'eachVsRest':
      if (datasets.length < 2) throw new CompareError(needTwo(results));
      comparisons = datasets.map(vsRest);
      break;
    case 'pairs':
      if (datasets.length < 2) throw new CompareError(needTwo(results));
      comparisons = [];
      for (let i = 0; i < datasets.length; i++) {
        for (let j = i + 1; j < datasets.length; j++) comparisons.push({ a: datasets[i].name, b: datasets[j].name, layers: compareLayers(sides(datasets[i]), sides(datasets[j]), options) });
      }
      break;
  }
  const out: CompareResults = {
    schema: COMPARE_SCHEMA,
    model: results.model,
    metric,
    correction: options.correction ?? DEFAULT_CORRECTION,
    alpha: options.alpha ?? DEFAULT_ALPHA,
    comparisons,
  };
  if (options.permutations) out.permutations = { count: options.permutations, seed: options.seed ?? DEFAULT_SEED };
  return out;
}

function needTwo(results: ProfileResults): string {
  const empty = results.datasets.filter((d) => d.layers.length === 0).map((d) => d.name);
  return `A comparison needs two datasets with profiled texts; these results have ${comparableDatasets(results).length}${empty.length ? ` (no texts in: ${empty.join(', ')})` : ''}.`;
}

/**
 * Per-text values from a dataset's per-text records: `[layer][text]`. Results read from @1 files
 * have no records, and then no per-text test can run.
 */
export const defaultPerTextValues: PerTextValues = (dataset, metric) => {
  if (dataset.records.length === 0) return undefined;
  const out: number[][] = dataset.layers.map(() => []);
  for (const r of dataset.records) {
    if (r.layers.length !== dataset.layers.length) return undefined;
    r.layers.forEach((values, l) => {
      const v: unknown = (values as unknown as Record<string, unknown>)[metric];
      if (typeof v === 'number') out[l].push(v);
    });
  }
  return out.every((values) => values.length === dataset.records.length) ? out : undefined;
};

function layerValue(layer: object, key: string): unknown {
  return (layer as Record<string, unknown>)[key];
}

function isSummary(v: unknown): v is Summary {
  return typeof v === 'object' && v !== null && typeof (v as Summary).n === 'number' && 'mean' in v && 'std' in v;
}
