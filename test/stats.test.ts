/** Streaming moments and merges checked against two-pass float64 computations. */
import assert from 'node:assert/strict';
import { emptyMoments, mergeMoments, pushValue, summarize } from '../src/core/stats/moments';
import { addText, emptyDatasetMoments, mergeDatasetMoments, summarizeLayers } from '../src/core/stats/datasetStats';
import { TextAccumulator } from '../src/core/stats/textStats';
import { meanStd } from './support/reference';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A text's layer whose every metric is `v`. */
const same = (v: number) => ({ mean: v, absMean: v, l2: v, residL2: v, relChange: v, cosine: v, normGrowth: v });

describe('streaming statistics', () => {
  it('Welford mean and sample std equal the two-pass values', () => {
    const rand = seeded(1);
    const values = Array.from({ length: 1000 }, () => 1e3 + rand() * 10);
    const m = emptyMoments();
    for (const v of values) pushValue(m, v);
    const ref = meanStd(values);
    const s = summarize(m);
    assert.equal(s.n, 1000);
    assert.ok(Math.abs(s.mean - ref.mean) < 1e-9);
    assert.ok(Math.abs(s.std! - ref.std!) < 1e-9);
  });

  it('std is null for fewer than two values and mean NaN for none', () => {
    const one = emptyMoments();
    pushValue(one, 3);
    assert.deepEqual(summarize(one), { mean: 3, std: null, n: 1 });
    assert.ok(Number.isNaN(summarize(emptyMoments()).mean));
  });

  it('merging shards equals one pass over all values, whatever the split', () => {
    const rand = seeded(7);
    const values = Array.from({ length: 257 }, () => rand() * 2 - 1);
    const ref = meanStd(values);
    for (const cut of [0, 1, 100, 256, 257]) {
      const a = emptyMoments();
      const b = emptyMoments();
      values.slice(0, cut).forEach((v) => pushValue(a, v));
      values.slice(cut).forEach((v) => pushValue(b, v));
      const s = summarize(mergeMoments(a, b));
      assert.equal(s.n, 257);
      assert.ok(Math.abs(s.mean - ref.mean) < 1e-12, `cut ${cut}`);
      assert.ok(Math.abs(s.std! - ref.std!) < 1e-12, `cut ${cut}`);
    }
  });

  it('a text pools all its tokens; a dataset summarizes per-text values', () => {
    const acc = new TextAccumulator(2, []);
    // token values for layers [0, 1]
    const tokens = [
      [1, 10],
      [3, 20],
      [5, 60],
    ];
    for (const t of tokens) acc.addToken({ mean: t, absMean: t.map(Math.abs), l2: t, residL2: t, residPreL2: t, substeps: [] });
    const text = acc.finish();
    assert.equal(text.tokens, 3);
    assert.equal(text.layers[0].mean, 3);
    assert.equal(text.layers[1].mean, 30);
    const ds = emptyDatasetMoments(2, []);
    addText(ds, text);
    addText(ds, { tokens: 1, windows: 1, exact: true, layers: [{ ...same(5), substeps: [] }, { ...same(40), substeps: [] }] });
    const layers = summarizeLayers(ds);
    assert.equal(layers[0].mean.mean, 4);
    assert.ok(Math.abs(layers[0].mean.std! - Math.SQRT2) < 1e-12);
    assert.equal(layers[1].absMean.n, 2);
    const merged = summarizeLayers(mergeDatasetMoments(ds, ds));
    assert.equal(merged[1].mean.n, 4);
    assert.equal(merged[1].mean.mean, 35);
  });

  it('a dataset with no texts has no layer summaries', () => {
    assert.deepEqual(summarizeLayers(emptyDatasetMoments(3, [])), []);
  });
});
