/**
 * The patching grid against an independent patching computation (support/patchReference.ts: the
 * point's tensor made a graph input of a rewritten model, fed the corrupted run's values with one
 * position replaced by the clean run's, metric and effect in float64): within 1e-3 absolute on
 * the normalised effect at every point and position, on generated styles and on the shared real
 * exports (when LAYER_PROFILER_TEST_MODELS is set).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readOnnxModel } from '../src/core/onnx/modelFile';
import { ActivationPatching } from '../src/core/patch/activationPatching';
import { ensureModel } from './modelgen';
import type { ModelStyle } from './modelgen/types';
import { PatchReference } from './support/patchReference';

const CLEAN = [1, 5, 9, 14, 3, 22, 7, 8];
const CORRUPTED = [1, 5, 9, 30, 3, 22, 7, 8];
const TOLERANCE = 1e-3;
/**
 * fp16 activations (generated genai-fused): to replace a fused norm's sum the product normalises
 * the fp16 sum tensor where the fused node normalised its float32 sum, which moves logits by fp16
 * rounding (~1e-3) against the unmodified model the reference reads the clean and corrupted
 * metrics from.
 */
const FP16_TOLERANCE = 1e-2;

/** The product's grid and the reference's for one model and pair of texts; the largest difference. */
async function compareWithReference(dir: string, clean: number[], corrupted: number[], tolerance = TOLERANCE): Promise<{ worst: number; points: number; scale: number }> {
  const patching = await ActivationPatching.open({ kind: 'local', path: dir });
  try {
    const file = path.join(patching.resolved.folder, patching.resolved.onnxFile);
    const config = patching.resolved.config;
    const reference = await PatchReference.open({
      file,
      externalDataFiles: (await readOnnxModel(file)).externalDataFiles,
      added: patching.spine.addedNodes,
      cache: { kvHeads: config?.kvHeads, headDim: config?.headDim },
    });
    const ref = await reference.grid(patching.points, clean, corrupted);
    const got = await patching.patchIds(clean, corrupted, { batchSize: 8, ...(ref.named ? { named: { target: ref.target, foil: ref.foil } } : {}) });
    assert.equal(got.metric.target, ref.target, 'the clean run\'s top next token');
    assert.equal(got.metric.foil, ref.foil, 'the corrupted run\'s top next token');
    const metricTolerance = tolerance * 0.1 * Math.abs(ref.clean - ref.corrupted);
    assert.ok(Math.abs(got.metric.clean - ref.clean) <= metricTolerance, `metric on the clean text: ${got.metric.clean} vs ${ref.clean}`);
    assert.ok(Math.abs(got.metric.corrupted - ref.corrupted) <= metricTolerance, `metric on the corrupted text: ${got.metric.corrupted} vs ${ref.corrupted}`);
    // The reference is not trivially matched: effects far from 0 occur, and the last block's
    // resid_post patched at the last position carries the whole clean metric (up to the one
    // scale per tensor of dynamically quantized activations, which the other positions still set).
    assert.ok(ref.effects.some((row) => row.some((e) => Math.abs(e) > 0.1)), 'every reference effect is near 0');
    const lastResid = patching.points.findIndex((p) => p.kind === 'resid_post' && p.layer === patching.numLayers - 1);
    if (lastResid >= 0) assert.ok(Math.abs(ref.effects[lastResid][clean.length - 1] - 1) <= tolerance, `reference effect at the last resid_post, last position: ${ref.effects[lastResid][clean.length - 1]}`);
    let worst = 0;
    patching.points.forEach((point, k) => {
      const row = got.grids.find((g) => g.point === point.kind)!.layers.find((l) => l.layer === point.layer)!.effect;
      row.forEach((e, p) => {
        const d = Math.abs(e - ref.effects[k][p]);
        worst = Math.max(worst, d);
        assert.ok(d <= tolerance, `${point.kind} layer ${point.layer} position ${p}: ${e} vs reference ${ref.effects[k][p]}`);
      });
    });
    return { worst, points: patching.points.length, scale: Math.abs(ref.clean - ref.corrupted) };
  } finally {
    await patching.dispose();
  }
}

function report(name: string, r: { worst: number; points: number; scale: number }): void {
  process.stdout.write(`      ${name}: ${r.points} points, |m_clean - m_corrupted| ${r.scale.toExponential(2)}, worst effect difference ${r.worst.toExponential(2)}\n`);
}

describe('activation patching against an independent patching computation (generated models)', function () {
  // (merged-if is left out: its blocks live inside If branches the product lifts out before
  // patching, which the reference's plain rewrite of the file cannot reach.)
  const styles: ModelStyle[] = ['optimum-llama', 'optimum-llama-opset18', 'opt-flat-mlp', 'neox-parallel', 'quantized-dynamic', 'moe', 'genai-fused', 'genai-gqa', 'ort-fused'];
  for (const style of styles) {
    const tolerance = style === 'genai-fused' ? FP16_TOLERANCE : TOLERANCE;
    it(`${style}: every point and position within ${tolerance} of the reference effect`, async () => {
      const dir = (await ensureModel(style)).dir;
      report(style, await compareWithReference(dir, CLEAN, CORRUPTED, tolerance));
    });
  }
});

const realexp = process.env.LAYER_PROFILER_TEST_MODELS ? path.join(process.env.LAYER_PROFILER_TEST_MODELS, 'realexp') : undefined;

interface TwoPromptPairs {
  pairs: { input_ids_a: number[]; input_ids_b: number[] }[];
}

describe('activation patching against an independent patching computation (realexp: fp32, and genai int4)', function () {
  before(function () {
    if (!realexp || !existsSync(realexp)) {
      if (process.env.CI) throw new Error('LAYER_PROFILER_TEST_MODELS must point at shared/models in CI');
      this.skip();
    }
  });
  // Each folder's fp32 file (the genai builds hold only one file, genai-qwen3-int4's int4).
  const folders = realexp && existsSync(realexp) ? readdirSync(realexp).filter((d) => existsSync(path.join(realexp, d, 'twoprompt_reference.json'))).sort() : [];
  for (const folder of folders) {
    it(`${folder}: every point and position within ${TOLERANCE} of the reference effect`, async function () {
      const dir = path.join(realexp!, folder);
      const fp32 = ['onnx/model.onnx', 'model.onnx'].map((f) => path.join(dir, f)).find((f) => existsSync(f))!;
      const { pairs } = JSON.parse(readFileSync(path.join(dir, 'twoprompt_reference.json'), 'utf8')) as TwoPromptPairs;
      // The longest pair of equal token lengths.
      const pair = pairs.filter((p) => p.input_ids_a.length === p.input_ids_b.length).sort((x, y) => y.input_ids_a.length - x.input_ids_a.length)[0];
      report(folder, await compareWithReference(fp32, pair.input_ids_a, pair.input_ids_b));
    });
  }
});
