/**
 * Two-text distances of texts longer than one window (windows continued through the KV cache)
 * against the same texts in one pass: within 1e-4 relative at every point and pair, for position
 * alignment, an LCS alignment that never shifts, and an LCS alignment across an insertion and a
 * deletion (pairs in different windows of the two texts); identical leading tokens still exactly 0.
 * A model without a KV cache to carry is refused in words. On the real exports, windows of 4
 * tokens against twoprompt_reference.json (PyTorch float64, hooked block outputs).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { TextDiff } from '../src/core/diff/textDiff';
import type { DiffPoint } from '../src/core/diff/diffResults';
import { ensureModel } from './modelgen';
import type { ModelStyle } from './modelgen/types';

/** A deterministic text of `n` token ids in [3, 300). */
function ids(n: number, seed: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return 3 + (x % 297);
  });
}

const A = [1, ...ids(39, 7)];
/** A with two tokens inserted at 15, one deleted at 30, and three appended: pairs shift twice. */
const B_SHIFTED = [...A.slice(0, 15), 201, 202, ...A.slice(15, 30), ...A.slice(31), 5, 6, 7];
/** A with tokens changed in place and three appended: every pair at the same positions. */
const B_SAME = A.map((t, i) => (i === 12 || i === 27 ? ((t + 50) % 297) + 3 : t)).concat([9, 10, 11]);

/** Checks every value; returns the worst relative L2 difference where the distance is not tiny. */
function close(got: DiffPoint[], want: DiffPoint[], rel: number, what: string): number {
  assert.equal(got.length, want.length);
  let worst = 0;
  got.forEach((p, k) => {
    assert.equal(p.l2.length, want[k].l2.length);
    p.l2.forEach((v, i) => {
      const d = (x: number | null, y: number | null, abs: number, name: string) =>
        assert.ok(x !== null && y !== null && Math.abs(x - y) <= abs + rel * Math.abs(y), `${what} layer ${p.layer} pair ${i} ${name}: ${x} vs ${y}`);
      d(v, want[k].l2[i], 1e-5, 'l2');
      d(p.cosine[i], want[k].cosine[i], 1e-6, 'cosine');
      d(p.relL2[i], want[k].relL2[i], 1e-6, 'relL2');
      if (want[k].l2[i] > 1e-3) worst = Math.max(worst, Math.abs(v - want[k].l2[i]) / want[k].l2[i]);
    });
  });
  return worst;
}

describe('two-text distances in windows continued through the KV cache', function () {
  const styles: ModelStyle[] = ['optimum-llama', 'opt-flat-mlp', 'neox-parallel', 'genai-gqa', 'genai-fused', 'moe'];
  for (const style of styles) {
    it(`${style}: windows of 7 tokens equal one pass (position, LCS without and with shifts); identical leading tokens 0`, async () => {
      const dir = (await ensureModel(style)).dir;
      const diff = await TextDiff.open({ kind: 'local', path: dir });
      const rel = 1e-4;
      try {
        assert.ok(diff.session.carriesCache);
        const cases: [string, number[], 'position' | 'lcs', 'graph' | 'float64'][] = [
          ['position', B_SHIFTED, 'position', 'graph'],
          ['lcs, same positions', B_SAME, 'lcs', 'graph'],
          ['lcs, shifted', B_SHIFTED, 'lcs', 'float64'],
        ];
        let worst = 0;
        for (const [what, b, align, reducedIn] of cases) {
          const one = await diff.compareIds(A, b, { maxTokens: 64 }, align);
          const windowed = await diff.compareIds(A, b, { maxTokens: 7 }, align);
          assert.equal(one.windows, 1);
          assert.ok(windowed.windows >= 6, `${what}: ${windowed.windows} windows`);
          assert.equal(windowed.reducedIn, reducedIn, what);
          assert.deepEqual(windowed.alignment, one.alignment);
          worst = Math.max(worst, close(windowed.points, one.points, rel, what));
          // The first 12 (position) or 15 (shifted) tokens are the same in both texts.
          for (const p of windowed.points) for (let i = 0; i < 12; i++) assert.equal(p.l2[i], 0, `${what} layer ${p.layer} pair ${i}`);
        }
        process.stdout.write(`      ${style}: worst relative L2 difference, windows vs one pass: ${worst.toExponential(2)}\n`);
      } finally {
        await diff.dispose();
      }
    });
  }

  it('quantized-dynamic (each text alone): windowed runs pair the same positions and stay close to one pass', async () => {
    const dir = (await ensureModel('quantized-dynamic')).dir;
    const diff = await TextDiff.open({ kind: 'local', path: dir });
    try {
      assert.equal(diff.mode, 'separate');
      const one = await diff.compareIds(A, B_SHIFTED, { maxTokens: 64 }, 'lcs');
      const windowed = await diff.compareIds(A, B_SHIFTED, { maxTokens: 7 }, 'lcs');
      assert.equal(windowed.reducedIn, 'float64');
      assert.deepEqual(windowed.alignment, one.alignment);
      // One activation scale per window instead of per pass: quantization noise moves single
      // pairs (a shared prefix is not exactly 0 in one pass either), not the picture: per point
      // the summed distance stays within 10%.
      windowed.points.forEach((p, k) => {
        const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
        const [got, want] = [sum(p.l2), sum(one.points[k].l2)];
        assert.ok(Math.abs(got - want) <= 0.1 * want, `layer ${p.layer}: summed L2 ${got} vs ${want}`);
      });
    } finally {
      await diff.dispose();
    }
  });

  it('merged-if (no cache carried from window to window): a text longer than one window is refused in words', async () => {
    const dir = (await ensureModel('merged-if')).dir;
    const diff = await TextDiff.open({ kind: 'local', path: dir });
    try {
      assert.equal(diff.session.carriesCache, false);
      await assert.rejects(diff.compareIds(A, B_SHIFTED, { maxTokens: 7 }), /no KV cache/);
    } finally {
      await diff.dispose();
    }
  });
});

