/** Graph inputs and outputs shared by the decoder styles (Optimum / genai naming). */
import type { GraphBuilder } from '../onnx/graphBuilder';
import type { GenOptions, ModelInputSpec } from '../types';
import type { FloatType } from '../weights';

export interface KvPair {
  key: string;
  value: string;
}

export interface DecoderInputs {
  specs: ModelInputSpec[];
  inputIds: string;
  attentionMask: string;
  positionIds?: string;
  tokenTypeIds?: string;
  past: KvPair[];
}

export interface DecoderInputOptions {
  positionIds: boolean;
  past: boolean;
  tokenTypeIds?: boolean;
  /** Dtype of the KV cache. */
  dtype: FloatType;
}

/** input_ids, attention_mask, position_ids, past_key_values.N.key/value, in Optimum's order. */
export function addDecoderInputs(g: GraphBuilder, o: GenOptions, opts: DecoderInputOptions): DecoderInputs {
  const specs: ModelInputSpec[] = [];
  const add = (spec: ModelInputSpec): string => {
    specs.push(spec);
    return g.input(spec.name, spec.type, spec.dims);
  };
  const inputIds = add({ name: 'input_ids', role: 'input_ids', type: 'int64', dims: ['batch_size', 'sequence_length'] });
  const attentionMask = add({
    name: 'attention_mask',
    role: 'attention_mask',
    type: 'int64',
    dims: ['batch_size', opts.past ? 'past_sequence_length + sequence_length' : 'sequence_length'],
  });
  const tokenTypeIds = opts.tokenTypeIds
    ? add({ name: 'token_type_ids', role: 'token_type_ids', type: 'int64', dims: ['batch_size', 'sequence_length'] })
    : undefined;
  const positionIds = opts.positionIds
    ? add({ name: 'position_ids', role: 'position_ids', type: 'int64', dims: ['batch_size', 'sequence_length'] })
    : undefined;
  const past: KvPair[] = [];
  if (opts.past) {
    const headDim = o.hidden / o.heads;
    for (let i = 0; i < o.layers; i++) {
      const dims = ['batch_size', o.heads, 'past_sequence_length', headDim];
      const key = add({ name: `past_key_values.${i}.key`, role: 'past_key', layer: i, type: opts.dtype, dims });
      const value = add({ name: `past_key_values.${i}.value`, role: 'past_value', layer: i, type: opts.dtype, dims });
      past.push({ key, value });
    }
  }
  return { specs, inputIds, attentionMask, positionIds, tokenTypeIds, past };
}

export function presentNames(layer: number): KvPair {
  return { key: `present.${layer}.key`, value: `present.${layer}.value` };
}

/** Declares logits and present.N.* as graph outputs; returns their names in order. */
export function addDecoderOutputs(g: GraphBuilder, o: GenOptions, dtype: FloatType, logitsType: FloatType = dtype): string[] {
  const headDim = o.hidden / o.heads;
  const names = [g.output('logits', logitsType, ['batch_size', 'sequence_length', o.vocabSize])];
  for (let i = 0; i < o.layers; i++) {
    const dims = ['batch_size', o.heads, 'total_sequence_length', headDim];
    names.push(g.output(presentNames(i).key, dtype, dims), g.output(presentNames(i).value, dtype, dims));
  }
  return names;
}
