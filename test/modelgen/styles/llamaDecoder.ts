/**
 * The Llama decoder as torch.onnx / Optimum export it: decomposed RMSNorm, attention from
 * primitive ops with rotary embedding and an empty-fed KV cache, SiLU-gated MLP, residual Adds
 * `/model/layers.N/Add` (after attention) and `/model/layers.N/Add_1` (after the MLP). Shared by
 * optimum-llama, its opset-18 / fp16 / quantized variants and both branches of merged-if.
 */
import { attr, type GraphBuilder } from '../onnx/graphBuilder';
import { splitHeads, scaledDotProduct } from '../blocks/attention';
import { linear, type Quant } from '../blocks/linear';
import { causalMaskBias } from '../blocks/masks';
import { silu } from '../blocks/mlp';
import { rmsNormDecomposed } from '../blocks/norms';
import { applyRotary, rotaryTables } from '../blocks/rotary';
import type { ExpectedSpine, GenOptions } from '../types';
import type { FloatType, Weights } from '../weights';
import type { KvPair } from './decoderIo';

export const RMS_EPS = 1e-5;

export interface LlamaVariant {
  opset: number;
  dtype: FloatType;
  /** transformers.js-style mixed quantization: 8-bit QDQ attention and head, 4-bit MatMulNBits MLP. */
  quantized: boolean;
  /** Instead: every linear layer dynamically quantized to 8 bits (transformers.js's q8 file). */
  dynamic8?: boolean;
}

export interface LlamaIo {
  inputIds: string;
  attentionMask: string;
  positionIds: string;
  /** Per-layer past KV inputs; absent builds the no-cache graph (merged-if's else branch). */
  past?: KvPair[];
  /** Name the present KV tensors as graph outputs (top-level graphs); branches keep torch names. */
  namePresents?: (layer: number) => KvPair;
  logitsName?: string;
}

export interface LlamaResult {
  logits: string;
  presents: KvPair[];
  expected: ExpectedSpine;
}

const QUANT: Record<string, Quant> = { q_proj: 'q8u', k_proj: 'q8s', v_proj: 'q8u', o_proj: 'q8s', gate_proj: 'q4', up_proj: 'q4', down_proj: 'q4', lm_head: 'q8s' };

export function buildLlamaDecoder(g: GraphBuilder, w: Weights, o: GenOptions, v: LlamaVariant, io: LlamaIo): LlamaResult {
  const { hidden, heads, intermediate } = o;
  const headDim = hidden / heads;
  const quant = (proj: string): Quant => (v.dynamic8 ? 'q8d' : v.quantized ? QUANT[proj] : 'none');
  const model = g.scope('/model');

  const embedTable = w.normal('model.embed_tokens.weight', [o.vocabSize, hidden], 1.0);
  const embeds = model.sub('embed_tokens').op('Gather', [embedTable, io.inputIds], { attrs: [attr.int('axis', 0)] });
  const rotary = rotaryTables(model.sub('rotary_emb'), w, io.positionIds, o.maxPositions, headDim, v.dtype, 'model.rotary_emb');
  const maskBias = causalMaskBias(model, io.inputIds, io.attentionMask, v.dtype);

  const expected: ExpectedSpine = { embeddingOutput: embeds, residualNames: [], midResidualNames: [], residualNodes: [], midResidualNodes: [], norm: 'pre', parallel: false };
  const presents: KvPair[] = [];
  let x = embeds;
  for (let i = 0; i < o.layers; i++) {
    const layer = model.sub(`layers.${i}`);
    const p = `model.layers.${i}`;
    const gain = w.layerGain(i);
    const norm = (name: string, input: string): string =>
      rmsNormDecomposed(layer.sub(name), input, {
        weight: w.normal(`${p}.${name}.weight`, [hidden], 0.1, { mean: 1 }),
        eps: RMS_EPS,
        opset: v.opset,
        half: v.dtype === 'float16',
      });

    // Attention.
    const attn = layer.sub('self_attn');
    const h = norm('input_layernorm', x);
    const proj = (name: string, input: string, std: number, inDim = hidden, outDim = hidden): string =>
      linear(attn.sub(name), w, input, { param: `${p}.self_attn.${name}.weight`, inDim, outDim, std, quant: quant(name) });
    const q = applyRotary(attn, splitHeads(attn, proj('q_proj', h, hidden ** -0.5), heads, headDim), rotary, headDim);
    const k = applyRotary(attn, splitHeads(attn, proj('k_proj', h, hidden ** -0.5), heads, headDim), rotary, headDim);
    const val = splitHeads(attn, proj('v_proj', h, hidden ** -0.5), heads, headDim);
    const sdpa = scaledDotProduct(attn, {
      q, k, v: val, heads, headDim, maskBias, dtype: v.dtype,
      past: io.past?.[i],
      presentNames: io.namePresents?.(i),
    });
    presents.push({ key: sdpa.presentKey, value: sdpa.presentValue });
    const attnOut = proj('o_proj', sdpa.context, gain * hidden ** -0.5);
    const midNode = g.peekNodeName(`${layer.prefix}/Add`);
    const mid = layer.op('Add', [x, attnOut]);

    // MLP.
    const mlp = layer.sub('mlp');
    const h2 = norm('post_attention_layernorm', mid);
    const mlpProj = (name: string, input: string, std: number, inDim: number, outDim: number): string =>
      linear(mlp.sub(name), w, input, { param: `${p}.mlp.${name}.weight`, inDim, outDim, std, quant: quant(name) });
    const gate = silu(mlp.sub('act_fn'), mlpProj('gate_proj', h2, hidden ** -0.5, hidden, intermediate));
    const up = mlpProj('up_proj', h2, hidden ** -0.5, hidden, intermediate);
    const down = mlpProj('down_proj', mlp.op('Mul', [gate, up]), gain * intermediate ** -0.5, intermediate, hidden);
    const postNode = g.peekNodeName(`${layer.prefix}/Add`);
    x = layer.op('Add', [mid, down]);

    expected.midResidualNodes?.push(midNode);
    expected.midResidualNames?.push(mid);
    expected.residualNodes.push(postNode);
    expected.residualNames.push(x);
  }
  const finalNorm = rmsNormDecomposed(model.sub('norm'), x, {
    weight: w.normal('model.norm.weight', [hidden], 0.1, { mean: 1 }),
    eps: RMS_EPS,
    opset: v.opset,
    half: v.dtype === 'float16',
  });
  const logits = linear(g.scope('/lm_head'), w, finalNorm, {
    param: 'lm_head.weight',
    inDim: hidden,
    outDim: o.vocabSize,
    std: hidden ** -0.5,
    quant: quant('lm_head'),
    output: io.logitsName,
  });
  return { logits, presents, expected };
}

export function llamaConfig(o: GenOptions, dtype: FloatType): Record<string, unknown> {
  return {
    model_type: 'llama',
    architectures: ['LlamaForCausalLM'],
    intermediate_size: o.intermediate,
    num_key_value_heads: o.heads,
    hidden_act: 'silu',
    max_position_embeddings: o.maxPositions,
    rms_norm_eps: RMS_EPS,
    rope_theta: 10000,
    tie_word_embeddings: false,
    torch_dtype: dtype === 'float16' ? 'float16' : 'float32',
  };
}
