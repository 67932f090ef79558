/**
 * The engine on generated models of every export style: the spine found by structure equals the
 * generator's ground truth, probes equal float64 statistics of raw residuals, batching and
 * windowing do not change results, fp16 agrees with fp32, and dataset statistics equal a
 * two-pass computation over per-text reference values.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureModel } from './modelgen';
import { MODEL_STYLES, type ModelStyle } from './modelgen/types';
import { inspectModel, LayerCountMismatchError, LayerProfiler, MAX_TOKEN_VIEW, ProfileCancelledError, type OpenOptions } from '../src/core/profiler';
import { meanStd, referenceSubstepStats, referenceTextStats, relClose } from './support/reference';
import type { WindowProbeValues } from '../src/core/runtime/probedSession';

const TEXTS = [
  '#include <vector>\nint sum(const std::vector<int>& v) {\n  int s = 0;\n  for (int x : v) s += x;\n  return s;\n}\n',
  'def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n',
  'fn main() { println!("héllo, wörld ✓"); }',
  'SELECT name, count(*) FROM users GROUP BY name ORDER BY 2 DESC;',
];

/** Tolerances: fp16 activations round at ~1e-3 relative. */
const tolerance = (style: ModelStyle) => (style === 'genai-fused' ? 5e-3 : 2e-4);

/** Opens a profiler on a model folder, runs `use`, and always releases the session. */
async function withProfiler<T>(dir: string, opts: OpenOptions, use: (profiler: LayerProfiler) => Promise<T>): Promise<T> {
  const profiler = await LayerProfiler.open({ kind: 'local', path: dir }, opts);
  try {
    return await use(profiler);
  } finally {
    await profiler.dispose();
  }
}

async function rawWindows(profiler: LayerProfiler, windows: number[][], batchSize: number): Promise<WindowProbeValues[]> {
  return profiler.runWindows(windows, batchSize, (await profiler.getTokenizer()).padId);
}

