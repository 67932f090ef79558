/** Feeds for a generated model from token id rows: right padding, attention mask, empty KV cache. */
import * as ort from 'onnxruntime-node';
import type { GeneratedModel, ModelInputSpec } from './types';

export interface FeedOptions {
  /** merged-if only: which branch to run (transformers.js feeds false on the first step). */
  useCacheBranch?: boolean;
}

export function makeFeeds(model: GeneratedModel, rows: readonly (readonly number[])[], opts: FeedOptions = {}): Record<string, ort.Tensor> {
  const batch = rows.length;
  const seq = Math.max(...rows.map((r) => r.length));
  const ids = new BigInt64Array(batch * seq).fill(BigInt(model.padTokenId));
  const mask = new BigInt64Array(batch * seq);
  const positions = new BigInt64Array(batch * seq);
  rows.forEach((row, b) => {
    for (let t = 0; t < seq; t++) {
      if (t < row.length) {
        ids[b * seq + t] = BigInt(row[t]);
        mask[b * seq + t] = 1n;
      }
      positions[b * seq + t] = BigInt(t);
    }
  });
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of model.inputs) feeds[input.name] = feedFor(input, model, { ids, mask, positions, batch, seq }, opts);
  return feeds;
}

interface Prepared {
  ids: BigInt64Array;
  mask: BigInt64Array;
  positions: BigInt64Array;
  batch: number;
  seq: number;
}

function feedFor(input: ModelInputSpec, model: GeneratedModel, p: Prepared, opts: FeedOptions): ort.Tensor {
  switch (input.role) {
    case 'input_ids':
      return new ort.Tensor('int64', p.ids, [p.batch, p.seq]);
    case 'attention_mask':
      return new ort.Tensor('int64', p.mask, [p.batch, p.seq]);
    case 'position_ids':
      return new ort.Tensor('int64', p.positions, [p.batch, p.seq]);
    case 'token_type_ids':
      return new ort.Tensor('int64', new BigInt64Array(p.batch * p.seq), [p.batch, p.seq]);
    case 'use_cache_branch':
      return new ort.Tensor('bool', Uint8Array.from([opts.useCacheBranch ? 1 : 0]), [1]);
    case 'past_key':
    case 'past_value': {
      // An empty past (past_sequence_length = 0) makes the cache Concat a no-op: a plain forward pass.
      const dims = [p.batch, model.heads, 0, model.headDim];
      return input.type === 'float16' ? new ort.Tensor('float16', new Uint16Array(0), dims) : new ort.Tensor('float32', new Float32Array(0), dims);
    }
  }
}
