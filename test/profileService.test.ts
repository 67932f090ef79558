/**
 * Host logic with the VS Code UI stubbed: the ProfileService drives a real engine child process
 * (the TypeScript entry, through tsx) on a generated model.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { FakeHub } from './support/hub-server';
import { serveModelAsQ8 } from './support/hubRepo';
import os from 'node:os';
import path from 'node:path';
import { ensureModel } from './modelgen';
import { EngineClient } from '../src/extension/engineClient';
import { BusyError, LIVE_RESULTS_EVERY_MS, ProfileService, RunInterruptedError, type HostUi } from '../src/extension/profileService';
import { EngineError } from '../src/extension/engineClient';
import { ResultsStore, type StateStorage } from '../src/extension/resultsStore';
import { readSettings, modelKey, type Settings } from '../src/extension/settings';

class StubUi implements HostUi {
  infos: string[] = [];
  errors: string[] = [];
  logs: string[] = [];
  progress: string[] = [];
  titles: string[] = [];
  /** Aborts the progress notification's token after this many reports (the user pressing Cancel). */
  cancelAfterReports = Infinity;
  withProgress<T>(title: string, _cancellable: boolean, task: (p: { report(m: string): void }, signal: AbortSignal) => Promise<T>): Promise<T> {
    this.titles.push(title);
    const controller = new AbortController();
    let reports = 0;
    return task({ report: (m) => (this.progress.push(m), ++reports >= this.cancelAfterReports && controller.abort()) }, controller.signal);
  }
  info(m: string): void {
    this.infos.push(m);
  }
  error(m: string): void {
    this.errors.push(m);
  }
  log(line: string): void {
    this.logs.push(line);
  }
}

const memory = (): StateStorage => {
  const data = new Map<string, unknown>();
  return { get: <T>(k: string) => data.get(k) as T | undefined, update: (k, v) => (data.set(k, v), Promise.resolve()) };
};

