/**
 * The logit lens's results contract (`layer-profiler/lens@1`): per text, per point and position,
 * what the layer would predict; per dataset, per point, summaries pooled over positions, kept as
 * sums and counts so results merge exactly.
 */
import type { ModelInfo, Provenance, RuntimeInfo } from '../results';

export const LENS_SCHEMA = 'layer-profiler/lens@1';

export interface LensTop {
  id: number;
  token: string;
  p: number;
}

/** One lens point of one text: arrays over positions. */
export interface LensTextPoint {
  /** -1: the embedding output; i: blocks.i.resid_post. */
  layer: number;
  entropy: number[];
  top: LensTop[][];
  /** log p(actual next token); null at the last position. */
  nextLogProb: (number | null)[];
  klToFinal: number[];
}

export interface LensText {
  label: string;
  path?: string;
  ids: number[];
  tokens: string[];
  points: LensTextPoint[];
}

/** Per point, pooled over positions: means in nats (entropy, NLL, KL) and fractions (top-1 accuracy, agreement with the final layer). */
export interface LensPointSummary {
  layer: number;
  entropy: number;
  nll: number;
  top1: number;
  agreeFinal: number;
  klToFinal: number;
}

/** The "pure next-token" view: each text's last position only. `top1` there is agreement with the final layer's prediction (there is no actual next token). */
export interface LensLastPositionSummary {
  layer: number;
  entropy: number;
  top1: number;
}

/** Sums behind one point's summaries, so datasets merge exactly. */
export interface LensSums {
  positions: number;
  predicted: number;
  entropy: number;
  nll: number;
  top1: number;
  agreeFinal: number;
  klToFinal: number;
  lastTexts: number;
  lastEntropy: number;
  lastAgree: number;
}

/** One text's own lens values, per point (means over its positions). */
export interface LensTextRecord {
  path: string;
  sha256: string;
  tokens: number;
  points: LensPointSummary[];
}

export interface LensDataset {
  name: string;
  texts: number;
  tokens: number;
  skipped: { path: string; reason: string }[];
  points: LensPointSummary[];
  lastPosition: LensLastPositionSummary[];
  records: LensTextRecord[];
  sums: LensSums[];
  partial?: boolean;
}

export interface LensResults {
  schema: typeof LENS_SCHEMA;
  model: ModelInfo;
  runtime: RuntimeInfo;
  settings: { k: number; maxTokens: number; windowTokens: number; windowsContinueThroughCache: boolean; batchSize: number };
  provenance: Provenance;
  k: number;
  texts: LensText[];
  datasets: LensDataset[];
}
