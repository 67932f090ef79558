/**
 * moe: an Optimum export of a Qwen3-MoE decoder (Qwen3MoeForCausalLM), as in
 * realexp/optimum-qwen3_moe. Attention as torch exports Qwen3's (decomposed RMSNorm, q_norm /
 * k_norm per head, rotary, past KV concatenated); the MLP is Qwen3MoeSparseMoeBlock traced with
 * its expert loop unrolled:
 *   flat = Reshape(h, [-1, hidden]); probs = Softmax(MatMul(flat, router), axis 1)
 *   (w, experts) = TopK(probs, k); w = w / ReduceSum(w)          (norm_topk_prob)
 *   mask = Transpose(OneHot(experts, E), [2, 1, 0])                 [E, k, tokens]
 *   acc = ConstantOfShape([tokens, hidden]) (zeros)
 *   for each expert e:   (slot, token) = NonZero(mask[e]); x_e = flat[token]
 *     y_e = down(silu(gate(x_e)) * up(x_e)) * w[token, slot]
 *     acc = Add(acc, ScatterElements(ConstantOfShape(Shape(acc)), Expand(token), y_e, axis 0))
 *   moe_out = Reshape(acc, [batch, tokens, hidden])
 *   resid_post = `/model/layers.N/Add_1`(resid_mid, moe_out)
 * so every block holds a chain of E Add nodes (index_add_ as exported) whose first input is the
 * previous sum and second a scatter of one expert's output: sums of expert outputs, not residual
 * joins (`expected.innerAddNodes`). As in the real file (onnxslim renames tensors after the Casts it
 * removes), the residual Adds' outputs are named after the norm that reads them:
 * `/model/layers.N/post_attention_layernorm/Cast_output_0` (resid_mid) and
 * `/model/layers.N+1/input_layernorm/Cast_output_0` or `/model/norm/Cast_output_0` (resid_post);
 * the embedding Gather's output is `/model/layers.0/input_layernorm/Cast_output_0`.
 */
import { attr, GraphBuilder, torchOutputs, type Scope } from '../onnx/graphBuilder';
import { scaledDotProduct } from '../blocks/attention';
import { linear } from '../blocks/linear';
import { causalMaskBias } from '../blocks/masks';
import { silu } from '../blocks/mlp';
import { rmsNormDecomposed } from '../blocks/norms';
import { applyRotary, rotaryTables } from '../blocks/rotary';
import { elemTypeCode, floatTensor, int64Tensor } from '../onnx/tensors';
import type { WeightRandom } from '../random';
import type { ExpectedSpine, GenOptions, StyleBuild } from '../types';
import { Weights } from '../weights';
import { addDecoderInputs, addDecoderOutputs, presentNames } from './decoderIo';

const RMS_EPS = 1e-6;
const OPSET = 18;
export const MOE_EXPERTS = 4;
export const MOE_TOP_K = 2;

