/**
 * The command line as a user runs it: real processes, outputs validated against the JSON Schemas
 * of the contract, exit codes and one-line errors for bad input, and the Hub download path against
 * a local server that serves a generated model in the Hub's URL layout.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { onnx } from 'onnx-proto';
import { ensureModel } from './modelgen';
import { FakeHub } from './support/hub-server';
import { serveModelAsQ8 } from './support/hubRepo';
import { CSV_COLUMNS } from '../src/core/results/build';
import type { LensResults } from '../src/core/lens/lensResults';
import type { ProfileResults } from '../src/core/results';

const ROOT = path.resolve(__dirname, '..');

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/index.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

function validator(schemaFile: string) {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const validate = ajv.compile(JSON.parse(readFileSync(path.join(ROOT, 'schema', schemaFile), 'utf8')));
  return (data: unknown) => {
    assert.ok(validate(data), JSON.stringify(validate.errors, null, 2));
  };
}

function writeDataset(): { cpp: string; py: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lp-cli-'));
  const cpp = path.join(dir, 'cpp');
  const py = path.join(dir, 'py');
  mkdirSync(cpp);
  mkdirSync(py);
  writeFileSync(path.join(cpp, 'a.cpp'), 'int add(int a, int b) { return a + b; }\n');
  writeFileSync(path.join(cpp, 'b.cpp'), '#include <string>\nstd::string greet() { return "hi"; }\n');
  writeFileSync(path.join(cpp, 'c.h'), 'struct P { int x, y; };\n');
  writeFileSync(path.join(py, 'a.py'), 'def add(a, b):\n    return a + b\n');
  writeFileSync(path.join(py, 'b.py'), 'import os\nprint(os.getcwd())\n');
  writeFileSync(path.join(py, 'blob.bin'), Buffer.from([0, 1, 2, 3]));
  return { cpp, py };
}

describe('command line', function () {
  let modelDir: string;
  before(async () => {
    modelDir = (await ensureModel('optimum-llama')).dir;
  });

  it('profile writes schema-valid JSON, a CSV row per dataset and layer, and a table', async () => {
    const { cpp, py } = writeDataset();
    const out = mkdtempSync(path.join(os.tmpdir(), 'lp-out-'));
    const r = await cli(['profile', '--model', modelDir, '--dataset', `cpp=${cpp}`, '--dataset', `python=${py}`, '--json', path.join(out, 'r.json'), '--csv', path.join(out, 'r.csv'), '--max-tokens', '16', '--batch-size', '2']);
    assert.equal(r.code, 0, r.stderr);
    const results = JSON.parse(readFileSync(path.join(out, 'r.json'), 'utf8')) as ProfileResults;
    validator('profile-v2.schema.json')(results);
    assert.deepEqual(results.datasets.map((d) => [d.name, d.texts]), [['cpp', 3], ['python', 2]]);
    assert.equal(results.datasets[1].skipped.length, 1);
    assert.match(results.datasets[1].skipped[0].reason, /binary/);
    assert.equal(results.model.numLayers, 3);
    assert.match(results.model.sha256, /^[0-9a-f]{64}$/);
    const csv = readFileSync(path.join(out, 'r.csv'), 'utf8').trim().split('\n');
    assert.equal(csv[0], CSV_COLUMNS.join(','));
    assert.equal(csv.length, 1 + 2 * 3);
    const row = csv[1].split(',');
    assert.equal(row[0], 'cpp');
    assert.equal(Number(row[5]), results.datasets[0].layers[0].absMean.mean);
    assert.match(r.stdout, /dataset cpp: 3 texts/);
    assert.match(r.stderr, /skipped .*blob\.bin: binary file/);
  });

  it('results record the settings actually used and their provenance; a second run differs only in its creation time', async () => {
    const { cpp } = writeDataset();
    const out = mkdtempSync(path.join(os.tmpdir(), 'lp-prov-'));
    const args = (file: string) => ['profile', '--model', modelDir, '--dataset', `cpp=${cpp}`, '--json', path.join(out, file), '--max-tokens', '99999999', '--skip-first-token', '--graph-optimization', 'basic'];
    const first = await cli(args('a.json'));
    assert.equal(first.code, 0, first.stderr);
    const second = await cli(args('b.json'));
    assert.equal(second.code, 0, second.stderr);
    const a = JSON.parse(readFileSync(path.join(out, 'a.json'), 'utf8')) as ProfileResults;
    const b = JSON.parse(readFileSync(path.join(out, 'b.json'), 'utf8')) as ProfileResults;
    validator('profile-v2.schema.json')(a);
    // The generated model's config says 1024 positions: the window actually run.
    assert.equal(a.settings.maxTokens, 99999999);
    assert.equal(a.settings.windowTokens, 1024);
    assert.equal(a.settings.windowsContinueThroughCache, true);
    assert.equal(a.settings.skipFirstToken, true);
    assert.equal(a.runtime.graphOptimizationLevel, 'basic');
    assert.match(a.model.tokenizerSha256 ?? '', /^[0-9a-f]{64}$/);
    assert.equal(a.model.configSha256, createHash('sha256').update(readFileSync(path.join(modelDir, 'config.json'))).digest('hex'));
    assert.deepEqual(a.provenance?.commandLine, ['layer-profiler', ...args('a.json')]);
    assert.ok(Math.abs(Date.parse(a.provenance!.createdAt) - Date.now()) < 10 * 60_000);
    assert.match(first.stderr, /windows of 1024 tokens/);
    const comparable = (r: ProfileResults, file: string) => ({ ...r, provenance: { ...r.provenance, createdAt: 'x', commandLine: r.provenance?.commandLine?.map((x) => x.replace(file, 'OUT')) } });
    assert.deepEqual(comparable(b, 'b.json'), comparable(a, 'a.json'));
  });

  it('lens writes schema-valid JSON (per-position for --text, summaries for --dataset), both CSVs and tables', async () => {
    const { py } = writeDataset();
    const out = mkdtempSync(path.join(os.tmpdir(), 'lp-lens-'));
    const r = await cli(['lens', '--model', modelDir, '--text', 'def add(a, b): return a + b', '--dataset', `python=${py}`, '--k', '3', '--json', path.join(out, 'l.json'), '--csv', path.join(out, 'l.csv'), '--csv-tokens', path.join(out, 't.csv')]);
    assert.equal(r.code, 0, r.stderr);
    const lens = JSON.parse(readFileSync(path.join(out, 'l.json'), 'utf8')) as LensResults;
    validator('lens-v1.schema.json')(lens);
    assert.equal(lens.k, 3);
    const [text] = lens.texts;
    assert.deepEqual(text.points.map((p) => p.layer), [-1, 0, 1, 2]);
    for (const p of text.points) {
      assert.equal(p.entropy.length, text.ids.length);
      assert.equal(p.top[0].length, 3);
      assert.equal(p.nextLogProb[text.ids.length - 1], null);
    }
    assert.deepEqual(text.points[3].klToFinal, text.ids.map(() => 0));
    assert.equal(lens.datasets[0].texts, 2);
    const csv = readFileSync(path.join(out, 'l.csv'), 'utf8').trim().split('\n');
    assert.equal(csv.length, 1 + 4);
    const tokens = readFileSync(path.join(out, 't.csv'), 'utf8').trim().split('\n');
    assert.equal(tokens.length, 1 + 4 * text.ids.length);
    assert.match(r.stdout, /top-1 next token per layer/);
    assert.match(r.stdout, /dataset python: 2 texts/);
  });

  it('inspect --json follows the inspect schema', async () => {
    const r = await cli(['inspect', '--model', modelDir, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const parsed = JSON.parse(r.stdout);
    validator('inspect-v1.schema.json')(parsed);
    assert.equal(parsed.layers.length, 3);
  });

  it('npm run bench -- --json prints the bench schema object (small shape)', async () => {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/run.ts'), '--json', '--only', 'speed', '--hidden', '64', '--heads', '4', '--layers', '2', '--vocab-size', '512', '--tokens', '32', '--rounds', '2', '--warmup', '1'], { cwd: ROOT }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout))),
    );
    const result = JSON.parse(out);
    validator('bench-v1.schema.json')(result);
    assert.ok(result.overheadRatio > 0 && Number.isFinite(result.overheadRatio));
    assert.ok(result.plainRatio > 0 && Number.isFinite(result.plainRatio));
    assert.equal(result.vocabSize, 512);
    assert.equal(result.rounds, 2);
    for (const side of ['plain', 'floor', 'profile']) assert.ok(result.peakRssBytes[side] > 1e6, side);
  });

  it('npm run bench -- --only (the memory sections) prints the bench schema object (small shape, small folders)', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'lp-bench-'));
    const args = ['--json', '--only', 'batching,folders,lens-folders,cache', '--hidden', '64', '--heads', '4', '--layers', '2', '--vocab-size', '512', '--batch-windows', '32', '--batch-sizes', '1,4', '--batch-texts', '4', '--folder-files', '2,4', '--lens-folder-files', '2,3', '--cache-files', '3', '--folder-root', root];
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/run.ts'), ...args], { cwd: ROOT }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout))),
    );
    const result = JSON.parse(out);
    validator('bench-v1.schema.json')(result);
    assert.equal(result.overheadRatio, undefined);
    // Batch 1 and 4 within 4 × 32 tokens, then the default batch within the default budget.
    assert.deepEqual(result.batching.map((r: { batchSize: number; maxBatchTokens: number }) => [r.batchSize, r.maxBatchTokens]), [[1, 32], [4, 128], [16, 512]]);
    assert.deepEqual(result.folderMemory.runs.map((r: { files: number }) => r.files), [2, 4]);
    assert.deepEqual(result.lensFolderMemory.runs.map((r: { files: number }) => r.files), [2, 3]);
    assert.equal(result.cachedRerun.rerunLoadedNoModel, true);
    assert.equal(result.cachedRerun.identical, true);
  });

  it('npm run bench -- --only source says why it skipped where no PyTorch can be run, in the bench schema', async () => {
    const args = ['--json', '--only', 'source', '--hidden', '64', '--heads', '4', '--layers', '2', '--vocab-size', '512'];
    const env = { ...process.env, LAYER_PROFILER_PYTHON: path.join(os.tmpdir(), 'no-such-python') };
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/run.ts'), ...args], { cwd: ROOT, env }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout))),
    );
    const result = JSON.parse(out);
    validator('bench-v1.schema.json')(result);
    assert.match(result.sourceMethod.skipped, /no-such-python cannot be run/);
  });

  it('merge combines shards of one dataset exactly', async () => {
    const { cpp } = writeDataset();
    const out = mkdtempSync(path.join(os.tmpdir(), 'lp-merge-'));
    const files = readdirSync(cpp);
    const halves = [files.slice(0, 1), files.slice(1)].map((names, i) => {
      const d = path.join(out, `part${i}`);
      mkdirSync(d);
      for (const n of names) copyFileSync(path.join(cpp, n), path.join(d, n));
      return d;
    });
    const args = (ds: string, json: string) => ['profile', '--model', modelDir, '--dataset', `cpp=${ds}`, '--json', json, '--quiet'];
    assert.equal((await cli(args(cpp, path.join(out, 'all.json')))).code, 0);
    assert.equal((await cli(args(halves[0], path.join(out, 'a.json')))).code, 0);
    assert.equal((await cli(args(halves[1], path.join(out, 'b.json')))).code, 0);
    const m = await cli(['merge', path.join(out, 'a.json'), path.join(out, 'b.json'), '--json', path.join(out, 'm.json')]);
    assert.equal(m.code, 0, m.stderr);
    const all = JSON.parse(readFileSync(path.join(out, 'all.json'), 'utf8')) as ProfileResults;
    const merged = JSON.parse(readFileSync(path.join(out, 'm.json'), 'utf8')) as ProfileResults;
    validator('profile-v2.schema.json')(merged);
    all.datasets[0].layers.forEach((l, i) => {
      const g = merged.datasets[0].layers[i];
      assert.equal(g.absMean.n, l.absMean.n);
      assert.ok(Math.abs(g.absMean.mean - l.absMean.mean) < 1e-12 * Math.abs(l.absMean.mean) + 1e-15);
      assert.ok(Math.abs(g.absMean.std! - l.absMean.std!) < 1e-9 * l.absMean.std!);
    });
  });

  describe('bad input: non-zero exit with a one-line reason naming the problem', () => {
    const oneLine = (stderr: string) => stderr.trim().split('\n').filter((l) => l.startsWith('layer-profiler: error:'));

    it('a missing model', async () => {
      const r = await cli(['profile', '--model', '/no/such/model', '--dataset', 'a=.']);
      assert.equal(r.code, 1);
      assert.equal(oneLine(r.stderr).length, 1);
      assert.match(r.stderr, /No model at \/no\/such\/model/);
    });

    it('a corrupt model file', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'lp-bad-'));
      writeFileSync(path.join(dir, 'model.onnx'), Buffer.from('this is not a protobuf at all \u00ff\u00fe'));
      const r = await cli(['inspect', '--model', dir]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /model\.onnx is not a valid ONNX model/);
    });

    it('a model whose external data file is missing', async () => {
      const src = await ensureModel('genai-fused');
      const dir = mkdtempSync(path.join(os.tmpdir(), 'lp-noext-'));
      for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', src.onnxFile]) copyFileSync(path.join(src.dir, f), path.join(dir, f));
      assert.ok(src.externalDataFiles.length > 0);
      const r = await cli(['inspect', '--model', dir]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`keeps its weights in ${src.externalDataFiles[0].replace('.', '\\.')}, which is missing`));
    });

    it('a graph with no transformer layers', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'lp-nolayers-'));
      const bytes = onnx.ModelProto.encode({
        irVersion: 8,
        opsetImport: [{ domain: '', version: 17 }],
        graph: {
          name: 'g',
          node: [{ opType: 'MatMul', input: ['x', 'w'], output: ['y'] }, { opType: 'Relu', input: ['y'], output: ['z'] }],
          initializer: [{ name: 'w', dims: [2, 2], dataType: 1, floatData: [1, 0, 0, 1] }],
          input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: 2 }] } } } }],
          output: [{ name: 'z', type: { tensorType: { elemType: 1 } } }],
        },
      }).finish();
      writeFileSync(path.join(dir, 'model.onnx'), bytes);
      const r = await cli(['inspect', '--model', dir]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /No residual stream found.*2 nodes \(1 MatMul, 1 Relu\)/);
    });

    it('a tokenizer that does not match the model vocabulary', async () => {
      const src = await ensureModel('optimum-llama');
      const dir = mkdtempSync(path.join(os.tmpdir(), 'lp-tok-'));
      mkdirSync(path.join(dir, 'onnx'));
      for (const f of ['config.json', 'tokenizer_config.json']) copyFileSync(path.join(src.dir, f), path.join(dir, f));
      copyFileSync(src.onnxPath, path.join(dir, 'onnx/model.onnx'));
      const tokenizer = JSON.parse(readFileSync(path.join(src.dir, 'tokenizer.json'), 'utf8'));
      // A vocabulary larger than the model's embedding: the tokenizer of another model.
      const vocab = tokenizer.model.vocab as Record<string, number>;
      for (let i = 0; i < 500; i++) vocab[`extra_token_${i}`] = src.vocabSize + i;
      writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
      const { cpp } = writeDataset();
      const r = await cli(['profile', '--model', dir, '--dataset', `c=${cpp}`]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`has ${src.vocabSize + 500} tokens but the model's embedding has only ${src.vocabSize} rows`));
    });

    it('a dataset path that does not exist', async () => {
      const r = await cli(['profile', '--model', modelDir, '--dataset', 'cpp=/no/such/folder']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /Dataset 'cpp': \/no\/such\/folder does not exist/);
    });

    it('usage errors exit 2', async () => {
      const r = await cli(['profile', '--model', modelDir, '--dataset', 'a=.', '--dtype', 'fp7']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /Unknown dtype 'fp7'/);
      const r2 = await cli(['profile', '--model', modelDir]);
      assert.equal(r2.code, 2);
    });
  });

  it('Ctrl-C stops between batches and still writes the texts finished so far', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lp-sigint-'));
    for (let i = 0; i < 400; i++) writeFileSync(path.join(dir, `f${i}.py`), `def f${i}(x):\n    return x * ${i}\n`.repeat(30));
    const out = path.join(dir, 'partial.json');
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/index.ts'), 'profile', '--model', modelDir, '--dataset', `py=${dir}`, '--json', out, '--max-tokens', '32'], { cwd: ROOT });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve) =>
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/\[py\] [1-9]\d*\/400 texts/.test(stderr)) resolve();
      }),
    );
    child.kill('SIGINT');
    assert.equal(await exited, 130, stderr);
    const results = JSON.parse(readFileSync(out, 'utf8')) as ProfileResults;
    validator('profile-v2.schema.json')(results);
    const ds = results.datasets[0];
    assert.equal(ds.partial, true);
    assert.ok(ds.texts > 0 && ds.texts < 400, `texts ${ds.texts}`);
    assert.ok(ds.layers.every((l) => l.absMean.n === ds.texts));
    assert.match(stderr, /cancelled: the results above hold the texts finished before the interrupt/);
  });

  it('downloads a Hub model once into the cache, then profiles from the cache', async () => {
    const model = await ensureModel('optimum-llama');
    const hub = await FakeHub.start();
    try {
      serveModelAsQ8(hub, 'test-org/tiny-llama', model);
      const cache = mkdtempSync(path.join(os.tmpdir(), 'lp-cache-'));
      const { cpp } = writeDataset();
      const args = ['profile', '--model', 'test-org/tiny-llama', '--dtype', 'q8', '--hub-url', hub.url, '--cache-dir', cache, '--dataset', `cpp=${cpp}`];
      const first = await cli(args);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stderr, /downloading onnx\/model_quantized\.onnx/);
      const downloads = hub.contentRequests().length;
      assert.ok(downloads >= 4);
      hub.resetLog();
      const second = await cli(args);
      assert.equal(second.code, 0, second.stderr);
      assert.equal(hub.contentRequests().length, 0, 'the second run downloads nothing');
      assert.equal(first.stdout, second.stdout);
    } finally {
      await hub.close();
    }
  });
});
