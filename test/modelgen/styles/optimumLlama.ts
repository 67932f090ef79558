/** optimum-llama, optimum-llama-opset18 and quantized: a torch/Optimum Llama export in the transformers.js layout. */
import { GraphBuilder, torchOutputs } from '../onnx/graphBuilder';
import type { OpsetSpec } from '../onnx/modelWriter';
import type { WeightRandom } from '../random';
import type { GenOptions, StyleBuild } from '../types';
import { Weights } from '../weights';
import { addDecoderInputs, addDecoderOutputs, presentNames } from './decoderIo';
import { buildLlamaDecoder, llamaConfig } from './llamaDecoder';

export interface OptimumLlamaVariant {
  opset: 14 | 18;
  quantized: boolean;
  /** All linear layers dynamically quantized to 8 bits, as in transformers.js's model_quantized.onnx. */
  dynamic8?: boolean;
}

/** transformers.js names files by dtype: model.onnx, model_fp16.onnx, model_q4.onnx, model_quantized.onnx. */
function fileName(fp16: boolean, quantized: boolean, dynamic8: boolean): string {
  if (dynamic8) return 'onnx/model_quantized.onnx';
  if (quantized) return 'onnx/model_q4.onnx';
  return fp16 ? 'onnx/model_fp16.onnx' : 'onnx/model.onnx';
}

export function buildOptimumLlama(o: GenOptions, rng: WeightRandom, variant: OptimumLlamaVariant): StyleBuild {
  // Quantized files keep float32 activations around the quantized weights, as transformers.js q4/q8 do.
  const quantized = variant.quantized || !!variant.dynamic8;
  const dtype = o.fp16 && !quantized ? 'float16' : 'float32';
  const g = new GraphBuilder(torchOutputs);
  const w = new Weights(g, rng, dtype);
  const io = addDecoderInputs(g, o, { positionIds: true, past: true, dtype });
  const result = buildLlamaDecoder(g, w, o, { opset: variant.opset, dtype, quantized, dynamic8: variant.dynamic8 }, {
    inputIds: io.inputIds,
    attentionMask: io.attentionMask,
    positionIds: io.positionIds ?? 'position_ids',
    past: io.past,
    namePresents: presentNames,
    logitsName: 'logits',
  });
  const outputs = addDecoderOutputs(g, o, dtype);
  const opsets: OpsetSpec[] = [{ domain: '', version: variant.opset }];
  if (variant.quantized) opsets.push({ domain: 'com.microsoft', version: 1 });
  return {
    graph: g.toGraphProto('main_graph'),
    opsets,
    onnxFile: fileName(dtype === 'float16', variant.quantized, !!variant.dynamic8),
    dtype,
    quantized,
    inputs: io.specs,
    outputs,
    mainOutput: result.logits,
    expected: result.expected,
    config: llamaConfig(o, dtype),
    producer: { name: 'pytorch', version: '2.5.1' },
  };
}