export function buildMoe(o: GenOptions, rng: WeightRandom): StyleBuild {
  const { hidden, heads } = o;
  const headDim = hidden / heads;
  const moeIntermediate = hidden;
  const g = new GraphBuilder(torchOutputs);
  const w = new Weights(g, rng, 'float32');
  const io = addDecoderInputs(g, o, { positionIds: true, past: true, dtype: 'float32' });
  const positionIds = io.positionIds ?? 'position_ids';
  const model = g.scope('/model');
  const rms = (s: Scope, x: string, param: string, dim = hidden): string =>
    rmsNormDecomposed(s, x, { weight: w.normal(param, [dim], 0.1, { mean: 1 }), eps: RMS_EPS, opset: OPSET, half: false });
  const i64 = (values: number[], scalar = false): string => g.constI64(values, scalar);
  const streamName = (norm: string): string => `${norm}/Cast_output_0`;

  const embeds = model.sub('embed_tokens').op('Gather', [w.normal('model.embed_tokens.weight', [o.vocabSize, hidden], 1.0), io.inputIds], {
    outputs: [streamName('/model/layers.0/input_layernorm')],
  });
  const rotary = rotaryTables(model.sub('rotary_emb'), w, positionIds, o.maxPositions, headDim, 'float32', 'model.rotary_emb');
  const maskBias = causalMaskBias(model, io.inputIds, io.attentionMask, 'float32');

  const expected: ExpectedSpine = {
    embeddingOutput: embeds,
    residualNames: [],
    midResidualNames: [],
    residualNodes: [],
    midResidualNodes: [],
    innerAddNodes: [],
    norm: 'pre',
    parallel: false,
  };
  let x = embeds;
  for (let i = 0; i < o.layers; i++) {
    const prefix = `/model/layers.${i}`;
    const p = `model.layers.${i}`;
    const layer = g.scope(prefix);
    const gain = w.layerGain(i);

    // Attention (Qwen3: RMSNorm on each head of q and k before rotary).
    const h = rms(layer.sub('input_layernorm'), x, `${p}.input_layernorm.weight`);
    const attn = layer.sub('self_attn');
    const proj = (name: string, input: string, std: number): string =>
      linear(attn.sub(name), w, input, { param: `${p}.self_attn.${name}.weight`, inDim: hidden, outDim: hidden, std });
    const perHead = (t: string): string => attn.op('Reshape', [t, i64([0, 0, heads, headDim])], { attrs: [attr.int('allowzero', 0)] });
    const toHeads = (t: string): string => attn.op('Transpose', [t], { attrs: [attr.ints('perm', [0, 2, 1, 3])] });
    const q = applyRotary(attn, toHeads(rms(attn.sub('q_norm'), perHead(proj('q_proj', h, hidden ** -0.5)), `${p}.self_attn.q_norm.weight`, headDim)), rotary, headDim);
    const k = applyRotary(attn, toHeads(rms(attn.sub('k_norm'), perHead(proj('k_proj', h, hidden ** -0.5)), `${p}.self_attn.k_norm.weight`, headDim)), rotary, headDim);
    const v = toHeads(perHead(proj('v_proj', h, hidden ** -0.5)));
    const sdpa = scaledDotProduct(attn, { q, k, v, heads, headDim, maskBias, dtype: 'float32', past: io.past[i], presentNames: presentNames(i) });
    const attnOut = proj('o_proj', sdpa.context, gain * hidden ** -0.5);
    const midNode = g.peekNodeName(`${prefix}/Add`);
    const mid = layer.op('Add', [x, attnOut], { outputs: [streamName(`${prefix}/post_attention_layernorm`)] });

    // Sparse MoE block.
    const h2 = rms(layer.sub('post_attention_layernorm'), mid, `${p}.post_attention_layernorm.weight`);
    const moe = sparseMoe(layer.sub('mlp'), w, h2, { hidden, moeIntermediate, param: `${p}.mlp`, gain });
    expected.innerAddNodes?.push(...moe.expertSumNodes);
    const postNode = g.peekNodeName(`${prefix}/Add`);
    const last = i === o.layers - 1;
    x = layer.op('Add', [mid, moe.output], { outputs: [streamName(last ? '/model/norm' : `/model/layers.${i + 1}/input_layernorm`)] });

    expected.midResidualNodes?.push(midNode);
    expected.midResidualNames?.push(mid);
    expected.residualNodes.push(postNode);
    expected.residualNames.push(x);
  }
  const finalNorm = rms(model.sub('norm'), x, 'model.norm.weight');
  linear(g.scope('/lm_head'), w, finalNorm, { param: 'lm_head.weight', inDim: hidden, outDim: o.vocabSize, std: hidden ** -0.5, output: 'logits' });
  const outputs = addDecoderOutputs(g, o, 'float32');
  return {
    graph: g.toGraphProto('main_graph'),
    opsets: [{ domain: '', version: OPSET }],
    onnxFile: 'onnx/model.onnx',
    dtype: 'float32',
    quantized: false,
    inputs: io.specs,
    outputs,
    mainOutput: 'logits',
    expected,
    config: {
      model_type: 'qwen3_moe',
      architectures: ['Qwen3MoeForCausalLM'],
      head_dim: headDim,
      num_key_value_heads: heads,
      intermediate_size: o.intermediate,
      moe_intermediate_size: moeIntermediate,
      num_experts: MOE_EXPERTS,
      num_experts_per_tok: MOE_TOP_K,
      norm_topk_prob: true,
      decoder_sparse_step: 1,
      mlp_only_layers: [],
      hidden_act: 'silu',
      max_position_embeddings: o.maxPositions,
      rms_norm_eps: RMS_EPS,
      rope_theta: 10000,
      tie_word_embeddings: false,
      torch_dtype: 'float32',
    },
    producer: { name: 'pytorch', version: '2.13.0' },
  };
}

interface MoeSpec {
  hidden: number;
  moeIntermediate: number;
  /** HF parameter prefix, e.g. model.layers.0.mlp. */
  param: string;
  gain: number;
}

