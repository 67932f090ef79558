/**
 * Models offered by Choose Model, with the download size of the weights they use, and the words
 * that tell a user what using a Hub model costs before it is downloaded. No `vscode` import.
 */
import { DTYPES, type Dtype, type ModelSpec } from '../core/api';

export interface CatalogModel {
  id: string;
  dtype: Dtype;
  detail: string;
  /**
   * Rough size of the download (the ONNX weights of `dtype`; tokenizer and config are small), shown
   * as "about": the revision downloaded decides the exact figure.
   */
  approxBytes: number;
}

const MB = 1_000_000;

/** Small ONNX models that run comfortably on a laptop CPU. The first is the default. */
export const RECOMMENDED_MODELS: readonly CatalogModel[] = [
  { id: 'onnx-community/Qwen2.5-Coder-0.5B-Instruct', dtype: 'q8', detail: '24 layers, knows code (default)', approxBytes: 500 * MB },
  { id: 'onnx-community/Qwen2.5-0.5B-Instruct', dtype: 'q8', detail: '24 layers, general text', approxBytes: 500 * MB },
  { id: 'HuggingFaceTB/SmolLM2-135M-Instruct', dtype: 'q8', detail: '30 layers, very small', approxBytes: 140 * MB },
  { id: 'onnx-community/Llama-3.2-1B-Instruct', dtype: 'q4', detail: '16 layers, larger', approxBytes: 1_000 * MB },
];

export function catalogEntry(id: string, dtype: Dtype): CatalogModel | undefined {
  return RECOMMENDED_MODELS.find((m) => m.id === id && m.dtype === dtype);
}

export function formatBytes(bytes: number): string {
  return bytes >= 1_000 * MB ? `${(bytes / (1_000 * MB)).toFixed(1).replace(/\.0$/, '')} GB` : `${Math.round(bytes / MB)} MB`;
}

/** "about 500 MB" for a model whose size is known, else undefined. */
export function describeSize(id: string, dtype: Dtype): string | undefined {
  const entry = catalogEntry(id, dtype);
  return entry ? `about ${formatBytes(entry.approxBytes)}` : undefined;
}

/**
 * What the views say about a model not loaded yet: a Hub model is downloaded once (how large, and
 * where it is kept) and then used offline; a local folder needs nothing.
 */
export function describeIdleModel(spec: ModelSpec, cacheDir: string | undefined): string | undefined {
  if (spec.kind !== 'hub') return undefined;
  const size = describeSize(spec.id, spec.dtype);
  const where = cacheDir || '~/.cache/layer-profiler/hub';
  return `Downloaded once from the Hugging Face Hub on the first run${size ? ` (${size})` : ''}, then kept in ${where} and used offline. To profile without downloading, choose a local model folder.`;
}

export const isDtype = (v: string): v is Dtype => (DTYPES as readonly string[]).includes(v);
