/**
 * The engine's public surface: what the CLI, the engine child process and tests call.
 * Everything here is plain TypeScript with no `vscode` import.
 */
import { DEFAULT_MAX_BATCH_TOKENS } from './batching';
import type { Shard } from './dataset/shard';
import type { DeviceChoice } from './runtime/device';
import type { DatasetResult, ProfileResults, SubstepKind, TokenProfile } from './results';

export const DTYPES = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'] as const;
export type Dtype = (typeof DTYPES)[number];

export const DEFAULT_MODEL_ID = 'onnx-community/Qwen2.5-Coder-0.5B-Instruct';
export const DEFAULT_DTYPE: Dtype = 'q8';

/**
 * Where a model comes from: a Hub repo id (downloaded into the cache) or a local folder / .onnx
 * file. A local folder laid out as a transformers.js repo (`onnx/model_<suffix>.onnx`) is read by
 * `dtype` as a Hub repo is; without one, `model.onnx` or `onnx/model.onnx` (or the only ONNX file).
 */
export type ModelSpec =
  | { kind: 'hub'; id: string; dtype: Dtype; revision?: string }
  | { kind: 'local'; path: string; dtype?: Dtype };

export interface LoadOptions {
  /** Hub cache folder; defaults to ~/.cache/layer-profiler/hub. */
  cacheDir?: string;
  /** Hub endpoint; defaults to https://huggingface.co (tests point it at a local server). */
  hubUrl?: string;
  /** Intra-op threads for ONNX Runtime (0 or unset: one per physical core, runtime/cores.ts). */
  threads?: number;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Where to run (runtime/device.ts); the CPU when not given. */
  device?: DeviceChoice;
  /** A tokenizer.json file, or a folder holding tokenizer.json (+ tokenizer_config.json), used instead of the model's. */
  tokenizer?: string;
  onDownloadProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
}

export interface DownloadProgress {
  file: string;
  bytesDone: number;
  bytesTotal: number | undefined;
}

/** A residual-stream point, TransformerLens-style: blocks.{layer}.resid_pre / resid_post etc. */
export interface LayerInfo {
  layer: number;
  /** Tensor holding the residual entering the block (resid_pre). */
  residualIn: string;
  /** Tensor holding the residual leaving the block (resid_post); possibly one the profiler adds. */
  residual: string;
  /** Sub-steps: the stream after each (resid_mid, resid_post) and, where exact, its output (attn_out, mlp_out). */
  substeps: { kind: SubstepKind; residual: string; branch?: string }[];
  /** What the profiler had to add to expose this layer's residual, if anything. */
  added?: string;
}

export interface InspectResult {
  model: { id: string; file: string; dtype: string; architecture?: string; numLayers: number; hiddenSize?: number; style: string; opset: number };
  layers: LayerInfo[];
  /** What the profiler had to do to the graph to probe it (lifted branches, added residual sums). */
  notes: string[];
}

export interface ProfileOptions {
  maxTokens: number;
  /** Most windows per forward pass. */
  batchSize: number;
  /**
   * Most token slots (windows × padded length) per forward pass: a batch holds as many windows as
   * fit (up to batchSize), so memory follows tokens, not the window count. Default
   * DEFAULT_MAX_BATCH_TOKENS (batching.ts).
   */
  maxBatchTokens?: number;
  /** Leave each text's first position (BOS, where a few huge activations sit) out of every statistic. */
  skipFirstToken?: boolean;
}

export interface DatasetInput {
  name: string;
  /** Files or folders; folders are walked. */
  paths?: string[];
  /** Or texts given directly (e.g. an editor selection). */
  texts?: { label: string; text: string }[];
  include?: string[];
  exclude?: string[];
  maxFileBytes?: number;
  /** Only the texts of this shard (by content hash; see dataset/shard.ts). */
  shard?: Shard;
}

export interface ProfileProgress {
  dataset: string;
  textsDone: number;
  textsTotal: number;
  tokensDone: number;
  /** The file being profiled (or the last one finished), for display. */
  current?: string;
  elapsedMs: number;
  /** Tokens the whole dataset is expected to hold: those tokenized so far, the rest estimated from bytes. */
  tokensExpected?: number;
  /** Time left, from the tokens still to run at the rate so far. */
  secondsLeft?: number;
}

// Up to 16 windows, within DEFAULT_MAX_BATCH_TOKENS (512) token slots: a full window runs alone (so a
// pass never holds more than batch 1's largest), and short files share a pass. On the bench shape,
// texts of about 80 characters ran in 0.66× batch 1's time, texts of about 300 in 0.98×; a fixed
// batch of 4 was no faster than 1 and held 4× the activations.
export const DEFAULT_PROFILE_OPTIONS: ProfileOptions = { maxTokens: 512, batchSize: 16, maxBatchTokens: DEFAULT_MAX_BATCH_TOKENS };
export const DEFAULT_MAX_FILE_BYTES = 1_000_000;

export type { DatasetResult, ProfileResults, TokenProfile };