/** Qwen3MoeSparseMoeBlock as torch.onnx traces it: router, top-k, one unrolled branch per expert, index_add_ as ScatterElements + Add. */
function sparseMoe(s: Scope, w: Weights, x: string, spec: MoeSpec): { output: string; expertSumNodes: string[] } {
  const { hidden } = spec;
  const g = s.g;
  const i64 = (values: number[], scalar = false): string => g.constI64(values, scalar);
  const axis0 = [attr.int('axis', 0)];

  const shape = s.op('Shape', [x]);
  const flat = s.op('Reshape', [x, i64([-1, hidden])], { attrs: [attr.int('allowzero', 0)] }); // [N, hidden]
  const batchDim = s.op('Gather', [shape, i64([0], true)], { attrs: axis0 });
  const tokenDim = s.op('Gather', [shape, i64([1], true)], { attrs: axis0 });
  const routerLogits = linear(s.sub('gate'), w, flat, { param: `${spec.param}.gate.weight`, inDim: hidden, outDim: MOE_EXPERTS, std: hidden ** -0.5 });
  const rows = s.op('Unsqueeze', [flat, i64([0])]); // [1, N, hidden]
  const tokens = s.op('Mul', [batchDim, tokenDim]);
  const probs = s.op('Softmax', [routerLogits], { attrs: [attr.int('axis', 1)] });
  const [topWeights, topExperts] = s.node('TopK', [probs, i64([MOE_TOP_K])], { outputs: 2, attrs: [attr.int('axis', -1), attr.int('largest', 1), attr.int('sorted', 1)] });
  const zerosShape = s.op('Concat', [s.op('Unsqueeze', [tokens, i64([0])]), i64([hidden])], { attrs: axis0 });
  const weightSum = s.op('ReduceSum', [topWeights, i64([-1])], { attrs: [attr.int('keepdims', 1)] });
  const oneHotValues = g.initializer(int64Tensor(`${s.prefix}/OneHot_values`, [0, 1]));
  const oneHot = s.op('OneHot', [topExperts, i64([MOE_EXPERTS], true), oneHotValues], { attrs: [attr.int('axis', -1)] }); // [N, k, E]
  const zeroValue = floatTensor('', new Float32Array([0]), [1], 'float32');
  let acc = s.op('ConstantOfShape', [zerosShape], { attrs: [attr.tensor('value', zeroValue)] }); // [N, hidden]
  const routingWeights = s.op('Div', [topWeights, weightSum]); // [N, k]
  const expertMask = s.op('Transpose', [oneHot], { attrs: [attr.ints('perm', [2, 1, 0])] }); // [E, k, N]
  const flatWeights = s.op('Flatten', [s.op('Unsqueeze', [routingWeights, i64([2])])], { attrs: [attr.int('axis', 2)] }); // [N * k, 1]

  const expertSumNodes: string[] = [];
  for (let e = 0; e < MOE_EXPERTS; e++) {
    const hit = s.op('Cast', [s.op('Gather', [expertMask, i64([e], true)], { attrs: axis0 })], { attrs: [attr.int('to', elemTypeCode('bool'))] }); // [k, N]
    const pairs = s.op('Transpose', [s.op('NonZero', [hit])], { attrs: [attr.ints('perm', [1, 0])] }); // [hits, 2]
    const [slotCol, tokenCol] = s.node('Split', [pairs, i64([1, 1])], { outputs: 2, attrs: [attr.int('axis', 1)] });
    const slot = s.op('Squeeze', [slotCol, i64([1])]);
    const token = s.op('Squeeze', [tokenCol, i64([1])]);
    const state = s.op('Reshape', [s.op('Gather', [rows, token], { attrs: [attr.int('axis', 1)] }), i64([-1, hidden])], { attrs: [attr.int('allowzero', 0)] });
    const weightIndex = s.op('Add', [slot, s.op('Mul', [token, i64([MOE_TOP_K])])]);
    const weight = s.op('Reshape', [s.op('Gather', [flatWeights, weightIndex], { attrs: axis0 }), i64([-1, 1])], { attrs: [attr.int('allowzero', 0)] });

    const expert = s.sub(`experts.${e}`);
    const ep = `${spec.param}.experts.${e}`;
    const proj = (name: string, input: string, inDim: number, outDim: number, std: number): string =>
      linear(expert.sub(name), w, input, { param: `${ep}.${name}.weight`, inDim, outDim, std });
    const gate = silu(expert.sub('act_fn'), proj('gate_proj', state, hidden, spec.moeIntermediate, hidden ** -0.5));
    const up = proj('up_proj', state, hidden, spec.moeIntermediate, hidden ** -0.5);
    const down = proj('down_proj', expert.op('Mul', [gate, up]), spec.moeIntermediate, hidden, spec.gain * spec.moeIntermediate ** -0.5);
    const weighted = s.op('Mul', [down, weight]); // [hits, hidden]

    // final_hidden_states.index_add_(0, token, weighted): scatter into zeros, then Add to the running sum.
    const indices = s.op('Expand', [s.op('Unsqueeze', [token, i64([1])]), s.op('Shape', [weighted])]);
    const blank = s.op('ConstantOfShape', [s.op('Shape', [acc])], { attrs: [attr.tensor('value', zeroValue)] });
    const scattered = s.op('ScatterElements', [blank, indices, weighted], { attrs: axis0 });
    const sumNode = g.peekNodeName(`${s.prefix}/Add`);
    acc = s.op('Add', [acc, scattered]);
    expertSumNodes.push(sumNode);
  }
  const backShape = s.op('Concat', [s.op('Unsqueeze', [batchDim, i64([0])]), s.op('Unsqueeze', [tokenDim, i64([0])]), i64([hidden])], { attrs: axis0 });
  return { output: s.op('Reshape', [acc, backShape], { attrs: [attr.int('allowzero', 0)] }), expertSumNodes };
}
