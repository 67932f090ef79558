/**
 * Resolving a local model: a folder laid out as DESIGN.md's model-folder contract, or a bare .onnx
 * file (whose folder may still hold a tokenizer and config).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { sha256Text } from '../hash';
import type { Dtype } from '../api';
import { availableDtypes, ONNX_SUBFOLDER, onnxPathForDtype } from './dtype';

export interface ResolvedModel {
  folder: string;
  /** ONNX file relative to `folder`. */
  onnxFile: string;
  config?: ModelConfig;
  /** The dtype of the weights, where it is known by name (asked for, or a transformers.js file name). */
  dtype?: Dtype;
  /** Tokenizer to use instead of the one in `folder`: a tokenizer.json file or a folder holding one. */
  tokenizer?: string;
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
  /** sha256 of the file read (config.json, else genai_config.json). */
  sha256?: string;
}

export class ModelNotFoundError extends Error {}

/** A local folder asked for a dtype whose file it does not hold. */
export class LocalDtypeNotAvailableError extends ModelNotFoundError {
  constructor(message: string, readonly available: Dtype[]) {
    super(message);
  }
}

/**
 * `target` is a model folder or an .onnx file. With `dtype`, a folder is read as a transformers.js
 * repo is (`onnx/model_q4.onnx` for q4), and a file must be the one that dtype names.
 */
export async function resolveLocalModel(target: string, dtype?: Dtype): Promise<ResolvedModel> {
  const full = path.resolve(target);
  let info;
  try {
    info = await stat(full);
  } catch {
    throw new ModelNotFoundError(`No model at ${full}: the path does not exist. Give a model folder (with config.json, tokenizer.json and model.onnx or onnx/model*.onnx), an .onnx file, or a Hugging Face model id.`);
  }
  if (info.isFile()) {
    if (!full.endsWith('.onnx')) throw new ModelNotFoundError(`${full} is not an .onnx file.`);
    const folder = await modelFolderOfFile(full);
    const onnxFile = path.relative(folder, full).split(path.sep).join('/');
    const named = dtypeOfFile(full);
    if (dtype && named !== dtype) {
      throw new ModelNotFoundError(`${full} is not the ${dtype} file of a model (that is ${onnxPathForDtype(dtype)}): give the model folder with the dtype, or the file without one.`);
    }
    return { folder, onnxFile, config: await readModelConfig(folder), ...(named ? { dtype: named } : {}) };
  }
  const onnxFile = dtype ? await findOnnxFileForDtype(full, dtype) : await findOnnxFile(full);
  const named = dtype ?? dtypeOfFile(onnxFile);
  return { folder: full, onnxFile, config: await readModelConfig(full), ...(named ? { dtype: named } : {}) };
}

/**
 * The model folder of an .onnx file: its own folder, or the one above when the file sits in a
 * transformers.js `onnx/` folder and its config and tokenizer are kept above it.
 */
async function modelFolderOfFile(file: string): Promise<string> {
  const dir = path.dirname(file);
  if (path.basename(dir) !== ONNX_SUBFOLDER) return dir;
  const has = async (d: string) => (await exists(path.join(d, 'config.json'))) || (await exists(path.join(d, 'tokenizer.json')));
  return !(await has(dir)) && (await has(path.dirname(dir))) ? path.dirname(dir) : dir;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** The dtype a transformers.js file name stands for (`.../onnx/model_q4.onnx` -> q4), if it is one. */
function dtypeOfFile(file: string): Dtype | undefined {
  if (path.basename(path.dirname(file)) !== ONNX_SUBFOLDER) return undefined;
  return availableDtypes([`${ONNX_SUBFOLDER}/${path.basename(file)}`])[0];
}

/** Folder-relative ONNX files, `onnx/` ones as `onnx/<name>`. */
async function onnxFilesIn(folder: string): Promise<string[]> {
  const top = await listOnnx(folder);
  const nested = (await listOnnx(path.join(folder, ONNX_SUBFOLDER))).map((f) => `${ONNX_SUBFOLDER}/${f}`);
  return [...top, ...nested];
}

/**
 * The dtypes whose files a local folder holds in `onnx/`. Only there: a `model.onnx` at the top
 * (onnxruntime-genai's layout, say) follows no naming that says its precision.
 */
export async function localDtypes(folder: string): Promise<Dtype[]> {
  return availableDtypes(await onnxFilesIn(folder));
}

async function findOnnxFileForDtype(folder: string, dtype: Dtype): Promise<string> {
  const all = await onnxFilesIn(folder);
  if (all.includes(onnxPathForDtype(dtype))) return onnxPathForDtype(dtype);
  const available = availableDtypes(all);
  const holds = available.length
    ? `It holds ${available.join(', ')}; choose one of those.`
    : all.length
      ? `It holds no files named by dtype (onnx/model.onnx, onnx/model_fp16.onnx, onnx/model_q4.onnx, ...), only ${all.join(', ')}: give the file to use as the model path, without a dtype.`
      : 'It holds no ONNX file.';
  throw new LocalDtypeNotAvailableError(`${folder} has no ${dtype} weights (${onnxPathForDtype(dtype)}). ${holds}`, available);
}

async function findOnnxFile(folder: string): Promise<string> {
  const all = await onnxFilesIn(folder);
  for (const preferred of ['model.onnx', `${ONNX_SUBFOLDER}/model.onnx`]) if (all.includes(preferred)) return preferred;
  if (all.length === 1) return all[0];
  if (all.length === 0) throw new ModelNotFoundError(`No ONNX model in ${folder}: expected model.onnx or onnx/model*.onnx.`);
  const dtypes = await localDtypes(folder);
  const choose = dtypes.length ? `choose a dtype (${dtypes.join(', ')}) or give the file to use as the model path` : 'give the one to use as the model path';
  throw new ModelNotFoundError(`${folder} holds several ONNX files (${all.join(', ')}); ${choose}.`);
}

async function listOnnx(folder: string): Promise<string[]> {
  try {
    return (await readdir(folder)).filter((f) => f.endsWith('.onnx')).sort();
  } catch {
    return [];
  }
}

export class ModelConfigError extends Error {}

/**
 * A config file, or undefined where there is none. One that is there but unreadable or not a JSON
 * object is an error: ignoring it would silently drop the architecture and the layer-count check.
 */
async function readJson(file: string): Promise<{ json: Record<string, unknown>; sha256: string } | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ModelConfigError(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'EACCES' ? 'permission denied' : (err as Error).message}.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelConfigError(`${file} is not valid JSON (${(err as Error).message}); fix it, or remove it to go without the model's settings.`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new ModelConfigError(`${file} is not a JSON object of model settings; fix it, or remove it.`);
  return { json: json as Record<string, unknown>, sha256: sha256Text(text) };
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export async function readModelConfig(folder: string): Promise<ModelConfig | undefined> {
  const hf = await readJson(path.join(folder, 'config.json'));
  const genai = await readJson(path.join(folder, 'genai_config.json'));
  if (!hf && !genai) return undefined;
  // config.json first; genai_config.json fills what it leaves out (onnxruntime-genai builds carry both).
  return { ...definedFields(genai ? fromGenaiConfig(genai.json) : {}), ...definedFields(hf ? fromHfConfig(hf.json) : {}), sha256: (hf ?? genai)!.sha256 };
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
