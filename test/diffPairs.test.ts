/**
 * `diff --pairs A_DIR B_DIR`: files matched by relative path, each pair's distances averaged over its
 * aligned tokens, pooled per point (mean, sample std, n) — checked against the same pairs compared
 * one by one through the core and pooled here by hand (two-pass mean and std).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TextDiff } from '../src/core/diff/textDiff';
import { ensureModel } from './modelgen';
import { meanStd } from './support/reference';

const ROOT = path.resolve(__dirname, '..');

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/index.ts'), ...args], { cwd: ROOT, maxBuffer: 64 << 20 }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

interface Pooled {
  schema: string;
  pairs: number;
  unmatched: { onlyA: string[]; onlyB: string[] };
  points: { layer: number; l2: { mean: number; std: number | null; n: number } }[];
}

describe('diff --pairs', function () {
  it('pairs files by relative path and pools each pair\'s mean distance per point', async () => {
    const m = await ensureModel('optimum-llama');
    const root = mkdtempSync(path.join(os.tmpdir(), 'lp-pairs-'));
    const before = path.join(root, 'before');
    const after = path.join(root, 'after');
    for (const d of [before, after]) mkdirSync(path.join(d, 'sub'), { recursive: true });
    const files: [string, string, string][] = [
      ['a.py', 'def f(x):\n    return x + 1\n', 'def f(x):\n    return x - 1\n'],
      ['sub/b.py', 'print("hello")\n', 'print("world")\n'],
      ['c.py', 'x = [1, 2, 3]\n', 'x = [1, 2, 3, 4]\n'],
    ];
    for (const [rel, a, b] of files) {
      writeFileSync(path.join(before, rel), a);
      writeFileSync(path.join(after, rel), b);
    }
    writeFileSync(path.join(before, 'only-before.py'), 'pass\n');
    const out = path.join(root, 'pairs.json');
    const r = await cli(['diff', '--model', m.dir, '--pairs', before, after, '--json', out]);
    assert.equal(r.code, 0, r.stderr);
    const pooled = JSON.parse(readFileSync(out, 'utf8')) as Pooled;
    assert.equal(pooled.schema, 'layer-profiler/diff-pairs@1');
    assert.equal(pooled.pairs, 3);
    assert.deepEqual(pooled.unmatched, { onlyA: ['only-before.py'], onlyB: [] });
    assert.match(r.stdout, /3 pairs \(1 only in A, 0 only in B\)/);

    // Independent: each pair through the core, its mean L2 over aligned tokens, then mean and std by hand.
    const diff = await TextDiff.open({ kind: 'local', path: m.dir });
    try {
      const perPair: number[][] = [];
      for (const [, a, b] of files) {
        const outcome = await diff.compareTexts({ a: { label: 'a', text: a }, b: { label: 'b', text: b } }, { maxTokens: 512 });
        perPair.push(outcome.points.map((p) => p.l2.reduce((s, v) => s + v, 0) / p.l2.length));
      }
      pooled.points.forEach((p, i) => {
        const ref = meanStd(perPair.map((v) => v[i]));
        assert.equal(p.l2.n, 3);
        assert.ok(Math.abs(p.l2.mean - ref.mean) <= 1e-9 * Math.max(1, ref.mean), `point ${p.layer} mean ${p.l2.mean} vs ${ref.mean}`);
        assert.ok(Math.abs(p.l2.std! - ref.std!) <= 1e-9 * Math.max(1, ref.std!), `point ${p.layer} std`);
      });
    } finally {
      await diff.dispose();
    }

    const bad = await cli(['diff', '--model', m.dir, '--pairs', before]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--pairs takes two folders/);
  });
});
