/** Norms as torch.onnx decomposes them (RMSNorm, LayerNorm) and the single-op forms fused exporters use. */
import { attr, type Scope } from '../onnx/graphBuilder';
import { elemTypeCode } from '../onnx/tensors';

/** ReduceMean over the hidden axis: axes are an attribute before opset 18 and an input from 18 on. */
export function reduceMean(s: Scope, x: string, opset: number, output?: string): string {
  const outputs = output ? { outputs: [output] } : {};
  if (opset >= 18) return s.op('ReduceMean', [x, s.g.constI64([-1])], { attrs: [attr.int('keepdims', 1)], ...outputs });
  return s.op('ReduceMean', [x], { attrs: [attr.ints('axes', [-1]), attr.int('keepdims', 1)], ...outputs });
}

export interface RmsNormSpec {
  weight: string;
  eps: number;
  opset: number;
  /** fp16 models: LlamaRMSNorm computes in float32 and casts back before the weight Mul. */
  half: boolean;
}

/** LlamaRMSNorm: weight * (x * rsqrt(mean(x^2) + eps)); its epsilon Add is not a residual add. */
export function rmsNormDecomposed(s: Scope, x: string, spec: RmsNormSpec): string {
  const h = spec.half ? s.op('Cast', [x], { attrs: [attr.int('to', elemTypeCode('float32'))] }) : x;
  const sq = s.op('Pow', [h, s.g.constFloat(2, 'float32')]);
  const variance = reduceMean(s, sq, spec.opset);
  const shifted = s.op('Add', [variance, s.g.constFloat(spec.eps, 'float32')]);
  const root = s.op('Sqrt', [shifted]);
  const inv = s.op('Div', [s.g.constFloat(1, 'float32'), root]);
  let normed = s.op('Mul', [h, inv]);
  if (spec.half) normed = s.op('Cast', [normed], { attrs: [attr.int('to', elemTypeCode('float16'))] });
  return s.op('Mul', [spec.weight, normed]);
}

export interface LayerNormSpec {
  gamma: string;
  beta: string;
  eps: number;
  opset: number;
  /** Name for the result tensor (BERT's last one is the graph output `last_hidden_state`). */
  output?: string;
}

/** torch.nn.LayerNorm exported below opset 17: ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add. */
export function layerNormDecomposed(s: Scope, x: string, spec: LayerNormSpec): string {
  const mean = reduceMean(s, x, spec.opset);
  const centered = s.op('Sub', [x, mean]);
  const sq = s.op('Pow', [centered, s.g.constFloat(2, 'float32')]);
  const variance = reduceMean(s, sq, spec.opset);
  const shifted = s.op('Add', [variance, s.g.constFloat(spec.eps, 'float32')]);
  const root = s.op('Sqrt', [shifted]);
  const normed = s.op('Div', [centered, root]);
  const scaled = s.op('Mul', [normed, spec.gamma]);
  return s.op('Add', [scaled, spec.beta], spec.output ? { outputs: [spec.output] } : {});
}

/** LayerNormalization as one op (torch.onnx at opset >= 17, or onnxruntime's fusion). */
export function layerNormOp(s: Scope, x: string, gamma: string, beta: string, eps: number, name = 'LayerNormalization'): string {
  return s.op('LayerNormalization', [x, gamma, beta], { name, attrs: [attr.int('axis', -1), attr.float('epsilon', eps)] });
}
