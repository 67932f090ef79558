/**
 * Models from real exporters (../shared/models, found through LAYER_PROFILER_TEST_MODELS):
 * layers found by structure, probes equal to float64 statistics of the raw residuals.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { inspectModel, LayerProfiler } from '../src/core/profiler';
import { SpineNotFoundError } from '../src/core/graph/spine';
import { referenceTextStats, relClose } from './support/reference';
import { TextAccumulator } from '../src/core/stats/textStats';
import { feedWindow } from '../src/core/stats/feedWindow';

const root = process.env.LAYER_PROFILER_TEST_MODELS;

const CASES: { file: string; layers: number; vocab: number; rel: number; positions?: number }[] = [
  { file: 'ort-genai-tiny-random-llama-fp16/model.onnx', layers: 2, vocab: 32000, rel: 2e-3 },
  { file: 'ort-genai-tiny-random-gpt2-fp32/past.onnx', layers: 5, vocab: 1000, rel: 1e-4 },
  // Takes one token per run (decoded through its cache) and has 8 positions: windows are capped at 8.
  { file: 'ort-testdata/gpt2_past.onnx', layers: 12, vocab: 20, rel: 1e-4, positions: 8 },
  { file: 'ort-testdata/bert_toy_optimized.onnx', layers: 5, vocab: 99, rel: 1e-3 },
  { file: 'ort-testdata/TFBertForQuestionAnswering.onnx', layers: 24, vocab: 20, rel: 1e-3 },
];

describe('real-exporter models', function () {
  before(function () {
    if (!root || !existsSync(root)) {
      if (process.env.CI) throw new Error('LAYER_PROFILER_TEST_MODELS must point at shared/models in CI');
      this.skip();
    }
  });

  for (const c of CASES) {
    describe(c.file, () => {
      it(`finds ${c.layers} layers by structure, each with attention and MLP sub-steps`, async () => {
        const r = await inspectModel({ kind: 'local', path: path.join(root!, c.file) });
        assert.equal(r.layers.length, c.layers);
        assert.deepEqual(r.layers.map((l) => l.layer), [...Array(c.layers).keys()]);
        for (const l of r.layers) assert.deepEqual(l.substeps.map((s) => s.kind), ['attention', 'mlp']);
        // Consecutive blocks chain: each block starts where the previous one ended.
        for (let i = 1; i < r.layers.length; i++) assert.equal(r.layers[i].residualIn, r.layers[i - 1].residual);
      });

      it('in-graph probes equal float64 statistics of the raw residuals', async () => {
        const profiler = await LayerProfiler.open({ kind: 'local', path: path.join(root!, c.file) }, { raw: true });
        try {
          if (c.positions) assert.equal(profiler.windowLength({ maxTokens: 512 }), c.positions, 'the default window is capped at the position table');
          const len = profiler.windowLength({ maxTokens: c.positions ? 512 : 9 });
          const ids = (seed: number, n: number) => Array.from({ length: n }, (_, i) => (seed * 7 + i * 13) % c.vocab);
          // One text of two windows, batched with a shorter text (so padding is present).
          const textA = ids(1, len > 1 ? len * 2 - 1 : 2);
          const textB = ids(2, Math.max(1, len - 2));
          const windows = [textA.slice(0, len), textA.slice(len), textB];
          const values = await profiler.runWindows(windows, 3);
          // Batched with padding equals each window run alone.
          const alone = await profiler.runWindows(windows, 1);
          values.forEach((v, w) => {
            for (let i = 0; i < v.absMean.length; i++) {
              assert.ok(relClose(v.absMean[i], alone[w].absMean[i], c.rel, 1e-6), `window ${w} value ${i}: batched ${v.absMean[i]} vs alone ${alone[w].absMean[i]}`);
            }
          });
          const acc = new TextAccumulator(c.layers, profiler.session.substepKinds);
          for (const v of values.slice(0, 2)) {
            const L = c.layers;
            feedWindow(acc, v, L);
          }
          const got = acc.finish();
          const ref = referenceTextStats(values.slice(0, 2));
          assert.equal(got.tokens, textA.length);
          for (let l = 0; l < c.layers; l++) {
            assert.ok(relClose(got.layers[l].absMean, ref.absMean[l], c.rel), `layer ${l} absMean ${got.layers[l].absMean} vs ${ref.absMean[l]}`);
            assert.ok(relClose(got.layers[l].l2, ref.l2[l], c.rel), `layer ${l} l2 ${got.layers[l].l2} vs ${ref.l2[l]}`);
            assert.ok(Math.abs(got.layers[l].mean - ref.mean[l]) <= c.rel * ref.absMean[l] + 1e-7, `layer ${l} mean ${got.layers[l].mean} vs ${ref.mean[l]}`);
            assert.ok(ref.absMean[l] > 0, 'each layer changes the residual');
          }
        } finally {
          await profiler.dispose();
        }
      });
    });
  }

  for (const file of ['ort-genai-tiny-random-llama-fp16/model.onnx', 'ort-genai-tiny-random-gpt2-fp32/past.onnx']) {
    it(`${file}: token-by-token decoding through its cache matches the full pass`, async () => {
      const spec = { kind: 'local' as const, path: path.join(root!, file) };
      const full = await LayerProfiler.open(spec);
      const stepwise = await LayerProfiler.open(spec, { incremental: true });
      try {
        const ids = [[5, 9, 2, 7, 11, 3, 8]];
        const [a] = await full.runWindows(ids, 1);
        const [b] = await stepwise.runWindows(ids, 1);
        for (let i = 0; i < a.absMean.length; i++) assert.ok(relClose(a.absMean[i], b.absMean[i], 5e-3, 1e-5), `value ${i}: ${a.absMean[i]} vs ${b.absMean[i]}`);
      } finally {
        await full.dispose();
        await stepwise.dispose();
      }
    });
  }

  it('ort-genai-tiny-random-llama-fp16: a long text in windows continues through the cache (token by token after the prompt, as the build requires) and equals one pass', async () => {
    const profiler = await LayerProfiler.open({ kind: 'local', path: path.join(root!, 'ort-genai-tiny-random-llama-fp16') });
    try {
      const text = 'def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n';
      const one = await profiler.profileText(text, { maxTokens: 512, batchSize: 1 });
      const split = await profiler.profileText(text, { maxTokens: 8, batchSize: 1 });
      assert.ok(split.stats.windows > 2);
      assert.equal(split.stats.exact, true);
      one.stats.layers.forEach((l, i) => assert.ok(relClose(split.stats.layers[i].absMean, l.absMean, 5e-3), `layer ${i}: ${split.stats.layers[i].absMean} vs ${l.absMean}`));
    } finally {
      await profiler.dispose();
    }
  });

  it('refuses the BeamSearch-wrapped model with a message that says why and what to do', async () => {
    await assert.rejects(inspectModel({ kind: 'local', path: path.join(root!, 'ort-testdata/tiny_gpt2_beamsearch.onnx') }), (err: Error) => {
      assert.ok(err instanceof SpineNotFoundError);
      assert.match(err.message, /BeamSearch/);
      assert.match(err.message, /Export the plain decoder/);
      return true;
    });
  });
});
