/** Filling in and checking generator options. */
import { DEFAULT_OPTIONS, type GenOptions, type ModelStyle } from './types';

const FP16_STYLES: readonly ModelStyle[] = ['optimum-llama', 'optimum-llama-opset18', 'merged-if'];

/** Style defaults over DEFAULT_OPTIONS: GroupQueryAttention wants head sizes that are multiples of 16. */
const STYLE_DEFAULTS: Partial<Record<ModelStyle, Partial<GenOptions>>> = {
  'genai-gqa': { hidden: 64, heads: 4 },
};

export class ModelGenError extends Error {}

export function resolveOptions(style: ModelStyle, opts: Partial<GenOptions> = {}): GenOptions {
  const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as Partial<GenOptions>;
  const base = { ...DEFAULT_OPTIONS, ...STYLE_DEFAULTS[style] };
  const o: GenOptions = { ...base, intermediate: 2 * (defined.hidden ?? base.hidden), ...defined };
  for (const key of ['vocabSize', 'hidden', 'layers', 'heads', 'intermediate', 'maxPositions'] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 1) throw new ModelGenError(`${key} must be a positive integer (got ${o[key]}).`);
  }
  if (!Number.isInteger(o.seed)) throw new ModelGenError(`seed must be an integer (got ${o.seed}).`);
  if (o.hidden % o.heads !== 0) throw new ModelGenError(`hidden (${o.hidden}) must be a multiple of heads (${o.heads}).`);
  // Rotary embedding rotates channel pairs; NeoX's partial rotary uses a quarter of the head.
  if ((o.hidden / o.heads) % 8 !== 0) throw new ModelGenError(`The head size hidden/heads (${o.hidden / o.heads}) must be a multiple of 8.`);
  if (style === 'genai-gqa') {
    // onnxruntime's CPU GroupQueryAttention rejects other head sizes; KV heads are heads / 2.
    if ((o.hidden / o.heads) % 16 !== 0) throw new ModelGenError(`genai-gqa needs a head size hidden/heads that is a multiple of 16 (got ${o.hidden / o.heads}).`);
    if (o.heads % 2 !== 0) throw new ModelGenError(`genai-gqa needs an even head count: it has heads / 2 key/value heads (got ${o.heads}).`);
  }
  if (o.vocabSize < 258) throw new ModelGenError(`vocabSize must be at least 258: 256 byte tokens and 2 special tokens (got ${o.vocabSize}).`);
  if (o.fp16 && !FP16_STYLES.includes(style)) {
    throw new ModelGenError(`fp16 applies to ${FP16_STYLES.join(', ')}; ${style} has a fixed precision.`);
  }
  return o;
}
