/**
 * ort-fused: a GPT-2 graph after onnxruntime's transformer optimizer (optimize_model). Token and
 * learned position embeddings meet in a plain Add (resid_pre of block 0), the first norm is a
 * LayerNormalization, attention is one com.microsoft Attention, and every later norm is a
 * SkipLayerNormalization with the projection bias folded in (input, skip, gamma, beta, bias)
 * whose output 3 is the residual sum, except the final norm's, which has none. Node names are
 * the optimizer's scope-less `SkipLayerNorm_AddBias_<n>`; tensors keep the export's numbers.
 */
import { attr, GraphBuilder, numberedOutputs, type NodeOptions } from '../onnx/graphBuilder';
import { elemTypeCode } from '../onnx/tensors';
import type { WeightRandom } from '../random';
import type { ExpectedSpine, GenOptions, StyleBuild } from '../types';
import { Weights } from '../weights';
import { addDecoderInputs } from './decoderIo';

const MS = 'com.microsoft';
const LN_EPS = 1e-5;

export function buildOrtFused(o: GenOptions, rng: WeightRandom): StyleBuild {
  const { hidden, heads, intermediate } = o;
  const g = new GraphBuilder(numberedOutputs(100));
  const w = new Weights(g, rng, 'float32');
  const io = addDecoderInputs(g, o, { positionIds: true, past: false, dtype: 'float32' });
  let counter = 0;
  // Unfused nodes keep the old exporter's `<Op>_<n>` names.
  const plain = (op: string, inputs: string[], opts: NodeOptions = {}): string => g.op(op, `${op}_${counter++}`, inputs, opts);
  const fused = new Map<string, number>();
  const fusedName = (prefix: string): string => {
    const n = fused.get(prefix) ?? 0;
    fused.set(prefix, n + 1);
    return `${prefix}_${n}`;
  };

  const tokens = plain('Gather', [w.normal('transformer.wte.weight', [o.vocabSize, hidden], 1.0), io.inputIds]);
  const positions = plain('Gather', [w.normal('transformer.wpe.weight', [o.maxPositions, hidden], 0.5), io.positionIds ?? 'position_ids']);
  const embeds = plain('Add', [tokens, positions]);
  const maskIndex = g.op('Cast', 'Cast_mask_int32', [io.attentionMask], { attrs: [attr.int('to', elemTypeCode('int32'))] });

  const gammaBeta = (p: string): [string, string] => [w.normal(`${p}.weight`, [hidden], 0.1, { mean: 1 }), w.normal(`${p}.bias`, [hidden], 0.05)];
  const skipNorm = (input: string, skip: string, ln: string, bias: string, last: boolean): { name: string; normed: string; sum?: string } => {
    const name = fusedName('SkipLayerNorm_AddBias');
    // mean and inv_std_var (outputs 1, 2) are never requested; output 3 only where the sum is reused.
    const outputs = last ? [g.naming(name, 0)] : [g.naming(name, 0), '', '', g.naming(name, 3)];
    const outs = g.node('SkipLayerNormalization', name, [input, skip, ...gammaBeta(ln), bias], {
      domain: MS,
      outputs,
      attrs: [attr.float('epsilon', LN_EPS)],
    });
    return { name, normed: outs[0], sum: last ? undefined : outs[3] };
  };

  const expected: ExpectedSpine = { embeddingOutput: embeds, residualNames: [], midResidualNames: [], residualNodes: [], midResidualNodes: [], norm: 'pre', parallel: false };
  let residual = embeds;
  let normed = g.op('LayerNormalization', fusedName('LayerNorm'), [embeds, ...gammaBeta('transformer.h.0.ln_1')], {
    attrs: [attr.int('axis', -1), attr.float('epsilon', LN_EPS)],
  });
  for (let i = 0; i < o.layers; i++) {
    const p = `transformer.h.${i}`;
    const gain = w.layerGain(i);
    const attnOut = g.op('Attention', fusedName('Attention'), [
      normed,
      w.normal(`${p}.attn.c_attn.weight`, [hidden, 3 * hidden], hidden ** -0.5),
      w.normal(`${p}.attn.c_attn.bias`, [3 * hidden], 0.02),
      maskIndex,
    ], { domain: MS, attrs: [attr.int('num_heads', heads), attr.int('unidirectional', 1)] });
    const attnProj = plain('MatMul', [attnOut, w.normal(`${p}.attn.c_proj.weight`, [hidden, hidden], gain * hidden ** -0.5)]);
    const mid = skipNorm(attnProj, residual, `${p}.ln_2`, w.normal(`${p}.attn.c_proj.bias`, [hidden], 0.02), false);
    residual = mid.sum ?? residual;
    expected.midResidualNodes?.push(mid.name);
    expected.midResidualNames?.push(residual);

    const fc = plain('MatMul', [mid.normed, w.normal(`${p}.mlp.c_fc.weight`, [hidden, intermediate], hidden ** -0.5)]);
    const act = g.op('FastGelu', fusedName('FastGelu_AddBias'), [fc, w.normal(`${p}.mlp.c_fc.bias`, [intermediate], 0.02)], { domain: MS });
    const mlpOut = plain('MatMul', [act, w.normal(`${p}.mlp.c_proj.weight`, [intermediate, hidden], gain * intermediate ** -0.5)]);
    const last = i === o.layers - 1;
    const post = skipNorm(mlpOut, residual, last ? 'transformer.ln_f' : `transformer.h.${i + 1}.ln_1`, w.normal(`${p}.mlp.c_proj.bias`, [hidden], 0.02), last);
    expected.residualNodes.push(post.name);
    expected.residualNames.push(post.sum ?? null);
    residual = post.sum ?? residual;
    normed = post.normed;
  }
  plain('MatMul', [normed, w.normal('lm_head.weight', [hidden, o.vocabSize], hidden ** -0.5)], { outputs: ['logits'] });
  const outputs = [g.output('logits', 'float32', ['batch_size', 'sequence_length', o.vocabSize])];
  return {
    graph: g.toGraphProto('torch-jit-export'),
    opsets: [{ domain: '', version: 14 }, { domain: MS, version: 1 }],
    onnxFile: 'model.onnx',
    dtype: 'float32',
    quantized: false,
    inputs: io.specs,
    outputs,
    mainOutput: 'logits',
    expected,
    config: {
      model_type: 'gpt2',
      architectures: ['GPT2LMHeadModel'],
      n_embd: hidden,
      n_layer: o.layers,
      n_head: heads,
      n_inner: intermediate,
      n_positions: o.maxPositions,
      activation_function: 'gelu_new',
      layer_norm_epsilon: LN_EPS,
    },
    producer: { name: 'onnxruntime.transformers', version: '1.20.0' },
  };
}
