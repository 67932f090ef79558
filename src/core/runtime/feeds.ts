/**
 * Model inputs derived from the session's own input metadata, so any export's input set works:
 * token ids, masks, positions, token types, empty KV caches, merged-decoder branch flags.
 */
import * as ort from 'onnxruntime-node';

type Role = 'input_ids' | 'attention_mask' | 'position_ids' | 'token_type_ids' | 'past' | 'use_cache_branch' | 'logits_to_keep';

interface PlannedInput {
  name: string;
  role: Role;
  type: ort.Tensor.Type;
  shape: readonly (number | string)[];
}

export interface FeedPlan {
  inputs: PlannedInput[];
  /** Sequence length fixed by the graph (some exports bake it in); windows are padded to it. */
  fixedSequenceLength?: number;
  /** Sizes of the KV cache's symbolic dimensions (heads, head size), from the model's config. */
  cache: CacheDims;
}

/** What the config says about the KV cache, for inputs whose heads or head size are symbols. */
export interface CacheDims {
  kvHeads?: number;
  headDim?: number;
}

export class UnsupportedInputsError extends Error {}

const ROLE_PATTERNS: [Role, RegExp][] = [
  ['use_cache_branch', /use_cache_branch/i],
  ['logits_to_keep', /logits_to_keep/i],
  ['past', /past|cache/i],
  ['token_type_ids', /token_type|segment/i],
  ['position_ids', /position/i],
  ['attention_mask', /mask/i],
  ['input_ids', /input_ids|^input(:0)?$|^ids$|tokens?$/i],
];

/** What the profiler feeds an input of this name, if it knows. */
export function inputRole(name: string): Role | undefined {
  return ROLE_PATTERNS.find(([, re]) => re.test(name))?.[0];
}

export function planFeeds(metadata: readonly ort.InferenceSession.ValueMetadata[], cache: CacheDims = {}): FeedPlan {
  const inputs: PlannedInput[] = [];
  const unknown: string[] = [];
  for (const m of metadata) {
    if (!m.isTensor) {
      unknown.push(m.name);
      continue;
    }
    const role = inputRole(m.name);
    if (!role) unknown.push(m.name);
    else inputs.push({ name: m.name, role, type: m.type, shape: m.shape });
  }
  const ids = inputs.find((i) => i.role === 'input_ids');
  if (!ids) unknown.unshift('(no input_ids)');
  if (unknown.length) {
    throw new UnsupportedInputsError(`The model has inputs the profiler does not know how to fill: ${unknown.join(', ')}. Supported: input_ids, attention_mask, position_ids, token_type_ids, past key/values, use_cache_branch, num_logits_to_keep.`);
  }
  const seqDim = ids!.shape[1];
  const plan = { inputs, fixedSequenceLength: typeof seqDim === 'number' && seqDim > 0 ? seqDim : undefined, cache };
  // Shape an empty cache now, so a model whose cache cannot be shaped fails before any text is read.
  for (const input of inputs) if (input.role === 'past') emptyPastDims(input, 1, batchSymbolOf(plan), cache);
  return plan;
}

function batchSymbolOf(plan: Pick<FeedPlan, 'inputs'>): string | undefined {
  const dim = plan.inputs.find((i) => i.role === 'input_ids')!.shape[0];
  return typeof dim === 'string' ? dim : undefined;
}

/**
 * Dimensions of an empty KV cache input: batch, no past positions, and the heads and head size
 * the graph expects. Exporters name the batch and past-length symbols; onnxruntime-genai builds
 * also leave the head size symbolic (`kv_cache_dim`), which must match the attention op's, so it
 * comes from the config. Unnamed symbols are placed by layout: [..., heads, past, head size].
 */
