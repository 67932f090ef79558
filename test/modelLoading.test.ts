/**
 * Loading a model without a second copy of its weights (onnx/modelReader.ts, stageModel): the
 * file read once leaves every large initializer in the file, referred to by offset and length
 * (checked byte for byte against the file decoded whole, independently); the staged model on disk
 * is a small graph beside a hard link to the user's file, not a copy; probe values, raw residuals,
 * the logit lens and two-text distances are bit-identical to those of the loader that held the
 * weights in memory and staged a full copy, on every generated style (weights inside the file and
 * in external data files) and every shared model; a hash the record cache computed is reused only
 * while the file is unchanged.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import { ensureModel } from './modelgen';
import { MODEL_STYLES } from './modelgen/types';
import type { ModelSpec } from '../src/core/api';
import { TextDiff } from '../src/core/diff/textDiff';
import { LogitLens } from '../src/core/lens/logitLens';
import { fileSha256 } from '../src/core/onnx/fileHash';
import { ModelFileError, readOnnxModel } from '../src/core/onnx/modelFile';
import { LayerProfiler, loadAndAnalyze } from '../src/core/profiler';
import { instrumentForProfile } from '../src/core/profileGraph';
import { createOrtSession, stageModel, type WindowProbeValues } from '../src/core/runtime/probedSession';

const root = process.env.LAYER_PROFILER_TEST_MODELS;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

interface Case {
  label: string;
  spec: () => Promise<ModelSpec>;
}

const generated: Case[] = MODEL_STYLES.map((style) => ({ label: style, spec: async () => ({ kind: 'local' as const, path: (await ensureModel(style)).dir }) }));

function sharedCases(): Case[] {
  if (!root || !existsSync(root)) return [];
  const files = ['ort-genai-tiny-random-llama-fp16/model.onnx', 'ort-genai-tiny-random-gpt2-fp32/past.onnx', 'ort-testdata/gpt2_past.onnx', 'ort-testdata/bert_toy_optimized.onnx', 'ort-testdata/TFBertForQuestionAnswering.onnx'];
  const realexp = path.join(root, 'realexp');
  for (const folder of existsSync(realexp) ? readdirSync(realexp).sort() : []) {
    for (const sub of ['', 'onnx']) {
      const d = path.join(realexp, folder, sub);
      if (existsSync(d) && statSync(d).isDirectory()) for (const f of readdirSync(d).filter((f) => f.endsWith('.onnx')).sort()) files.push(path.join('realexp', folder, sub, f));
    }
  }
  return files.map((f) => ({ label: `shared ${f}`, spec: async () => ({ kind: 'local' as const, path: path.join(root, f) }) }));
}

function sameBits(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) assert.fail(`${what}[${i}]: weights left in the file ${a[i]} vs in memory ${b[i]}`);
}

function sameWindows(a: WindowProbeValues[], b: WindowProbeValues[]): void {
  assert.equal(a.length, b.length);
  a.forEach((v, w) => {
    for (const k of ['mean', 'absMean', 'l2', 'residL2', 'embedL2'] as const) sameBits(v[k], b[w][k], `window ${w} ${k}`);
    v.substeps.forEach((s, i) => {
      for (const k of ['mean', 'absMean', 'l2'] as const) sameBits(s[k], b[w].substeps[i][k], `window ${w} ${s.kind} ${k}`);
    });
    assert.ok(v.raw && b[w].raw);
    v.raw.forEach((r, k) => sameBits(r, b[w].raw![k], `window ${w} raw residual ${k}`));
  });
}

describe('loading a model without a second copy of its weights', function () {
  this.timeout(300_000);

  describe('a model whose weights are inside the .onnx file', () => {
    it('leaves every initializer of 1 KiB or more in the file, referred to by its exact bytes; the rest is as decoded from the whole file', async () => {
      const m = await ensureModel('optimum-llama', { hidden: 128, vocabSize: 2000 });
      const whole = readFileSync(m.onnxPath);
      const original = onnx.ModelProto.decode(whole);
      const model = await readOnnxModel(m.onnxPath);
      assert.equal(model.sha256, sha256(whole));
      assert.equal(model.fileBytes, whole.length);
      assert.ok(model.bytes.length < whole.length / 20, `the decoded part holds no weights (${model.bytes.length} of ${whole.length} bytes)`);
      assert.deepEqual(model.externalDataFiles, [path.basename(m.onnxPath)]);
      const read = model.graph.initializer ?? [];
      const inFile = original.graph!.initializer!;
      assert.equal(read.length, inFile.length);
      let referred = 0;
      inFile.forEach((t, i) => {
        const r = read[i];
        assert.equal(r.name, t.name);
        assert.deepEqual(r.dims?.map(Number), t.dims?.map(Number));
        assert.equal(r.dataType, t.dataType);
        if (t.rawData && t.rawData.length >= 1024) {
          referred++;
          assert.equal(r.dataLocation, onnx.TensorProto.DataLocation.EXTERNAL, `${t.name} is left in the file`);
          const entry = (key: string) => r.externalData?.find((e) => e.key === key)?.value;
          assert.equal(entry('location'), path.basename(m.onnxPath));
          const offset = Number(entry('offset'));
          const length = Number(entry('length'));
          assert.equal(length, t.rawData.length);
          assert.ok(whole.subarray(offset, offset + length).equals(Buffer.from(t.rawData)), `${t.name}: the referred bytes are its raw data`);
          assert.equal(r.rawData?.length ?? 0, 0);
        } else {
          assert.notEqual(r.dataLocation, onnx.TensorProto.DataLocation.EXTERNAL);
          assert.deepEqual(Buffer.from(r.rawData ?? []), Buffer.from(t.rawData ?? []), `${t.name} stays in memory`);
        }
      });
      assert.ok(referred > 5, 'the weights are referred to');
      // Everything but the initializers decodes as it does from the whole file.
      assert.deepEqual(onnx.NodeProto.toObject(model.graph.node![3] as onnx.NodeProto), onnx.NodeProto.toObject(original.graph!.node![3] as onnx.NodeProto));
      assert.equal(model.graph.node!.length, original.graph!.node!.length);
      assert.deepEqual(model.outputs.map((o) => o.name), original.graph!.output!.map((o) => o.name));
      // The loader as before (weights in memory) keeps the file as it is.
      const inMemory = await readOnnxModel(m.onnxPath, { threshold: Infinity });
      assert.ok(inMemory.bytes.equals(whole));
    });

    it('stages a small graph beside a hard link to the user file (no copy of the weights), which ONNX Runtime loads', async () => {
      const m = await ensureModel('optimum-llama', { hidden: 128, vocabSize: 2000 });
      const { model, spine } = await loadAndAnalyze({ kind: 'local', path: m.dir }, {});
      const staged = await stageModel(model, instrumentForProfile(model, spine).edit);
      assert.ok('file' in staged, 'staged on disk');
      const size = statSync(m.onnxPath).size;
      assert.ok(statSync(staged.file).size < size / 20, `the staged graph (${statSync(staged.file).size} bytes) is small beside the model (${size})`);
      const entries = readdirSync(staged.dir);
      assert.equal(entries.length, 2, entries.join(', '));
      const weights = path.join(staged.dir, path.basename(m.onnxPath));
      assert.equal(statSync(weights).ino, statSync(m.onnxPath).ino, 'the weights are the user file itself, linked');
      const session = await createOrtSession(staged, {});
      try {
        assert.ok(session.outputNames.length > 0);
        assert.equal(existsSync(staged.dir), false, 'the staging folder is gone once loaded');
      } finally {
        await session.release();
      }
    });

    it('links the file itself when the model is a relative symbolic link to it (as in the Hub cache)', async () => {
      const m = await ensureModel('optimum-llama');
      const dir = mkdtempSync(path.join(os.tmpdir(), 'lp-symlinked-'));
      try {
        mkdirSync(path.join(dir, 'blobs'));
        mkdirSync(path.join(dir, 'snapshot'));
        copyFileSync(m.onnxPath, path.join(dir, 'blobs', 'abc123'));
        symlinkSync('../blobs/abc123', path.join(dir, 'snapshot', 'model.onnx'));
        const { model, spine } = await loadAndAnalyze({ kind: 'local', path: path.join(dir, 'snapshot', 'model.onnx') }, {});
        const staged = await stageModel(model, instrumentForProfile(model, spine).edit);
        assert.ok('file' in staged);
        assert.equal(statSync(path.join(staged.dir, 'model.onnx')).ino, statSync(path.join(dir, 'blobs', 'abc123')).ino);
        await (await createOrtSession(staged, {})).release();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('stages beside the model when the temporary folder is on another file system, and leaves nothing there', async function () {
      const shm = '/dev/shm';
      if (!existsSync(shm) || statSync(shm).dev === statSync(os.tmpdir()).dev) this.skip();
      const m = await ensureModel('optimum-llama');
      const dir = mkdtempSync(path.join(shm, 'lp-loading-'));
      try {
        cpSync(m.dir, dir, { recursive: true });
        const before = readdirSync(path.join(dir, 'onnx')).sort();
        const { model, spine } = await loadAndAnalyze({ kind: 'local', path: dir }, {});
        const staged = await stageModel(model, instrumentForProfile(model, spine).edit);
        assert.ok('file' in staged);
        assert.equal(path.dirname(staged.dir), path.join(dir, 'onnx'));
        await (await createOrtSession(staged, {})).release();
        assert.deepEqual(readdirSync(path.join(dir, 'onnx')).sort(), before);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('the file hash', () => {
    it("reuses the record cache's hash of an unchanged file, and hashes a changed file again", async () => {
      const m = await ensureModel('optimum-llama');
      const dir = mkdtempSync(path.join(os.tmpdir(), 'lp-hash-'));
      try {
        const file = path.join(dir, 'model.onnx');
        copyFileSync(m.onnxPath, file);
        const first = readFileSync(file);
        assert.equal(await fileSha256(file), sha256(first));
        assert.equal((await readOnnxModel(file)).sha256, sha256(first));
        // Change one byte inside the largest weight (same inode and size; the modification time moves on).
        const largest = onnx.ModelProto.decode(first).graph!.initializer!.reduce((a, b) => ((b.rawData?.length ?? 0) > (a.rawData?.length ?? 0) ? b : a)).rawData!;
        const at = largest.byteOffset - first.byteOffset + Math.floor(largest.length / 2);
        assert.equal(first[at], largest[Math.floor(largest.length / 2)], 'the byte found in the file');
        const fd = openSync(file, 'r+');
        writeSync(fd, Buffer.from([first[at] ^ 0xff]), 0, 1, at);
        closeSync(fd);
        const changed = readFileSync(file);
        assert.notEqual(sha256(changed), sha256(first));
        assert.equal((await readOnnxModel(file)).sha256, sha256(changed));
        assert.equal(await fileSha256(file), sha256(changed));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('a truncated file is not a valid ONNX model, named', async () => {
      const m = await ensureModel('optimum-llama');
      const dir = mkdtempSync(path.join(os.tmpdir(), 'lp-truncated-'));
      try {
        const file = path.join(dir, 'model.onnx');
        writeFileSync(file, readFileSync(m.onnxPath).subarray(0, 5000));
        await assert.rejects(readOnnxModel(file), (err: Error) => err instanceof ModelFileError && err.message.startsWith(`${file} is not a valid ONNX model`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('tensors held by nodes in external data files', () => {
    // PyTorch's exporter writes models over 2 GB with one file per large tensor, a Constant's value
    // among them: the staged graph must find that file beside it too, not only initializers' files.
    it("a Constant whose value is in its own file loads, and gives the original model's values bit for bit", async () => {
      const m = await ensureModel('optimum-llama');
      const copy = mkdtempSync(path.join(os.tmpdir(), 'lp-const-ext-'));
      cpSync(m.dir, copy, { recursive: true });
      const file = path.join(copy, path.relative(m.dir, m.onnxPath));
      const proto = onnx.ModelProto.decode(readFileSync(file));
      const graph = proto.graph!;
      const moved = graph.initializer!.find((t) => (t.rawData?.length ?? 0) > 0 && /layers\.1\..*layernorm\.weight$/.test(t.name ?? ''))!;
      assert.ok(moved, 'a norm weight to move into a Constant');
      writeFileSync(path.join(path.dirname(file), 'const_value.bin'), moved.rawData!);
      const value = onnx.TensorProto.create({
        name: moved.name,
        dims: moved.dims,
        dataType: moved.dataType,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: 'const_value.bin' },
          { key: 'offset', value: '0' },
          { key: 'length', value: String(moved.rawData!.length) },
        ],
      });
      graph.initializer = graph.initializer!.filter((t) => t !== moved);
      graph.input = (graph.input ?? []).filter((i) => i.name !== moved.name);
      graph.node!.unshift(onnx.NodeProto.create({ opType: 'Constant', output: [moved.name!], name: 'moved_constant', attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: value }] }));
      writeFileSync(file, onnx.ModelProto.encode(proto).finish());
      assert.ok((await readOnnxModel(file)).externalDataFiles.includes('const_value.bin'), "the Constant's file is among the model's external data");
      const original = await LayerProfiler.open({ kind: 'local', path: m.dir }, { raw: true });
      const withConstant = await LayerProfiler.open({ kind: 'local', path: copy }, { raw: true });
      try {
        const windows = [[1, 5, 9, 14, 3, 22], [2, 4, 8]];
        sameWindows(await withConstant.runWindows(windows, 2, 0), await original.runWindows(windows, 2, 0));
      } finally {
        await original.dispose();
        await withConstant.dispose();
        rmSync(copy, { recursive: true, force: true });
      }
    });
  });

  describe('probe values and raw residuals are bit-identical to the weights-in-memory loader', () => {
    const cases = [...generated, ...sharedCases()];
    if (root && existsSync(root)) assert.ok(cases.length > generated.length + 10, 'the shared models are found');
    for (const c of cases) {
      it(c.label, async () => {
        const spec = await c.spec();
        const streamed = await LayerProfiler.open(spec, { raw: true });
        const inMemory = await LayerProfiler.open(spec, { raw: true, weightsInMemory: true });
        try {
          assert.equal(streamed.modelInfo().sha256, inMemory.modelInfo().sha256);
          const tok = await streamed.getTokenizer().catch(() => undefined);
          const vocab = Math.min(tok?.vocabSize ?? 20, 20);
          const len = Math.min(streamed.windowLength({ maxTokens: 10 }), 10);
          const ids = (seed: number, n: number) => Array.from({ length: n }, (_, i) => (seed * 7 + i * 13) % vocab);
          const windows = [ids(1, len), ids(2, Math.max(1, len - 3))];
          const padId = tok?.padId ?? 0;
          sameWindows(await streamed.runWindows(windows, 2, padId), await inMemory.runWindows(windows, 2, padId));
        } finally {
          await streamed.dispose();
          await inMemory.dispose();
        }
      });
    }
  });

  describe('the logit lens and two-text distances are identical to the weights-in-memory loader', () => {
    for (const style of ['optimum-llama', 'genai-gqa'] as const) {
      it(style, async () => {
        const spec: ModelSpec = { kind: 'local', path: (await ensureModel(style)).dir };
        const text = 'def add(a, b):\n    return a + b\n';
        const lenses = [await LogitLens.open(spec, { k: 3 }), await LogitLens.open(spec, { k: 3, weightsInMemory: true })];
        try {
          const [a, b] = await Promise.all(lenses.map((l) => l.lensText('t', text, { maxTokens: 64, batchSize: 1 })));
          assert.deepEqual(a, b);
        } finally {
          for (const l of lenses) await l.dispose();
        }
        const diffs = [await TextDiff.open(spec), await TextDiff.open(spec, { weightsInMemory: true })];
        try {
          const [a, b] = await Promise.all(diffs.map((d) => d.compareIds([1, 5, 9, 14, 3, 22], [1, 5, 9, 41, 33, 22, 7], { maxTokens: 64 })));
          assert.deepEqual(a, b);
        } finally {
          for (const d of diffs) await d.dispose();
        }
      });
    }
  });
});
