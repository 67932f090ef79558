/**
 * genai-gqa: what onnxruntime-genai's model builder (0.15, `-p fp32 -e cpu`) writes for a Llama
 * with grouped-query attention, as in realexp/genai-llama-fp32:
 * - one packed qkv_proj MatMul per layer feeding com.microsoft GroupQueryAttention with
 *   num_heads != kv_num_heads, rotary inside the op (do_rotary=1 with cos_cache/sin_cache), no
 *   position_ids input: GQA derives positions from seqlens_k;
 * - seqlens_k (int32 [batch] = ReduceSum(mask) - 1) and total_sequence_length (int32 scalar =
 *   Shape(mask)[1]) from the attention mask, with int64 Constant nodes as the builder emits them;
 * - SimplifiedLayerNormalization first, then SkipSimplifiedLayerNormalization joins (output 3 is
 *   the residual sum); the final norm `/model/layers.L/final_norm_layernorm/SkipLayerNorm` has no
 *   output 3; norm outputs are named after the module (`/model/layers.0/input_layernorm/output_0`);
 * - inputs input_ids, attention_mask, every past key, then every past value, declared
 *   [batch_size, KV_HEADS, past_sequence_length, "kv_cache_dim"]: the head size is a SYMBOL;
 *   outputs logits, every present key, then every present value;
 * - fp32, opset 21, IR 10, all weights in model.onnx.data, genai_config.json beside it.
 */
import { attr, genaiOutputs, GraphBuilder } from '../onnx/graphBuilder';
import { elemTypeCode, int64Tensor } from '../onnx/tensors';
import type { WeightRandom } from '../random';
import type { ExpectedSpine, GenOptions, ModelInputSpec, StyleBuild } from '../types';
import { Weights } from '../weights';
import { silu } from '../blocks/mlp';
import { rotaryCache } from '../blocks/rotary';
import { type KvPair, presentNames } from './decoderIo';
import { llamaConfig, RMS_EPS } from './llamaDecoder';

const MS = 'com.microsoft';

/** Grouped-query attention: half as many KV heads as query heads (options.ts checks heads is even). */
export function gqaKvHeads(heads: number): number {
  return heads / 2;
}

