/**
 * The extension's engine (src/engine/engineServer.ts) driven by its messages, as the extension's
 * child process drives it: a model opens without prepacking its weights, so a first selection is
 * answered fast (runtime/prepack.ts), and a dataset long enough to repay prepacking reopens it
 * prepacked, with statistics unchanged.
 */
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DatasetResult } from '../src/core/results';
import { DEFAULT_PROFILE_OPTIONS } from '../src/core/api';
import { PREPACK_MIN_PASSES } from '../src/core/runtime/prepack';
import { datasetPasses } from '../src/core/workload';
import { EngineServer } from '../src/engine/engineServer';
import { LayerProfiler } from '../src/core/profiler';
import type { EngineMethod, EngineMethods, EngineToHost } from '../src/shared/engineProtocol';
import { ensureModel } from './modelgen';

/** One request through the server's message interface; resolves with its result. */
function requester(): { server: EngineServer; call: <M extends EngineMethod>(method: M, params: Parameters<EngineMethods[M]>[0]) => Promise<ReturnType<EngineMethods[M]>> } {
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const server = new EngineServer((m: EngineToHost) => {
    if (m.kind === 'result') waiting.get(m.id)?.resolve(m.result);
    if (m.kind === 'error') waiting.get(m.id)?.reject(new Error(m.error.message));
  });
  let id = 0;
  const call = <M extends EngineMethod>(method: M, params: Parameters<EngineMethods[M]>[0]) =>
    new Promise<ReturnType<EngineMethods[M]>>((resolve, reject) => {
      id++;
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      server.handle({ kind: 'request', id, method, params });
    });
  return { server, call };
}

const work = path.resolve(__dirname, '..', 'test-output', 'engine-server');

describe('the engine server: prepacking as the work repays it', function () {
  this.timeout(300_000);

  before(async () => {
    await rm(work, { recursive: true, force: true });
    await mkdir(path.join(work, 'small'), { recursive: true });
    await mkdir(path.join(work, 'large'), { recursive: true });
    for (let i = 0; i < 3; i++) await writeFile(path.join(work, 'small', `s${i}.py`), `def f${i}(x):\n    return x * ${i} + 1\n`);
    // Enough text for more passes than PREPACK_MIN_PASSES (checked below with the same estimate).
    const line = 'for (int i = 0; i < n; ++i) { total += values[i] * scale; }\n';
    for (let i = 0; i < 4; i++) await writeFile(path.join(work, 'large', `l${i}.cpp`), line.repeat(Math.ceil(30_000 / line.length)));
  });

  it('opens a float model unpacked, stays so for a short dataset, and reopens prepacked for a long one with the same statistics', async () => {
    const model = await ensureModel('genai-gqa');
    const { server, call } = requester();
    try {
      await call('open', { spec: { kind: 'local', path: model.dir }, options: {} });
      assert.deepEqual(server.weightsPrepacked, { profile: false, lens: undefined });
      const options = { ...DEFAULT_PROFILE_OPTIONS };
      const small = { name: 'small', paths: [path.join(work, 'small')] };
      const before = (await call('profileDataset', { input: small, options })) as DatasetResult;
      assert.equal(server.weightsPrepacked.profile, false);

      const large = { name: 'large', paths: [path.join(work, 'large')] };
      assert.ok((await datasetPasses([large], options)) >= PREPACK_MIN_PASSES);
      const long = (await call('profileDataset', { input: large, options })) as DatasetResult;
      assert.equal(server.weightsPrepacked.profile, true);
      assert.equal(long.records?.length, 4);

      const after = (await call('profileDataset', { input: small, options })) as DatasetResult;
      assert.equal(server.weightsPrepacked.profile, true);
      // Prepacking changes where the weights sit, not the arithmetic.
      assert.deepEqual(after.records?.map((r) => r.layers), before.records?.map((r) => r.layers));
      assert.ok((before.records?.length ?? 0) === 3);

      // The lens opens unpacked for a selection and is reopened prepacked for a long dataset.
      await call('lensText', { label: 'sel', text: 'int main() { return 0; }', options: { maxTokens: 512, batchSize: 1 } });
      assert.equal(server.weightsPrepacked.lens, false);
      await call('lensDataset', { input: large, options: { maxTokens: 512, batchSize: 16 } });
      assert.equal(server.weightsPrepacked.lens, true);
      // A lens first opened for a long dataset (another k opens a new one) is prepacked at once; for a short one, not.
      await call('lensDataset', { input: large, options: { maxTokens: 512, batchSize: 16 }, k: 3 });
      assert.equal(server.weightsPrepacked.lens, true);
      await call('lensDataset', { input: small, options: { maxTokens: 512, batchSize: 16 }, k: 4 });
      assert.equal(server.weightsPrepacked.lens, false);
    } finally {
      await server.dispose();
    }
  });

  it('runs a long dataset unpacked when reopening prepacked fails, and keeps the model open', async () => {
    const model = await ensureModel('genai-gqa');
    const original = LayerProfiler.open.bind(LayerProfiler);
    // The failure a prepacked copy of a large model can meet: no memory for it.
    LayerProfiler.open = async (spec, opts = {}) => {
      if ((opts.expectedPasses ?? 0) >= PREPACK_MIN_PASSES) throw new Error('bad allocation (injected)');
      return original(spec, opts);
    };
    const { server, call } = requester();
    try {
      await call('open', { spec: { kind: 'local', path: model.dir }, options: {} });
      const long = (await call('profileDataset', { input: { name: 'large', paths: [path.join(work, 'large')] }, options: DEFAULT_PROFILE_OPTIONS })) as DatasetResult;
      assert.equal(long.records?.length, 4);
      assert.equal(server.weightsPrepacked.profile, false);
      const sel = await call('profileText', { label: 'sel', text: 'x = 1\n', options: DEFAULT_PROFILE_OPTIONS });
      assert.equal(sel.dataset.texts, 1);
    } finally {
      LayerProfiler.open = original;
      await server.dispose();
    }
  });
});
