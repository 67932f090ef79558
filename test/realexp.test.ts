/**
 * Tiny decoders from the exporters real ONNX repos are made with (../shared/models/realexp, found
 * through LAYER_PROFILER_TEST_MODELS): Optimum through transformers.js's scripts, the
 * onnxruntime-genai builder, PyTorch's dynamo exporter. Each folder is profiled as a user would
 * (the folder itself) and compared with reference.json: per-layer statistics computed in float64
 * by PyTorch from the source model's hooked block outputs, independently of ONNX.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DTYPES } from '../src/core/api';
import { onnxPathForDtype } from '../src/core/model/dtype';
import { LayerProfiler } from '../src/core/profiler';
import { referenceTextStats, relClose } from './support/reference';

const root = process.env.LAYER_PROFILER_TEST_MODELS ? path.join(process.env.LAYER_PROFILER_TEST_MODELS, 'realexp') : undefined;

interface Reference {
  num_layers: number;
  per_text: { text: string; input_ids: number[]; layers: { layer: number; delta_mean: number; delta_abs_mean: number }[] }[];
}

const folders = root && existsSync(root) ? readdirSync(root).filter((d) => existsSync(path.join(root, d, 'reference.json'))).sort() : [];

/** The dtypes other than fp32 a transformers.js-style folder holds (onnx/model_<suffix>.onnx). */
const otherDtypes = (dir: string) => DTYPES.filter((d) => d !== 'fp32' && existsSync(path.join(dir, onnxPathForDtype(d))));

/**
 * What a text's statistics must be: for fp32 folders PyTorch's float64 reference; for quantized
 * builds (the genai int4 folder) float64 statistics of the build's own raw residuals over one pass.
 */
async function expected(profiler: LayerProfiler, t: Reference['per_text'][number]): Promise<Pick<Reference['per_text'][number], 'layers'>> {
  return profiler.dtype === 'fp32' ? t : fromRaw(referenceTextStats(await profiler.runWindows([t.input_ids], 1)));
}

/** Reference-shaped per-layer values from float64 statistics of raw residuals. */
function fromRaw(r: { mean: number[]; absMean: number[] }): Pick<Reference['per_text'][number], 'layers'> {
  return { layers: r.mean.map((m, layer) => ({ layer, delta_mean: m, delta_abs_mean: r.absMean[layer] })) };
}

describe('real-exporter decoders (realexp)', function () {
  before(function () {
    if (!root || !existsSync(root)) {
      if (process.env.CI) throw new Error('LAYER_PROFILER_TEST_MODELS must point at shared/models in CI');
      this.skip();
    }
  });

  for (const folder of folders) {
    describe(folder, () => {
      const dir = path.join(root!, folder);
      const ref = JSON.parse(readFileSync(path.join(dir, 'reference.json'), 'utf8')) as Reference;

      /** Each layer's mean and abs mean within `rel` of the reference, relative to the layer's abs mean. */
      const checkText = (got: { layers: { mean: number; absMean: number }[] }, want: Pick<Reference['per_text'][number], 'layers'>, rel: number, what: string) => {
        assert.equal(got.layers.length, ref.num_layers);
        for (const l of want.layers) {
          const g = got.layers[l.layer];
          const scale = l.delta_abs_mean;
          assert.ok(Math.abs(g.absMean - l.delta_abs_mean) <= rel * scale, `${what} layer ${l.layer} absMean ${g.absMean} vs ${l.delta_abs_mean}`);
          assert.ok(Math.abs(g.mean - l.delta_mean) <= rel * scale, `${what} layer ${l.layer} mean ${g.mean} vs ${l.delta_mean}`);
        }
      };

      it('from the folder: tokens and every layer within 1e-4 of the reference, in one window and in windows of 8', async () => {
        const profiler = await LayerProfiler.open({ kind: 'local', path: dir }, { raw: true });
        try {
          assert.equal(profiler.numLayers, ref.num_layers);
          const tokenizer = await profiler.getTokenizer();
          for (const [i, t] of ref.per_text.entries()) {
            assert.deepEqual(tokenizer.encode(t.text).ids, t.input_ids, `text ${i} tokenizes as the reference did`);
            const want = await expected(profiler, t);
            const one = await profiler.profileText(t.text, { maxTokens: 512, batchSize: 4 });
            assert.equal(one.stats.windows, 1);
            checkText(one.stats, want, 1e-4, `text ${i}, one window`);
            // Windows of 8 tokens: exact where the graph has a KV cache to carry.
            const split = await profiler.profileText(t.text, { maxTokens: 8, batchSize: 4 });
            assert.equal(split.stats.windows, Math.ceil(t.input_ids.length / 8));
            assert.equal(split.stats.exact, profiler.session.carriesCache);
            if (profiler.session.carriesCache) checkText(split.stats, want, 1e-4, `text ${i}, windows of 8`);
          }
        } finally {
          await profiler.dispose();
        }
      });

      it('a dataset of the reference texts, batched with padding, summarises the per-text reference values', async () => {
        const profiler = await LayerProfiler.open({ kind: 'local', path: dir }, { raw: true });
        try {
          const run = profiler.profileDataset({ name: 'ref', texts: ref.per_text.map((t, i) => ({ label: `t${i}`, text: t.text })) }, { maxTokens: 512, batchSize: 4 });
          let step = await run.next();
          while (!step.done) step = await run.next();
          const result = step.value;
          assert.equal(result.texts, ref.per_text.length);
          const wanted = [];
          for (const t of ref.per_text) wanted.push(await expected(profiler, t));
          for (let l = 0; l < ref.num_layers; l++) {
            const values = wanted.map((t) => t.layers[l].delta_abs_mean);
            const mean = values.reduce((a, b) => a + b, 0) / values.length;
            assert.ok(Math.abs(result.layers[l].absMean.mean - mean) <= 1e-4 * mean, `layer ${l}: ${result.layers[l].absMean.mean} vs ${mean}`);
          }
        } finally {
          await profiler.dispose();
        }
      });

      for (const dtype of otherDtypes(dir)) {
        it(`--dtype ${dtype} from the folder: probes equal float64 statistics of its own raw residuals, batched with padding`, async () => {
          const profiler = await LayerProfiler.open({ kind: 'local', path: dir, dtype }, { raw: true });
          try {
            assert.equal(profiler.numLayers, ref.num_layers);
            assert.equal(profiler.modelInfo().file, onnxPathForDtype(dtype));
            assert.equal(profiler.modelInfo().dtype, dtype);
            const [a, b] = ref.per_text.map((t) => t.input_ids);
            const values = await profiler.runWindows([a, b], 2);
            for (const [w, v] of values.entries()) {
              const want = referenceTextStats([v]);
              for (let l = 0; l < ref.num_layers; l++) {
                let absMean = 0;
                let mean = 0;
                for (let t = 0; t < v.tokens; t++) {
                  absMean += v.absMean[t * ref.num_layers + l] / v.tokens;
                  mean += v.mean[t * ref.num_layers + l] / v.tokens;
                }
                assert.ok(relClose(absMean, want.absMean[l], 1e-4), `window ${w} layer ${l} absMean ${absMean} vs ${want.absMean[l]}`);
                assert.ok(Math.abs(mean - want.mean[l]) <= 1e-4 * want.absMean[l], `window ${w} layer ${l} mean ${mean} vs ${want.mean[l]}`);
              }
            }
          } finally {
            await profiler.dispose();
          }
        });
      }
    });
  }
});