export function buildGenaiGqa(o: GenOptions, rng: WeightRandom): StyleBuild {
  const dtype = 'float32';
  const { hidden, heads, intermediate } = o;
  const headDim = hidden / heads;
  const kvHeads = gqaKvHeads(heads);
  const g = new GraphBuilder(genaiOutputs);
  const w = new Weights(g, rng, dtype);

  // Inputs in the builder's order: ids, mask, all past keys, then all past values.
  const specs: ModelInputSpec[] = [];
  const add = (spec: ModelInputSpec): string => {
    specs.push(spec);
    return g.input(spec.name, spec.type, spec.dims);
  };
  const inputIds = add({ name: 'input_ids', role: 'input_ids', type: 'int64', dims: ['batch_size', 'sequence_length'] });
  const attentionMask = add({ name: 'attention_mask', role: 'attention_mask', type: 'int64', dims: ['batch_size', 'total_sequence_length'] });
  const pastDims = ['batch_size', kvHeads, 'past_sequence_length', 'kv_cache_dim'];
  const past: KvPair[] = Array.from({ length: o.layers }, () => ({ key: '', value: '' }));
  for (let i = 0; i < o.layers; i++) past[i].key = add({ name: `past_key_values.${i}.key`, role: 'past_key', layer: i, type: dtype, dims: pastDims });
  for (let i = 0; i < o.layers; i++) past[i].value = add({ name: `past_key_values.${i}.value`, role: 'past_value', layer: i, type: dtype, dims: pastDims });

  // The builder's shared int64 constants are Constant nodes, not initializers.
  const constI64 = (label: string, values: number[], scalar: boolean): string =>
    g.op('Constant', `/model/constant_nodes/INT64/${label}`, [], {
      outputs: [`/model/constants/INT64/${label}`],
      attrs: [attr.tensor('value', int64Tensor('', values, scalar ? [] : [values.length]))],
    });

  // genai's attention-mask subgraph: per-row lengths - 1 and the total length, both int32, for GQA.
  const m = '/model/attn_mask_reformat/attn_mask_subgraph';
  const oneVec = constI64('[1]', [1], false);
  const rowLengths = g.op('ReduceSum', `${m}/ReduceSum`, [attentionMask, oneVec], { attrs: [attr.int('keepdims', 0)] });
  const lastIndex = g.op('Sub', `${m}/Sub`, [rowLengths, oneVec]);
  const seqlensK = g.op('Cast', `${m}/Sub/Cast`, [lastIndex], { attrs: [attr.int('to', elemTypeCode('int32'))] });
  const maskShape = g.op('Shape', `${m}/Shape`, [attentionMask]);
  const oneScalar = constI64('1', [1], true);
  const totalLen = g.op('Gather', `${m}/Gather`, [maskShape, oneScalar], { attrs: [attr.int('axis', 0)] });
  const totalLen32 = g.op('Cast', `${m}/Gather/Cast`, [totalLen], { attrs: [attr.int('to', elemTypeCode('int32'))] });

  const embeds = g.op('Gather', '/model/embed_tokens/Gather', [w.normal('model.embed_tokens.weight', [o.vocabSize, hidden], 1.0), inputIds]);

  // GroupQueryAttention's rotary caches hold one half of the rotated channels.
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
  /** Skip norm of module `module` (e.g. /model/layers.1/input_layernorm); outputs are named after the module. */
  const skipNorm = (module: string, residual: string, branch: string, weight: string, last: boolean): { node: string; normed: string; sum?: string } => {
    const outputs = last ? [`${module}/output_0`] : [`${module}/output_0`, '', '', `${module}/output_3`];
    const node = `${module}/SkipLayerNorm`;
    g.node('SkipSimplifiedLayerNormalization', node, [residual, branch, weight], { domain: MS, outputs, attrs: [attr.float('epsilon', RMS_EPS)] });
    return { node, normed: outputs[0], sum: last ? undefined : outputs[3] };
  };

  const expected: ExpectedSpine = { embeddingOutput: embeds, residualNames: [], midResidualNames: [], residualNodes: [], midResidualNodes: [], norm: 'pre', parallel: false };
  const presents = Array.from({ length: o.layers }, (_, i) => presentNames(i));
  let residual = embeds;
  let normed = g.op('SimplifiedLayerNormalization', '/model/layers.0/input_layernorm/LayerNorm', [embeds, normWeight('model.layers.0.input_layernorm.weight')], {
    outputs: ['/model/layers.0/input_layernorm/output_0'],
    attrs: [attr.float('epsilon', RMS_EPS), attr.int('axis', -1), attr.int('stash_type', 1)],
  });
  const kvWidth = kvHeads * headDim;
  for (let i = 0; i < o.layers; i++) {
    const p = `/model/layers.${i}`;
    const param = `model.layers.${i}`;
    const gain = w.layerGain(i);
    const qkv = matmul(`${p}/attn/qkv_proj`, `${param}.attn.qkv_proj.MatMul.weight`, normed, hidden, hidden + 2 * kvWidth, hidden ** -0.5);
    const gqaName = `${p}/attn/GroupQueryAttention`;
    const [attnOut] = g.node('GroupQueryAttention', gqaName, [qkv, '', '', past[i].key, past[i].value, seqlensK, totalLen32, cosCache, sinCache], {
      domain: MS,
      outputs: [genaiOutputs(gqaName, 0), presents[i].key, presents[i].value],
      attrs: [
        attr.int('num_heads', heads),
        attr.int('kv_num_heads', kvHeads),
        attr.float('scale', 1 / Math.sqrt(headDim)),
        attr.int('local_window_size', -1),
        attr.float('softcap', 0),
        attr.int('do_rotary', 1),
        attr.int('rotary_interleaved', 0),
      ],
    });
    const attnProj = matmul(`${p}/attn/o_proj`, `${param}.attn.o_proj.MatMul.weight`, attnOut, hidden, hidden, gain * hidden ** -0.5);
    const post = skipNorm(`${p}/post_attention_layernorm`, residual, attnProj, normWeight(`${param}.post_attention_layernorm.weight`), false);
    residual = post.sum ?? residual;
    expected.midResidualNodes?.push(post.node);
    expected.midResidualNames?.push(residual);

    const gate = matmul(`${p}/mlp/gate_proj`, `${param}.mlp.gate_proj.MatMul.weight`, post.normed, hidden, intermediate, hidden ** -0.5);
    const up = matmul(`${p}/mlp/up_proj`, `${param}.mlp.up_proj.MatMul.weight`, post.normed, hidden, intermediate, hidden ** -0.5);
    const act = silu(g.scope(`${p}/mlp/act_fn`), gate);
    const down = matmul(`${p}/mlp/down_proj`, `${param}.mlp.down_proj.MatMul.weight`, g.op('Mul', `${p}/mlp/Mul`, [act, up]), intermediate, hidden, gain * intermediate ** -0.5);

    const last = i === o.layers - 1;
    // The builder names the final norm as one more "layer": /model/layers.L/final_norm_layernorm.
    const module = last ? `/model/layers.${o.layers}/final_norm_layernorm` : `/model/layers.${i + 1}/input_layernorm`;
    const next = skipNorm(module, residual, down, normWeight(last ? `model.layers.${o.layers}.final_norm_layernorm.weight` : `model.layers.${i + 1}.input_layernorm.weight`), last);
    expected.residualNodes.push(next.node);
    expected.residualNames.push(next.sum ?? null);
    residual = next.sum ?? residual;
    normed = next.normed;
  }
  matmul('/lm_head', 'lm_head.MatMul.weight', normed, hidden, o.vocabSize, hidden ** -0.5, 'logits');

  const outputs = [g.output('logits', dtype, ['batch_size', 'sequence_length', o.vocabSize])];
  const presentDims = ['batch_size', kvHeads, 'total_sequence_length', 'kv_cache_dim'];
  for (const kind of ['key', 'value'] as const) for (const pr of presents) outputs.push(g.output(pr[kind], dtype, presentDims));

  const graph = g.toGraphProto('main_graph');
  return {
    graph,
    opsets: [{ domain: '', version: 21 }, { domain: MS, version: 1 }],
    irVersion: 10,
    onnxFile: 'model.onnx',
    externalData: { fileName: 'model.onnx.data', minBytes: 0 },
    dtype,
    quantized: false,
    inputs: specs,
    outputs,
    mainOutput: 'logits',
    expected,
    kvHeads,
    config: { ...llamaConfig(o, dtype), num_key_value_heads: kvHeads, head_dim: headDim },
    extraJsonFiles: (ids) => ({ 'genai_config.json': genaiConfig(o, kvHeads, ids) }),
    producer: { name: 'onnxruntime-genai', version: '0.15.2' },
  };
}

