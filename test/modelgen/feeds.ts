/** Feeds for a generated model from token id rows: right padding, attention mask, empty or carried KV cache. */
import * as ort from 'onnxruntime-node';
import type { GeneratedModel, ModelInputSpec } from './types';

export interface FeedOptions {
  /** merged-if only: which branch to run (transformers.js feeds false on the first step). */
  useCacheBranch?: boolean;
  /**
   * Continue after an earlier run (the next window of a long text): its `present.N.key/value`
   * outputs become `past_key_values.N.*`, its attention mask is prepended to this window's, and
   * position_ids continue from the cached length.
   */
  cache?: { outputs: Record<string, ort.Tensor>; attentionMask: ort.Tensor };
}

export function makeFeeds(model: GeneratedModel, rows: readonly (readonly number[])[], opts: FeedOptions = {}): Record<string, ort.Tensor> {
  const batch = rows.length;
  const seq = Math.max(...rows.map((r) => r.length));
  const pastLength = opts.cache ? opts.cache.attentionMask.dims[1] : 0;
  if (opts.cache && opts.cache.attentionMask.dims[0] !== batch) {
    throw new Error(`The cached run had batch ${opts.cache.attentionMask.dims[0]}; this one has ${batch}.`);
  }
  const ids = new BigInt64Array(batch * seq).fill(BigInt(model.padTokenId));
  const total = pastLength + seq;
  const mask = new BigInt64Array(batch * total);
  const positions = new BigInt64Array(batch * seq);
  const pastMask = opts.cache?.attentionMask.data as BigInt64Array | undefined;
  rows.forEach((row, b) => {
    if (pastMask) mask.set(pastMask.subarray(b * pastLength, (b + 1) * pastLength), b * total);
    for (let t = 0; t < seq; t++) {
      if (t < row.length) {
        ids[b * seq + t] = BigInt(row[t]);
        mask[b * total + pastLength + t] = 1n;
      }
      positions[b * seq + t] = BigInt(pastLength + t);
    }
  });
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of model.inputs) feeds[input.name] = feedFor(input, model, { ids, mask, positions, batch, seq, total }, opts);
  return feeds;
}

/** The graph output that carries a past input's value to the next window: present.N.key / present.N.value. */
export function presentNameFor(input: ModelInputSpec): string | undefined {
  if (input.layer === undefined) return undefined;
  if (input.role === 'past_key') return `present.${input.layer}.key`;
  if (input.role === 'past_value') return `present.${input.layer}.value`;
  return undefined;
}

interface Prepared {
  ids: BigInt64Array;
  mask: BigInt64Array;
  positions: BigInt64Array;
  batch: number;
  seq: number;
  /** Cached plus new tokens: the attention mask's width. */
  total: number;
}

function feedFor(input: ModelInputSpec, model: GeneratedModel, p: Prepared, opts: FeedOptions): ort.Tensor {
  switch (input.role) {
    case 'input_ids':
      return new ort.Tensor('int64', p.ids, [p.batch, p.seq]);
    case 'attention_mask':
      return new ort.Tensor('int64', p.mask, [p.batch, p.total]);
    case 'position_ids':
      return new ort.Tensor('int64', p.positions, [p.batch, p.seq]);
    case 'token_type_ids':
      return new ort.Tensor('int64', new BigInt64Array(p.batch * p.seq), [p.batch, p.seq]);
    case 'use_cache_branch':
      return new ort.Tensor('bool', Uint8Array.from([opts.useCacheBranch ? 1 : 0]), [1]);
    case 'past_key':
    case 'past_value': {
      if (opts.cache) {
        const name = presentNameFor(input);
        const carried = name ? opts.cache.outputs[name] : undefined;
        if (!carried) throw new Error(`The cached run has no ${name ?? 'present output'} for ${input.name}.`);
        return carried;
      }
      // An empty past (past_sequence_length = 0) makes the cache a no-op: a plain forward pass. The
      // declared dims may be symbolic (genai's "kv_cache_dim"), so the shape comes from the model.
      const dims = [p.batch, model.kvHeads ?? model.heads, 0, model.headDim];
      return input.type === 'float16' ? new ort.Tensor('float16', new Uint16Array(0), dims) : new ort.Tensor('float32', new Float32Array(0), dims);
    }
  }
}
