/**
 * Additive attention-mask biases, built from the attention_mask input at run time so padding works
 * for any batch. Masked entries use the dtype's most negative finite value (as transformers does)
 * rather than -inf, so rows that are entirely masked (padding queries) stay finite.
 */
import { attr, type Scope } from '../onnx/graphBuilder';
import { elemTypeCode } from '../onnx/tensors';
import type { FloatType } from '../weights';

export function minValue(dtype: FloatType): number {
  return dtype === 'float16' ? -65504 : -3.4028234663852886e38;
}

function dim(s: Scope, x: string, axis: number): string {
  const shape = s.op('Shape', [x]);
  return s.op('Gather', [shape, s.g.constI64([axis], true)], { attrs: [attr.int('axis', 0)] });
}

/** [batch, 1, seq, past + seq]: query i (at absolute position past + i) sees keys <= it that are not padding. */
export function causalMaskBias(s: Scope, inputIds: string, attentionMask: string, dtype: FloatType): string {
  const seq = dim(s, inputIds, 1);
  const total = dim(s, attentionMask, 1);
  const past = s.op('Sub', [total, seq]);
  const one = s.g.constI64([1], true);
  const queryPos = s.op('Range', [past, total, one]);
  const keyPos = s.op('Range', [s.g.constI64([0], true), total, one]);
  const queryCol = s.op('Unsqueeze', [queryPos, s.g.constI64([1])]);
  const keyRow = s.op('Unsqueeze', [keyPos, s.g.constI64([0])]);
  const causal = s.op('LessOrEqual', [keyRow, queryCol]);
  const notPadding = s.op('Cast', [attentionMask], { attrs: [attr.int('to', elemTypeCode('bool'))] });
  const notPadding4d = s.op('Unsqueeze', [notPadding, s.g.constI64([1, 2])]);
  const allowed = s.op('And', [causal, notPadding4d]);
  return s.op('Where', [allowed, s.g.constFloat(0, dtype), s.g.constFloat(minValue(dtype), dtype)]);
}

/** BERT's extended mask, [batch, 1, 1, seq]: (1 - mask) * min. */
export function paddingMaskBias(s: Scope, attentionMask: string, dtype: FloatType): string {
  const m = s.op('Unsqueeze', [attentionMask, s.g.constI64([1])]);
  const m4 = s.op('Unsqueeze', [m, s.g.constI64([2])]);
  const f = s.op('Cast', [m4], { attrs: [attr.int('to', elemTypeCode(dtype))] });
  const inverted = s.op('Sub', [s.g.constFloat(1, dtype), f]);
  return s.op('Mul', [inverted, s.g.constFloat(minValue(dtype), dtype)]);
}
