/**
 * Incremental re-runs and shards, as a user runs them: `profile --record-cache DIR` re-profiles only
 * new or changed texts (none: the model is not loaded), and `--shard K/N` runs merge into exactly
 * the single run.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ProfileResults } from '../src/core/results';
import { defaultThreads } from '../src/core/runtime/cores';
import { ensureModel } from './modelgen';

const ROOT = path.resolve(__dirname, '..');

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/index.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

function folderOfTexts(n: number): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lp-texts-'));
  mkdirSync(path.join(dir, 'sub'));
  for (let i = 0; i < n; i++) writeFileSync(path.join(dir, i % 3 ? `t${i}.py` : `sub/t${i}.py`), `def f${i}(x):\n    return x * ${i} + ${i % 7}\n`);
  return dir;
}

const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as ProfileResults;
/** What two runs must share: everything but when and how they ran. */
const numbers = (r: ProfileResults) => r.datasets.map((d) => ({ name: d.name, texts: d.texts, tokens: d.tokens, layers: d.layers, records: [...d.records].sort((a, b) => a.path.localeCompare(b.path)) }));

describe('record cache and shards on the command line', function () {
  let model: string;
  let onnxFile: string;
  before(async () => {
    ({ dir: model, onnxFile } = await ensureModel('optimum-llama'));
  });

  it('a re-run takes every text from the cache without loading the model; an edited file is the only one profiled', async () => {
    const texts = folderOfTexts(6);
    const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'lp-records-'));
    const out = mkdtempSync(path.join(os.tmpdir(), 'lp-out-'));
    const run = (file: string, extra: string[] = []) => cli(['profile', '--model', model, '--dataset', `py=${texts}`, '--json', path.join(out, file), '--record-cache', cacheDir, ...extra]);

    const first = await run('1.json');
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /6 profiled, 0 from cache/);
    assert.deepEqual(read(path.join(out, '1.json')).provenance?.cache, { profiled: 6, fromCache: 0 });
    // The model file's hash is kept in the named folder too (the default one is off in tests).
    const hashes = readdirSync(path.join(cacheDir, 'file-hashes')).filter((n) => n.endsWith('.sha256'));
    assert.equal(hashes.length, 1);
    assert.equal(JSON.parse(readFileSync(path.join(cacheDir, 'file-hashes', hashes[0]), 'utf8')).path, path.resolve(model, onnxFile));

    const second = await run('2.json');
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /0 profiled, 6 from cache .*the model was not loaded/);
    assert.doesNotMatch(second.stderr, /loading /);
    assert.deepEqual(numbers(read(path.join(out, '2.json'))), numbers(read(path.join(out, '1.json'))));
    assert.deepEqual(read(path.join(out, '2.json')).provenance?.cache, { profiled: 0, fromCache: 6 });

    writeFileSync(path.join(texts, 't1.py'), 'def changed():\n    return 42\n');
    const third = await run('3.json');
    assert.equal(third.code, 0, third.stderr);
    assert.match(third.stderr, /1 profiled, 5 from cache/);
    // The same as profiling everything afresh.
    const fresh = await run('4.json', ['--no-cache']);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.deepEqual(numbers(read(path.join(out, '3.json'))), numbers(read(path.join(out, '4.json'))));

    // Settings that change numbers are another cache: nothing is reused.
    const other = await run('5.json', ['--skip-first-token']);
    assert.match(other.stderr, /6 profiled, 0 from cache/);
    // So is another thread count (ORT splits its sums differently): not the default's records.
    const threads = defaultThreads() === 1 ? 2 : 1;
    const otherThreads = await run('6.json', ['--threads', String(threads)]);
    assert.match(otherThreads.stderr, /6 profiled, 0 from cache/);
    assert.equal(read(path.join(out, '6.json')).runtime.threads, threads);
    // Named explicitly, the default's own count is the default's cache.
    const sameThreads = await run('7.json', ['--threads', String(defaultThreads())]);
    assert.match(sameThreads.stderr, /0 profiled, 6 from cache/);
  });

  it('four shards (from --shard or a Slurm array) merge into exactly the single run', async () => {
    const texts = folderOfTexts(12);
    const out = mkdtempSync(path.join(os.tmpdir(), 'lp-shards-'));
    const single = await cli(['profile', '--model', model, '--dataset', `py=${texts}`, '--json', path.join(out, 'single.json')]);
    assert.equal(single.code, 0, single.stderr);
    const shards: string[] = [];
    for (let k = 1; k <= 4; k++) {
      const file = path.join(out, `shard${k}.json`);
      // Shards 1-2 by flag, 3-4 as a Slurm job array would run them.
      const r = k <= 2 ? await cli(['profile', '--model', model, '--dataset', `py=${texts}`, '--json', file, '--shard', `${k}/4`]) : await cli(['profile', '--model', model, '--dataset', `py=${texts}`, '--json', file], { SLURM_ARRAY_TASK_ID: String(k - 1), SLURM_ARRAY_TASK_COUNT: '4' });
      // A shard may hold no text (12 texts over 4 shards by hash): that run exits 1 and writes nothing.
      if (r.code === 0) shards.push(file);
      else assert.match(r.stderr, /No text was profiled/);
    }
    const merged = await cli(['merge', ...shards, '--json', path.join(out, 'merged.json')]);
    assert.equal(merged.code, 0, merged.stderr);
    const a = read(path.join(out, 'single.json')).datasets[0];
    const b = read(path.join(out, 'merged.json')).datasets[0];
    assert.equal(b.texts, a.texts);
    assert.deepEqual([...b.records].sort((x, y) => x.path.localeCompare(y.path)), [...a.records].sort((x, y) => x.path.localeCompare(y.path)));
    a.layers.forEach((l, i) => {
      assert.ok(Math.abs(b.layers[i].absMean.mean - l.absMean.mean) <= 1e-12 * Math.abs(l.absMean.mean), `layer ${i} mean`);
      assert.ok(Math.abs(b.layers[i].absMean.std! - l.absMean.std!) <= 1e-12 * Math.abs(l.absMean.std!) + 1e-15, `layer ${i} std`);
    });
    // Merging a shard with itself is refused: its texts would count twice.
    const twice = await cli(['merge', shards[0], shards[0], '--json', path.join(out, 'twice.json')]);
    assert.notEqual(twice.code, 0);
  });
});
