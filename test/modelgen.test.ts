/**
 * The model generator's own checks: every style loads in onnxruntime-node, batched runs with right
 * padding match unbatched ones on the real tokens, the tokenizer covers arbitrary text with ids
 * below the vocabulary size, the expected spine names exist in the graph, and bench-size
 * generation stays fast.
 */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { DEFAULT_CACHE_DIR, ensureModel, generateModel, makeFeeds, MODEL_STYLES, presentNameFor, type GeneratedModel, type GenOptions, type ModelStyle } from './modelgen';
import { fromHalfBits } from './modelgen/onnx/float16';

const TEXT_LONG = '#include <vector>\n// Ünïcödé comment: 日本語 🙂\nint main() {\n  std::vector<int> v{1, 2, 3};\n  return v.size();\n}\n';
const TEXT_SHORT = 'def f(x):\n    return x * 2\n';

interface Case {
  label: string;
  style: ModelStyle;
  opts?: Partial<GenOptions>;
}

const CASES: Case[] = [
  ...MODEL_STYLES.map((style) => ({ label: style, style })),
  { label: 'optimum-llama fp16', style: 'optimum-llama', opts: { fp16: true } },
  { label: 'merged-if fp16', style: 'merged-if', opts: { fp16: true } },
];

async function loadTokenizer(dir: string): Promise<Tokenizer> {
  const json = JSON.parse(await readFile(path.join(dir, 'tokenizer.json'), 'utf8')) as object;
  const config = JSON.parse(await readFile(path.join(dir, 'tokenizer_config.json'), 'utf8')) as object;
  return new Tokenizer(json, config);
}

function toNumbers(t: ort.Tensor): Float64Array {
  if (t.type === 'float16') return Float64Array.from(t.data as Uint16Array, fromHalfBits);
  if (t.type === 'float32') return Float64Array.from(t.data as Float32Array);
  throw new Error(`unexpected output type ${t.type}`);
}

/** Rows [start, start + tokens) of a [batch, seq, width] tensor's batch row `b`. */
function rows(t: ort.Tensor, b: number, tokens: number): Float64Array {
  const [, seq, width] = t.dims;
  return toNumbers(t).subarray(b * seq * width, (b * seq + tokens) * width);
}

function maxRelDiff(a: Float64Array, b: Float64Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return worst;
}