export function emptyPastDims(input: { name: string; shape: readonly (number | string)[] }, batch: number, batchSymbol: string | undefined, cache: CacheDims): number[] {
  const rank = input.shape.length;
  return input.shape.map((d, i) => {
    if (typeof d === 'number' && d >= 0) return d;
    const symbol = typeof d === 'string' ? d : '';
    if ((batchSymbol && symbol === batchSymbol) || /batch/i.test(symbol)) return batch;
    if (/seq|len|past|total/i.test(symbol) || (!symbol && i === rank - 2)) return 0;
    const size = i === rank - 1 ? cache.headDim : cache.kvHeads;
    if (size === undefined) {
      const what = i === rank - 1 ? 'head size (head_dim, or hidden_size / num_attention_heads)' : 'number of key/value heads (num_key_value_heads)';
      throw new UnsupportedInputsError(`The KV cache input ${input.name} has a symbolic dimension '${symbol || `#${i}`}' that must be the ${what}, and neither config.json nor genai_config.json states it.`);
    }
    return size;
  });
}

/** Right-padded batch: real tokens first, so causal models never let padding touch them. */
export interface Batch {
  ids: number[][];
  /** Length the batch is padded to. */
  length: number;
  padId: number;
}

export function buildFeeds(plan: FeedPlan, batch: Batch): Record<string, ort.Tensor> {
  const B = batch.ids.length;
  const T = batch.length;
  const batchSymbol = batchSymbolOf(plan);
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of plan.inputs) {
    switch (input.role) {
      case 'input_ids':
        feeds[input.name] = intTensor(input.type, B, T, (b, t) => (t < batch.ids[b].length ? batch.ids[b][t] : batch.padId));
        break;
      case 'attention_mask':
        feeds[input.name] = intTensor(input.type, B, T, (b, t) => (t < batch.ids[b].length ? 1 : 0));
        break;
      case 'position_ids':
        feeds[input.name] = intTensor(input.type, B, T, (_b, t) => t);
        break;
      case 'token_type_ids':
        feeds[input.name] = intTensor(input.type, B, T, () => 0);
        break;
      case 'past':
        feeds[input.name] = new ort.Tensor(input.type, emptyData(input.type), emptyPastDims(input, B, batchSymbol, plan.cache));
        break;
      case 'use_cache_branch':
        // false: the merged decoder's branch without a cache (the profiler always starts from scratch).
        feeds[input.name] = new ort.Tensor('bool', new Uint8Array(1), input.shape.length ? [1] : []);
        break;
      case 'logits_to_keep':
        feeds[input.name] = new ort.Tensor(input.type, input.type === 'int32' ? Int32Array.from([1]) : BigInt64Array.from([1n]), input.shape.length ? [1] : []);
        break;
    }
  }
  return feeds;
}

function intTensor(type: ort.Tensor.Type, B: number, T: number, value: (b: number, t: number) => number): ort.Tensor {
  if (type === 'int32') {
    const data = new Int32Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) data[b * T + t] = value(b, t);
    return new ort.Tensor('int32', data, [B, T]);
  }
  if (type === 'int64') {
    const data = new BigInt64Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) data[b * T + t] = BigInt(value(b, t));
    return new ort.Tensor('int64', data, [B, T]);
  }
  if (type === 'float32') {
    const data = new Float32Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) data[b * T + t] = value(b, t);
    return new ort.Tensor('float32', data, [B, T]);
  }
  throw new UnsupportedInputsError(`Token inputs of type ${type} are not supported.`);
}

function emptyData(type: ort.Tensor.Type): ort.Tensor.DataType {
  switch (type) {
    case 'float16':
      return new Uint16Array(0);
    case 'float32':
      return new Float32Array(0);
    case 'int64':
      return new BigInt64Array(0);
    case 'int32':
      return new Int32Array(0);
    default:
      return new Float32Array(0);
  }
}

/**
 * Inputs for a window that continues a text: its tokens at `position` onwards, the cache the
 * previous window returned (empty at the start), a mask over everything seen so far. `rows`
 * continue several texts at once (one per batch row, all of the window's length).
 */
export function buildContinuationFeeds(plan: FeedPlan, step: { ids: number[]; position: number; past?: Record<string, ort.Tensor>; rows?: number[][] }): Record<string, ort.Tensor> {
  const rows = step.rows ?? [step.ids];
  const T = rows[0].length;
  if (rows.some((r) => r.length !== T)) throw new Error('Rows continued together must have equal lengths.');
  const B = rows.length;
  const feeds = buildFeeds(plan, { ids: rows, length: T, padId: 0 });
  for (const input of plan.inputs) {
    if (input.role === 'attention_mask') feeds[input.name] = intTensor(input.type, B, step.position + T, () => 1);
    if (input.role === 'position_ids') feeds[input.name] = intTensor(input.type, B, T, (_b, t) => step.position + t);
    if (input.role === 'past' && step.past?.[input.name]) feeds[input.name] = step.past[input.name];
  }
  return feeds;
}

/** For each cache input, the output that returns its next value (past_key_values.N.key -> present.N.key, past_N -> present_N). */
export function presentOutputs(plan: FeedPlan, outputNames: readonly string[]): Map<string, string> | undefined {
  return pairCacheOutputs(plan.inputs.filter((i) => i.role === 'past').map((i) => i.name), outputNames);
}

/** presentOutputs by names alone, before a session exists (which outputs to keep when pruning). */
export function pairCacheOutputs(inputNames: readonly string[], outputNames: readonly string[]): Map<string, string> | undefined {
  const pairs = new Map<string, string>();
  const outputs = new Set(outputNames);
  for (const name of inputNames.filter((n) => inputRole(n) === 'past')) {
    const candidates = [name.replace('past_key_values', 'present'), name.replace(/^past/, 'present'), name.replace('past', 'present')];
    const found = candidates.find((c) => outputs.has(c));
    if (!found) return undefined;
    pairs.set(name, found);
  }
  return pairs.size ? pairs : undefined;
}
