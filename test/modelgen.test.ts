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
import { DEFAULT_CACHE_DIR, ensureModel, generateModel, makeFeeds, MODEL_STYLES, type GeneratedModel, type GenOptions, type ModelStyle } from './modelgen';
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