/** genai_config.json as the builder writes it (decoder section and search defaults). */
function genaiConfig(o: GenOptions, kvHeads: number, ids: { eos: number; pad: number }): Record<string, unknown> {
  return {
    model: {
      bos_token_id: ids.eos,
      context_length: o.maxPositions,
      decoder: {
        session_options: { log_id: 'onnxruntime-genai', provider_options: [] },
        filename: 'model.onnx',
        head_size: o.hidden / o.heads,
        hidden_size: o.hidden,
        inputs: {
          input_ids: 'input_ids',
          attention_mask: 'attention_mask',
          past_key_names: 'past_key_values.%d.key',
          past_value_names: 'past_key_values.%d.value',
        },
        outputs: { logits: 'logits', present_key_names: 'present.%d.key', present_value_names: 'present.%d.value' },
        num_attention_heads: o.heads,
        num_hidden_layers: o.layers,
        num_key_value_heads: kvHeads,
      },
      eos_token_id: ids.eos,
      pad_token_id: ids.pad,
      type: 'llama',
      vocab_size: o.vocabSize,
    },
    search: {
      diversity_penalty: 0.0,
      do_sample: false,
      early_stopping: true,
      length_penalty: 1.0,
      max_length: o.maxPositions,
      min_length: 0,
      no_repeat_ngram_size: 0,
      num_beams: 1,
      num_return_sequences: 1,
      past_present_share_buffer: true,
      repetition_penalty: 1.0,
      temperature: 1.0,
      top_k: 50,
      top_p: 1.0,
    },
  };
}
