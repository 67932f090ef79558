/** Public types of the test model generator. */
import type { ElemType } from './onnx/tensors';
import type { ExternalDataOptions, OpsetSpec } from './onnx/modelWriter';
import type { onnx } from 'onnx-proto';

export const MODEL_STYLES = [
  'optimum-llama',
  'optimum-llama-opset18',
  'genai-fused',
  'ort-fused',
  'bert-postnorm',
  'neox-parallel',
  'merged-if',
  'quantized',
  'quantized-dynamic',
  'genai-gqa',
  'opt-flat-mlp',
  'moe',
] as const;

/** An exporter's way of writing a transformer graph (see README.md in this folder). */
export type ModelStyle = (typeof MODEL_STYLES)[number];

export function isModelStyle(s: string): s is ModelStyle {
  return (MODEL_STYLES as readonly string[]).includes(s);
}

export interface GenOptions {
  seed: number;
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  /** MLP width; 2 * hidden when not given. */
  intermediate: number;
  maxPositions: number;
  /** Half-precision weights and activations (optimum-llama only; genai-fused is always fp16). */
  fp16: boolean;
}

export const DEFAULT_OPTIONS: Readonly<Omit<GenOptions, 'intermediate'>> = {
  seed: 1,
  vocabSize: 320,
  hidden: 32,
  layers: 3,
  heads: 4,
  maxPositions: 1024,
  fp16: false,
};

/** Where a graph input comes from, so tests (and feeds.ts) can build feeds without name matching. */
export type InputRole = 'input_ids' | 'attention_mask' | 'position_ids' | 'token_type_ids' | 'past_key' | 'past_value' | 'use_cache_branch';

export interface ModelInputSpec {
  name: string;
  role: InputRole;
  type: ElemType;
  /** Numbers are fixed; strings are symbolic (batch_size, sequence_length, ...). */
  dims: (number | string)[];
  /** For past_key / past_value: the layer. */
  layer?: number;
}

/**
 * Where the residual stream is, by tensor name, for checking a spine finder. Stream points are
 * TransformerLens's: resid_pre[0] = embeddingOutput, resid_post[i] = residualNames[i],
 * resid_mid[i] = midResidualNames[i] (sequential blocks only). For post-norm models the stream is
 * the LayerNorm output after each residual Add. `null` marks a point the exporter never
 * materialised (genai's final SkipSimplifiedLayerNormalization has no output 3).
 */
export interface ExpectedSpine {
  embeddingOutput: string;
  residualNames: (string | null)[];
  midResidualNames?: (string | null)[];
  /** Node joining the stream and the block's last branch (residual Add or Skip*LayerNormalization). */
  residualNodes: string[];
  /** Node joining the stream and the attention branch (sequential blocks only). */
  midResidualNodes?: string[];
  /**
   * Add nodes inside blocks that join no residual stream and must not be taken for residual joins:
   * the moe style's sums of expert outputs (index_add_ exported as ScatterElements + Add chains).
   */
  innerAddNodes?: string[];
  norm: 'pre' | 'post';
  parallel: boolean;
}

export interface GeneratedModel {
  /** The model folder (config.json, tokenizer.json, tokenizer_config.json, the ONNX file). */
  dir: string;
  /** Absolute path of the ONNX file. */
  onnxPath: string;
  /** ONNX file relative to `dir`. */
  onnxFile: string;
  /** External data files beside the ONNX file, if any. */
  externalDataFiles: string[];
  style: ModelStyle;
  numLayers: number;
  hidden: number;
  heads: number;
  /** Key/value heads of the KV cache (fewer than `heads` with grouped-query attention). */
  kvHeads: number;
  headDim: number;
  intermediate: number;
  vocabSize: number;
  /** Activation dtype of the residual stream. */
  dtype: 'float32' | 'float16';
  quantized: boolean;
  /** Opset of the default domain. */
  opset: number;
  inputs: ModelInputSpec[];
  outputs: string[];
  /** Output holding per-token results: `logits` for decoders, `last_hidden_state` for encoders. */
  mainOutput: string;
  padTokenId: number;
  eosTokenId: number;
  options: GenOptions;
  expected: ExpectedSpine;
}

/** What a style module returns; generate.ts writes it out with the tokenizer and config. */
export interface StyleBuild {
  graph: onnx.IGraphProto;
  opsets: OpsetSpec[];
  onnxFile: string;
  externalData?: ExternalDataOptions;
  dtype: 'float32' | 'float16';
  quantized: boolean;
  inputs: ModelInputSpec[];
  outputs: string[];
  mainOutput: string;
  expected: ExpectedSpine;
  /** Hugging Face config.json fields particular to the architecture. */
  config: Record<string, unknown>;
  producer: { name: string; version: string };
  /** KV-cache heads when they differ from the attention heads (grouped-query attention). */
  kvHeads?: number;
  /** ModelProto ir_version when not 8 (the genai builder writes 10). */
  irVersion?: number;
  /** More JSON files for the model folder (genai_config.json), by name relative to it; given the tokenizer's special ids. */
  extraJsonFiles?: (ids: { eos: number; pad: number }) => Record<string, unknown>;
}
