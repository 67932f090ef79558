/**
 * The batch budget end to end: a dataset run under a token budget never runs a pass larger than
 * the budget (checked on every pass the session sees), still batches short texts, and gives the
 * statistics of float64 computations from each text's raw residuals, run alone; the command line
 * takes --max-batch-tokens, records it, and refuses a bad value.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { ensureModel } from './modelgen';
import { LayerProfiler } from '../src/core/profiler';
import type { ProfileResults } from '../src/core/results';
import { meanStd, referenceTextStats } from './support/reference';

const ROOT = path.resolve(__dirname, '..');

/** Code-like texts of varied length: a few tokens to past one 32-token window. */
const TEXTS = Array.from({ length: 14 }, (_, k) => `int f${k}(int x) { return x * ${k} + ${'y'.repeat((k * 7) % 40)}; }\n`.repeat(1 + (k % 3)));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/index.ts'), ...args], { cwd: ROOT, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('batch budget', function () {
  it('every pass of a dataset run fits the token budget, and the statistics are those of texts run alone', async () => {
    const m = await ensureModel('optimum-llama');
    const profiler = await LayerProfiler.open({ kind: 'local', path: m.dir }, { raw: true });
    try {
      const tok = await profiler.getTokenizer();
      const passes: number[][] = [];
      const session = profiler.session;
      const run = session.run.bind(session);
      session.run = (windows, padId, targets) => {
        passes.push(windows.map((w) => w.length));
        return run(windows, padId, targets);
      };
      const opts = { maxTokens: 32, batchSize: 6, maxBatchTokens: 64 };
      const steps = profiler.profileDataset({ name: 'd', texts: TEXTS.map((text, i) => ({ label: `t${i}`, text })) }, opts);
      let step = await steps.next();
      while (!step.done) step = await steps.next();
      const result = step.value;
      session.run = run;
      assert.equal(result.texts, TEXTS.length);
      for (const p of passes) {
        assert.ok(p.length <= opts.batchSize, `pass of ${p.length} windows`);
        // One window always runs; several only within the budget of padded token slots.
        assert.ok(p.length === 1 || p.length * Math.max(...p) <= opts.maxBatchTokens, `pass ${JSON.stringify(p)}: ${p.length * Math.max(...p)} slots`);
      }
      assert.ok(passes.some((p) => p.length >= 2), `short texts share passes: ${JSON.stringify(passes)}`);
      // Independent: each text alone (one pass over all its tokens), its statistics in float64 from raw residuals.
      const perText = [];
      for (const t of TEXTS) perText.push(referenceTextStats(await profiler.runWindows([tok.encode(t).ids], 1, tok.padId)));
      assert.equal(result.tokens, perText.reduce((a, r) => a + r.tokens, 0));
      for (let l = 0; l < m.numLayers; l++) {
        for (const stat of ['absMean', 'l2', 'relChange'] as const) {
          const ref = meanStd(perText.map((r) => r[stat][l]));
          const got = result.layers[l][stat]!;
          assert.ok(Math.abs(got.mean - ref.mean) <= 1e-4 * Math.abs(ref.mean), `${stat} layer ${l}: ${got.mean} vs ${ref.mean}`);
        }
      }
    } finally {
      await profiler.dispose();
    }
  });

  it('the command line takes --max-batch-tokens, records it in the settings, and refuses a bad value', async () => {
    const m = await ensureModel('optimum-llama');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lp-budget-'));
    mkdirSync(path.join(dir, 'ds'));
    TEXTS.slice(0, 4).forEach((t, i) => writeFileSync(path.join(dir, 'ds', `f${i}.c`), t));
    const out = path.join(dir, 'r.json');
    const ok = await cli(['profile', '--model', m.dir, '--dataset', `c=${path.join(dir, 'ds')}`, '--json', out, '--max-tokens', '32', '--batch-size', '4', '--max-batch-tokens', '64', '--no-cache', '--quiet']);
    assert.equal(ok.code, 0, ok.stderr);
    const results = JSON.parse(readFileSync(out, 'utf8')) as ProfileResults;
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(path.join(ROOT, 'schema/profile-v2.schema.json'), 'utf8')));
    assert.ok(validate(results), JSON.stringify(validate.errors));
    assert.deepEqual([results.settings.batchSize, results.settings.maxBatchTokens], [4, 64]);
    const bad = await cli(['profile', '--model', m.dir, '--dataset', `c=${path.join(dir, 'ds')}`, '--max-batch-tokens', '0', '--no-cache']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /max-batch-tokens.*positive integer/);
  });
});
