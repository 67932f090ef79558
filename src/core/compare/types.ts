/**
 * The comparison contract (`layer-profiler/compare@1`, schema/compare-v1.schema.json).
 * Plain data: written to JSON, sent to webviews. Infinite values (t and g when both sides have no
 * spread but different means) are kept as ±Infinity in memory and written as null, with `degenerate`
 * saying why; see toCompareJson.
 */
import type { ModelInfo, Summary } from '../results';

export const COMPARE_SCHEMA = 'layer-profiler/compare@1';

/** How p-values are adjusted across the layers of one comparison. */
export type Correction = 'bh' | 'holm' | 'none';

/**
 * Why a layer's test is not an ordinary Welch test:
 * - `too-few-texts`: a side has fewer than 2 texts, so no variance estimate: t, df, p, CI, q, g are null.
 * - `no-variance-equal-means`: both sides are constant and equal: no evidence of a difference (p = 1, q from it, CI [0, 0]; t, df, g null).
 * - `no-variance-different-means`: both sides are constant and differ: se = 0, t = ±Infinity (null in JSON),
 *   p = 0, CI [diff, diff], df null, g = ±Infinity (null in JSON).
 */
export type Degenerate = 'too-few-texts' | 'no-variance-equal-means' | 'no-variance-different-means';

/** Welch's test of one layer, before adjustment across layers. */
export interface WelchResult {
  /** mean(a) - mean(b). */
  diff: number;
  /** sqrt(sa²/na + sb²/nb); null when a side has fewer than 2 texts. */
  se: number | null;
  /** diff / se. */
  t: number | null;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number | null;
  /** Two-sided p from Student's t with df degrees of freedom. */
  p: number | null;
  /** 95% confidence interval of diff: diff ± t(0.975, df) · se. */
  ci95: [number, number] | null;
  /** Hedges' g: diff over the pooled sd (weighted by n - 1), times the exact small-sample correction J(na + nb - 2). */
  hedgesG: number | null;
  degenerate?: Degenerate;
}

export interface PermutationResult {
  /** (1 + #{permutations with |diff| ≥ observed |diff|}) / (1 + permutations): never 0 (Phipson & Smyth 2010). */
  p: number;
  /** p adjusted across the layers with the comparison's correction. */
  q: number;
  significant: boolean;
}

export interface LayerComparison extends WelchResult {
  layer: number;
  a: Summary;
  b: Summary;
  /** p adjusted across the layers of this comparison (the chosen correction; equals p with `none`). */
  q: number | null;
  /** q <= alpha. */
  significant: boolean;
  /** The side with the larger mean, when significant; otherwise null. */
  higher: 'a' | 'b' | null;
  /** Present when a permutation test on per-text values was requested and both sides have them. */
  permutation?: PermutationResult;
}

export interface Comparison {
  a: string;
  /** The other dataset's name, or `rest` for a dataset against all the others pooled. */
  b: string;
  /** For `rest`: the datasets pooled into it. */
  pooled?: string[];
  layers: LayerComparison[];
}

export interface CompareResults {
  schema: typeof COMPARE_SCHEMA;
  model: ModelInfo;
  metric: string;
  correction: Correction;
  alpha: number;
  /** Set when a permutation test was run. */
  permutations?: { count: number; seed: number };
  comparisons: Comparison[];
}
