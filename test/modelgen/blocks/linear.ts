/** A linear layer as exporters write it: MatMul on a transposed weight (float, 8-bit QDQ or 4-bit), optional bias Add. */
import { attr, type Scope } from '../onnx/graphBuilder';
import { floatTensor, rawTensor } from '../onnx/tensors';
import type { Weights } from '../weights';
import { quantize4, quantize8 } from './quantize';

/**
 * How a weight is stored: `q8u` per-tensor uint8 with zero point, `q8s` per-output-channel int8
 * (both DequantizeLinear -> MatMul), `q4` com.microsoft MatMulNBits with 4-bit blocks, `q8d`
 * onnxruntime's dynamic quantization as in transformers.js's default `model_quantized.onnx`
 * (DynamicQuantizeLinear on the activation, MatMulInteger, Cast, rescale by the two scales).
 */
export type Quant = 'none' | 'q8u' | 'q8s' | 'q4' | 'q8d';

export interface LinearSpec {
  /** Hugging Face parameter name; seeds the values. */
  param: string;
  inDim: number;
  outDim: number;
  std: number;
  /** Graph name of the weight; Optimum's anonymous `onnx::MatMul_<n>` when absent. */
  weightName?: string;
  bias?: { param: string; std: number };
  quant?: Quant;
  /** Explicit name of the result tensor (e.g. `logits`). */
  output?: string;
}

export const Q4_BLOCK_SIZE = 32;

export function linear(s: Scope, w: Weights, x: string, spec: LinearSpec): string {
  const quant = spec.quant ?? 'none';
  const weightName = spec.weightName ?? w.optimumMatMulName(spec.param);
  const dims = [spec.inDim, spec.outDim];
  const outputs = (nodeName: string) => (spec.output && !spec.bias ? [spec.output] : [s.g.naming(nodeName, 0)]);
  let y: string;
  if (quant === 'none') {
    const weight = w.normal(spec.param, dims, spec.std, { name: weightName });
    y = s.op('MatMul', [x, weight], { outputs: outputs(s.g.peekNodeName(`${s.prefix}/MatMul`)) });
  } else if (quant === 'q4') {
    // onnxruntime's MatMul4BitsQuantizer renames the node `<MatMul>_Q4` but keeps its output name.
    const matmulName = s.g.peekNodeName(`${s.prefix}/MatMul`);
    const q = quantize4(w.values(spec.param, spec.inDim * spec.outDim, spec.std), spec.inDim, spec.outDim, Q4_BLOCK_SIZE);
    const b = s.g.initializer(rawTensor(`${weightName}_Q4`, 'uint8', [spec.outDim, q.blocks, Q4_BLOCK_SIZE / 2], q.packed));
    const scales = s.g.initializer(rawTensor(`${weightName}_scales`, 'float32', [spec.outDim * q.blocks], q.scales));
    const zps = s.g.initializer(rawTensor(`${weightName}_zero_points`, 'uint8', [q.zeroPoints.length], q.zeroPoints));
    y = s.op('MatMulNBits', [x, b, scales, zps], {
      name: 'MatMul_Q4',
      domain: 'com.microsoft',
      outputs: outputs(matmulName),
      attrs: [attr.int('K', spec.inDim), attr.int('N', spec.outDim), attr.int('bits', 4), attr.int('block_size', Q4_BLOCK_SIZE)],
    });
  } else if (quant === 'q8d') {
    const q = quantize8(w.values(spec.param, spec.inDim * spec.outDim, spec.std), spec.inDim, spec.outDim, false, false);
    const qw = s.g.initializer(rawTensor(`${weightName}_quantized`, 'uint8', dims, q.data));
    const wScale = s.g.initializer(floatTensor(`${weightName}_scale`, q.scale, [], 'float32'));
    const wZp = s.g.initializer(rawTensor(`${weightName}_zero_point`, 'uint8', [], q.zeroPoint));
    const base = s.g.peekNodeName(`${s.prefix}/MatMul`);
    const [xq, xScale, xZp] = [`${base}_quant_x`, `${base}_quant_x_scale`, `${base}_quant_x_zero_point`];
    s.g.op('DynamicQuantizeLinear', `${base}_QuantizeLinear`, [x], { outputs: [xq, xScale, xZp] });
    const product = s.g.op('MatMulInteger', `${base}_quant`, [xq, qw, xZp, wZp], { outputs: [`${base}_output_quantized`] });
    const asFloat = s.g.op('Cast', `${base}_output_quantized_cast`, [product], { outputs: [`${base}_output_quantized_cast_output`], attrs: [attr.int('to', 1)] });
    const scale = s.g.op('Mul', `${base}_scales_mul`, [xScale, wScale], { outputs: [`${base}_scales_mul_output`] });
    y = s.g.op('Mul', `${base}_output_scale_mul`, [asFloat, scale], { outputs: outputs(base) });
  } else {
    const signed = quant === 'q8s';
    const q = quantize8(w.values(spec.param, spec.inDim * spec.outDim, spec.std), spec.inDim, spec.outDim, signed, signed);
    const type = signed ? 'int8' : 'uint8';
    const qw = s.g.initializer(rawTensor(`${weightName}_quantized`, type, dims, q.data));
    const scaleDims = signed ? [spec.outDim] : [];
    const scale = s.g.initializer(floatTensor(`${weightName}_scale`, q.scale, scaleDims, 'float32'));
    const zp = s.g.initializer(rawTensor(`${weightName}_zero_point`, type, scaleDims, q.zeroPoint));
    const deq = s.g.op('DequantizeLinear', `${weightName}_DequantizeLinear`, [qw, scale, zp], {
      outputs: [`${weightName}_DequantizeLinear_Output`],
      attrs: signed ? [attr.int('axis', 1)] : [],
    });
    y = s.op('MatMul', [x, deq], { outputs: outputs(s.g.peekNodeName(`${s.prefix}/MatMul`)) });
  }
  if (!spec.bias) return y;
  const bias = w.normal(spec.bias.param, [spec.outDim], spec.bias.std);
  return s.op('Add', [bias, y], spec.output ? { outputs: [spec.output] } : {});
}
