/**
 * bench:source's ceiling (bench/gemmCeiling.ts): the FLOP count of a profile pass against what ONNX
 * Runtime itself records multiplying (its profiler's input and output shapes of every MatMul node
 * of the instrumented, pruned graph, run on real windows), and the floor's arithmetic against
 * hand-computed values.
 */
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { ceilingFrom, ortGemmGflops, profilePassFlops, projectionShapes } from '../bench/gemmCeiling';
import { loadAndAnalyze } from '../src/core/modelLoading';
import { instrumentForProfile } from '../src/core/profileGraph';
import { ortSessionOptions, ProbedSession, quantizesActivationsPerTensor, stageModel } from '../src/core/runtime/probedSession';
import { ensureModel } from './modelgen';

interface ProfileEvent {
  cat: string;
  name: string;
  args: { op_name?: string; input_type_shape?: Record<string, number[]>[]; output_type_shape?: Record<string, number[]>[] };
}

const shapeOf = (entry: Record<string, number[]>) => Object.values(entry)[0];
const size = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

describe('the GEMM ceiling of bench:source', function () {
  this.timeout(120_000);

  it('counts exactly the MatMul FLOPs ONNX Runtime runs in a profile pass (no LM head)', async () => {
    const shape = { hidden: 32, layers: 3, heads: 4, intermediate: 80, vocabSize: 320 };
    const gen = await ensureModel('optimum-llama', shape);
    const { model, spine } = await loadAndAnalyze({ kind: 'local', path: gen.dir }, {});
    const instrumented = await instrumentForProfile(model, spine);
    const staged = await stageModel(model, instrumented.edit);
    assert.ok('file' in staged);
    const settings = { threads: 1 };
    // No graph optimisation: every MatMul of the graph stays a MatMul node in the profile.
    const ortSession = await ort.InferenceSession.create(staged.file, { ...ortSessionOptions({ ...settings, graphOptimizationLevel: 'disabled' }), enableProfiling: true, profileFilePrefix: `${staged.dir}/gemm-test` });
    const session = new ProbedSession(ortSession, { numLayers: spine.layers.length, substepKinds: instrumented.probes.substepKinds, perTensorActivationScales: quantizesActivationsPerTensor(model) }, settings);
    const lengths = [5, 11, 23];
    for (const n of lengths) await session.run([Array.from({ length: n }, (_, i) => 3 + ((i * 7) % 300))], 0);
    ortSession.endProfiling();
    const { readdir } = await import('node:fs/promises');
    const file = (await readdir(staged.dir)).find((f) => f.startsWith('gemm-test'));
    assert.ok(file, 'ONNX Runtime wrote its profile');
    const events = JSON.parse(await readFile(`${staged.dir}/${file}`, 'utf8')) as ProfileEvent[];
    await session.release();
    await rm(staged.dir, { recursive: true, force: true });

    let flops = 0;
    let matmuls = 0;
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.args.op_name !== 'MatMul') continue;
      const a = shapeOf(e.args.input_type_shape![0]);
      const out = shapeOf(e.args.output_type_shape![0]);
      // Each output element is a dot product of length K (A's last dimension): 2K FLOPs.
      flops += 2 * size(out) * a[a.length - 1];
      matmuls++;
    }
    // Per pass: 7 projections and 2 attention products per layer; no head.
    assert.equal(matmuls, lengths.length * shape.layers * 9);
    const counted = profilePassFlops({ ...shape, kvHeads: shape.heads }, lengths);
    assert.equal(counted.total, flops);
  });

  it('describes a grouped-query layer by its weight shapes', () => {
    const shapes = projectionShapes({ hidden: 896, layers: 24, heads: 14, kvHeads: 2, intermediate: 4864 });
    assert.deepEqual(
      shapes.map((p) => [p.k, p.n, p.count]),
      [
        [896, 896, 2],
        [896, 128, 2],
        [896, 4864, 2],
        [4864, 896, 1],
      ],
    );
    // Hand count for one 10-token text: per layer 2·10·(2·896² + 2·896·128 + 2·896·4864 + 4864·896) + 4·10²·896.
    const perLayer = 2 * 10 * (2 * 896 * 896 + 2 * 896 * 128 + 2 * 896 * 4864 + 4864 * 896) + 4 * 100 * 896;
    assert.equal(profilePassFlops({ hidden: 896, layers: 24, heads: 14, kvHeads: 2, intermediate: 4864 }, [10]).total, 24 * perLayer);
  });

  it('takes the faster library per shape for the floor, and attention at the fastest rate of all', () => {
    const rates = [
      { name: 'a', k: 1, n: 1, count: 1, ort: 100, torch: 150 },
      { name: 'b', k: 1, n: 1, count: 1, ort: 200, torch: 50 },
    ];
    const c = ceilingFrom({ projections: [300e9, 400e9], attention: 100e9, total: 800e9 }, rates, [512]);
    // 300/150 + 400/200 + 100/200 = 2 + 2 + 0.5 s; at ORT's rates 300/100 + 400/200 + 100/200 = 5.5 s.
    assert.equal(c.floorSeconds, 4.5);
    assert.equal(c.ortSeconds, 5.5);
    assert.equal(c.flops, 800e9);
    const noTorch = ceilingFrom({ projections: [300e9, 400e9], attention: 100e9, total: 800e9 }, rates.map(({ torch: _, ...r }) => r), [512]);
    assert.equal(noTorch.floorSeconds, noTorch.ortSeconds);
  });

  it('measures a positive, finite ONNX Runtime GEMM rate', async () => {
    const gflops = await ortGemmGflops(64, 64, 64, 1, 20, 3);
    assert.ok(Number.isFinite(gflops) && gflops > 0, `rate ${gflops}`);
  });
});
