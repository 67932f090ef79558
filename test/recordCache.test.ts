/** The per-text record cache: keyed by everything that changes numbers, content-addressed, LRU-capped. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RecordCache, type CacheKey } from '../src/core/cache/recordCache';
import { allFromCache } from '../src/core/cache/cachedRun';
import type { TextRecord } from '../src/core/results';
import { sha256Text } from '../src/core/hash';

const KEY: CacheKey = { modelSha256: 'a'.repeat(64), maxTokens: 512, skipFirstToken: false, graphOptimizationLevel: 'all', onnxruntime: '1.30.0', tool: 'layer-profiler 0.1.0' };

function record(text: string, value: number, file = 'x.txt'): TextRecord {
  return { path: file, sha256: sha256Text(text), tokens: 3, windows: 1, exact: true, layers: [{ mean: value, absMean: value, l2: value, residL2: value, relChange: value, cosine: 0.5, normGrowth: 1, substeps: [] }] };
}

describe('record cache', () => {
  it('returns a record by content for any path, and nothing for another key or changed content', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'lp-cache-'));
    const cache = new RecordCache(root, KEY);
    await cache.put(record('hello', 1, 'a/one.txt'));
    assert.deepEqual(await cache.get('b/two.txt', sha256Text('hello')), record('hello', 1, 'b/two.txt'));
    assert.equal(await cache.get('b/two.txt', sha256Text('hello!')), undefined);
    assert.equal(await new RecordCache(root, { ...KEY, maxTokens: 256 }).get('a', sha256Text('hello')), undefined);
    assert.equal(await new RecordCache(root, { ...KEY, skipFirstToken: true }).get('a', sha256Text('hello')), undefined);
  });

  it('concurrent writers of one record leave a whole file', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'lp-cache-'));
    const caches = [new RecordCache(root, KEY), new RecordCache(root, KEY)];
    await Promise.all(Array.from({ length: 20 }, (_, i) => caches[i % 2].put(record('same', 7))));
    assert.equal((await caches[0].get('p', sha256Text('same')))?.layers[0].mean, 7);
  });

  it('evicts the least recently used records down to its size cap', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'lp-cache-'));
    const size = JSON.stringify((({ path: _p, ...r }) => r)(record('t0', 0))).length;
    const cache = new RecordCache(root, KEY, size * 3);
    for (let i = 0; i < 5; i++) {
      await cache.put(record(`t${i}`, i));
      await new Promise((r) => setTimeout(r, 15));
    }
    // Reading t0 makes it the most recently used.
    assert.ok(await cache.get('p', sha256Text('t0')));
    const { removed } = await cache.evict();
    assert.equal(removed, 2);
    const kept = await Promise.all([0, 1, 2, 3, 4].map(async (i) => (await cache.get('p', sha256Text(`t${i}`))) !== undefined));
    assert.deepEqual(kept, [true, false, false, true, true]);
  });

  it('assembles a dataset from cached records only when every text hits', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'lp-cache-'));
    const folder = mkdtempSync(path.join(os.tmpdir(), 'lp-cache-ds-'));
    writeFileSync(path.join(folder, 'a.txt'), 'alpha');
    writeFileSync(path.join(folder, 'b.txt'), 'beta');
    const cache = new RecordCache(root, KEY);
    await cache.putFacts({ model: { id: 'm', file: 'model.onnx', sha256: KEY.modelSha256, numLayers: 1, dtype: 'fp32' }, runtime: { tool: 't', onnxruntime: 'o', executionProvider: 'cpu', threads: 1 }, settings: { maxTokens: 512, batchSize: 1 }, substepKinds: [] });
    await cache.put(record('alpha', 1));
    assert.equal(await allFromCache([{ name: 'd', paths: [folder] }], cache), undefined, 'b.txt is not cached yet');
    await cache.put(record('beta', 3));
    const d = (await allFromCache([{ name: 'd', paths: [folder] }], cache))?.datasets[0];
    assert.ok(d);
    assert.deepEqual(d.records.map((r) => path.basename(r.path)).sort(), ['a.txt', 'b.txt']);
    // Mean and sample std of 1 and 3, by hand.
    assert.equal(d.layers[0].absMean.mean, 2);
    assert.equal(d.layers[0].absMean.std, Math.SQRT2);
    assert.ok(readdirSync(root).length === 1, 'one namespace for one key');
  });
});
