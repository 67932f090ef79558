/**
 * merged-if: Optimum's decoder_model_merged.onnx. One top-level If on `use_cache_branch` holds
 * the decoder twice: the then-branch concatenates the past KV inputs, the else-branch ignores
 * them. Both branches read the same top-level initializers. The expected spine names are those
 * of the else branch (the one transformers.js runs first); the residual Adds have the same names
 * in both.
 */
import { attr, GraphBuilder, torchOutputs } from '../onnx/graphBuilder';
import type { WeightRandom } from '../random';
import type { GenOptions, StyleBuild } from '../types';
import { Weights } from '../weights';
import { addDecoderInputs, addDecoderOutputs } from './decoderIo';
import { buildLlamaDecoder, llamaConfig, type LlamaResult } from './llamaDecoder';

const OPSET = 14;

export function buildMergedIf(o: GenOptions, rng: WeightRandom): StyleBuild {
  const dtype = o.fp16 ? 'float16' : 'float32';
  const headDim = o.hidden / o.heads;
  const g = new GraphBuilder(torchOutputs);
  const w = new Weights(g, rng, dtype);
  const io = addDecoderInputs(g, o, { positionIds: true, past: true, dtype });
  const useCache = g.input('use_cache_branch', 'bool', [1]);
  io.specs.push({ name: useCache, role: 'use_cache_branch', type: 'bool', dims: [1] });

  const branch = (withPast: boolean): { graph: GraphBuilder; result: LlamaResult } => {
    const b = new GraphBuilder(torchOutputs, g);
    const result = buildLlamaDecoder(b, w, o, { opset: OPSET, dtype, quantized: false }, {
      inputIds: io.inputIds,
      attentionMask: io.attentionMask,
      positionIds: io.positionIds ?? 'position_ids',
      past: withPast ? io.past : undefined,
    });
    // Branch outputs are matched to the If's outputs by position; their names stay branch-local.
    b.output(result.logits, dtype, ['batch_size', 'sequence_length', o.vocabSize]);
    for (const kv of result.presents) {
      const dims = ['batch_size', o.heads, 'total_sequence_length', headDim];
      b.output(kv.key, dtype, dims);
      b.output(kv.value, dtype, dims);
    }
    return { graph: b, result };
  };
  const withPast = branch(true);
  const withoutPast = branch(false);

  const outputs = addDecoderOutputs(g, o, dtype);
  g.node('If', 'optimum::if', [useCache], {
    outputs,
    attrs: [attr.graph('then_branch', withPast.graph.toGraphProto('then_branch')), attr.graph('else_branch', withoutPast.graph.toGraphProto('else_branch'))],
  });
  return {
    graph: g.toGraphProto('merged_graph'),
    opsets: [{ domain: '', version: OPSET }],
    onnxFile: 'onnx/model.onnx',
    dtype,
    quantized: false,
    inputs: io.specs,
    outputs,
    mainOutput: 'logits',
    expected: withoutPast.result.expected,
    config: llamaConfig(o, dtype),
    producer: { name: 'optimum', version: '1.23.3' },
  };
}
