/**
 * bert-postnorm: an Optimum BertModel export. Post-LayerNorm blocks, x = LN(x + attn(x)) then
 * x = LN(x + mlp(x)), so the stream is the LayerNorm output after each residual Add; LayerNorm is
 * decomposed (opset 14), attention is bidirectional with a padding mask, GELU goes through Erf,
 * and the last LayerNorm's result is the graph output `last_hidden_state`.
 */
import { attr, GraphBuilder, torchOutputs } from '../onnx/graphBuilder';
import { int64Tensor } from '../onnx/tensors';
import { splitHeads, scaledDotProduct } from '../blocks/attention';
import { linear } from '../blocks/linear';
import { paddingMaskBias } from '../blocks/masks';
import { geluErf } from '../blocks/mlp';
import { layerNormDecomposed } from '../blocks/norms';
import type { WeightRandom } from '../random';
import type { ExpectedSpine, GenOptions, StyleBuild } from '../types';
import { Weights } from '../weights';
import { addDecoderInputs } from './decoderIo';

const LN_EPS = 1e-12;
const OPSET = 14;
const TYPE_VOCAB = 2;

export function buildBertPostnorm(o: GenOptions, rng: WeightRandom): StyleBuild {
  const { hidden, heads, intermediate } = o;
  const headDim = hidden / heads;
  const g = new GraphBuilder(torchOutputs);
  const w = new Weights(g, rng, 'float32');
  const io = addDecoderInputs(g, o, { positionIds: false, past: false, tokenTypeIds: true, dtype: 'float32' });
  const ln = (scope: string, x: string, param: string, output?: string): string =>
    layerNormDecomposed(g.scope(scope), x, {
      gamma: w.normal(`${param}.weight`, [hidden], 0.1, { mean: 1 }),
      beta: w.normal(`${param}.bias`, [hidden], 0.05),
      eps: LN_EPS,
      opset: OPSET,
      output,
    });

  // Embeddings; BERT slices its registered position_ids buffer to the sequence length.
  const emb = g.scope('/embeddings');
  const gather = (name: string, table: string, ids: string): string => emb.sub(name).op('Gather', [table, ids], { attrs: [attr.int('axis', 0)] });
  const words = gather('word_embeddings', w.normal('embeddings.word_embeddings.weight', [o.vocabSize, hidden], 1.0), io.inputIds);
  const types = gather('token_type_embeddings', w.normal('embeddings.token_type_embeddings.weight', [TYPE_VOCAB, hidden], 0.5), io.tokenTypeIds ?? 'token_type_ids');
  const seqLen = emb.op('Gather', [emb.op('Shape', [io.inputIds]), g.constI64([1], true)], { attrs: [attr.int('axis', 0)] });
  const positionBuffer = g.initializer(int64Tensor('embeddings.position_ids', Array.from({ length: o.maxPositions }, (_, i) => i), [1, o.maxPositions]));
  const positionIds = emb.op('Slice', [positionBuffer, g.constI64([0]), emb.op('Unsqueeze', [seqLen, g.constI64([0])]), g.constI64([1])]);
  const positions = gather('position_embeddings', w.normal('embeddings.position_embeddings.weight', [o.maxPositions, hidden], 0.5), positionIds);
  const embedded = emb.op('Add', [emb.op('Add', [words, types]), positions]);
  let x = ln('/embeddings/LayerNorm', embedded, 'embeddings.LayerNorm');

  const maskBias = paddingMaskBias(g.scope(''), io.attentionMask, 'float32');
  const expected: ExpectedSpine = { embeddingOutput: x, residualNames: [], midResidualNames: [], residualNodes: [], midResidualNodes: [], norm: 'post', parallel: false };
  for (let i = 0; i < o.layers; i++) {
    const prefix = `/encoder/layer.${i}`;
    const p = `encoder.layer.${i}`;
    const gain = w.layerGain(i);
    const dense = (scope: string, param: string, input: string, inDim: number, outDim: number, std: number): string =>
      linear(g.scope(`${prefix}/${scope}`), w, input, { param: `${p}.${param}.weight`, inDim, outDim, std, bias: { param: `${p}.${param}.bias`, std: 0.02 } });

    const self = g.scope(`${prefix}/attention/self`);
    const heads4 = (name: string): string => splitHeads(self, dense(`attention/self/${name}`, `attention.self.${name}`, x, hidden, hidden, hidden ** -0.5), heads, headDim);
    const sdpa = scaledDotProduct(self, { q: heads4('query'), k: heads4('key'), v: heads4('value'), heads, headDim, maskBias, dtype: 'float32' });
    const attnOut = dense('attention/output/dense', 'attention.output.dense', sdpa.context, hidden, hidden, gain * hidden ** -0.5);
    const midNode = `${prefix}/attention/output/Add`;
    const midSum = g.op('Add', midNode, [attnOut, x]);
    x = ln(`${prefix}/attention/output/LayerNorm`, midSum, `${p}.attention.output.LayerNorm`);
    expected.midResidualNodes?.push(midNode);
    expected.midResidualNames?.push(x);

    const inter = dense('intermediate/dense', 'intermediate.dense', x, hidden, intermediate, hidden ** -0.5);
    const act = geluErf(g.scope(`${prefix}/intermediate/intermediate_act_fn`), inter, 'float32');
    const out = dense('output/dense', 'output.dense', act, intermediate, hidden, gain * intermediate ** -0.5);
    const postNode = `${prefix}/output/Add`;
    const postSum = g.op('Add', postNode, [out, x]);
    x = ln(`${prefix}/output/LayerNorm`, postSum, `${p}.output.LayerNorm`, i === o.layers - 1 ? 'last_hidden_state' : undefined);
    expected.residualNodes.push(postNode);
    expected.residualNames.push(x);
  }
  const outputs = [g.output('last_hidden_state', 'float32', ['batch_size', 'sequence_length', hidden])];
  return {
    graph: g.toGraphProto('main_graph'),
    opsets: [{ domain: '', version: OPSET }],
    onnxFile: 'onnx/model.onnx',
    dtype: 'float32',
    quantized: false,
    inputs: io.specs,
    outputs,
    mainOutput: 'last_hidden_state',
    expected,
    config: {
      model_type: 'bert',
      architectures: ['BertModel'],
      intermediate_size: intermediate,
      hidden_act: 'gelu',
      max_position_embeddings: o.maxPositions,
      type_vocab_size: TYPE_VOCAB,
      layer_norm_eps: LN_EPS,
      position_embedding_type: 'absolute',
    },
    producer: { name: 'pytorch', version: '2.5.1' },
  };
}
