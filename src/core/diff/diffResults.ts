/**
 * The two-text distance contract (`layer-profiler/diff@1`): both texts' tokens, how they were
 * aligned, and per residual point and aligned pair the L2 distance, cosine similarity and L2
 * relative to ‖h_A‖.
 */
import type { ModelInfo, Provenance, RuntimeInfo } from '../results';
import type { AlignMode } from './align';

export const DIFF_SCHEMA = 'layer-profiler/diff@1';

/** What one pair's numbers are: single measurements, not estimates with a spread. */
export const SINGLE_PAIR_NOTE = 'one pair of texts: every value is a single measurement (no spread across texts, no test of significance)';

export interface DiffText {
  label: string;
  path?: string;
  ids: number[];
  tokens: string[];
}

/** One residual point: arrays over the aligned pairs, in the order of `pairs`. */
export interface DiffPoint {
  /** -1: the embedding output; i: blocks.i.resid_post. */
  layer: number;
  l2: number[];
  /** null where a state is all zeros. */
  cosine: (number | null)[];
  /** null where ‖h_A‖ is 0. */
  relL2: (number | null)[];
}

export interface DiffSettings {
  align: AlignMode;
  windowTokens: number;
  /** Passes per text, when more than one (windows continued through the KV cache). */
  windows?: number;
  /**
   * graph: both texts in one batch, reduced in the graph; separate-runs: each text alone (its
   * numbers would depend on its batch companion: dynamically quantized activations), reduced in
   * float64; gathered-states: both texts as the rows of each window, each row's aligned states
   * reduced in float64 (LCS pairs that fall in different windows of the two texts).
   */
  computedIn: 'graph' | 'separate-runs' | 'gathered-states';
}

export interface DiffResults {
  schema: typeof DIFF_SCHEMA;
  model: ModelInfo;
  runtime: RuntimeInfo;
  settings: DiffSettings;
  provenance: Provenance;
  note: string;
  a: DiffText;
  b: DiffText;
  alignment: AlignMode;
  pairs: [number, number][];
  onlyA: number[];
  onlyB: number[];
  points: DiffPoint[];
}
