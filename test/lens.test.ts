/**
 * The logit lens against independent computations:
 * - its final point against the unmodified model's own `logits` output (a plain ONNX Runtime
 *   session of the exported file), reduced in float64 here, on every generated decoder style and
 *   every dtype of the shared real exports;
 * - an intermediate point of the generated Llama against float64 RMSNorm and head applied here to
 *   the raw residual, with the weights read from the initializers;
 * - every point of the real exports against lens_reference.json (PyTorch float64, the model's own
 *   final-norm module and head on hooked block outputs).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { DTYPES } from '../src/core/api';
import { LensUnsupportedError } from '../src/core/graph/lens';
import { LogitLens } from '../src/core/lens/logitLens';
import type { LensText } from '../src/core/lens/lensResults';
import { onnxPathForDtype } from '../src/core/model/dtype';
import { LayerProfiler } from '../src/core/profiler';
import { buildFeeds, planFeeds } from '../src/core/runtime/feeds';
import { ensureModel } from './modelgen';
import { MODEL_STYLES } from './modelgen/types';

const TEXT = 'def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n';

/** Entropy, log-probabilities and the arg max of one row of logits, in float64. */
function softmaxStats(logits: ArrayLike<number>, offset: number, V: number): { entropy: number; logp: (id: number) => number; top: number } {
  let max = -Infinity;
  let top = 0;
  for (let v = 0; v < V; v++) if (logits[offset + v] > max) (max = logits[offset + v]), (top = v);
  let sum = 0;
  for (let v = 0; v < V; v++) sum += Math.exp(logits[offset + v] - max);
  const lse = max + Math.log(sum);
  let entropy = 0;
  for (let v = 0; v < V; v++) {
    const lp = logits[offset + v] - lse;
    entropy -= Math.exp(lp) * lp;
  }
  return { entropy, logp: (id) => logits[offset + id] - lse, top };
}

