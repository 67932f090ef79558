/**
 * Prepacking the weights only where it pays (runtime/prepack.ts): the decision from the weights'
 * type and the passes a job expects, the estimate of those passes from a dataset, the session
 * option that carries it to ONNX Runtime, and statistics of an unpacked session against float64
 * statistics of its raw residuals.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expectedPasses, PREPACK_MIN_PASSES, PREPACK_MIN_PASSES_INT8_DYNAMIC, prepacksWeights } from '../src/core/runtime/prepack';
import { weightStorage, type WeightStorage } from '../src/core/onnx/modelFacts';
import { readOnnxModel } from '../src/core/onnx/modelFile';
import { ortSessionOptions } from '../src/core/runtime/windowRunner';
import { datasetPasses, datasetWorkload, textPasses } from '../src/core/workload';
import { LayerProfiler } from '../src/core/profiler';
import { ensureModel } from './modelgen';
import { referenceTextStats, relClose } from './support/reference';

const BATCH = { maxBatchTokens: 512, batchSize: 16, maxTokens: 512 };

describe('prepacking the weights', () => {
  it('prepacks float weights from PREPACK_MIN_PASSES expected passes, dynamic int8 from PREPACK_MIN_PASSES_INT8_DYNAMIC, other quantized weights always, and any when the work is unknown', () => {
    assert.equal(prepacksWeights(0, 'quantized'), true);
    assert.equal(prepacksWeights(undefined, 'quantized'), true);
    for (const [storage, from] of [['float', PREPACK_MIN_PASSES], ['int8-dynamic', PREPACK_MIN_PASSES_INT8_DYNAMIC]] as const) {
      assert.equal(prepacksWeights(undefined, storage), true, storage);
      assert.equal(prepacksWeights(0, storage), false, storage);
      assert.equal(prepacksWeights(from - 1, storage), false, storage);
      assert.equal(prepacksWeights(from, storage), true, storage);
    }
  });

  it('tells how each kind of model stores its weights', async () => {
    const kinds: [Parameters<typeof ensureModel>[0], WeightStorage][] = [['genai-gqa', 'float'], ['genai-fused', 'float'], ['quantized-dynamic', 'int8-dynamic'], ['quantized', 'quantized']];
    for (const [style, storage] of kinds) {
      const m = await ensureModel(style);
      assert.equal(weightStorage(await readOnnxModel(path.join(m.dir, m.onnxFile))), storage, style);
    }
    const realexp = process.env.LAYER_PROFILER_TEST_MODELS && path.join(process.env.LAYER_PROFILER_TEST_MODELS, 'realexp');
    if (realexp && existsSync(realexp)) {
      // transformers.js's q8: MatMulInteger, and a DequantizeLinear for the quantized (tied) embedding table.
      assert.equal(weightStorage(await readOnnxModel(path.join(realexp, 'optimum-qwen2/onnx/model_quantized.onnx'))), 'int8-dynamic');
      assert.equal(weightStorage(await readOnnxModel(path.join(realexp, 'optimum-qwen2/onnx/model_q4.onnx'))), 'quantized');
      assert.equal(weightStorage(await readOnnxModel(path.join(realexp, 'genai-qwen3-int4/model.onnx'))), 'quantized');
      assert.equal(weightStorage(await readOnnxModel(path.join(realexp, 'optimum-llama/onnx/model_fp16.onnx'))), 'float');
    }
  });

  it('estimates passes from tokens per pass, texts per pass and windows (3 bytes a token)', () => {
    // 30,000 bytes = 10,000 tokens: 20 passes of 512 tokens (19.5 rounded up); 24 texts fit 2 passes of 16.
    assert.equal(expectedPasses({ texts: 24, bytes: 30_000 }, BATCH), 20);
    // 400 tiny texts: 25 passes of 16 texts, though their tokens would fill 1.
    assert.equal(expectedPasses({ texts: 400, bytes: 1200 }, BATCH), 25);
    // One token per pass asked for: no more passes than windows (24 texts + 10,000 / 512 rounded up = 44).
    assert.equal(expectedPasses({ texts: 24, bytes: 30_000 }, { ...BATCH, maxBatchTokens: 1 }), 44);
    assert.equal(expectedPasses({ texts: 0, bytes: 0 }, BATCH), 0);
    assert.equal(expectedPasses({ texts: 1, bytes: 1 }, BATCH), 1);
  });

  it('counts the texts and bytes of a dataset folder, a shard as its share', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lp-workload-'));
    writeFileSync(path.join(dir, 'a.py'), 'x'.repeat(3000));
    writeFileSync(path.join(dir, 'b.cpp'), 'y'.repeat(6000));
    writeFileSync(path.join(dir, 'c.txt'), 'z'.repeat(1000));
    assert.deepEqual(await datasetWorkload([{ name: 'd', paths: [dir] }]), { texts: 3, bytes: 10_000 });
    assert.deepEqual(await datasetWorkload([{ name: 'd', paths: [dir], shard: { index: 0, count: 2 } }]), { texts: 2, bytes: 5000 });
    // 10,000 bytes = 3,334 tokens = 7 passes of 512.
    assert.equal(await datasetPasses([{ name: 'd', paths: [dir] }], BATCH), 7);
    // Two texts of 1,000 tokens each, one 512-token window per pass: 4 passes.
    assert.equal(textPasses(['a'.repeat(3000), 'b'.repeat(3000)], { batchSize: 1, maxBatchTokens: 512, maxTokens: 512 }), 4);
  });

  it('tells ONNX Runtime to leave the weights unpacked only when asked', () => {
    const config = (o: ReturnType<typeof ortSessionOptions>) => (o.extra as { session: Record<string, unknown> }).session;
    assert.equal(config(ortSessionOptions({ prepackWeights: false })).disable_prepacking, '1');
    assert.equal(config(ortSessionOptions({ prepackWeights: true })).disable_prepacking, undefined);
    assert.equal(config(ortSessionOptions({})).disable_prepacking, undefined);
    assert.deepEqual(config(ortSessionOptions({ prepackWeights: false, allowSpinning: false })), { disable_prepacking: '1', intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } });
  });

  it('opens a short fp32 or dynamic int8 job unpacked, a 4-bit one prepacked, and unpacked probes equal float64 statistics of raw residuals', async () => {
    const fp32 = await ensureModel('genai-gqa');
    const q8 = await ensureModel('quantized-dynamic');
    const short = await LayerProfiler.open({ kind: 'local', path: fp32.dir }, { expectedPasses: 2, raw: true });
    try {
      assert.equal(short.session.weightsPrepacked, false);
      const tok = await short.getTokenizer();
      const ids = tok.encode('def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n').ids;
      const [w] = await short.runWindows([ids], 1, tok.padId);
      const ref = referenceTextStats([w]);
      const L = short.numLayers;
      for (let l = 0; l < L; l++) {
        let abs = 0;
        let mean = 0;
        for (let t = 0; t < w.tokens; t++) {
          abs += w.absMean[t * L + l];
          mean += w.mean[t * L + l];
        }
        assert.ok(relClose(abs / w.tokens, ref.absMean[l], 2e-4), `layer ${l} absMean ${abs / w.tokens} vs ${ref.absMean[l]}`);
        assert.ok(Math.abs(mean / w.tokens - ref.mean[l]) <= 2e-4 * ref.absMean[l] + 1e-7, `layer ${l} mean`);
      }
    } finally {
      await short.dispose();
    }
    const q4 = await ensureModel('quantized');
    for (const [dir, expectedPasses, prepacked] of [[fp32.dir, undefined, true], [fp32.dir, PREPACK_MIN_PASSES, true], [q8.dir, 1, false], [q8.dir, PREPACK_MIN_PASSES_INT8_DYNAMIC, true], [q4.dir, 1, true]] as const) {
      const p = await LayerProfiler.open({ kind: 'local', path: dir }, { expectedPasses });
      try {
        assert.equal(p.session.weightsPrepacked, prepacked, `${dir} with ${expectedPasses} passes`);
      } finally {
        await p.dispose();
      }
    }
  });

  it('profiles dynamic int8 weights to the same statistics unpacked as prepacked', async () => {
    const q8 = await ensureModel('quantized-dynamic');
    const values = async (prepackWeights: boolean) => {
      const p = await LayerProfiler.open({ kind: 'local', path: q8.dir }, { prepackWeights });
      try {
        assert.equal(p.session.weightsPrepacked, prepackWeights);
        const tok = await p.getTokenizer();
        const [w] = await p.runWindows([tok.encode('int main() {\n  return 0;\n}\n').ids], 1, tok.padId);
        return w;
      } finally {
        await p.dispose();
      }
    };
    const packed = await values(true);
    const unpacked = await values(false);
    assert.equal(unpacked.tokens, packed.tokens);
    // Integer GEMMs: the packing changes the layout, not the arithmetic (float32 rounding at most).
    packed.absMean.forEach((v, i) => assert.ok(relClose(unpacked.absMean[i], v, 1e-5), `absMean[${i}] ${unpacked.absMean[i]} vs ${v}`));
    packed.mean.forEach((v, i) => assert.ok(Math.abs(unpacked.mean[i] - v) <= 1e-5 * packed.absMean[i] + 1e-9, `mean[${i}]`));
  });
});