describe('profile service (host logic, UI stubbed)', function () {
  let settings: Settings;
  let engine: EngineClient;
  let ui: StubUi;
  let service: ProfileService;
  let store: ResultsStore;
  let crashes: string[];
  let work: string;

  before(async () => {
    const model = await ensureModel('optimum-llama');
    settings = { ...readSettings({ get: () => undefined }), model: { kind: 'local', path: model.dir }, maxTokens: 16, batchSize: 2, maxBatchTokens: 24 };
    work = mkdtempSync(path.join(os.tmpdir(), 'lp-svc-'));
    mkdirSync(path.join(work, 'small'));
    mkdirSync(path.join(work, 'many'));
    writeFileSync(path.join(work, 'small/a.py'), 'print(1)\n');
    writeFileSync(path.join(work, 'small/b.py'), 'def f(x):\n    return x\n');
    for (let i = 0; i < 300; i++) writeFileSync(path.join(work, 'many', `f${i}.c`), `int f${i}(int x) { return x + ${i}; }\n`.repeat(30));
  });

  beforeEach(() => {
    crashes = [];
    ui = new StubUi();
    store = new ResultsStore(memory());
    engine = new EngineClient({
      enginePath: path.resolve(__dirname, '../src/engine/main.ts'),
      execArgv: ['--import', 'tsx'],
      idleTimeoutMs: 60_000,
      onCrash: (m) => (crashes.push(m), service.engineCrashed(m)),
    });
    service = new ProfileService(engine, store, ui, () => settings, () => undefined);
  });

  afterEach(() => engine.stop());

  it('loads the model once and stores profiled folders under the model key', async () => {
    const ds = await service.profileFolder(path.join(work, 'small'), 'py');
    assert.equal(ds.texts, 2);
    await service.profileFolder(path.join(work, 'small'), 'py2');
    assert.equal(ui.titles.filter((t) => t.includes('loading')).length, 1, 'the engine keeps the model between runs');
    const state = service.viewState();
    assert.equal(state.model.state, 'ready');
    assert.equal(state.model.numLayers, 3);
    assert.deepEqual(state.results?.datasets.map((d) => d.name), ['py', 'py2']);
    assert.deepEqual(store.get(modelKey(settings.model))?.results.datasets.map((d) => d.texts), [2, 2]);
    const used = store.get(modelKey(settings.model))?.results.settings;
    assert.deepEqual([used?.batchSize, used?.maxBatchTokens], [2, 24], 'the batch settings reach the engine and are recorded');
  });

  it('re-profiling a folder reuses the record cache shared with the command line: an edited file is the only new record', async () => {
    const records = mkdtempSync(path.join(os.tmpdir(), 'lp-svc-records-'));
    const folder = mkdtempSync(path.join(os.tmpdir(), 'lp-svc-edit-'));
    writeFileSync(path.join(folder, 'a.py'), 'print(1)\n');
    writeFileSync(path.join(folder, 'b.py'), 'def f(x):\n    return x\n');
    const files = () => readdirSync(records, { recursive: true }).filter((f) => String(f).endsWith('.json') && !String(f).endsWith('facts.json')).length;
    const previous = process.env.LAYER_PROFILER_RECORD_CACHE;
    process.env.LAYER_PROFILER_RECORD_CACHE = records;
    try {
      const first = await service.profileFolder(folder, 'py');
      assert.equal(files(), 2);
      const again = await service.profileFolder(folder, 'py');
      assert.equal(files(), 2, 'nothing new to store');
      assert.deepEqual(again.layers, first.layers);
      writeFileSync(path.join(folder, 'a.py'), 'print(2)\n');
      const edited = await service.profileFolder(folder, 'py');
      assert.equal(files(), 3, 'one new record, for the edited file');
      assert.equal(edited.texts, 2);
    } finally {
      if (previous === undefined) delete process.env.LAYER_PROFILER_RECORD_CACHE;
      else process.env.LAYER_PROFILER_RECORD_CACHE = previous;
    }
  });

  it('cancelling from the progress notification keeps the finished files and says so', async () => {
    ui.cancelAfterReports = 2;
    const ds = await service.profileFolder(path.join(work, 'many'), 'many');
    assert.equal(ds.partial, true);
    assert.ok(ds.texts > 0 && ds.texts < 300, `texts ${ds.texts}`);
    assert.ok(ui.infos.some((m) => /cancelled: the results keep the \d+ files finished/.test(m)), ui.infos.join('\n'));
    assert.equal(store.get(modelKey(settings.model))?.results.datasets[0].partial, true);
  });

  it('refuses a second run while one is going, and reports progress in files and tokens', async () => {
    const loading = service.layers();
    await assert.rejects(service.layers(), BusyError, 'loading the model is a run of its own');
    assert.equal((await loading).layers.length, 3);
    const first = service.profileFolder(path.join(work, 'many'), 'many');
    await assert.rejects(service.profileFolder(path.join(work, 'small'), 'x'), BusyError);
    assert.equal((await service.layers()).layers.length, 3, 'the loaded model answers at once, even during a run');
    service.cancel();
    await first;
    assert.ok(ui.progress.some((p) => /\d+\/\d+ files, \d+ tokens/.test(p)), ui.progress.join('\n'));
  });

  it('an engine crash is reported, and the next run starts a new engine', async () => {
    await service.profileFolder(path.join(work, 'small'), 'before');
    engine.killForTest();
    for (let i = 0; i < 100 && crashes.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(crashes.length, 1);
    assert.match(crashes[0], /stopped unexpectedly/);
    assert.equal(service.viewState().model.state, 'error');
    const ds = await service.profileFolder(path.join(work, 'small'), 'after');
    assert.equal(ds.texts, 2);
    assert.equal(service.viewState().model.state, 'ready');
  });

  it('an engine killed mid-run (kill -9) keeps every finished text, marked partial, and says how many', async () => {
    await service.profileFolder(path.join(work, 'small'), 'warm');
    let killed = false;
    const run = service.profileFolder(path.join(work, 'many'), 'many');
    for (let i = 0; i < 600 && !killed; i++) {
      await new Promise((r) => setTimeout(r, 25));
      const live = service.viewState().results?.datasets.find((d) => d.name === 'many');
      if (live && live.texts >= 3) {
        engine.killForTest();
        killed = true;
      }
    }
    assert.ok(killed, 'texts arrived while the run went');
    const err = await run.then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof RunInterruptedError, String(err));
    assert.match(err.message, /stopped unexpectedly \(signal SIGKILL\).*The \d+ files finished before that are kept in 'many', marked partial\./);
    const many = store.get(modelKey(settings.model))!.results.datasets.find((d) => d.name === 'many')!;
    assert.equal(many.partial, true);
    assert.equal(many.texts, err.kept);
    assert.ok(many.texts >= 3 && many.texts < 300, `kept ${many.texts}`);
    assert.equal(many.records.length, many.texts);
    assert.equal(many.layers[0].absMean.n, many.texts);
    assert.ok(many.layers.every((l) => l.absMean.mean > 0 && l.absMean.std !== null));
    assert.deepEqual(store.get(modelKey(settings.model))!.results.datasets.map((d) => d.name), ['warm', 'many'], 'earlier datasets stay');
    assert.equal(crashes.length, 1);
    assert.ok(ui.logs.some((l) => /Profiling 'many' failed: .*; \d+ texts had finished/.test(l)), ui.logs.join('\n'));
  });

  it('shows the run from its start and the dataset growing while a folder is profiled', async () => {
    const states: ReturnType<ProfileService['viewState']>[] = [];
    const svc = new ProfileService(engine, store, ui, () => settings, () => states.push(svc.viewState()));
    ui.cancelAfterReports = 4;
    await svc.profileFolder(path.join(work, 'many'), 'growing');
    // Before the model was even loaded, the views knew a run had started.
    assert.equal(states[0].progress?.title, 'Profiling growing');
    assert.equal(states[0].results, undefined);
    const during = states.filter((s) => s.progress && s.results?.datasets.some((d) => d.name === 'growing'));
    assert.ok(during.length > 0, 'partial results reached the views during the run');
    const sizes = during.map((s) => s.results!.datasets.find((d) => d.name === 'growing')!.texts);
    assert.ok(sizes.every((n, i) => i === 0 || n >= sizes[i - 1]), `monotone: ${sizes.join(',')}`);
    assert.ok(during.every((s) => s.results!.datasets.find((d) => d.name === 'growing')!.partial === true));
    assert.ok(during.every((s) => s.model.activity === 'Profiling…'), 'the badge says a run is going, not "Ready"');
    const last = states[states.length - 1];
    assert.equal(last.progress, undefined);
    assert.equal(last.model.activity, undefined);
    assert.ok(LIVE_RESULTS_EVERY_MS <= 5000);
    assert.ok(ui.logs.some((l) => /^Loaded .* in [\d.]+ s\.$/.test(l)), ui.logs.join('\n'));
    assert.ok(ui.logs.some((l) => /^Profiled 'growing' .*: \d+ texts, \d+ tokens in [\d.]+ s, cancelled\.$/.test(l)), ui.logs.join('\n'));
  });

  it('an offline Hub download fails with an error that says so by code', async () => {
    const offline: Settings = { ...settings, model: { kind: 'hub', id: 'test-org/nowhere', dtype: 'q8' }, hubUrl: 'http://127.0.0.1:9', cacheDir: mkdtempSync(path.join(os.tmpdir(), 'lp-svc-off-')) };
    const svc = new ProfileService(engine, new ResultsStore(memory()), ui, () => offline, () => undefined);
    assert.match(svc.viewState().model.message ?? '', /Downloaded once from the Hugging Face Hub/);
    const err = await svc.profileFolder(path.join(work, 'small'), 'x').then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof EngineError, String(err));
    assert.equal(err.code, 'network');
  });

  it('a Hub model downloads with its own progress notification before profiling', async () => {
    const model = await ensureModel('optimum-llama');
    const hub = await FakeHub.start();
    try {
      serveModelAsQ8(hub, 'test-org/svc-model', model);
      const hubSettings: Settings = { ...settings, model: { kind: 'hub', id: 'test-org/svc-model', dtype: 'q8' }, hubUrl: hub.url, cacheDir: mkdtempSync(path.join(os.tmpdir(), 'lp-svc-cache-')) };
      const svc = new ProfileService(engine, new ResultsStore(memory()), ui, () => hubSettings, () => undefined);
      const ds = await svc.profileFolder(path.join(work, 'small'), 'hub');
      assert.equal(ds.texts, 2);
      assert.ok(ui.titles.some((t) => t === 'Layer Profiler: loading test-org/svc-model (q8)'), ui.titles.join('\n'));
      assert.ok(ui.progress.some((p) => /^downloading onnx\/model_quantized\.onnx: [\d.]+ of [\d.]+ MB$/.test(p)), ui.progress.join('\n'));
    } finally {
      await hub.close();
    }
  });

  it('the engine exits after the idle time and comes back on the next run', async () => {
    const quick = new EngineClient({ enginePath: path.resolve(__dirname, '../src/engine/main.ts'), execArgv: ['--import', 'tsx'], idleTimeoutMs: 300 });
    const svc = new ProfileService(quick, new ResultsStore(memory()), ui, () => settings, () => undefined);
    try {
      await svc.profileFolder(path.join(work, 'small'), 'a');
      assert.equal(quick.running, true);
      for (let i = 0; i < 60 && quick.running; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(quick.running, false, 'idle engine stopped');
      assert.equal((await svc.profileFolder(path.join(work, 'small'), 'b')).texts, 2);
    } finally {
      quick.stop();
    }
  });

  it('profiles a selection into a dataset and a token x layer heatmap', async () => {
    await service.profileText('selection: a.py:1-2', 'def f(x):\n    return x * 2\n');
    const entry = store.get(modelKey(settings.model))!;
    assert.equal(entry.heatmap?.label, 'selection: a.py:1-2');
    assert.equal(entry.heatmap?.profile.absMean.length, 3);
    assert.equal(entry.heatmap?.profile.tokens.length, entry.heatmap?.profile.absMean[0].length);
    assert.equal(entry.results.datasets[0].texts, 1);
  });
});
