/**
 * Resolving a local model: a folder laid out as DESIGN.md's model-folder contract, or a bare .onnx
 * file (whose folder may still hold a tokenizer and config).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

export interface ResolvedModel {
  folder: string;
  /** ONNX file relative to `folder`. */
  onnxFile: string;
  config?: ModelConfig;
}

/** The parts of config.json (or onnxruntime-genai's genai_config.json) the profiler reads. */
export interface ModelConfig {
  modelType?: string;
  architecture?: string;
  numLayers?: number;
  hiddenSize?: number;
  vocabSize?: number;
  /** Longest sequence the model's positions cover, when the config says. */
  maxPositions?: number;
  /** Attention heads, key/value heads and head size: the shape of an empty KV cache. */
  numHeads?: number;
  kvHeads?: number;
  headDim?: number;
}

export class ModelNotFoundError extends Error {}

export async function resolveLocalModel(target: string): Promise<ResolvedModel> {
  const full = path.resolve(target);
  let info;
  try {
    info = await stat(full);
  } catch {
    throw new ModelNotFoundError(`No model at ${full}: the path does not exist. Give a model folder (with config.json, tokenizer.json and model.onnx or onnx/model*.onnx), an .onnx file, or a Hugging Face model id.`);
  }
  if (info.isFile()) {
    if (!full.endsWith('.onnx')) throw new ModelNotFoundError(`${full} is not an .onnx file.`);
    const folder = path.dirname(full);
    return { folder, onnxFile: path.basename(full), config: await readModelConfig(folder) };
  }
  const onnxFile = await findOnnxFile(full);
  return { folder: full, onnxFile, config: await readModelConfig(full) };
}

async function findOnnxFile(folder: string): Promise<string> {
  const top = await listOnnx(folder);
  const nested = (await listOnnx(path.join(folder, 'onnx'))).map((f) => `onnx/${f}`);
  for (const preferred of ['model.onnx', 'onnx/model.onnx']) if ([...top, ...nested].includes(preferred)) return preferred;
  const all = [...top, ...nested];
  if (all.length === 1) return all[0];
  if (all.length === 0) throw new ModelNotFoundError(`No ONNX model in ${folder}: expected model.onnx or onnx/model*.onnx.`);
  throw new ModelNotFoundError(`${folder} holds several ONNX files (${all.join(', ')}); give the one to use as the model path.`);
}

async function listOnnx(folder: string): Promise<string[]> {
  try {
    return (await readdir(folder)).filter((f) => f.endsWith('.onnx')).sort();
  } catch {
    return [];
  }
}

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export async function readModelConfig(folder: string): Promise<ModelConfig | undefined> {
  const hf = await readJson(path.join(folder, 'config.json'));
  const genai = await readJson(path.join(folder, 'genai_config.json'));
  if (!hf && !genai) return undefined;
  // config.json first; genai_config.json fills what it leaves out (onnxruntime-genai builds carry both).
  return { ...definedFields(genai ? fromGenaiConfig(genai) : {}), ...definedFields(hf ? fromHfConfig(hf) : {}) };
}

function definedFields(c: ModelConfig): ModelConfig {
  return Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as ModelConfig;
}

function fromHfConfig(config: Record<string, unknown>): ModelConfig {
  // Multimodal configs nest the language model's settings.
  const text = (config.text_config as Record<string, unknown> | undefined) ?? config;
  const hiddenSize = num(text.hidden_size) ?? num(text.n_embd) ?? num(text.d_model);
  const numHeads = num(text.num_attention_heads) ?? num(text.n_head) ?? num(text.num_heads);
  return {
    modelType: typeof config.model_type === 'string' ? config.model_type : undefined,
    architecture: Array.isArray(config.architectures) && typeof config.architectures[0] === 'string' ? config.architectures[0] : undefined,
    numLayers: num(text.num_hidden_layers) ?? num(text.n_layer) ?? num(text.num_layers),
    hiddenSize,
    vocabSize: num(text.vocab_size),
    maxPositions: num(text.max_position_embeddings) ?? num(text.n_positions) ?? num(text.n_ctx),
    numHeads,
    kvHeads: num(text.num_key_value_heads) ?? num(text.multi_query_group_num) ?? numHeads,
    headDim: num(text.head_dim) ?? (hiddenSize && numHeads ? hiddenSize / numHeads : undefined),
  };
}

function fromGenaiConfig(genai: Record<string, unknown>): ModelConfig {
  const m = (genai.model as Record<string, unknown> | undefined) ?? {};
  const decoder = (m.decoder as Record<string, unknown> | undefined) ?? {};
  const numHeads = num(decoder.num_attention_heads);
  const headDim = num(decoder.head_size);
  return {
    modelType: typeof m.type === 'string' ? m.type : undefined,
    numLayers: num(decoder.num_hidden_layers),
    hiddenSize: num(decoder.hidden_size) ?? (numHeads && headDim ? numHeads * headDim : undefined),
    vocabSize: num(m.vocab_size),
    maxPositions: num(m.context_length),
    numHeads,
    kvHeads: num(decoder.num_key_value_heads) ?? numHeads,
    headDim,
  };
}

const POST_NORM_TYPES = new Set(['bert', 'roberta', 'xlm-roberta', 'distilbert', 'electra', 'camembert', 'albert', 'mpnet', 'ernie']);

export function isPostNormType(modelType: string | undefined): boolean {
  return modelType !== undefined && POST_NORM_TYPES.has(modelType);
}
