/** Multi-head attention from primitive ops, as torch.onnx exports eager attention. */
import { attr, type Scope } from '../onnx/graphBuilder';
import { elemTypeCode } from '../onnx/tensors';
import type { FloatType } from '../weights';

/** [batch, seq, heads * headDim] -> [batch, heads, seq, headDim]. */
export function splitHeads(s: Scope, x: string, heads: number, headDim: number): string {
  const r = s.op('Reshape', [x, s.g.constI64([0, 0, heads, headDim])]);
  return s.op('Transpose', [r], { attrs: [attr.ints('perm', [0, 2, 1, 3])] });
}

export interface KvCache {
  /** Past tensors [batch, heads, past_seq, headDim]; fed with past_seq = 0 for a plain forward pass. */
  past?: { key: string; value: string };
  /** Names for the concatenated key/value (graph outputs `present.N.key` / `.value`). */
  presentNames?: { key: string; value: string };
}

export interface ScaledDotProductSpec extends KvCache {
  q: string;
  k: string;
  v: string;
  heads: number;
  headDim: number;
  maskBias: string;
  dtype: FloatType;
}

export interface AttentionResult {
  /** [batch, seq, hidden], before the output projection. */
  context: string;
  presentKey: string;
  presentValue: string;
}

/** softmax(q k^T / sqrt(d) + mask) v, with the KV cache concatenated on the sequence axis. */
export function scaledDotProduct(s: Scope, spec: ScaledDotProductSpec): AttentionResult {
  let key = spec.k;
  let value = spec.v;
  if (spec.past) {
    const names = spec.presentNames;
    key = s.op('Concat', [spec.past.key, key], { attrs: [attr.int('axis', -2)], ...(names ? { outputs: [names.key] } : {}) });
    value = s.op('Concat', [spec.past.value, value], { attrs: [attr.int('axis', -2)], ...(names ? { outputs: [names.value] } : {}) });
  }
  const keyT = s.op('Transpose', [key], { attrs: [attr.ints('perm', [0, 1, 3, 2])] });
  const scores = s.op('MatMul', [spec.q, keyT]);
  const scaled = s.op('Mul', [scores, s.g.constFloat(1 / Math.sqrt(spec.headDim), spec.dtype)]);
  const masked = s.op('Add', [scaled, spec.maskBias]);
  let probs: string;
  if (spec.dtype === 'float16') {
    // HF computes the softmax in float32 for half models: softmax(w, dtype=float32).to(fp16).
    const f = s.op('Cast', [masked], { attrs: [attr.int('to', elemTypeCode('float32'))] });
    const p = s.op('Softmax', [f], { attrs: [attr.int('axis', -1)] });
    probs = s.op('Cast', [p], { attrs: [attr.int('to', elemTypeCode('float16'))] });
  } else {
    probs = s.op('Softmax', [masked], { attrs: [attr.int('axis', -1)] });
  }
  const ctx = s.op('MatMul', [probs, value]);
  const merged = s.op('Transpose', [ctx], { attrs: [attr.ints('perm', [0, 2, 1, 3])] });
  const context = s.op('Reshape', [merged, s.g.constI64([0, 0, spec.heads * spec.headDim])]);
  return { context, presentKey: key, presentValue: value };
}
