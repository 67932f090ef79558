/** Host logic that runs without VS Code: settings, per-model result storage, message validation. */
import assert from 'node:assert/strict';
import { ResultsStore, type StateStorage } from '../src/extension/resultsStore';
import { modelKey, readSettings } from '../src/extension/settings';
import { parseHostMessage, parseViewMessage, PROTOCOL_VERSION } from '../src/shared/protocol';
import { reactionScores, SHADE_COLOR_IDS } from '../src/shared/tokenReaction';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describeDownload, throttled } from '../src/core/downloadProgress';
import type { DatasetResult, ProfileResults } from '../src/core/results';
import { emptyDatasetMoments, addText, summarizeLayers } from '../src/core/stats/datasetStats';

class MemoryStorage implements StateStorage {
  data = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }
  update(key: string, value: unknown): Thenable<void> {
    this.data.set(key, JSON.parse(JSON.stringify(value)));
    return Promise.resolve();
  }
}

function dataset(name: string, values: number[]): DatasetResult {
  const moments = emptyDatasetMoments(1, []);
  for (const v of values) addText(moments, { tokens: 1, windows: 1, exact: true, layers: [{ mean: v, absMean: v, l2: v, residL2: v, relChange: v, cosine: v, normGrowth: v, substeps: [] }] });
  return { name, texts: values.length, tokens: values.length, skipped: [], records: [], moments, layers: summarizeLayers(moments) };
}

const base = (sha: string): Omit<ProfileResults, 'datasets'> => ({
  schema: 'layer-profiler/profile@2',
  model: { id: 'm', file: 'model.onnx', sha256: sha.repeat(64).slice(0, 64), numLayers: 1, dtype: 'fp32' },
  runtime: { tool: 't', onnxruntime: '1', executionProvider: 'cpu', threads: 1 },
  settings: { maxTokens: 8, batchSize: 1, maxFileBytes: 10 },
});

describe('host logic', () => {
  it('reads settings with defaults, validation and files.exclude', () => {
    const values: Record<string, unknown> = { model: 'org/x', dtype: 'bogus', maxTokens: -3, batchSize: 8, exclude: ['**/gen/**'] };
    const s = readSettings({ get: <T>(k: string) => values[k] as T }, { '**/.git': true, '**/*.js': { when: '$(basename).ts' } });
    assert.deepEqual(s.model, { kind: 'hub', id: 'org/x', dtype: 'q8' });
    assert.equal(s.maxTokens, 512);
    assert.equal(s.batchSize, 8);
    assert.equal(s.maxBatchTokens, 512, 'the core default token budget');
    assert.equal(readSettings({ get: <T>(k: string) => ({ maxBatchTokens: 2048 } as Record<string, unknown>)[k] as T }).maxBatchTokens, 2048);
    assert.equal(readSettings({ get: <T>(k: string) => ({ maxBatchTokens: 0 } as Record<string, unknown>)[k] as T }).maxBatchTokens, 512, 'a budget under one token falls back to the default');
    assert.deepEqual(s.exclude, ['**/gen/**', '**/.git']);
    const local = readSettings({ get: <T>(k: string) => ({ localModelPath: '/models/a' } as Record<string, unknown>)[k] as T });
    assert.deepEqual(local.model, { kind: 'local', path: '/models/a' });
    assert.notEqual(modelKey(s.model), modelKey(local.model));
  });

  it('applies the dtype setting to a local folder only where the user set it', () => {
    // As VS Code answers: get() falls back to the default, inspect() tells where a value was set.
    const reader = (values: Record<string, unknown>) => ({
      get: <T>(k: string) => (k in values ? values[k] : k === 'dtype' ? 'q8' : undefined) as T,
      inspect: <T>(k: string) => ({ key: k, defaultValue: (k === 'dtype' ? 'q8' : undefined) as T, workspaceValue: values[k] as T }),
    });
    const chosen = readSettings(reader({ localModelPath: '/models/a', dtype: 'q4' }));
    assert.deepEqual(chosen.model, { kind: 'local', path: '/models/a', dtype: 'q4' });
    const byDefault = readSettings(reader({ localModelPath: '/models/a' }));
    assert.deepEqual(byDefault.model, { kind: 'local', path: '/models/a' });
    assert.deepEqual(readSettings(reader({ localModelPath: '/models/a', dtype: 'bogus' })).model, { kind: 'local', path: '/models/a' });
    assert.deepEqual(readSettings(reader({})).model, { kind: 'hub', id: 'onnx-community/Qwen2.5-Coder-0.5B-Instruct', dtype: 'q8' });
    // Results of two dtypes of one folder are kept apart.
    assert.notEqual(modelKey(chosen.model), modelKey(byDefault.model));
  });

  it('keeps results per model, survives a reload, and never mixes model files', async () => {
    const storage = new MemoryStorage();
    const store = new ResultsStore(storage);
    await store.putDataset('A', base('a'), dataset('cpp', [1, 2]));
    await store.putDataset('A', base('a'), dataset('py', [3]));
    await store.putDataset('B', base('b'), dataset('cpp', [9]));
    const reloaded = new ResultsStore(storage);
    assert.deepEqual(reloaded.get('A')!.results.datasets.map((d) => d.name), ['cpp', 'py']);
    assert.equal(reloaded.get('B')!.results.datasets[0].layers[0].mean.mean, 9);
    // Same key, different model file: old datasets are dropped, not mixed.
    await reloaded.putDataset('A', base('c'), dataset('go', [1]));
    assert.deepEqual(reloaded.get('A')!.results.datasets.map((d) => d.name), ['go']);
  });

  it('merges a re-profiled dataset exactly when asked, renames, hides and removes', async () => {
    const store = new ResultsStore(new MemoryStorage());
    await store.putDataset('A', base('a'), dataset('cpp', [1, 2]));
    await store.putDataset('A', base('a'), dataset('cpp', [3, 4]), 'merge');
    const layer = store.get('A')!.results.datasets[0].layers[0];
    assert.equal(layer.mean.n, 4);
    assert.equal(layer.mean.mean, 2.5);
    assert.ok(Math.abs(layer.mean.std! - Math.sqrt(5 / 3)) < 1e-12);
    await store.putDataset('A', base('a'), dataset('py', [1]));
    await store.setHidden('A', 'py', true);
    await store.rename('A', 'py', 'python');
    assert.deepEqual(store.get('A')!.hidden, ['python']);
    await assert.rejects(store.rename('A', 'python', 'cpp'), /already exists/);
    await store.remove('A', 'python');
    assert.deepEqual(store.get('A')!.results.datasets.map((d) => d.name), ['cpp']);
    assert.deepEqual(store.get('A')!.hidden, []);
  });

  it('scores token reactions per layer-relative value', () => {
    const scores = reactionScores({ tokens: ['a', 'b', 'c'], absMean: [[1, 2, 4], [10, 0, 5]], l2: [] });
    assert.deepEqual(scores, [(0.25 + 1) / 2, (0.5 + 0) / 2, (1 + 0.5) / 2]);
  });

  it('throttles download progress to a few reports a second, keeping each file\'s first and last', () => {
    const sent: number[] = [];
    const report = throttled(1000, (p) => sent.push(p.bytesDone));
    for (let b = 0; b <= 100; b += 10) report({ file: 'a.onnx', bytesDone: b, bytesTotal: 100 });
    report({ file: 'b.onnx', bytesDone: 5, bytesTotal: 50 });
    assert.deepEqual(sent, [0, 100, 5]);
    assert.equal(describeDownload({ file: 'a.onnx', bytesDone: 1_250_000, bytesTotal: 520_400_000 }), 'downloading a.onnx: 1.3 of 520.4 MB');
    assert.equal(describeDownload({ file: 'a.onnx', bytesDone: 0, bytesTotal: undefined }), 'downloading a.onnx: 0.0 MB');
  });

  it('validates webview and host messages', () => {
    assert.deepEqual(parseViewMessage({ type: 'command', command: 'cancel' }), { type: 'command', command: 'cancel' });
    assert.equal(parseViewMessage({ type: 'command', command: 'rm -rf' }), undefined);
    assert.equal(parseViewMessage({ type: 'toggleDataset', name: 'a' }), undefined);
    assert.equal(parseViewMessage({ type: 'chartImage', chart: 'x', dataUrl: 'javascript:alert(1)' }), undefined);
    assert.equal(parseViewMessage(null), undefined);
    assert.ok(parseHostMessage({ type: 'snapshot', state: { version: PROTOCOL_VERSION, model: { id: 'm', state: 'idle' }, hidden: [] } }));
    assert.equal(parseHostMessage({ type: 'snapshot', state: { version: 999, model: {}, hidden: [] } }), undefined);
  });
});

