/**
 * Local model folders as users keep them: a transformers.js layout with several dtypes profiled by
 * `--dtype` as a Hub repo is, an .onnx file inside `onnx/` that finds its config and tokenizer in
 * the folder above, `--tokenizer` overriding the folder's tokenizer, and `inspect` refusing what
 * ONNX Runtime cannot load, naming the user's file (never the temporary copy the engine stages).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import { ensureModel } from './modelgen';
import type { GeneratedModel } from './modelgen/types';
import type { ProfileResults } from '../src/core/results';

const ROOT = path.resolve(__dirname, '..');
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'];

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/index.ts'), ...args], { cwd: ROOT, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const tmp = (prefix: string) => mkdtempSync(path.join(os.tmpdir(), prefix));

function writeDataset(): string {
  const dir = tmp('lp-local-ds-');
  writeFileSync(path.join(dir, 'a.py'), 'def add(a, b):\n    return a + b\n');
  writeFileSync(path.join(dir, 'b.cpp'), 'int add(int a, int b) { return a + b; }\n');
  return dir;
}

/** Profiles `model` (plus `extra` arguments) and returns the results JSON, asserting success. */
async function profile(model: string, dataset: string, extra: string[] = []): Promise<ProfileResults> {
  const json = path.join(tmp('lp-local-out-'), 'r.json');
  const r = await cli(['profile', '--model', model, '--dataset', `d=${dataset}`, '--json', json, '--max-tokens', '16', '--quiet', ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(readFileSync(path.join(json), 'utf8')) as ProfileResults;
}

function copyFiles(from: string, to: string, files: string[]): void {
  for (const f of files) copyFileSync(path.join(from, f), path.join(to, f));
}

describe('local model folders', function () {
  let fp32: GeneratedModel;
  /** A transformers.js-style folder: onnx/model.onnx, onnx/model_fp16.onnx, onnx/model_q4.onnx. */
  let folder: string;
  let dataset: string;

  before(async () => {
    fp32 = await ensureModel('optimum-llama');
    const fp16 = await ensureModel('optimum-llama', { fp16: true });
    const q4 = await ensureModel('quantized');
    folder = tmp('lp-dtypes-');
    mkdirSync(path.join(folder, 'onnx'));
    copyFiles(fp32.dir, folder, ['config.json', ...TOKENIZER_FILES]);
    copyFileSync(fp32.onnxPath, path.join(folder, 'onnx/model.onnx'));
    copyFileSync(fp16.onnxPath, path.join(folder, 'onnx/model_fp16.onnx'));
    copyFileSync(q4.onnxPath, path.join(folder, 'onnx/model_q4.onnx'));
    dataset = writeDataset();
  });

  describe('by dtype', () => {
    it('profiles the file each --dtype names and records that dtype; no --dtype keeps onnx/model.onnx', async () => {
      const seen = new Set<string>();
      for (const [dtype, file] of [[undefined, 'onnx/model.onnx'], ['fp16', 'onnx/model_fp16.onnx'], ['q4', 'onnx/model_q4.onnx']] as const) {
        const results = await profile(folder, dataset, dtype ? ['--dtype', dtype] : []);
        assert.equal(results.model.file, file, `--dtype ${dtype}`);
        assert.equal(results.model.dtype, dtype ?? 'fp32');
        assert.equal(results.model.id, folder);
        assert.equal(results.datasets[0].texts, 2);
        seen.add(results.model.sha256);
      }
      assert.equal(seen.size, 3, 'three different files were profiled');
    });

    it('a dtype the folder does not hold is an error that lists the ones it does', async () => {
      for (const command of ['profile', 'inspect']) {
        const r = await cli([command, '--model', folder, '--dtype', 'q8', ...(command === 'profile' ? ['--dataset', `d=${dataset}`] : [])]);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /^layer-profiler: error: .* has no q8 weights \(onnx\/model_quantized\.onnx\)\. It holds fp32, fp16, q4; choose one of those\.$/m);
      }
    });

    it('inspect --json reports the file and dtype chosen', async () => {
      const r = await cli(['inspect', '--model', folder, '--dtype', 'fp16', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const parsed = JSON.parse(r.stdout) as { model: { file: string; dtype: string } };
      assert.equal(parsed.model.file, 'onnx/model_fp16.onnx');
      assert.equal(parsed.model.dtype, 'fp16');
    });
  });

  describe('a file inside onnx/', () => {
    it('finds its config and tokenizer in the folder above, and its dtype by name', async () => {
      const results = await profile(path.join(folder, 'onnx/model_q4.onnx'), dataset);
      assert.equal(results.model.file, 'onnx/model_q4.onnx');
      assert.equal(results.model.dtype, 'q4');
      assert.equal(results.model.architecture, 'LlamaForCausalLM');
      assert.equal(results.datasets[0].texts, 2);
    });

    it('with a --dtype naming another file, is an error', async () => {
      const r = await cli(['inspect', '--model', path.join(folder, 'onnx/model_q4.onnx'), '--dtype', 'fp16']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /model_q4\.onnx is not the fp16 file of a model \(that is onnx\/model_fp16\.onnx\)/);
    });
  });

  describe('--tokenizer', () => {
    it("is used instead of the model folder's tokenizer (a tokenizer.json file or a folder)", async () => {
      // The folder's own tokenizer belongs to another model (its vocabulary is larger than the embedding).
      const dir = tmp('lp-tokover-');
      mkdirSync(path.join(dir, 'onnx'));
      copyFiles(fp32.dir, dir, ['config.json', 'tokenizer_config.json']);
      copyFileSync(fp32.onnxPath, path.join(dir, 'onnx/model.onnx'));
      const tokenizer = JSON.parse(readFileSync(path.join(fp32.dir, 'tokenizer.json'), 'utf8'));
      for (let i = 0; i < 500; i++) (tokenizer.model.vocab as Record<string, number>)[`extra_${i}`] = fp32.vocabSize + i;
      writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
      const own = await cli(['profile', '--model', dir, '--dataset', `d=${dataset}`, '--quiet']);
      assert.equal(own.code, 1);
      assert.match(own.stderr, /the tokenizer does not belong to this model/);

      const good = tmp('lp-tok-');
      copyFiles(fp32.dir, good, TOKENIZER_FILES);
      const reference = await profile(fp32.dir, dataset);
      for (const tok of [path.join(good, 'tokenizer.json'), good]) {
        const results = await profile(dir, dataset, ['--tokenizer', tok]);
        assert.equal(results.datasets[0].tokens, reference.datasets[0].tokens, `--tokenizer ${tok}`);
        assert.deepEqual(results.datasets[0].layers, reference.datasets[0].layers);
      }
    });

    it('lets a bare .onnx file without a tokenizer beside it be profiled', async () => {
      const dir = tmp('lp-bare-');
      copyFileSync(fp32.onnxPath, path.join(dir, 'lm.onnx'));
      const missing = await cli(['profile', '--model', path.join(dir, 'lm.onnx'), '--dataset', `d=${dataset}`, '--quiet']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /Cannot load the tokenizer/);
      const results = await profile(path.join(dir, 'lm.onnx'), dataset, ['--tokenizer', fp32.dir]);
      assert.equal(results.datasets[0].texts, 2);
    });

    it('a --tokenizer path that does not exist fails before the model loads', async () => {
      const r = await cli(['profile', '--model', folder, '--dataset', `d=${dataset}`, '--tokenizer', '/no/such/tokenizer.json']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /No tokenizer at \/no\/such\/tokenizer\.json/);
    });
  });

  describe('a model ONNX Runtime refuses', () => {
    let broken: string;
    before(() => {
      // Decodes, and its residual stream is found, but one node's op exists nowhere: ORT cannot load it.
      const proto = onnx.ModelProto.decode(readFileSync(fp32.onnxPath));
      const neg = proto.graph!.node!.find((n) => n.opType === 'Neg');
      assert.ok(neg, 'the generated model has a Neg (rotary embedding)');
      neg.opType = 'NegThatDoesNotExist';
      broken = tmp('lp-ortrefuses-');
      mkdirSync(path.join(broken, 'onnx'));
      copyFiles(fp32.dir, broken, ['config.json', ...TOKENIZER_FILES]);
      writeFileSync(path.join(broken, 'onnx/model.onnx'), onnx.ModelProto.encode(proto).finish());
    });

    for (const command of ['inspect', 'profile']) {
      it(`${command} fails with ORT's reason, naming the user's file and not the staged copy`, async () => {
        const r = await cli([command, '--model', broken, ...(command === 'profile' ? ['--dataset', `d=${dataset}`, '--quiet'] : [])]);
        assert.equal(r.code, 1, r.stdout);
        const lines = r.stderr.trim().split('\n');
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0], new RegExp(`^layer-profiler: error: ONNX Runtime cannot load ${path.join(broken, 'onnx/model.onnx').replace(/[.\\/]/g, '\\$&')}: .*NegThatDoesNotExist`));
        assert.doesNotMatch(r.stderr, /layer-profiler-[A-Za-z0-9]{6}/);
        assert.doesNotMatch(r.stderr, /\x1b\[/, 'no coloured ORT log line');
      });
    }
  });

  const shared = process.env.LAYER_PROFILER_TEST_MODELS;
  (shared ? describe : describe.skip)('a real transformers.js export (realexp/optimum-llama)', () => {
    const dir = path.join(shared ?? '', 'realexp/optimum-llama');
    const files = { fp32: 'onnx/model.onnx', fp16: 'onnx/model_fp16.onnx', q8: 'onnx/model_quantized.onnx', q4: 'onnx/model_q4.onnx', q4f16: 'onnx/model_q4f16.onnx' };

    for (const [dtype, file] of Object.entries(files)) {
      it(`--dtype ${dtype} profiles ${file} from the folder`, async () => {
        const results = await profile(dir, dataset, ['--dtype', dtype]);
        assert.equal(results.model.file, file);
        assert.equal(results.model.dtype, dtype);
        assert.equal(results.model.numLayers, 3);
        assert.equal(results.datasets[0].texts, 2);
      });
    }

    it('a missing dtype lists the five present', async () => {
      const r = await cli(['inspect', '--model', dir, '--dtype', 'bnb4']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /has no bnb4 weights \(onnx\/model_bnb4\.onnx\)\. It holds fp32, fp16, q8, q4, q4f16;/);
    });

    it('a file inside onnx/ finds the tokenizer above', async () => {
      const results = await profile(path.join(dir, 'onnx/model_q4f16.onnx'), dataset);
      assert.equal(results.model.file, 'onnx/model_q4f16.onnx');
      assert.equal(results.model.dtype, 'q4f16');
    });
  });
});
