/**
 * opt-flat-mlp: an Optimum export of OPT (OPTForCausalLM), as in realexp/optimum-opt. Pre-norm
 * blocks with LayerNormalization (opset 18); learned positions (position_ids + 2 into a
 * [maxPositions + 2, hidden] table) added to the token embedding by `/decoder/Add_5` (resid_pre 0).
 * Attention reads the [batch, tokens, hidden] stream and joins it in `/decoder/layers.N/Add`
 * (resid_mid). The MLP runs on a FLATTENED view, as HF's OPTDecoderLayer does:
 *   flat = Reshape(mid, [-1, hidden]); h = fc2(Relu(fc1(final_layer_norm(flat)))) (Gemm, transB=1)
 *   sum  = `/decoder/layers.N/Add_1`(flat, h)                                  [batch*tokens, hidden]
 *   post = `/decoder/layers.N/Reshape_1`(sum, Concat(Shape(mid)[0], Shape(mid)[1], hidden))
 * so the residual join of the MLP is an Add on rank-2 tensors, and the stream only gets its
 * [batch, tokens, hidden] shape back from the Reshape after it. resid_post is that Reshape's
 * output. Inputs in Optimum's OPT order: input_ids, attention_mask, past_key_values.N.key/value,
 * position_ids last. Tied head: MatMul on the transposed embedding table.
 */
import { attr, GraphBuilder, torchOutputs } from '../onnx/graphBuilder';
import { scaledDotProduct, splitHeads } from '../blocks/attention';
import { linear } from '../blocks/linear';
import { causalMaskBias } from '../blocks/masks';
import { layerNormOp } from '../blocks/norms';
import type { WeightRandom } from '../random';
import type { ExpectedSpine, GenOptions, ModelInputSpec, StyleBuild } from '../types';
import { Weights } from '../weights';
import { addDecoderOutputs, type KvPair, presentNames } from './decoderIo';

const LN_EPS = 1e-5;
/** OPTLearnedPositionalEmbedding's offset: positions index the table from 2. */
const POSITION_OFFSET = 2;