const realexp = process.env.LAYER_PROFILER_TEST_MODELS ? path.join(process.env.LAYER_PROFILER_TEST_MODELS, 'realexp') : undefined;

interface TwoPromptReference {
  pairs: { input_ids_a: number[]; input_ids_b: number[]; points: { index: number; l2: number[]; cos: number[] }[] }[];
}

describe('two-text distances in windows of 4 tokens on real exports against PyTorch float64 (realexp)', function () {
  before(function () {
    if (!realexp || !existsSync(realexp)) {
      if (process.env.CI) throw new Error('LAYER_PROFILER_TEST_MODELS must point at shared/models in CI');
      this.skip();
    }
  });
  // int4 weights are not the float64 source's weights.
  const folders = realexp && existsSync(realexp) ? readdirSync(realexp).filter((d) => !/int4/.test(d) && existsSync(path.join(realexp, d, 'twoprompt_reference.json'))).sort() : [];
  for (const folder of folders) {
    it(`${folder}: L2 and cosine within 1e-4 relative of the reference (or refused without a KV cache)`, async () => {
      const dir = path.join(realexp!, folder);
      const ref = JSON.parse(readFileSync(path.join(dir, 'twoprompt_reference.json'), 'utf8')) as TwoPromptReference;
      const diff = await TextDiff.open({ kind: 'local', path: dir });
      try {
        const pair = ref.pairs[0];
        if (!diff.session.carriesCache) {
          await assert.rejects(diff.compareIds(pair.input_ids_a, pair.input_ids_b, { maxTokens: 4 }, 'position'), /no KV cache/);
          process.stdout.write(`      ${folder}: no KV cache, refused\n`);
          return;
        }
        for (const p of ref.pairs) {
          const got = await diff.compareIds(p.input_ids_a, p.input_ids_b, { maxTokens: 4 }, 'position');
          assert.ok(got.windows >= 2);
          for (const rp of p.points) {
            const point = got.points.find((x) => x.layer === rp.index - 1)!;
            rp.l2.forEach((want, t) => {
              assert.ok(Math.abs(point.l2[t] - want) <= 1e-5 + 1e-4 * want, `h_${rp.index} position ${t} l2 ${point.l2[t]} vs ${want}`);
              assert.ok(Math.abs(point.cosine[t]! - rp.cos[t]) <= 1e-6 + 1e-4 * Math.abs(rp.cos[t]), `h_${rp.index} position ${t} cosine`);
            });
          }
        }
      } finally {
        await diff.dispose();
      }
    });
  }
});
