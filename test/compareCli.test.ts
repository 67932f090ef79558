/**
 * `layer-profiler compare` and `profile --compare-json` as a user runs them: real processes,
 * outputs validated against schema/compare-v1.schema.json, one-line errors for bad input.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { COMPARE_CSV_COLUMNS } from '../src/core/compare/export';
import type { CompareResults } from '../src/core/compare/types';
import { ensureModel } from './modelgen';
import { resultsOf } from './support/compareFixtures';

const ROOT = path.resolve(__dirname, '..');

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/index.ts'), ...args], { cwd: ROOT, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const validate = (() => {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const v = ajv.compile(JSON.parse(readFileSync(path.join(ROOT, 'schema/compare-v1.schema.json'), 'utf8')));
  return (data: unknown) => assert.ok(v(data), JSON.stringify(v.errors, null, 2));
})();

describe('command line: compare', function () {
  let dir: string;
  let file: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lp-compare-'));
    file = path.join(dir, 'r.json');
    // Layer 1 higher on cpp, layer 2 and 3 higher on python (layer 3 without spread on either side).
    const r = resultsOf({
      cpp: [[1, 1.1, 0.9, 1], [2, 2.1, 1.9, 2], [0.5, 0.6, 0.4, 0.5], [2, 2, 2, 2]],
      python: [[1, 1.1, 0.9, 1], [1, 1.1, 0.9, 1], [3, 3.3, 2.7, 3], [3, 3, 3, 3]],
      maths: [[1, 1.2, 1.1], [1, 1, 1.1], [2, 2.2, 2.1], [2, 2, 2]],
    }, true);
    writeFileSync(file, JSON.stringify(r));
  });

  it('every pair: schema-valid JSON, CSV, Markdown findings and a table per pair', async () => {
    const out = (f: string) => path.join(dir, f);
    const r = await cli(['compare', file, '--json', out('c.json'), '--csv', out('c.csv'), '--markdown', out('f.md')]);
    assert.equal(r.code, 0, r.stderr);
    const c = JSON.parse(readFileSync(out('c.json'), 'utf8')) as CompareResults;
    validate(c);
    assert.deepEqual(c.comparisons.map((x) => [x.a, x.b]), [['cpp', 'python'], ['cpp', 'maths'], ['python', 'maths']]);
    assert.equal(c.metric, 'absMean');
    assert.equal(c.correction, 'bh');
    const cp = c.comparisons[0].layers;
    assert.deepEqual(cp.map((l) => l.higher), [null, 'a', 'b', 'b']);
    // Layer 3: both sides constant and different, written as null t with the reason.
    assert.equal(cp[3].t, null);
    assert.equal(cp[3].degenerate, 'no-variance-different-means');
    assert.deepEqual(Object.keys(cp[0]), ['layer', 'a', 'b', 'diff', 'se', 'ci95', 't', 'df', 'p', 'q', 'hedgesG', 'significant', 'higher']);
    const csv = readFileSync(out('c.csv'), 'utf8').trim().split('\n');
    assert.equal(csv[0], COMPARE_CSV_COLUMNS.join(','));
    assert.equal(csv.length, 1 + 3 * 4);
    assert.match(readFileSync(out('f.md'), 'utf8'), /\*\*Layer 1 changes the stream more on cpp than on python:\*\*/);
    assert.match(r.stdout, /^cpp vs python: absMean \(n = 4 vs 4\)/);
    assert.match(r.stdout, /\n\s+1\s.*\* cpp higher\n/);
  });

  it('--a/--b, --vs-rest, --correction, --alpha, --metric and --permutations', async () => {
    const json = path.join(dir, 'p.json');
    const r = await cli(['compare', file, '--vs-rest', 'python', '--correction', 'holm', '--alpha', '0.01', '--permutations', '500', '--seed', '9', '--json', json]);
    assert.equal(r.code, 0, r.stderr);
    const c = JSON.parse(readFileSync(json, 'utf8')) as CompareResults;
    validate(c);
    assert.deepEqual([c.comparisons[0].a, c.comparisons[0].b, c.comparisons[0].pooled], ['python', 'rest', ['cpp', 'maths']]);
    assert.deepEqual([c.metric, c.correction, c.alpha, c.permutations], ['absMean', 'holm', 0.01, { count: 500, seed: 9 }]);
    assert.ok(c.comparisons[0].layers.every((l) => l.permutation && l.permutation.p > 0));
    const pair = await cli(['compare', file, '--a', 'maths', '--b', 'cpp', '--metric', 'l2']);
    assert.equal(pair.code, 0, pair.stderr);
    assert.match(pair.stdout, /^maths vs cpp: l2 /);
  });

  it('bad input: exit 2 with one line naming the problem', async () => {
    const cases: [string[], RegExp][] = [
      [['--metric', 'relChange'], /Metric 'relChange' is not in these results; they have: mean, absMean, l2, residL2\./],
      [['--metric', 'cosine'], /they have: mean, absMean, l2, residL2/],
      [['--a', 'cpp'], /--a and --b go together/],
      [['--a', 'cpp', '--b', 'rust'], /No dataset named 'rust'; the results have: cpp, python, maths/],
      [['--vs-rest', 'cpp', '--a', 'cpp', '--b', 'maths'], /either --a NAME --b NAME or --vs-rest NAME/],
      [['--correction', 'bonferroni'], /Allowed choices are bh, holm, none/],
      [['--alpha', '5'], /between 0 and 1/],
      [['--skip-first-token'], /profiled with every text's first position included; profile again with --skip-first-token/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(['compare', file, ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    const noRecords = path.join(dir, 'summaries.json');
    writeFileSync(noRecords, JSON.stringify(resultsOf({ a: [[1, 2, 3]], b: [[2, 3, 4]] })));
    const perm = await cli(['compare', noRecords, '--permutations', '100']);
    assert.equal(perm.code, 2);
    assert.match(perm.stderr, /--permutations needs per-text values/);
    const notResults = path.join(dir, 'x.json');
    writeFileSync(notResults, '{"layers": []}');
    assert.match((await cli(['compare', notResults])).stderr, /is not a Layer Profiler results file/);
  });

  it('profile with two datasets prints a comparison per pair and writes --compare-json', async () => {
    const model = await ensureModel('optimum-llama');
    const data = mkdtempSync(path.join(os.tmpdir(), 'lp-compare-data-'));
    for (const [name, files] of Object.entries({ cpp: ['int a = 1;\n', 'void f() { g(); }\n', 'struct S { int x; };\n'], py: ['a = 1\n', 'def f():\n    g()\n', 'class S:\n    x = 0\n'] })) {
      mkdirSync(path.join(data, name));
      files.forEach((t, i) => writeFileSync(path.join(data, name, `${i}.txt`), t));
    }
    const json = path.join(dir, 'profile-compare.json');
    const r = await cli(['profile', '--model', model.dir, '--dataset', `cpp=${path.join(data, 'cpp')}`, '--dataset', `python=${path.join(data, 'py')}`, '--compare-json', json, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\ncpp vs python: absMean \(n = 3 vs 3\)/);
    const c = JSON.parse(readFileSync(json, 'utf8')) as CompareResults;
    validate(c);
    assert.equal(c.comparisons[0].layers.length, 3);
  });
});