/** The unmodified model's logits for `ids` (batch 1), from a plain session over the exported file. */
async function modelLogits(file: string, ids: number[], cache: { kvHeads?: number; headDim?: number }, graphOptimizationLevel: 'disabled' | 'all' = 'all'): Promise<{ data: Float32Array; V: number }> {
  const session = await ort.InferenceSession.create(file, { logSeverityLevel: 4, graphOptimizationLevel });
  try {
    const plan = planFeeds(session.inputMetadata, cache);
    const out = await session.run(buildFeeds(plan, { ids: [ids], length: ids.length, padId: 0 }), [session.outputNames.find((n) => /logits/.test(n)) ?? session.outputNames[0]]);
    const logits = Object.values(out)[0];
    const data = logits.type === 'float16' ? Float32Array.from(logits.data as Uint16Array, halfToFloat) : (logits.data as Float32Array);
    return { data, V: logits.dims[logits.dims.length - 1] };
  } finally {
    await session.release();
  }
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** The lens's last point equals the model's own distribution at every position. */
function checkFinalPoint(read: LensText, logits: { data: Float32Array; V: number }, tol: number): void {
  const final = read.points[read.points.length - 1];
  read.ids.forEach((_, t) => {
    const ref = softmaxStats(logits.data, t * logits.V, logits.V);
    assert.ok(Math.abs(final.entropy[t] - ref.entropy) <= tol, `position ${t} entropy ${final.entropy[t]} vs ${ref.entropy}`);
    assert.equal(final.klToFinal[t], 0);
    if (t + 1 < read.ids.length) assert.ok(Math.abs(final.nextLogProb[t]! - ref.logp(read.ids[t + 1])) <= tol, `position ${t} next log p`);
    assert.ok(Math.abs(Math.log(final.top[t][0].p) - ref.logp(final.top[t][0].id)) <= tol, `position ${t} top-1 p`);
    assert.ok(ref.logp(final.top[t][0].id) >= ref.logp(ref.top) - tol, `position ${t}: top-1 ${final.top[t][0].id} vs ${ref.top}`);
  });
}

describe('logit lens on generated models', function () {
  for (const style of MODEL_STYLES) {
    it(`${style}: the last point reproduces the model's own logits${style === 'bert-postnorm' ? ' (refused: no next-token head)' : ''}`, async () => {
      const m = await ensureModel(style);
      if (style === 'bert-postnorm') {
        await assert.rejects(LogitLens.open({ kind: 'local', path: m.dir }), (e: Error) => e instanceof LensUnsupportedError && /post-norm encoder/.test(e.message));
        return;
      }
      // ORT's optimizer fuses quantized (QDQ) graphs differently as their structure changes, which
      // moves their logits by up to ~1e-2: such models are compared with fusions off on both sides.
      const level = style.startsWith('quantized') ? 'disabled' : 'all';
      const lens = await LogitLens.open({ kind: 'local', path: m.dir }, { k: 3, graphOptimizationLevel: level });
      try {
        const read = await lens.lensText('t', TEXT, { maxTokens: 512, batchSize: 1 });
        assert.deepEqual(read.points.map((p) => p.layer), [-1, ...Array.from({ length: m.numLayers }, (_, i) => i)]);
        const config = lens.resolved.config;
        // fp16 activations round at ~1e-3.
        const tol = style === 'genai-fused' ? 2e-2 : 1e-4;
        checkFinalPoint(read, await modelLogits(m.onnxPath, read.ids, { kvHeads: config?.kvHeads, headDim: config?.headDim }, level), tol);
        // Windows of 7 tokens, continued through the KV cache where the graph has one, give the same lens.
        // (Not for dynamically quantized activations: one scale per pass makes windows differ by quantization noise.)
        if (lens.session.carriesCache && !lens.session.oneWindowAtATime) {
          const split = await lens.lensText('t', TEXT, { maxTokens: 7, batchSize: 1 });
          split.points.forEach((p, i) => p.entropy.forEach((e, t) => assert.ok(Math.abs(e - read.points[i].entropy[t]) <= Math.max(tol, 1e-4), `point ${p.layer} position ${t}`)));
        }
      } finally {
        await lens.dispose();
      }
    });
  }

  it('an intermediate point equals float64 RMSNorm and head applied to the raw residual (generated Llama)', async () => {
    const m = await ensureModel('optimum-llama');
    const lens = await LogitLens.open({ kind: 'local', path: m.dir }, { k: 3 });
    const profiler = await LayerProfiler.open({ kind: 'local', path: m.dir }, { raw: true });
    try {
      const read = await lens.lensText('t', TEXT, { maxTokens: 512, batchSize: 1 });
      const [raw] = await profiler.runWindows([read.ids], 1);
      // The file decoded whole (the profiler's reader leaves large weights in the file).
      const model = { initializers: new Map((onnx.ModelProto.decode(readFileSync(m.onnxPath)).graph!.initializer ?? []).map((t) => [t.name!, t])) };
      const floats = (name: string) => Float64Array.from(new Float32Array(Uint8Array.from(model.initializers.get(name)!.rawData!).buffer));
      const gamma = floats('model.norm.weight');
      const H = gamma.length;
      const config = JSON.parse(readFileSync(path.join(m.dir, 'config.json'), 'utf8')) as { rms_norm_eps: number; vocab_size: number };
      const V = config.vocab_size;
      const headInit = [...model.initializers.values()].find((t) => t.dims?.length === 2 && Number(t.dims[0]) === H && Number(t.dims[1]) === V)!;
      const W = floats(headInit.name!);
      const eps = config.rms_norm_eps;
      for (const point of [0, 1]) {
        // resid_post of block `point`: raw point point + 1.
        const x = raw.raw![point + 1];
        for (let t = 0; t < read.ids.length; t++) {
          let ms = 0;
          for (let h = 0; h < H; h++) ms += x[t * H + h] ** 2;
          const scale = 1 / Math.sqrt(ms / H + eps);
          const logits = new Float64Array(V);
          for (let h = 0; h < H; h++) {
            const y = x[t * H + h] * scale * gamma[h];
            for (let v = 0; v < V; v++) logits[v] += y * W[h * V + v];
          }
          const ref = softmaxStats(logits, 0, V);
          const got = read.points[point + 1];
          assert.ok(Math.abs(got.entropy[t] - ref.entropy) <= 1e-4, `block ${point} position ${t} entropy ${got.entropy[t]} vs ${ref.entropy}`);
          if (t + 1 < read.ids.length) assert.ok(Math.abs(got.nextLogProb[t]! - ref.logp(read.ids[t + 1])) <= 1e-4, `block ${point} position ${t} next log p`);
          assert.ok(ref.logp(got.top[t][0].id) >= ref.logp(ref.top) - 1e-5, `block ${point} position ${t} top-1`);
        }
      }
    } finally {
      await lens.dispose();
      await profiler.dispose();
    }
  });

  it('dataset summaries pool the per-position values of its texts', async () => {
    const m = await ensureModel('optimum-llama');
    const lens = await LogitLens.open({ kind: 'local', path: m.dir }, { k: 2 });
    try {
      const texts = [TEXT, 'int main() { return 0; }'];
      const run = lens.lensDataset({ name: 'd', texts: texts.map((text, i) => ({ label: `t${i}`, text })) }, { maxTokens: 512, batchSize: 1 });
      let step = await run.next();
      while (!step.done) step = await run.next();
      const d = step.value;
      const reads: LensText[] = [];
      for (const t of texts) reads.push(await lens.lensText('t', t, { maxTokens: 512, batchSize: 1 }));
      d.points.forEach((p, i) => {
        const entropy = reads.flatMap((r) => r.points[i].entropy);
        const nll = reads.flatMap((r) => r.points[i].nextLogProb.filter((v): v is number => v !== null).map((v) => -v));
        const top1 = reads.flatMap((r) => r.points[i].nextLogProb.flatMap((v, t) => (v === null ? [] : [r.points[i].top[t][0].id === r.ids[t + 1] ? 1 : 0])));
        const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
        assert.ok(Math.abs(p.entropy - mean(entropy)) < 1e-9, `point ${p.layer} entropy`);
        assert.ok(Math.abs(p.nll - mean(nll)) < 1e-9, `point ${p.layer} nll`);
        assert.equal(p.top1, mean(top1));
        assert.equal(d.lastPosition[i].entropy, mean(reads.map((r) => r.points[i].entropy[r.ids.length - 1])));
      });
      assert.equal(d.points[d.points.length - 1].klToFinal, 0);
      assert.equal(d.points[d.points.length - 1].agreeFinal, 1);
      assert.equal(d.records.length, 2);
    } finally {
      await lens.dispose();
    }
  });
});

const realexp = process.env.LAYER_PROFILER_TEST_MODELS ? path.join(process.env.LAYER_PROFILER_TEST_MODELS, 'realexp') : undefined;

interface LensReference {
  texts: { text: string; input_ids: number[]; layers: { layer: number; entropy: number[]; top5_ids: number[][]; top5_probs: number[][]; next_token_logprob: number[]; kl_to_final: number[] }[] }[];
}

describe('logit lens on real exports (realexp)', function () {
  before(function () {
    if (!realexp || !existsSync(realexp)) {
      if (process.env.CI) throw new Error('LAYER_PROFILER_TEST_MODELS must point at shared/models in CI');
      this.skip();
    }
  });
  const folders = realexp && existsSync(realexp) ? readdirSync(realexp).filter((d) => existsSync(path.join(realexp, d, 'lens_reference.json'))).sort() : [];
  for (const folder of folders) {
    const dir = path.join(realexp!, folder);
    it(`${folder}: every point within 1e-3 of PyTorch's float64 lens (fp32), the last point equal to the logits of every dtype`, async () => {
      const ref = JSON.parse(readFileSync(path.join(dir, 'lens_reference.json'), 'utf8')) as LensReference;
      const lens = await LogitLens.open({ kind: 'local', path: dir });
      try {
        for (const t of ref.texts) {
          const read = await lens.lensText('t', t.text, { maxTokens: 512, batchSize: 1 });
          assert.deepEqual(read.ids, t.input_ids);
          const config = lens.resolved.config;
          checkFinalPoint(read, await modelLogits(path.join(dir, lens.resolved.onnxFile), read.ids, { kvHeads: config?.kvHeads, headDim: config?.headDim }), 1e-4);
          if (lens.dtype !== 'fp32') continue; // the reference is the fp32 source model
          for (const rl of t.layers) {
            const got = read.points.find((p) => p.layer === rl.layer)!;
            rl.entropy.forEach((e, i) => {
              assert.ok(Math.abs(got.entropy[i] - e) <= 1e-3, `layer ${rl.layer} position ${i} entropy ${got.entropy[i]} vs ${e}`);
              assert.ok(Math.abs(got.klToFinal[i] - rl.kl_to_final[i]) <= 1e-3, `layer ${rl.layer} position ${i} KL`);
              if (Math.log(rl.top5_probs[i][0]) - Math.log(rl.top5_probs[i][1]) > 1e-4) assert.equal(got.top[i][0].id, rl.top5_ids[i][0], `layer ${rl.layer} position ${i} top-1`);
            });
            rl.next_token_logprob.forEach((lp, i) => assert.ok(Math.abs(got.nextLogProb[i]! - lp) <= 1e-3, `layer ${rl.layer} position ${i} next log p`));
          }
        }
      } finally {
        await lens.dispose();
      }
      // Every other dtype of the folder: the lens's last point is that file's own distribution.
      for (const dtype of DTYPES.filter((d) => d !== 'fp32' && existsSync(path.join(dir, onnxPathForDtype(d))))) {
        const q = await LogitLens.open({ kind: 'local', path: dir, dtype }, { k: 2, graphOptimizationLevel: 'disabled' });
        try {
          const read = await q.lensText('t', ref.texts[1].text, { maxTokens: 512, batchSize: 1 });
          const config = q.resolved.config;
          checkFinalPoint(read, await modelLogits(path.join(dir, onnxPathForDtype(dtype)), read.ids, { kvHeads: config?.kvHeads, headDim: config?.headDim }, 'disabled'), 1e-4);
        } finally {
          await q.dispose();
        }
      }
    });
  }
});
