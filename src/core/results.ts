/**
 * The results contract (DESIGN.md, schema `layer-profiler/profile@2`).
 * Plain data only: it is written to JSON, sent to webviews and persisted.
 * @2 added per-text records, the relative-change / cosine / norm-growth metrics, effective
 * settings and provenance; `readResults` (results/read.ts) still reads @1 files.
 */
export const RESULTS_SCHEMA = 'layer-profiler/profile@2';
export const RESULTS_SCHEMA_V1 = 'layer-profiler/profile@1';

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
  /** Across texts: each text's mean per-token ‖delta‖ / ‖resid_pre‖ (absent in @1 files). */
  relChange?: Summary;
  /** Across texts: each text's mean per-token cosine of resid_pre and resid_post (Block Influence = 1 − cosine). */
  cosine?: Summary;
  /** Across texts: each text's mean per-token ‖resid_post‖ / ‖resid_pre‖. */
  normGrowth?: Summary;
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

/** One profiled text and its own per-layer values, under the dataset's summaries. */
export interface TextRecord {
  /** File path, or a label for a selection. */
  path: string;
  /** sha256 of the text's UTF-8 content. */
  sha256: string;
  tokens: number;
  /** Forward passes it took. */
  windows: number;
  /** Its values are those of one pass over all its tokens. */
  exact: boolean;
  layers: TextLayerValues[];
}

export interface TextLayerValues {
  mean: number;
  absMean: number;
  l2: number;
  residL2: number;
  relChange: number;
  cosine: number;
  normGrowth: number;
  substeps: { kind: SubstepKind; mean: number; absMean: number; l2: number }[];
}

export interface DatasetResult {
  name: string;
  source?: string;
  texts: number;
  tokens: number;
  skipped: SkippedFile[];
  /** Every text in the statistics, in the order profiled (empty for results read from @1 files). */
  records: TextRecord[];
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
  relChange?: Moments;
  cosine?: Moments;
  normGrowth?: Moments;
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
  /** sha256 of the tokenizer.json and config.json used, when present. */
  tokenizerSha256?: string;
  configSha256?: string;
}

export interface RuntimeInfo {
  tool: string;
  onnxruntime: string;
  executionProvider: string;
  threads: number;
  graphOptimizationLevel?: string;
}

/** The settings a run actually used (requested values where nothing capped them). */
export interface ProfileSettings {
  /** Longest window requested. */
  maxTokens: number;
  /** Longest window actually run: maxTokens capped by the graph's fixed length and its positions. */
  windowTokens?: number;
  /** A long text's windows continue one another through the KV cache (exact), or are independent passes. */
  windowsContinueThroughCache?: boolean;
  /** Most positions one pass could hold, where the model bounds them. */
  positionLimit?: number;
  batchSize: number;
  /** Most token slots per forward pass (windows × padded length); batches hold what fits, up to batchSize. */
  maxBatchTokens?: number;
  /** The first position of every text was left out of every statistic. */
  skipFirstToken?: boolean;
  include?: string[];
  exclude?: string[];
  maxFileBytes: number;
}

export interface Provenance {
  /** ISO time the results were written. */
  createdAt: string;
  /** The command line that produced them (CLI). */
  commandLine?: string[];
  /** Texts profiled in this run and texts whose records came from the cache of earlier runs. */
  cache?: { profiled: number; fromCache: number };
  /** For merged results: each input run's settings (and time, command line); `settings` above are the first one's. */
  mergedFrom?: { createdAt?: string; commandLine?: string[]; settings: ProfileSettings }[];
}

export interface ProfileResults {
  schema: typeof RESULTS_SCHEMA;
  model: ModelInfo;
  runtime: RuntimeInfo;
  settings: ProfileSettings;
  provenance?: Provenance;
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
