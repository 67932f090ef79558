/**
 * The results contract (DESIGN.md, schema `layer-profiler/profile@1`).
 * Plain data only: it is written to JSON, sent to webviews and persisted.
 */
export const RESULTS_SCHEMA = 'layer-profiler/profile@1';

/** Mean, sample standard deviation (n-1; null when n < 2) and count of per-text values. */
export interface Summary {
  mean: number;
  std: number | null;
  n: number;
}

export interface LayerSummary {
  /** 0-based transformer block index. */
  layer: number;
  /** Across texts: each text's mean of delta_layer over all its tokens and hidden units. */
  mean: Summary;
  /** Across texts: each text's mean of |delta_layer|. */
  absMean: Summary;
  /** Across texts: each text's mean per-token L2 norm of delta_layer. */
  l2: Summary;
  /** Across texts: each text's mean per-token L2 norm of the residual leaving the block. */
  residL2: Summary;
  /** Sub-steps (attention, mlp) of the block, same statistics, where the model has them. */
  substeps?: SubstepSummary[];
}

export interface SubstepSummary {
  kind: SubstepKind;
  mean: Summary;
  absMean: Summary;
  l2: Summary;
}

export type SubstepKind = 'attention' | 'mlp' | 'parallel';

export interface SkippedFile {
  path: string;
  reason: string;
}

export interface DatasetResult {
  name: string;
  source?: string;
  texts: number;
  tokens: number;
  skipped: SkippedFile[];
  /** Mergeable running moments behind `layers` (count, mean, M2 per statistic), so results combine exactly. */
  moments: DatasetMoments;
  layers: LayerSummary[];
  /** True when the run was cancelled before every text of the dataset was profiled. */
  partial?: boolean;
}

/** Welford/Chan moments of one statistic. */
export interface Moments {
  n: number;
  mean: number;
  m2: number;
}

export interface LayerMoments {
  mean: Moments;
  absMean: Moments;
  l2: Moments;
  residL2: Moments;
  substeps?: { kind: SubstepKind; mean: Moments; absMean: Moments; l2: Moments }[];
}

export interface DatasetMoments {
  layers: LayerMoments[];
}

export interface ModelInfo {
  id: string;
  revision?: string;
  file: string;
  sha256: string;
  architecture?: string;
  numLayers: number;
  hiddenSize?: number;
  dtype: string;
}

export interface RuntimeInfo {
  tool: string;
  onnxruntime: string;
  executionProvider: string;
  threads: number;
}

export interface ProfileSettings {
  maxTokens: number;
  batchSize: number;
  include?: string[];
  exclude?: string[];
  maxFileBytes: number;
}

export interface ProfileResults {
  schema: typeof RESULTS_SCHEMA;
  model: ModelInfo;
  runtime: RuntimeInfo;
  settings: ProfileSettings;
  datasets: DatasetResult[];
}

/** Per-token view of one text (for heatmaps): values[layer][token]. */
export interface TokenProfile {
  tokens: string[];
  /** Character span of each token in the profiled text (null where a token has no visible text). */
  offsets?: ([number, number] | null)[];
  absMean: number[][];
  l2: number[][];
  /** Set when the text had more tokens than the per-token view keeps (the first ones are kept). */
  totalTokens?: number;
}
