/** Reading results files: @2 as written, @1 files (before per-text records) upgraded, anything else refused by name. */
import assert from 'node:assert/strict';
import { mergeResults } from '../src/core/results/build';
import { parseResults, ResultsFileError } from '../src/core/results/read';
import { resultsOf } from './support/compareFixtures';

describe('reading results files', () => {
  const current = resultsOf({ cpp: [[0.1, 0.2, 0.3], [0.2, 0.3, 0.4]], python: [[0.4, 0.5], [0.5, 0.6]] }, true);

  it('reads the current schema unchanged', () => {
    assert.deepEqual(parseResults(JSON.stringify(current), 'r.json'), current);
  });

  it('reads an @1 file (no records, no new metrics) as @2 with empty records, and merges it', () => {
    const v1 = JSON.parse(JSON.stringify({ ...current, schema: 'layer-profiler/profile@1' })) as Record<string, unknown> & { datasets: Record<string, unknown>[] };
    for (const d of v1.datasets) delete d.records;
    const read = parseResults(JSON.stringify(v1), 'old.json');
    assert.equal(read.schema, 'layer-profiler/profile@2');
    assert.deepEqual(read.datasets.map((d) => d.records), [[], []]);
    const merged = mergeResults(read, current);
    assert.equal(merged.datasets[0].records.length, 3);
    assert.equal(merged.datasets[0].texts, 6);
  });

  it('refuses what is not a results file, naming the file and what it found', () => {
    assert.throws(() => parseResults('{', 'broken.json'), (e: Error) => e instanceof ResultsFileError && /broken\.json is not JSON/.test(e.message));
    assert.throws(() => parseResults(JSON.stringify({ schema: 'layer-profiler/compare@1', datasets: [], model: {} }), 'c.json'), /c\.json is not a Layer Profiler results file \(it says "layer-profiler\/compare@1"\)/);
    assert.throws(() => parseResults('[]', 'list.json'), /list\.json is not a Layer Profiler results file/);
  });

  it('refuses a tampered file by name, saying what is wrong (a negative count, a string mean, missing moments)', () => {
    const tamper = (f: (r: any) => void) => {
      const r = JSON.parse(JSON.stringify(current));
      f(r);
      return JSON.stringify(r);
    };
    const bad = (text: string, pattern: RegExp) => assert.throws(() => parseResults(text, 'bad.json'), (e: Error) => e instanceof ResultsFileError && /^bad\.json is not a valid results file: /.test(e.message) && pattern.test(e.message), text.slice(0, 80));
    bad(tamper((r) => (r.datasets[0].layers[0].absMean.n = -5)), /datasets\.0\.layers\.0\.absMean\.n must be >= 0/);
    bad(tamper((r) => (r.datasets[0].layers[1].mean.mean = 'big')), /datasets\.0\.layers\.1\.mean\.mean must be number/);
    bad(tamper((r) => delete r.datasets[1].moments), /datasets\.1 \("python"\) lacks its moments/);
    bad(tamper((r) => (r.datasets[0].moments = { layers: [{ absMean: { n: -5, mean: 1, m2: 0 } }, {}, {}] })), /moments\.layers\.0\.absMean is not a count/);
  });
});
