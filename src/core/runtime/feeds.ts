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

export function planFeeds(metadata: readonly ort.InferenceSession.ValueMetadata[]): FeedPlan {
  const inputs: PlannedInput[] = [];
  const unknown: string[] = [];
  for (const m of metadata) {
    if (!m.isTensor) {
      unknown.push(m.name);
      continue;
    }
    const role = ROLE_PATTERNS.find(([, re]) => re.test(m.name))?.[0];
    if (!role) unknown.push(m.name);
    else inputs.push({ name: m.name, role, type: m.type, shape: m.shape });
  }
  const ids = inputs.find((i) => i.role === 'input_ids');
  if (!ids) unknown.unshift('(no input_ids)');
  if (unknown.length) {
    throw new UnsupportedInputsError(`The model has inputs the profiler does not know how to fill: ${unknown.join(', ')}. Supported: input_ids, attention_mask, position_ids, token_type_ids, past key/values, use_cache_branch, num_logits_to_keep.`);
  }
  const seqDim = ids!.shape[1];
  return { inputs, fixedSequenceLength: typeof seqDim === 'number' && seqDim > 0 ? seqDim : undefined };
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
  const idsShape = plan.inputs.find((i) => i.role === 'input_ids')!.shape;
  const batchSymbol = typeof idsShape[0] === 'string' ? idsShape[0] : undefined;
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
      case 'past': {
        const dims = input.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : d === batchSymbol || /batch/i.test(String(d)) ? B : 0));
        feeds[input.name] = new ort.Tensor(input.type, emptyData(input.type), dims);
        break;
      }
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
 * Inputs for one step of token-by-token decoding: a single token at `position`, the cache the
 * previous step returned (empty at the start), a mask over everything seen so far.
 */
export function buildStepFeeds(plan: FeedPlan, step: { id: number; position: number; past?: Record<string, ort.Tensor> }): Record<string, ort.Tensor> {
  const feeds = buildFeeds(plan, { ids: [[step.id]], length: 1, padId: 0 });
  for (const input of plan.inputs) {
    if (input.role === 'attention_mask') feeds[input.name] = intTensor(input.type, 1, step.position + 1, () => 1);
    if (input.role === 'position_ids') feeds[input.name] = intTensor(input.type, 1, 1, () => step.position);
    if (input.role === 'past' && step.past?.[input.name]) feeds[input.name] = step.past[input.name];
  }
  return feeds;
}

/** For each cache input, the output that returns its next value (past_key_values.N.key -> present.N.key, past_N -> present_N). */
export function presentOutputs(plan: FeedPlan, outputNames: readonly string[]): Map<string, string> | undefined {
  const pairs = new Map<string, string>();
  const outputs = new Set(outputNames);
  for (const input of plan.inputs.filter((i) => i.role === 'past')) {
    const candidates = [input.name.replace('past_key_values', 'present'), input.name.replace(/^past/, 'present'), input.name.replace('past', 'present')];
    const found = candidates.find((c) => outputs.has(c));
    if (!found) return undefined;
    pairs.set(input.name, found);
  }
  return pairs.size ? pairs : undefined;
}