/** ||a - b|| / ||b||. */
function relL2Diff(a: Float64Array, b: Float64Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

function allNodes(graph: onnx.IGraphProto): onnx.INodeProto[] {
  const out: onnx.INodeProto[] = [];
  for (const n of graph.node ?? []) {
    out.push(n);
    for (const a of n.attribute ?? []) if (a.g) out.push(...allNodes(a.g));
  }
  return out;
}

describe('modelgen', function () {
  this.timeout(60_000);
  const sessions = new Map<string, { model: GeneratedModel; session: ort.InferenceSession }>();

  async function open(c: Case): Promise<{ model: GeneratedModel; session: ort.InferenceSession }> {
    const found = sessions.get(c.label);
    if (found) return found;
    const model = await ensureModel(c.style, c.opts);
    const session = await ort.InferenceSession.create(model.onnxPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const opened = { model, session };
    sessions.set(c.label, opened);
    return opened;
  }

  after(async () => {
    for (const { session } of sessions.values()) await session.release();
  });

  for (const c of CASES) {
    describe(c.label, () => {
      it('batched right-padded outputs match unbatched ones, and all outputs are finite', async () => {
        const { model, session } = await open(c);
        const tok = await loadTokenizer(model.dir);
        const long = tok.encode(TEXT_LONG).ids;
        const short = tok.encode(TEXT_SHORT).ids;
        assert.ok(long.length > short.length + 3, 'the texts should differ in length');
        for (const id of [...long, ...short]) assert.ok(id >= 0 && id < model.vocabSize, `id ${id} out of range`);

        const branches = model.inputs.some((i) => i.role === 'use_cache_branch') ? [false, true] : [false];
        const tol = model.dtype === 'float16' ? 1e-2 : 1e-4;
        // Dynamic quantization scales activations per tensor, so batch companions (and padding)
        // move the scale: batched and alone agree only up to the quantization step, as a whole.
        const dynamic = model.style === 'quantized-dynamic';
        const compare = dynamic ? relL2Diff : maxRelDiff;
        for (const useCacheBranch of branches) {
          const batch = await session.run(makeFeeds(model, [long, short], { useCacheBranch }));
          for (const name of model.outputs) {
            const values = toNumbers(batch[name]);
            assert.ok(values.every(Number.isFinite), `${name} has non-finite values`);
          }
          const main = batch[model.mainOutput];
          assert.deepEqual(main.dims.slice(0, 2), [2, long.length]);
          for (const [b, ids] of [long, short].entries()) {
            const alone = (await session.run(makeFeeds(model, [ids], { useCacheBranch })))[model.mainOutput];
            const diff = compare(rows(main, b, ids.length), rows(alone, 0, ids.length));
            assert.ok(diff <= (dynamic ? 0.05 : tol), `${c.label} row ${b} (use_cache_branch=${useCacheBranch}): batched differs from alone by ${diff}`);
          }
        }
      });

      it('depends on position_ids where the graph takes them', async function () {
        const { model, session } = await open(c);
        const positionInput = model.inputs.find((i) => i.role === 'position_ids');
        if (!positionInput) this.skip();
        // Rotary embeddings only see relative positions, so a uniform shift would change nothing: stretch them.
        const ids = [5, 6, 7, 8, 9, 10];
        const feeds = makeFeeds(model, [ids]);
        const base = toNumbers((await session.run(feeds))[model.mainOutput]);
        const shifted = new ort.Tensor('int64', (feeds[positionInput.name].data as BigInt64Array).map((p) => 2n * p + 1n), [1, ids.length]);
        const moved = toNumbers((await session.run({ ...feeds, [positionInput.name]: shifted }))[model.mainOutput]);
        assert.ok(maxRelDiff(moved, base) > 1e-2, 'other position_ids did not change the output');
      });

      it('exposes residual points that every layer visibly changes', async function () {
        const { model } = await open(c);
        if (model.inputs.some((i) => i.role === 'use_cache_branch')) this.skip(); // branch tensors cannot be graph outputs
        const e = model.expected;
        const points = [e.embeddingOutput, ...e.residualNames];
        const bytes = await readFile(model.onnxPath);
        const proto = onnx.ModelProto.decode(bytes);
        const elemType = model.dtype === 'float16' ? onnx.TensorProto.DataType.FLOAT16 : onnx.TensorProto.DataType.FLOAT;
        assert.ok(proto.graph);
        const probes = points.filter((n): n is string => n !== null).map((name) => ({ name, type: { tensorType: { elemType } } }));
        proto.graph.output = [...(proto.graph.output ?? []), ...probes];
        // Written beside the original so its external data file resolves.
        const probePath = path.join(path.dirname(model.onnxPath), `probe-${process.pid}.onnx`);
        await writeFile(probePath, onnx.ModelProto.encode(proto).finish());
        try {
          const session = await ort.InferenceSession.create(probePath, { intraOpNumThreads: 1 });
          const out = await session.run(makeFeeds(model, [[11, 12, 13, 14, 15, 16, 17, 18]]));
          await session.release();
          const meanAbs = (a: Float64Array): number => a.reduce((acc, v) => acc + Math.abs(v), 0) / a.length;
          for (let i = 0; i < model.numLayers; i++) {
            const before = points[i];
            const after = points[i + 1];
            if (!before || !after) continue;
            const r0 = toNumbers(out[before]);
            const r1 = toNumbers(out[after]);
            assert.equal(r0.length, r1.length);
            assert.equal(r0.length, 8 * model.hidden, `${after} is not a [1, 8, hidden] tensor`);
            const ratio = meanAbs(r1.map((v, k) => v - r0[k])) / meanAbs(r0);
            assert.ok(ratio > 0.05 && ratio < 10, `layer ${i} changes the residual by ${ratio} of its size`);
          }
        } finally {
          await rm(probePath, { force: true });
        }
      });

      it('has the model folder files and the expected spine names in its graph', async () => {
        const { model } = await open(c);
        const config = JSON.parse(await readFile(path.join(model.dir, 'config.json'), 'utf8')) as Record<string, unknown>;
        assert.equal(config.num_hidden_layers, model.numLayers);
        assert.equal(config.hidden_size, model.hidden);
        assert.equal(config.vocab_size, model.vocabSize);
        for (const f of model.externalDataFiles) await readFile(path.join(model.dir, f));

        const graph = onnx.ModelProto.decode(await readFile(model.onnxPath)).graph ?? {};
        const nodes = allNodes(graph);
        const byName = new Map(nodes.map((n) => [n.name ?? '', n]));
        const produced = new Set(nodes.flatMap((n) => n.output ?? []));
        const e = model.expected;
        assert.ok(produced.has(e.embeddingOutput), `embedding output ${e.embeddingOutput} not produced`);
        assert.equal(e.residualNodes.length, model.numLayers);
        assert.equal(e.residualNames.length, model.numLayers);
        for (const n of [...e.residualNodes, ...(e.midResidualNodes ?? [])]) {
          const node = byName.get(n);
          assert.ok(node, `residual node ${n} missing`);
          assert.match(node.opType ?? '', /^(Add|SkipLayerNormalization|SkipSimplifiedLayerNormalization)$/);
        }
        for (const t of [...e.residualNames, ...(e.midResidualNames ?? [])]) if (t !== null) assert.ok(produced.has(t), `residual tensor ${t} not produced`);
        assert.deepEqual(
          model.inputs.map((i) => i.name),
          (graph.input ?? []).map((i) => i.name),
        );
      });
    });
  }

  describe('styles from real exporters the profiler met (genai-gqa, opt-flat-mlp, moe)', () => {
    const NEW_STYLES = ['genai-gqa', 'opt-flat-mlp', 'moe'] as const;
    const caseOf = (style: ModelStyle): Case => ({ label: style, style });
    const graphOf = async (model: GeneratedModel): Promise<onnx.IGraphProto> => onnx.ModelProto.decode(await readFile(model.onnxPath)).graph ?? {};
    const attrInt = (n: onnx.INodeProto, name: string): number | undefined => {
      const a = (n.attribute ?? []).find((x) => x.name === name);
      return a ? Number(a.i) : undefined;
    };

    for (const style of NEW_STYLES) {
      it(`${style} generates the same bytes for the same seed and others for another`, async () => {
        const dir = path.join(DEFAULT_CACHE_DIR, `determinism-${style}-${process.pid}`);
        try {
          const files = async (m: GeneratedModel): Promise<Buffer[]> =>
            Promise.all([m.onnxFile, ...m.externalDataFiles, 'config.json', 'modelgen.json'].map((f) => readFile(path.join(m.dir, f))));
          const first = await generateModel(style, path.join(dir, 'a'), { seed: 7 });
          const a = await files(first);
          const b = await files(await generateModel(style, path.join(dir, 'b'), { seed: 7 }));
          const c = await files(await generateModel(style, path.join(dir, 'c'), { seed: 8 }));
          a.forEach((bytes, i) => assert.ok(bytes.equals(b[i]), `file ${i}: same seed, different bytes`));
          // Weights live in the external data file where there is one.
          const weights = first.externalDataFiles.length > 0 ? 1 : 0;
          assert.ok(!a[weights].equals(c[weights]), 'different seeds, same weights');
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      });
    }

    /**
     * Window 1 = the first `split` tokens of every row (all rows at least that long), window 2 =
     * the rest, right-padded; its logits on real tokens must equal one pass over the whole row.
     */
    async function carriedWindowsDiff(model: GeneratedModel, session: ort.InferenceSession, texts: number[][], split: number): Promise<number> {
      const first = makeFeeds(model, texts.map((r) => r.slice(0, split)));
      const out1 = await session.run(first);
      for (const input of model.inputs.filter((i) => i.role === 'past_key' || i.role === 'past_value')) {
        const present = out1[presentNameFor(input) ?? ''];
        assert.deepEqual(present.dims, [texts.length, model.kvHeads, split, model.headDim], `${input.name}'s present has the wrong shape`);
      }
      const out2 = await session.run(makeFeeds(model, texts.map((r) => r.slice(split)), { cache: { outputs: out1, attentionMask: first.attention_mask } }));
      const seq2 = Math.max(...texts.map((r) => r.length)) - split;
      let worst = 0;
      for (const [b, row] of texts.entries()) {
        const whole = (await session.run(makeFeeds(model, [row])))[model.mainOutput];
        const tail = rows(whole, 0, row.length).subarray(split * model.vocabSize);
        const carried = toNumbers(out2[model.mainOutput]).subarray(b * seq2 * model.vocabSize, (b * seq2 + row.length - split) * model.vocabSize);
        worst = Math.max(worst, maxRelDiff(carried, tail));
      }
      return worst;
    }

    const A = [40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51];
    const B = [60, 61, 62, 63, 64, 65, 66, 67];

    for (const style of ['opt-flat-mlp', 'moe'] as const) {
      it(`${style}: two windows with the KV cache carried (batch 2, right padding) equal one pass`, async () => {
        const { model, session } = await open(caseOf(style));
        const diff = await carriedWindowsDiff(model, session, [A, B], 5);
        assert.ok(diff <= 1e-4, `carried cache differs from one pass by ${diff}`);
      });
    }

    it('genai-gqa: the KV cache works: an empty past of [B, KV_HEADS, 0, HEAD_DIM], then the presents carried into a second window', async () => {
      const { model, session } = await open(caseOf('genai-gqa'));
      const empty = makeFeeds(model, [A, B]);
      assert.deepEqual(empty['past_key_values.0.key'].dims, [2, model.kvHeads, 0, model.headDim]);
      assert.equal(toNumbers((await session.run(empty)).logits).every(Number.isFinite), true);
      // Batch 1: exact.
      for (const row of [A, B]) {
        const diff = await carriedWindowsDiff(model, session, [row], 5);
        assert.ok(diff <= 1e-4, `carried cache differs from one pass by ${diff}`);
      }
      // onnxruntime's CPU GroupQueryAttention refuses several rows of several tokens on a non-empty
      // past ("batch_size must be 1 when sequence_length > 1 and past context is given"): a profiler
      // carrying the cache must run such windows one row at a time. Should a later runtime accept
      // them, the results must still be right.
      let batched: number | undefined;
      try {
        batched = await carriedWindowsDiff(model, session, [A, B], 5);
      } catch (err) {
        assert.match(String(err), /batch_size must be 1 when sequence_length > 1 and past context is given/);
      }
      if (batched !== undefined) assert.ok(batched <= 1e-4, `batched carried cache differs from one pass by ${batched}`);
    });

    it('genai-gqa declares the past as the builder does (symbolic head size) and has its genai_config.json', async () => {
      const { model } = await open(caseOf('genai-gqa'));
      assert.ok(model.kvHeads < model.heads, 'not grouped-query attention');
      assert.equal(model.headDim % 16, 0);
      const graph = await graphOf(model);
      const pastInputs = (graph.input ?? []).filter((i) => (i.name ?? '').startsWith('past_key_values.'));
      assert.equal(pastInputs.length, 2 * model.numLayers);
      // The builder's order: every key, then every value.
      assert.deepEqual(pastInputs.map((i) => i.name), [...Array.from({ length: model.numLayers }, (_, i) => `past_key_values.${i}.key`), ...Array.from({ length: model.numLayers }, (_, i) => `past_key_values.${i}.value`)]);
      for (const input of pastInputs) {
        const dims = (input.type?.tensorType?.shape?.dim ?? []).map((d) => d.dimParam || Number(d.dimValue));
        assert.deepEqual(dims, ['batch_size', model.kvHeads, 'past_sequence_length', 'kv_cache_dim']);
      }
      assert.ok(!(graph.input ?? []).some((i) => i.name === 'position_ids'), 'GQA takes positions from seqlens_k');
      const nodes = graph.node ?? [];
      const gqa = nodes.filter((n) => n.opType === 'GroupQueryAttention');
      assert.equal(gqa.length, model.numLayers);
      for (const n of gqa) {
        assert.equal(n.domain, 'com.microsoft');
        assert.equal(attrInt(n, 'num_heads'), model.heads);
        assert.equal(attrInt(n, 'kv_num_heads'), model.kvHeads);
        assert.equal(attrInt(n, 'do_rotary'), 1);
      }
      const byOutput = new Map(nodes.flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
      const seqlens = byOutput.get(gqa[0].input?.[5] ?? '');
      assert.equal(seqlens?.opType, 'Cast');
      assert.equal(byOutput.get(seqlens?.input?.[0] ?? '')?.opType, 'Sub');
      assert.equal(byOutput.get(gqa[0].input?.[6] ?? '')?.opType, 'Cast');
      assert.equal(nodes.filter((n) => n.opType === 'SkipSimplifiedLayerNormalization').length, 2 * model.numLayers);
      assert.equal(nodes.filter((n) => n.opType === 'SimplifiedLayerNormalization').length, 1);
      assert.deepEqual(model.externalDataFiles, ['model.onnx.data']);

      const genai = JSON.parse(await readFile(path.join(model.dir, 'genai_config.json'), 'utf8')) as { model: { context_length: number; vocab_size: number; decoder: Record<string, unknown> } };
      assert.equal(genai.model.decoder.head_size, model.headDim);
      assert.equal(genai.model.decoder.num_key_value_heads, model.kvHeads);
      assert.equal(genai.model.decoder.num_attention_heads, model.heads);
      assert.equal(genai.model.decoder.hidden_size, model.hidden);
      assert.equal(genai.model.decoder.num_hidden_layers, model.numLayers);
      assert.equal(genai.model.vocab_size, model.vocabSize);
      assert.equal(genai.model.context_length, model.options.maxPositions);
      const config = JSON.parse(await readFile(path.join(model.dir, 'config.json'), 'utf8')) as Record<string, unknown>;
      assert.equal(config.num_key_value_heads, model.kvHeads);
    });

    it('opt-flat-mlp joins the MLP residual on the flattened [batch*tokens, hidden] view', async () => {
      const { model, session } = await open(caseOf('opt-flat-mlp'));
      const graph = await graphOf(model);
      const nodes = graph.node ?? [];
      const byName = new Map(nodes.map((n) => [n.name ?? '', n]));
      const byOutput = new Map(nodes.flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
      const consumers = (t: string): onnx.INodeProto[] => nodes.filter((n) => (n.input ?? []).includes(t));
      for (let i = 0; i < model.numLayers; i++) {
        const join = byName.get(model.expected.residualNodes[i]);
        assert.equal(join?.opType, 'Add');
        const [flatMid, mlpOut] = join?.input ?? [];
        const flatten = byOutput.get(flatMid);
        assert.equal(flatten?.opType, 'Reshape', 'the residual input of the MLP join is not the flattened stream');
        assert.equal(flatten?.input?.[0], model.expected.midResidualNames?.[i]);
        assert.equal(byOutput.get(mlpOut)?.opType, 'Gemm');
        // resid_post is the join's own flat output; a Reshape views it as [batch, tokens, hidden] again.
        assert.equal(join?.output?.[0], model.expected.residualNames[i]);
        const back = consumers(join?.output?.[0] ?? '');
        assert.deepEqual(back.map((n) => n.opType), ['Reshape']);
      }
      // The join's output (resid_post) is rank 2: [batch * tokens, hidden].
      const proto = onnx.ModelProto.decode(await readFile(model.onnxPath));
      const flatName = byName.get(model.expected.residualNodes[0])?.output?.[0] ?? '';
      proto.graph!.output = [...(proto.graph!.output ?? []), { name: flatName, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } }];
      const probe = await ort.InferenceSession.create(onnx.ModelProto.encode(proto).finish(), { intraOpNumThreads: 1 });
      try {
        const out = await probe.run(makeFeeds(model, [A, B]));
        assert.deepEqual(out[flatName].dims, [2 * A.length, model.hidden]);
      } finally {
        await probe.release();
      }
      void session;
    });

    it('moe sums expert outputs with a chain of Adds inside each block, as index_add_ exports', async () => {
      const { model } = await open(caseOf('moe'));
      const graph = await graphOf(model);
      const nodes = graph.node ?? [];
      const byName = new Map(nodes.map((n) => [n.name ?? '', n]));
      const byOutput = new Map(nodes.flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
      const config = JSON.parse(await readFile(path.join(model.dir, 'config.json'), 'utf8')) as Record<string, number>;
      const experts = config.num_experts;
      assert.ok(experts >= 2);
      assert.equal(nodes.filter((n) => n.opType === 'TopK').length, model.numLayers);
      assert.equal(nodes.filter((n) => n.opType === 'ScatterElements').length, experts * model.numLayers);
      const inner = model.expected.innerAddNodes ?? [];
      assert.equal(inner.length, experts * model.numLayers);
      for (let i = 0; i < model.numLayers; i++) {
        const chain = inner.slice(i * experts, (i + 1) * experts).map((n) => byName.get(n));
        // acc_0 = ConstantOfShape zeros; acc_e+1 = Add(acc_e, ScatterElements(zeros, Expand(token), expert_e * weight)).
        assert.equal(byOutput.get(chain[0]?.input?.[0] ?? '')?.opType, 'ConstantOfShape');
        chain.forEach((add, e) => {
          assert.equal(add?.opType, 'Add');
          assert.equal(byOutput.get(add?.input?.[1] ?? '')?.opType, 'ScatterElements');
          if (e > 0) assert.equal(add?.input?.[0], chain[e - 1]?.output?.[0]);
        });
        const reshape = nodes.find((n) => n.opType === 'Reshape' && n.input?.[0] === chain[experts - 1]?.output?.[0]);
        assert.ok(reshape, 'the expert sum is not reshaped back to [batch, tokens, hidden]');
        const join = byName.get(model.expected.residualNodes[i]);
        assert.deepEqual(join?.input, [model.expected.midResidualNames?.[i], reshape.output?.[0]]);
        // The router: MatMul -> Softmax -> TopK.
        const topk = nodes.find((n) => n.opType === 'TopK' && (n.name ?? '').startsWith(`/model/layers.${i}/mlp/`));
        const softmax = byOutput.get(topk?.input?.[0] ?? '');
        assert.equal(softmax?.opType, 'Softmax');
        assert.equal(byOutput.get(softmax?.input?.[0] ?? '')?.opType, 'MatMul');
      }
    });
  });

  it('tokenizer round-trips code, whitespace and unicode with ids below the vocabulary size', async () => {
    const model = await ensureModel('optimum-llama');
    const tok = await loadTokenizer(model.dir);
    const texts = [
      'template <typename T> T max(T a, T b) { return a > b ? a : b; }\r\n',
      'async def main():\n\tawait asyncio.sleep(0.1)  # naïve café\n',
      '\u0000\u0007 tabs\t\tand  spaces   \n\n\n',
      'Ελληνικά, русский, العربية, 中文, emoji 👩‍💻🚀',
    ];
    for (const text of texts) {
      const { ids } = tok.encode(text);
      assert.ok(ids.every((id) => id >= 0 && id < model.vocabSize));
      assert.equal(tok.decode(ids), text);
    }
    assert.equal(tok.get_vocab(true).size, model.vocabSize);
    assert.equal(tok.token_to_id('[PAD]'), model.padTokenId);
  });

  it('is deterministic per seed', async () => {
    const dir = path.join(DEFAULT_CACHE_DIR, `determinism-${process.pid}`);
    try {
      const a = await generateModel('optimum-llama', path.join(dir, 'a'), { seed: 7, layers: 1 });
      const b = await generateModel('optimum-llama', path.join(dir, 'b'), { seed: 7, layers: 1 });
      const c = await generateModel('optimum-llama', path.join(dir, 'c'), { seed: 8, layers: 1 });
      const [ba, bb, bc] = await Promise.all([a, b, c].map((m) => readFile(m.onnxPath)));
      assert.ok(ba.equals(bb), 'same seed, different bytes');
      assert.ok(!ba.equals(bc), 'different seeds, same bytes');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('generates the bench-size model (hidden 512, 8 layers, vocab 4000) in seconds', async () => {
    const dir = path.join(DEFAULT_CACHE_DIR, `bench-size-${process.pid}`);
    try {
      const start = Date.now();
      const m = await generateModel('optimum-llama', dir, { hidden: 512, layers: 8, vocabSize: 4000 });
      const seconds = (Date.now() - start) / 1000;
      assert.ok(seconds < 10, `took ${seconds} s`);
      assert.equal(m.intermediate, 1024);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