describe('editor shading colours', () => {
  it('every shading level is a theme colour the extension contributes, for dark, light and both high-contrast themes, stronger level by level', () => {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { contributes: { colors: { id: string; defaults: Record<string, string> }[] } };
    const byId = new Map(pkg.contributes.colors.map((c) => [c.id, c.defaults]));
    const alpha = (hex: string) => parseInt(hex.slice(7, 9), 16);
    for (const kind of ['dark', 'light', 'highContrast', 'highContrastLight']) {
      const alphas = SHADE_COLOR_IDS.map((id) => {
        const color = byId.get(id)?.[kind];
        assert.match(color ?? '', /^#[0-9A-F]{8}$/, `${id} ${kind}`);
        return alpha(color!);
      });
      for (let i = 1; i < alphas.length; i++) assert.ok(alphas[i] > alphas[i - 1], `${kind}: level ${i + 1} stronger than ${i}`);
    }
  });
});

describe('selection origins', () => {
  it("a selection's document and range follow its dataset through a rename, go with a replaced selection and a removal", async () => {
    const store = new ResultsStore(new MemoryStorage());
    const b = base('a');
    await store.putSelection('m', b, dataset('selection: a.py:1-2', [1]), { uri: 'file:///a.py', start: 0, end: 10 });
    assert.deepEqual(store.get('m')?.origins, { 'selection: a.py:1-2': { uri: 'file:///a.py', start: 0, end: 10 } });
    await store.keepSelection('m', 'kept');
    assert.deepEqual(store.get('m')?.origins, { kept: { uri: 'file:///a.py', start: 0, end: 10 } });
    await store.putSelection('m', b, dataset('selection: b.py:3-4', [2]), { uri: 'file:///b.py', start: 5, end: 9 });
    await store.putSelection('m', b, dataset('selection: c.py:1-1', [3]), { uri: 'file:///c.py', start: 1, end: 2 });
    assert.deepEqual(Object.keys(store.get('m')?.origins ?? {}).sort(), ['kept', 'selection: c.py:1-1']);
    await store.remove('m', 'kept');
    assert.deepEqual(Object.keys(store.get('m')?.origins ?? {}), ['selection: c.py:1-1']);
  });
});
