/**
 * genai-fused: what onnxruntime-genai's model builder writes for a Llama in fp16. The residual
 * stream runs through com.microsoft SkipSimplifiedLayerNormalization nodes (output 3 = input +
 * skip); the first norm is a plain SimplifiedLayerNormalization and the final norm's Skip node has
 * no output 3, so the last residual point is never materialised. Attention is one
 * GroupQueryAttention per layer with RotaryEmbedding on q and k; weights live in model.onnx.data.
 */
import { attr, genaiOutputs, GraphBuilder } from '../onnx/graphBuilder';
import { elemTypeCode } from '../onnx/tensors';
import type { WeightRandom } from '../random';
import type { ExpectedSpine, GenOptions, StyleBuild } from '../types';
import { Weights } from '../weights';
import { silu } from '../blocks/mlp';
import { rotaryCache } from '../blocks/rotary';
import { addDecoderInputs, addDecoderOutputs, presentNames } from './decoderIo';
import { llamaConfig, RMS_EPS } from './llamaDecoder';

const MS = 'com.microsoft';

export function buildGenaiFused(o: GenOptions, rng: WeightRandom): StyleBuild {
  const dtype = 'float16';
  const { hidden, heads, intermediate } = o;
  const headDim = hidden / heads;
  const g = new GraphBuilder(genaiOutputs);
  const w = new Weights(g, rng, dtype);
  const io = addDecoderInputs(g, o, { positionIds: true, past: true, dtype });
  const model = g.scope('/model');

  const embeds = model.sub('embed_tokens').op('Gather', [w.normal('model.embed_tokens.weight', [o.vocabSize, hidden], 1.0), io.inputIds]);

  // genai's attention-mask subgraph: per-row lengths - 1 and the total length, both int32, for GQA.
  const maskScope = model.sub('attn_mask_reformat/attn_mask_subgraph');
  const rowLengths = maskScope.op('ReduceSum', [io.attentionMask, g.constI64([1])], { attrs: [attr.int('keepdims', 0)] });
  const lastIndex = maskScope.op('Sub', [rowLengths, g.constI64([1], true)]);
  const seqlensK = maskScope.op('Cast', [lastIndex], { attrs: [attr.int('to', elemTypeCode('int32'))] });
  const totalLen = maskScope.op('Gather', [maskScope.op('Shape', [io.attentionMask]), g.constI64([1], true)], { attrs: [attr.int('axis', 0)] });
  const totalLen32 = maskScope.op('Cast', [totalLen], { attrs: [attr.int('to', elemTypeCode('int32'))] });

  // RotaryEmbedding's caches hold one half of the rotated channels.
  const full = rotaryCache(o.maxPositions, headDim);
  const half = headDim / 2;
  const halfOf = (t: Float32Array): Float32Array => {
    const out = new Float32Array(o.maxPositions * half);
    for (let p = 0; p < o.maxPositions; p++) out.set(t.subarray(p * headDim, p * headDim + half), p * half);
    return out;
  };
  const cosCache = w.fixed('cos_cache', halfOf(full.cos), [o.maxPositions, half]);
  const sinCache = w.fixed('sin_cache', halfOf(full.sin), [o.maxPositions, half]);

  const normWeight = (param: string): string => w.normal(param, [hidden], 0.1, { mean: 1 });
  const matmul = (prefix: string, param: string, x: string, inDim: number, outDim: number, std: number, output?: string): string =>
    g.op('MatMul', `${prefix}/MatMul`, [x, w.normal(param, [inDim, outDim], std)], output ? { outputs: [output] } : {});
  const skipNorm = (name: string, residual: string, branch: string, weight: string, last: boolean): { normed: string; sum?: string } => {
    const outputs = last ? [genaiOutputs(name, 0)] : [genaiOutputs(name, 0), '', '', genaiOutputs(name, 3)];
    g.node('SkipSimplifiedLayerNormalization', name, [residual, branch, weight], { domain: MS, outputs, attrs: [attr.float('epsilon', RMS_EPS)] });
    return { normed: outputs[0], sum: last ? undefined : outputs[3] };
  };

  const expected: ExpectedSpine = { embeddingOutput: embeds, residualNames: [], midResidualNames: [], residualNodes: [], midResidualNodes: [], norm: 'pre', parallel: false };
  let residual = embeds;
  let normed = g.op('SimplifiedLayerNormalization', '/model/layers.0/input_layernorm/LayerNorm', [embeds, normWeight('model.layers.0.input_layernorm.weight')], {
    attrs: [attr.int('axis', -1), attr.float('epsilon', RMS_EPS), attr.int('stash_type', 1)],
  });
  for (let i = 0; i < o.layers; i++) {
    const p = `/model/layers.${i}`;
    const param = `model.layers.${i}`;
    const gain = w.layerGain(i);
    const q = matmul(`${p}/attn/q_proj`, `${param}.attn.q_proj.MatMul.weight`, normed, hidden, hidden, hidden ** -0.5);
    const k = matmul(`${p}/attn/k_proj`, `${param}.attn.k_proj.MatMul.weight`, normed, hidden, hidden, hidden ** -0.5);
    const v = matmul(`${p}/attn/v_proj`, `${param}.attn.v_proj.MatMul.weight`, normed, hidden, hidden, hidden ** -0.5);
    const rotary = (name: string, x: string): string =>
      g.op('RotaryEmbedding', `${p}/attn/${name}/RotaryEmbedding`, [x, io.positionIds ?? 'position_ids', cosCache, sinCache], {
        domain: MS,
        attrs: [attr.int('interleaved', 0), attr.int('num_heads', heads)],
      });
    const present = presentNames(i);
    const [attnOut] = g.node('GroupQueryAttention', `${p}/attn/GroupQueryAttention`, [rotary('q_rotary', q), rotary('k_rotary', k), v, io.past[i].key, io.past[i].value, seqlensK, totalLen32], {
      domain: MS,
      outputs: [genaiOutputs(`${p}/attn/GroupQueryAttention`, 0), present.key, present.value],
      attrs: [attr.int('num_heads', heads), attr.int('kv_num_heads', heads)],
    });
    const attnProj = matmul(`${p}/attn/o_proj`, `${param}.attn.o_proj.MatMul.weight`, attnOut, hidden, hidden, gain * hidden ** -0.5);
    const postName = `${p}/post_attention_layernorm/SkipLayerNorm`;
    const post = skipNorm(postName, residual, attnProj, normWeight(`${param}.post_attention_layernorm.weight`), false);
    residual = post.sum ?? residual;
    expected.midResidualNodes?.push(postName);
    expected.midResidualNames?.push(residual);

    const gate = matmul(`${p}/mlp/gate_proj`, `${param}.mlp.gate_proj.MatMul.weight`, post.normed, hidden, intermediate, hidden ** -0.5);
    const up = matmul(`${p}/mlp/up_proj`, `${param}.mlp.up_proj.MatMul.weight`, post.normed, hidden, intermediate, hidden ** -0.5);
    const act = silu(g.scope(`${p}/mlp/act_fn`), gate);
    const down = matmul(`${p}/mlp/down_proj`, `${param}.mlp.down_proj.MatMul.weight`, g.op('Mul', `${p}/mlp/Mul`, [act, up]), intermediate, hidden, gain * intermediate ** -0.5);

    const last = i === o.layers - 1;
    const nextName = last ? '/model/norm/SkipLayerNorm' : `/model/layers.${i + 1}/input_layernorm/SkipLayerNorm`;
    const next = skipNorm(nextName, residual, down, normWeight(last ? 'model.norm.weight' : `model.layers.${i + 1}.input_layernorm.weight`), last);
    expected.residualNodes.push(nextName);
    expected.residualNames.push(next.sum ?? null);
    residual = next.sum ?? residual;
    normed = next.normed;
  }
  matmul('/lm_head', 'lm_head.MatMul.weight', normed, hidden, o.vocabSize, hidden ** -0.5, 'logits');
  const outputs = addDecoderOutputs(g, o, dtype);
  return {
    graph: g.toGraphProto('main_graph'),
    opsets: [{ domain: '', version: 14 }, { domain: MS, version: 1 }],
    onnxFile: 'model.onnx',
    externalData: { fileName: 'model.onnx.data', minBytes: 1024 },
    dtype,
    quantized: false,
    inputs: io.specs,
    outputs,
    mainOutput: 'logits',
    expected,
    config: llamaConfig(o, dtype),
    producer: { name: 'onnxruntime-genai', version: '0.7.0' },
  };
}
