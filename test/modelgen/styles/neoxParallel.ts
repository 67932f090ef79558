/**
 * neox-parallel: a GPT-NeoX (Pythia) export. Attention and MLP both read the stream through their
 * own LayerNormalization and are summed into it in one step:
 * x = Add(Add(attn(ln1(x)), mlp(ln2(x))), x), so each layer has a single residual point.
 * Fused QKV projection, partial rotary embedding (a quarter of each head), opset 17.
 */
import { attr, GraphBuilder, torchOutputs } from '../onnx/graphBuilder';
import { scaledDotProduct } from '../blocks/attention';
import { linear } from '../blocks/linear';
import { causalMaskBias } from '../blocks/masks';
import { geluErf } from '../blocks/mlp';
import { layerNormOp } from '../blocks/norms';
import { applyRotary, rotaryTables } from '../blocks/rotary';
import type { WeightRandom } from '../random';
import type { ExpectedSpine, GenOptions, StyleBuild } from '../types';
import { Weights } from '../weights';
import { addDecoderInputs, addDecoderOutputs, presentNames } from './decoderIo';

const LN_EPS = 1e-5;
const ROTARY_PCT = 0.25;

export function buildNeoxParallel(o: GenOptions, rng: WeightRandom): StyleBuild {
  const { hidden, heads, intermediate } = o;
  const headDim = hidden / heads;
  const g = new GraphBuilder(torchOutputs);
  const w = new Weights(g, rng, 'float32');
  const io = addDecoderInputs(g, o, { positionIds: true, past: true, dtype: 'float32' });
  const neox = g.scope('/gpt_neox');
  const norm = (scope: string, x: string, param: string): string =>
    layerNormOp(g.scope(scope), x, w.normal(`${param}.weight`, [hidden], 0.1, { mean: 1 }), w.normal(`${param}.bias`, [hidden], 0.05), LN_EPS);

  const embeds = neox.sub('embed_in').op('Gather', [w.normal('gpt_neox.embed_in.weight', [o.vocabSize, hidden], 1.0), io.inputIds], { attrs: [attr.int('axis', 0)] });
  const rotary = rotaryTables(neox.sub('rotary_emb'), w, io.positionIds ?? 'position_ids', o.maxPositions, headDim * ROTARY_PCT, 'float32', 'gpt_neox.rotary_emb');
  const maskBias = causalMaskBias(neox, io.inputIds, io.attentionMask, 'float32');

  const expected: ExpectedSpine = { embeddingOutput: embeds, residualNames: [], residualNodes: [], norm: 'pre', parallel: true };
  let x = embeds;
  for (let i = 0; i < o.layers; i++) {
    const prefix = `/gpt_neox/layers.${i}`;
    const p = `gpt_neox.layers.${i}`;
    const gain = w.layerGain(i);
    const dense = (scope: string, param: string, input: string, inDim: number, outDim: number, std: number): string =>
      linear(g.scope(`${prefix}/${scope}`), w, input, { param: `${p}.${param}.weight`, inDim, outDim, std, bias: { param: `${p}.${param}.bias`, std: 0.02 } });
    const ln1 = norm(`${prefix}/input_layernorm`, x, `${p}.input_layernorm`);
    const ln2 = norm(`${prefix}/post_attention_layernorm`, x, `${p}.post_attention_layernorm`);

    // NeoX views the fused projection as [batch, seq, heads, 3 * headDim] and slices q, k, v per head.
    const attn = g.scope(`${prefix}/attention`);
    const qkv = dense('attention/query_key_value', 'attention.query_key_value', ln1, hidden, 3 * hidden, hidden ** -0.5);
    const perHead = attn.op('Transpose', [attn.op('Reshape', [qkv, g.constI64([0, 0, heads, 3 * headDim])])], { attrs: [attr.ints('perm', [0, 2, 1, 3])] });
    const part = (k: number): string => attn.op('Slice', [perHead, g.constI64([k * headDim]), g.constI64([(k + 1) * headDim]), g.constI64([-1])]);
    const q = applyRotary(attn, part(0), rotary, headDim);
    const k = applyRotary(attn, part(1), rotary, headDim);
    const sdpa = scaledDotProduct(attn, { q, k, v: part(2), heads, headDim, maskBias, dtype: 'float32', past: io.past[i], presentNames: presentNames(i) });
    const attnOut = dense('attention/dense', 'attention.dense', sdpa.context, hidden, hidden, gain * hidden ** -0.5);

    const up = dense('mlp/dense_h_to_4h', 'mlp.dense_h_to_4h', ln2, hidden, intermediate, hidden ** -0.5);
    const mlpOut = dense('mlp/dense_4h_to_h', 'mlp.dense_4h_to_h', geluErf(g.scope(`${prefix}/mlp/act`), up, 'float32'), intermediate, hidden, gain * intermediate ** -0.5);

    const branches = g.op('Add', `${prefix}/Add`, [attnOut, mlpOut]);
    const residualNode = g.peekNodeName(`${prefix}/Add`);
    x = g.op('Add', `${prefix}/Add`, [branches, x]);
    expected.residualNodes.push(residualNode);
    expected.residualNames.push(x);
  }
  const finalNorm = norm('/gpt_neox/final_layer_norm', x, 'gpt_neox.final_layer_norm');
  linear(g.scope('/embed_out'), w, finalNorm, { param: 'embed_out.weight', inDim: hidden, outDim: o.vocabSize, std: hidden ** -0.5, output: 'logits' });
  const outputs = addDecoderOutputs(g, o, 'float32');
  return {
    graph: g.toGraphProto('main_graph'),
    opsets: [{ domain: '', version: 17 }],
    onnxFile: 'onnx/model.onnx',
    dtype: 'float32',
    quantized: false,
    inputs: io.specs,
    outputs,
    mainOutput: 'logits',
    expected,
    config: {
      model_type: 'gpt_neox',
      architectures: ['GPTNeoXForCausalLM'],
      intermediate_size: intermediate,
      hidden_act: 'gelu',
      max_position_embeddings: o.maxPositions,
      rotary_pct: ROTARY_PCT,
      rotary_emb_base: 10000,
      use_parallel_residual: true,
      layer_norm_eps: LN_EPS,
      tie_word_embeddings: false,
    },
    producer: { name: 'pytorch', version: '2.5.1' },
  };
}