export function buildOptFlatMlp(o: GenOptions, rng: WeightRandom): StyleBuild {
  const { hidden, heads, intermediate } = o;
  const headDim = hidden / heads;
  const g = new GraphBuilder(torchOutputs);
  const w = new Weights(g, rng, 'float32');

  const specs: ModelInputSpec[] = [];
  const add = (spec: ModelInputSpec): string => {
    specs.push(spec);
    return g.input(spec.name, spec.type, spec.dims);
  };
  const inputIds = add({ name: 'input_ids', role: 'input_ids', type: 'int64', dims: ['batch_size', 'sequence_length'] });
  const attentionMask = add({ name: 'attention_mask', role: 'attention_mask', type: 'int64', dims: ['batch_size', 'past_sequence_length + sequence_length'] });
  const past: KvPair[] = [];
  for (let i = 0; i < o.layers; i++) {
    const dims = ['batch_size', heads, 'past_sequence_length', headDim];
    past.push({
      key: add({ name: `past_key_values.${i}.key`, role: 'past_key', layer: i, type: 'float32', dims }),
      value: add({ name: `past_key_values.${i}.value`, role: 'past_value', layer: i, type: 'float32', dims }),
    });
  }
  const positionIds = add({ name: 'position_ids', role: 'position_ids', type: 'int64', dims: ['batch_size', 'sequence_length'] });

  const decoder = g.scope('/decoder');
  const embedTable = w.normal('model.decoder.embed_tokens.weight', [o.vocabSize, hidden], 1.0);
  const tokens = decoder.sub('embed_tokens').op('Gather', [embedTable, inputIds]);
  const positionsScope = decoder.sub('embed_positions');
  const shifted = positionsScope.op('Add', [positionIds, g.constI64([POSITION_OFFSET], true)]);
  const positions = positionsScope.op('Gather', [w.normal('model.decoder.embed_positions.weight', [o.maxPositions + POSITION_OFFSET, hidden], 0.5), shifted]);
  const maskBias = causalMaskBias(decoder, inputIds, attentionMask, 'float32');
  const embeds = g.op('Add', '/decoder/Add_5', [tokens, positions]);

  const norm = (scope: string, x: string, param: string): string =>
    layerNormOp(g.scope(scope), x, w.normal(`${param}.weight`, [hidden], 0.1, { mean: 1 }), w.normal(`${param}.bias`, [hidden], 0.05), LN_EPS);
  const gemm = (scope: string, param: string, x: string, inDim: number, outDim: number, std: number): string =>
    g.op('Gemm', `${scope}/Gemm`, [x, w.normal(`${param}.weight`, [outDim, inDim], std), w.normal(`${param}.bias`, [outDim], 0.02)], {
      attrs: [attr.float('alpha', 1), attr.float('beta', 1), attr.int('transB', 1)],
    });

  const expected: ExpectedSpine = { embeddingOutput: embeds, residualNames: [], midResidualNames: [], residualNodes: [], midResidualNodes: [], norm: 'pre', parallel: false };
  let x = embeds;
  for (let i = 0; i < o.layers; i++) {
    const prefix = `/decoder/layers.${i}`;
    const p = `model.decoder.layers.${i}`;
    const layer = g.scope(prefix);
    const gain = w.layerGain(i);

    // Attention on [batch, tokens, hidden].
    const h = norm(`${prefix}/self_attn_layer_norm`, x, `${p}.self_attn_layer_norm`);
    const attn = layer.sub('self_attn');
    const proj = (name: string, input: string, std: number): string =>
      linear(attn.sub(name), w, input, { param: `${p}.self_attn.${name}.weight`, inDim: hidden, outDim: hidden, std, bias: { param: `${p}.self_attn.${name}.bias`, std: 0.02 } });
    const q = splitHeads(attn, proj('q_proj', h, hidden ** -0.5), heads, headDim);
    const k = splitHeads(attn, proj('k_proj', h, hidden ** -0.5), heads, headDim);
    const v = splitHeads(attn, proj('v_proj', h, hidden ** -0.5), heads, headDim);
    const sdpa = scaledDotProduct(attn, { q, k, v, heads, headDim, maskBias, dtype: 'float32', past: past[i], presentNames: presentNames(i) });
    const attnOut = proj('out_proj', sdpa.context, gain * hidden ** -0.5);
    const midNode = g.peekNodeName(`${prefix}/Add`);
    const mid = layer.op('Add', [x, attnOut]);

    // MLP on the flattened [batch * tokens, hidden] view, residual Add included.
    const midShape = layer.op('Shape', [mid]);
    const flat = layer.op('Reshape', [mid, g.constI64([-1, hidden])], { attrs: [attr.int('allowzero', 0)] });
    const batchDim = layer.op('Gather', [midShape, g.constI64([0], true)], { attrs: [attr.int('axis', 0)] });
    const tokenDim = layer.op('Gather', [midShape, g.constI64([1], true)], { attrs: [attr.int('axis', 0)] });
    const h2 = norm(`${prefix}/final_layer_norm`, flat, `${p}.final_layer_norm`);
    const up = gemm(`${prefix}/fc1`, `${p}.fc1`, h2, hidden, intermediate, hidden ** -0.5);
    const act = layer.sub('activation_fn').op('Relu', [up]);
    const down = gemm(`${prefix}/fc2`, `${p}.fc2`, act, intermediate, hidden, gain * intermediate ** -0.5);
    const backShape = layer.op('Concat', [layer.op('Unsqueeze', [batchDim, g.constI64([0])]), layer.op('Unsqueeze', [tokenDim, g.constI64([0])]), g.constI64([hidden])], {
      attrs: [attr.int('axis', 0)],
    });
    const postNode = g.peekNodeName(`${prefix}/Add`);
    const sum = layer.op('Add', [flat, down]);
    x = layer.op('Reshape', [sum, backShape], { attrs: [attr.int('allowzero', 0)] });

    expected.midResidualNodes?.push(midNode);
    expected.midResidualNames?.push(mid);
    expected.residualNodes.push(postNode);
    // The join's own (flat) output is the stream leaving the block; the Reshape only views it as
    // [batch, tokens, hidden] again, and the profiler reshapes every point it probes anyway.
    expected.residualNames.push(sum);
  }
  const finalNorm = norm('/decoder/final_layer_norm', x, 'model.decoder.final_layer_norm');
  const tiedHead = g.op('Transpose', 'Transpose_532', [embedTable], { outputs: ['model.decoder.embed_tokens.weight_transposed'], attrs: [attr.ints('perm', [1, 0])] });
  g.op('MatMul', '/lm_head/MatMul', [finalNorm, tiedHead], { outputs: ['logits'] });
  const outputs = addDecoderOutputs(g, o, 'float32');
  return {
    graph: g.toGraphProto('main_graph'),
    opsets: [{ domain: '', version: 18 }],
    onnxFile: 'onnx/model.onnx',
    dtype: 'float32',
    quantized: false,
    inputs: specs,
    outputs,
    mainOutput: 'logits',
    expected,
    config: {
      model_type: 'opt',
      architectures: ['OPTForCausalLM'],
      ffn_dim: intermediate,
      word_embed_proj_dim: hidden,
      max_position_embeddings: o.maxPositions,
      activation_function: 'relu',
      do_layer_norm_before: true,
      enable_bias: true,
      layer_norm_elementwise_affine: true,
      tie_word_embeddings: true,
      torch_dtype: 'float32',
    },
    producer: { name: 'pytorch', version: '2.13.0' },
  };
}