describe('engine on generated models', function () {
  for (const style of MODEL_STYLES) {
    describe(style, () => {
      it('finds the spine the generator built, by structure', async () => {
        const m = await ensureModel(style);
        const r = await inspectModel({ kind: 'local', path: m.dir });
        assert.equal(r.layers.length, m.numLayers);
        assert.equal(r.layers[0].residualIn, m.expected.embeddingOutput);
        r.layers.forEach((l, i) => {
          const expected = m.expected.residualNames[i];
          if (expected !== null) assert.equal(l.residual, expected, `layer ${i} resid_post`);
          else assert.ok(l.added, `layer ${i}: the profiler adds the residual the exporter left out`);
          if (m.expected.parallel) assert.ok(l.substeps.every((s) => s.kind === 'parallel') || l.substeps.map((s) => s.kind).join() === 'attention,mlp');
          else assert.deepEqual(l.substeps.map((s) => s.kind), ['attention', 'mlp']);
          const mid = m.expected.midResidualNames?.[i];
          if (mid) assert.equal(l.substeps[0].residual, mid, `layer ${i} resid_mid`);
        });
      });

      it('probes equal float64 statistics of raw residuals, batched equals unbatched', async () => {
        const m = await ensureModel(style);
        await withProfiler(m.dir, { raw: true }, async (profiler) => {
          const tok = await profiler.getTokenizer();
          const windows = TEXTS.map((t) => tok.encode(t).ids.slice(0, 48));
          const batched = await rawWindows(profiler, windows, 4);
          const single = await rawWindows(profiler, windows, 1);
          const rel = tolerance(style);
          const L = m.numLayers;
          windows.forEach((w, i) => {
            const ref = referenceTextStats([single[i]]);
            assert.equal(batched[i].tokens, w.length);
            for (let l = 0; l < L; l++) {
              let abs = 0;
              let l2 = 0;
              let mean = 0;
              for (let t = 0; t < w.length; t++) {
                abs += batched[i].absMean[t * L + l];
                l2 += batched[i].l2[t * L + l];
                mean += batched[i].mean[t * L + l];
              }
              assert.ok(relClose(abs / w.length, ref.absMean[l], rel), `${style} text ${i} layer ${l} absMean ${abs / w.length} vs ${ref.absMean[l]}`);
              assert.ok(relClose(l2 / w.length, ref.l2[l], rel), `${style} text ${i} layer ${l} l2`);
              assert.ok(Math.abs(mean / w.length - ref.mean[l]) <= rel * ref.absMean[l] + 1e-7, `${style} text ${i} layer ${l} mean`);
              assert.ok(ref.absMean[l] > 1e-6, 'the layer changes the residual');
            }
            // Attention and MLP sub-steps, against resid_mid from the raw outputs.
            if (batched[i].substeps.length === 2) {
              const sub = referenceSubstepStats([single[i]]);
              batched[i].substeps.forEach((s) => {
                const r = s.kind === 'attention' ? sub.attention : sub.mlp;
                for (let l = 0; l < L; l++) {
                  let abs = 0;
                  let l2 = 0;
                  let mean = 0;
                  for (let t = 0; t < w.length; t++) {
                    abs += s.absMean[t * L + l];
                    l2 += s.l2[t * L + l];
                    mean += s.mean[t * L + l];
                  }
                  assert.ok(relClose(abs / w.length, r.absMean[l], rel * 5), `${style} ${s.kind} layer ${l} absMean ${abs / w.length} vs ${r.absMean[l]}`);
                  assert.ok(relClose(l2 / w.length, r.l2[l], rel * 5), `${style} ${s.kind} layer ${l} l2`);
                  assert.ok(Math.abs(mean / w.length - r.mean[l]) <= rel * 5 * r.absMean[l] + 1e-7, `${style} ${s.kind} layer ${l} mean`);
                }
              });
            } else {
              assert.ok(m.expected.parallel, 'only parallel blocks lack the attention/MLP split');
            }
        });
        });
      });
    });
  }

  for (const style of MODEL_STYLES) {
    it(`${style}: a long text in windows is one pass where the graph reads a KV cache, independent windows where not`, async () => {
      const m = await ensureModel(style);
      await withProfiler(m.dir, { raw: true }, async (profiler) => {
        const readsCache = m.inputs.some((i) => i.role === 'past_key') && !m.inputs.some((i) => i.role === 'use_cache_branch');
        assert.equal(profiler.session.carriesCache, readsCache, 'carries the cache exactly where the graph reads one');
        const text = TEXTS.join('\n').repeat(2);
        const ids = (await profiler.getTokenizer()).encode(text).ids;
        assert.ok(ids.length > 80, 'the text needs at least three windows of 40');
        const windows = Array.from({ length: Math.ceil(ids.length / 40) }, (_, i) => ids.slice(i * 40, (i + 1) * 40));
        // Independent: float64 statistics of raw residuals, of one pass over every token where the
        // cache is carried, else of each window alone.
        const ref = referenceTextStats(await rawWindows(profiler, readsCache ? [ids] : windows, 1));
        const { stats } = await profiler.profileText(text, { maxTokens: 40, batchSize: 3 });
        assert.equal(stats.tokens, ids.length);
        assert.equal(stats.windows, windows.length);
        assert.equal(stats.exact, readsCache);
        // Dynamically quantized activations take one scale per pass, so a window's scale differs
        // from that of one pass over all tokens: its values agree to quantization noise only.
        const rel = style === 'quantized-dynamic' ? 5e-3 : tolerance(style);
        for (let l = 0; l < m.numLayers; l++) {
          assert.ok(relClose(stats.layers[l].absMean, ref.absMean[l], rel), `layer ${l} absMean ${stats.layers[l].absMean} vs ${ref.absMean[l]}`);
          assert.ok(relClose(stats.layers[l].l2, ref.l2[l], rel), `layer ${l} l2 ${stats.layers[l].l2} vs ${ref.l2[l]}`);
        }
      });
    });
  }

  it('a huge selection keeps per-token values for its first tokens only, and statistics for all', async () => {
    const m = await ensureModel('optimum-llama');
    await withProfiler(m.dir, {}, async (profiler) => {
      const text = TEXTS.join('\n').repeat(40);
      const total = (await profiler.getTokenizer()).encode(text).ids.length;
      assert.ok(total > MAX_TOKEN_VIEW);
      const { stats, tokens } = await profiler.profileText(text, { maxTokens: 256, batchSize: 4 });
      assert.equal(stats.tokens, total);
      assert.equal(tokens.totalTokens, total);
      assert.equal(tokens.tokens.length, MAX_TOKEN_VIEW);
      for (const row of tokens.absMean) assert.equal(row.length, MAX_TOKEN_VIEW);
      assert.equal(tokens.offsets!.length, MAX_TOKEN_VIEW);
      const aborted = AbortSignal.abort();
      await assert.rejects(profiler.profileText(text, { maxTokens: 256, batchSize: 4 }, aborted), ProfileCancelledError);
    });
  });

  for (const style of ['optimum-llama', 'genai-fused'] as const) {
    it(`${style}: decoding token by token through the KV cache gives the full pass's numbers`, async () => {
      const m = await ensureModel(style);
      const full = await LayerProfiler.open({ kind: 'local', path: m.dir });
      const stepwise = await LayerProfiler.open({ kind: 'local', path: m.dir }, { incremental: true });
      try {
        assert.equal(stepwise.session.decodesTokenByToken, true);
        assert.equal(full.session.decodesTokenByToken, false);
        const opts = { maxTokens: 24, batchSize: 2 };
        const a = (await full.profileText(TEXTS[1], opts)).tokens.absMean;
        const b = (await stepwise.profileText(TEXTS[1], opts)).tokens.absMean;
        const rel = tolerance(style) * 10;
        a.forEach((row, l) => row.forEach((v, t) => assert.ok(relClose(v, b[l][t], rel, 1e-5), `${style} layer ${l} token ${t}: ${v} vs ${b[l][t]}`)));
      } finally {
        await full.dispose();
        await stepwise.dispose();
      }
    });
  }

  it('fp16 export agrees with the fp32 export of the same weights', async () => {
    const fp32 = await ensureModel('optimum-llama');
    const fp16 = await ensureModel('optimum-llama', { fp16: true });
    const results = [];
    for (const m of [fp32, fp16]) {
      results.push(await withProfiler(m.dir, {}, async (profiler) => (await profiler.profileText(TEXTS[0], { maxTokens: 64, batchSize: 1 })).stats));
    }
    for (let l = 0; l < fp32.numLayers; l++) {
      assert.ok(relClose(results[0].layers[l].absMean, results[1].layers[l].absMean, 2e-2), `layer ${l}: ${results[0].layers[l].absMean} vs ${results[1].layers[l].absMean}`);
    }
  });

  it('profiles a dataset folder: per-layer mean and sample std over per-text reference values, skips listed', async () => {
    const m = await ensureModel('optimum-llama');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lp-ds-'));
    mkdirSync(path.join(dir, 'nested'));
    TEXTS.forEach((t, i) => writeFileSync(path.join(dir, i % 2 ? `nested/f${i}.txt` : `f${i}.txt`), t));
    writeFileSync(path.join(dir, 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0]));
    writeFileSync(path.join(dir, 'empty.txt'), '');
    await withProfiler(m.dir, { raw: true }, async (profiler) => {
      const run = profiler.profileDataset({ name: 'mixed', paths: [dir] }, { maxTokens: 32, batchSize: 3 });
      let step = await run.next();
      let progressEvents = 0;
      while (!step.done) {
        progressEvents++;
        step = await run.next();
      }
      const result = step.value;
      assert.ok(progressEvents >= 1);
      assert.equal(result.texts, TEXTS.length);
      assert.deepEqual(result.skipped.map((s) => [path.basename(s.path), s.reason]).sort(), [['empty.txt', 'empty file'], ['image.png', 'binary file']]);
      // Independent: each text's statistics from raw residuals, then a two-pass mean/std.
      const tok = await profiler.getTokenizer();
      const perText = [];
      for (const t of TEXTS) perText.push(referenceTextStats(await rawWindows(profiler, [tok.encode(t).ids], 1)));
      assert.equal(result.tokens, perText.reduce((a, r) => a + r.tokens, 0));
      for (let l = 0; l < m.numLayers; l++) {
        for (const stat of ['absMean', 'mean', 'l2', 'relChange', 'cosine', 'normGrowth'] as const) {
          const ref = meanStd(perText.map((r) => r[stat][l]));
          const got = result.layers[l][stat]!;
          assert.equal(got.n, TEXTS.length);
          const scale = stat === 'mean' ? meanStd(perText.map((r) => r.absMean[l])).mean : Math.abs(ref.mean);
          assert.ok(Math.abs(got.mean - ref.mean) <= 1e-4 * scale, `${stat} layer ${l}: ${got.mean} vs ${ref.mean}`);
          assert.ok(Math.abs(got.std! - ref.std!) <= 1e-3 * Math.max(ref.std!, 1e-3 * scale), `${stat} std layer ${l}: ${got.std} vs ${ref.std}`);
        }
      }
      // Per-text records: one per text, with its content hash, and the summaries are theirs.
      assert.equal(result.records.length, TEXTS.length);
      const byContent = new Map(TEXTS.map((t) => [createHash('sha256').update(t).digest('hex'), t]));
      for (const r of result.records) {
        const text = byContent.get(r.sha256);
        assert.ok(text !== undefined, `record ${r.path} hashes to one of the texts`);
        assert.equal(readFileSync(r.path, 'utf8'), text);
        assert.equal(r.tokens, tok.encode(text).ids.length);
        assert.deepEqual([r.windows, r.exact], [Math.ceil(r.tokens / 32), true]);
      }
      for (let l = 0; l < m.numLayers; l++) {
        for (const stat of ['mean', 'absMean', 'l2', 'residL2', 'relChange', 'cosine', 'normGrowth'] as const) {
          const fromRecords = meanStd(result.records.map((r) => r.layers[l][stat]));
          const summary = result.layers[l][stat]!;
          assert.ok(relClose(summary.mean, fromRecords.mean, 1e-12, 1e-15), `${stat} layer ${l}: summary ${summary.mean} vs records ${fromRecords.mean}`);
          assert.ok(relClose(summary.std!, fromRecords.std!, 1e-9, 1e-15), `${stat} std layer ${l}`);
        }
      }
    });
  });

  it('a config whose layer count disagrees with the graph is refused, naming the blocks found', async () => {
    const m = await ensureModel('moe');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lp-count-'));
    for (const f of readdirSync(m.dir)) if (statSync(path.join(m.dir, f)).isFile()) copyFileSync(path.join(m.dir, f), path.join(dir, f));
    if (existsSync(path.join(m.dir, 'onnx'))) cpSync(path.join(m.dir, 'onnx'), path.join(dir, 'onnx'), { recursive: true });
    const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...config, num_hidden_layers: m.numLayers * 2 }));
    await assert.rejects(inspectModel({ kind: 'local', path: dir }), (err: Error) => {
      assert.ok(err instanceof LayerCountMismatchError);
      assert.match(err.message, new RegExp(`Found ${m.numLayers} transformer blocks .* config says ${m.numLayers * 2}`));
      assert.match(err.message, /Found: 0: attention \+ mlp ending at /);
      return true;
    });
  });

  it('--skip-first-token leaves each text\'s first position out of every statistic', async () => {
    const m = await ensureModel('optimum-llama');
    await withProfiler(m.dir, { raw: true }, async (profiler) => {
      const tok = await profiler.getTokenizer();
      const text = TEXTS.join('\n');
      const ids = tok.encode(text).ids;
      const ref = referenceTextStats(await rawWindows(profiler, [ids], 1), true);
      const { stats } = await profiler.profileText(text, { maxTokens: 40, batchSize: 2, skipFirstToken: true });
      assert.equal(stats.tokens, ids.length - 1);
      const all = (await profiler.profileText(text, { maxTokens: 40, batchSize: 2 })).stats;
      for (let l = 0; l < m.numLayers; l++) {
        for (const stat of ['absMean', 'l2', 'relChange', 'cosine', 'normGrowth'] as const) {
          assert.ok(relClose(stats.layers[l][stat], ref[stat][l], 1e-4), `${stat} layer ${l}: ${stats.layers[l][stat]} vs ${ref[stat][l]}`);
        }
        assert.notEqual(stats.layers[l].absMean, all.layers[l].absMean);
      }
      // In a dataset too; a text of one token has nothing left and is skipped with the reason.
      const run = profiler.profileDataset({ name: 'd', texts: [{ label: 'long', text }, { label: 'one', text: tok.decode([ids[1]]) }] }, { maxTokens: 40, batchSize: 2, skipFirstToken: true });
      let step = await run.next();
      while (!step.done) step = await run.next();
      assert.equal(step.value.texts, 1);
      assert.equal(step.value.tokens, ids.length - 1);
      assert.match(step.value.skipped[0]?.reason ?? '', /first token/);
    });
  });

  it('a cancelled run stops between windows and keeps only whole texts, marked partial', async () => {
    const m = await ensureModel('optimum-llama');
    await withProfiler(m.dir, {}, async (profiler) => {
      // A signal that turns aborted once the engine has looked at it 25 times (once per text, and
      // once per window of a text whose windows continue through the cache).
      let reads = 0;
      const signal = { get aborted() { return ++reads > 25; } } as AbortSignal;
      const texts = Array.from({ length: 30 }, (_, i) => ({ label: `t${i}`, text: TEXTS[i % TEXTS.length] }));
      const run = profiler.profileDataset({ name: 'c', texts }, { maxTokens: 16, batchSize: 2 }, signal);
      let step = await run.next();
      while (!step.done) step = await run.next();
      assert.equal(step.value.partial, true);
      assert.ok(step.value.texts >= 1 && step.value.texts < 25, `texts ${step.value.texts}`);
      assert.equal(step.value.layers.length, m.numLayers);
      for (const l of step.value.layers) assert.equal(l.absMean.n, step.value.texts);
      // Tokens count only the texts in the statistics, not windows of texts left unfinished.
      const tok = await profiler.getTokenizer();
      const perText = texts.map((t) => tok.encode(t.text).ids.length);
      assert.equal(step.value.tokens, perText.slice(0, step.value.texts).reduce((a, b) => a + b, 0));
    });
  });
});
