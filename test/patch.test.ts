/**
 * Activation patching against what must hold whatever the model:
 * - patching a layer's resid_post at every position gives the clean run's logits (effect 1),
 *   at every layer; patching nothing gives the corrupted run's (effect 0);
 * - batched patches (one per row) equal the same patches run one at a time;
 * - the last layer's grid is 0 everywhere but the last position (causal models), where it is 1;
 * - the command line writes JSON valid against schema/patch-v1.schema.json.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { PatchUnsupportedError } from '../src/core/graph/patchGraph';
import { ActivationPatching } from '../src/core/patch/activationPatching';
import { ensureModel } from './modelgen';
import type { ModelStyle } from './modelgen/types';

const ROOT = path.resolve(__dirname, '..');
const CLEAN = [1, 5, 9, 14, 3, 22, 7, 8];
const CORRUPTED = [1, 5, 9, 30, 3, 22, 7, 8];

function maxAbsDiff(x: Float32Array, y: Float32Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

describe('activation patching on generated models', function () {
  const styles: ModelStyle[] = ['optimum-llama', 'opt-flat-mlp', 'neox-parallel', 'merged-if', 'quantized-dynamic', 'genai-fused', 'genai-gqa', 'ort-fused'];
  it('bert-postnorm: refused in words (no next-token head)', async () => {
    const dir = (await ensureModel('bert-postnorm')).dir;
    await assert.rejects(ActivationPatching.open({ kind: 'local', path: dir }), (err: Error) => err instanceof PatchUnsupportedError && /post-norm/.test(err.message));
  });
  for (const style of styles) {
    it(`${style}: every position patched gives the clean logits, none the corrupted ones; batched equals single`, async () => {
      const dir = (await ensureModel(style)).dir;
      const patching = await ActivationPatching.open({ kind: 'local', path: dir });
      try {
        const clean = await patching.runClean(CLEAN);
        const [corrupted] = await patching.runPatches(CORRUPTED, clean.points, [undefined], 1);
        const [cleanAgain] = await patching.runPatches(CLEAN, clean.points, [undefined], 1);
        assert.equal(maxAbsDiff(cleanAgain, clean.logits), 0, 'the clean text through the patched graph, nothing patched');
        const all = CLEAN.map((_, p) => p);
        const resid = patching.points.map((p, i) => ({ p, i })).filter((x) => x.p.kind === 'resid_post');
        // Every block's resid_post, also where fused norms compute it (genai: taken apart in the graph).
        assert.equal(resid.length, patching.numLayers);
        if (style.startsWith('genai') || style === 'ort-fused') assert.ok(patching.notes.some((n) => /fused norm/.test(n)), patching.notes.join('; '));
        if (style.startsWith('genai') || style === 'ort-fused') assert.deepEqual(patching.points.map((p) => p.kind), [...resid.map(() => 'resid_post'), ...resid.map(() => 'attn_out'), ...resid.map(() => 'mlp_out')]);
        // Every layer's resid_post replaced at every position: the rest of the run is the clean run's.
        const specs = [undefined, ...resid.map(({ i }) => ({ point: i, positions: all }))];
        const batched = await patching.runPatches(CORRUPTED, clean.points, specs, 4);
        assert.equal(maxAbsDiff(batched[0], corrupted), 0, 'nothing patched: the corrupted logits');
        resid.forEach(({ p }, k) => assert.ok(maxAbsDiff(batched[k + 1], clean.logits) <= 1e-5, `layer ${p.layer} patched everywhere: ${maxAbsDiff(batched[k + 1], clean.logits)} from the clean logits`));
        // Single positions of every point, batched and one by one.
        const singles = patching.points.flatMap((_, point) => [0, 3, CLEAN.length - 1].map((p) => ({ point, positions: [p] })));
        const many = await patching.runPatches(CORRUPTED, clean.points, singles, 7);
        const one = await patching.runPatches(CORRUPTED, clean.points, singles, 1);
        many.forEach((logits, i) => assert.ok(maxAbsDiff(logits, one[i]) <= 1e-5, `patch ${i}: batched vs single ${maxAbsDiff(logits, one[i])}`));
      } finally {
        await patching.dispose();
      }
    });
  }

  it('optimum-llama: the grid is 1 at the last layer and last position, 0 at its earlier positions; the metric is the two top tokens\' logit difference', async () => {
    const dir = (await ensureModel('optimum-llama')).dir;
    const patching = await ActivationPatching.open({ kind: 'local', path: dir });
    try {
      const tokenizer = await patching.getTokenizer();
      const texts = { clean: tokenizer.decode(CLEAN), corrupted: tokenizer.decode(CORRUPTED) };
      const out = await patching.patch({ clean: { label: 'clean', text: texts.clean }, corrupted: { label: 'corrupted', text: texts.corrupted }, batchSize: 8 });
      const n = out.clean.ids.length;
      assert.equal(out.corrupted.ids.length, n);
      const resid = out.grids.find((g) => g.point === 'resid_post')!;
      assert.equal(resid.layers.length, patching.numLayers);
      const last = resid.layers[resid.layers.length - 1].effect;
      assert.ok(Math.abs(last[n - 1] - 1) <= 1e-5, `last layer, last position: ${last[n - 1]}`);
      for (let p = 0; p < n - 1; p++) assert.equal(last[p], 0, `last layer, position ${p}`);
      // Positions where the texts agree: patching them changes nothing at any layer.
      const same = out.clean.ids.map((id, p) => id === out.corrupted.ids[p]);
      for (const g of out.grids) for (const l of g.layers) l.effect.forEach((e, p) => { if (same[p] && out.clean.ids.slice(0, p + 1).every((id, q) => id === out.corrupted.ids[q])) assert.equal(e, 0, `${g.point} layer ${l.layer} position ${p}`); });
      const clean = await patching.runClean(out.clean.ids);
      assert.equal(out.metric.clean, clean.logits[out.metric.target] - clean.logits[out.metric.foil]);
      assert.ok(['attn_out', 'mlp_out'].every((k) => out.grids.some((g) => g.point === k)));
    } finally {
      await patching.dispose();
    }
  });
});

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/index.ts'), ...args], { cwd: ROOT, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

function validator(schemaFile: string): (data: unknown) => void {
  const validate = new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(path.join(ROOT, 'schema', schemaFile), 'utf8')));
  return (data) => assert.ok(validate(data), JSON.stringify(validate.errors, null, 2));
}

describe('command line: diff and patch', function () {
  let dir: string;
  let clean: string;
  let corrupted: string;
  before(async () => {
    dir = (await ensureModel('optimum-llama')).dir;
    const p = await ActivationPatching.open({ kind: 'local', path: dir });
    const tokenizer = await p.getTokenizer();
    clean = tokenizer.decode(CLEAN);
    corrupted = tokenizer.decode(CORRUPTED);
    await p.dispose();
  });

  it('diff writes schema-valid JSON, a CSV row per point and pair, and a table', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lp-diff-'));
    const json = path.join(out, 'd.json');
    const csv = path.join(out, 'd.csv');
    const r = await cli(['diff', '--model', dir, '--a', clean, '--b', `${corrupted} more`, '--json', json, '--csv', csv, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(readFileSync(json, 'utf8')) as { schema: string; alignment: string; pairs: unknown[]; points: { l2: number[] }[]; note: string };
    validator('diff-v1.schema.json')(d);
    assert.equal(d.schema, 'layer-profiler/diff@1');
    assert.equal(d.alignment, 'lcs');
    assert.match(d.note, /single measurement/);
    assert.equal(readFileSync(csv, 'utf8').trim().split('\n').length, 1 + d.points.length * d.pairs.length);
    assert.match(r.stdout, /L2 distance/);
    const bad = await cli(['diff', '--model', dir, '--a', 'x', '--quiet']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--b/);
  });

  it('diff of texts longer than one pass runs windows through the KV cache and says so in valid JSON', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lp-diff-'));
    const json = path.join(out, 'd.json');
    const r = await cli(['diff', '--model', dir, '--a', clean, '--b', `${corrupted} more`, '--max-tokens', '3', '--json', json, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(readFileSync(json, 'utf8')) as { settings: { windows?: number; windowTokens: number; computedIn: string }; pairs: unknown[] };
    validator('diff-v1.schema.json')(d);
    assert.equal(d.settings.windowTokens, 3);
    assert.ok((d.settings.windows ?? 1) >= 3, JSON.stringify(d.settings));
    assert.ok(['graph', 'gathered-states'].includes(d.settings.computedIn));
  });

  it('patch writes schema-valid JSON and a grid per point kind', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lp-patch-'));
    const json = path.join(out, 'p.json');
    const r = await cli(['patch', '--model', dir, '--clean', clean, '--corrupted', corrupted, '--json', json, '--quiet', '--batch-size', '5']);
    assert.equal(r.code, 0, r.stderr);
    const p = JSON.parse(readFileSync(json, 'utf8')) as { schema: string; grids: { point: string }[] };
    validator('patch-v1.schema.json')(p);
    assert.deepEqual(p.grids.map((g) => g.point), ['resid_post', 'attn_out', 'mlp_out']);
    assert.match(r.stdout, /resid_post: layer/);
    const unequal = await cli(['patch', '--model', dir, '--clean', clean, '--corrupted', `${corrupted} more`, '--quiet']);
    assert.equal(unequal.code, 1);
    assert.match(unequal.stderr, /same number of tokens/);
  });
});
