/**
 * Host logic of issue 8's extension items that runs without VS Code: datasets rebuilt from per-text
 * records, the selection label, the model folder check, what the views say about a Hub model,
 * the engine messages that carry finished texts, and the engine's stderr reaching the log.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TextRecord } from '../src/core/results';
import { datasetFromRecords } from '../src/core/stats/fromRecords';
import { EngineClient, EngineCrashedError } from '../src/extension/engineClient';
import { describeIdleModel, describeSize } from '../src/extension/modelCatalog';
import { checkModelFolder } from '../src/extension/modelFolderCheck';
import { selectionLabel } from '../src/extension/selectionLabel';
import { isEngineToHost } from '../src/shared/engineProtocol';

function record(pathName: string, values: number[], tokens = 3): TextRecord {
  return {
    path: pathName,
    sha256: pathName.padEnd(64, '0'),
    tokens,
    windows: 1,
    exact: true,
    layers: values.map((v) => ({ mean: v, absMean: Math.abs(v), l2: 2 * v, residL2: v + 1, relChange: v / 10, cosine: 0.5, normGrowth: 1 + v, substeps: [{ kind: 'attention' as const, mean: v, absMean: v, l2: v }] })),
  };
}

const sampleStd = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};

describe('extension host: runs, models and labels', () => {
  it('rebuilds a dataset from records: mean and sample std of the per-text values, partial kept', () => {
    const recs = [record('a', [1, -2]), record('b', [3, 4], 5), record('c', [8, 0])];
    const ds = datasetFromRecords('cpp', recs, { source: '/src/cpp', partial: true });
    assert.equal(ds.texts, 3);
    assert.equal(ds.tokens, 11);
    assert.equal(ds.partial, true);
    assert.equal(ds.source, '/src/cpp');
    assert.equal(ds.records.length, 3);
    assert.equal(ds.layers.length, 2);
    assert.equal(ds.layers[0].mean.n, 3);
    assert.ok(Math.abs(ds.layers[0].mean.mean - 4) < 1e-12);
    assert.ok(Math.abs(ds.layers[0].mean.std! - sampleStd([1, 3, 8])) < 1e-12);
    assert.ok(Math.abs(ds.layers[1].absMean.mean - 2) < 1e-12);
    assert.ok(Math.abs(ds.layers[1].absMean.std! - sampleStd([2, 4, 0])) < 1e-12);
    assert.equal(ds.layers[0].substeps?.[0].kind, 'attention');
    assert.equal(ds.moments.layers[0].mean.n, 3);
    assert.deepEqual(datasetFromRecords('none', []).layers, [], 'no texts, no summaries');
    assert.equal(datasetFromRecords('one', [record('a', [1])]).layers[0].mean.std, null, 'n = 1 has no sample std');
  });

  it('labels a selection by the lines it covers; a selection ending at column 0 leaves its last line out', () => {
    assert.equal(selectionLabel('a.py', { startLine: 1, endLine: 11, endCharacter: 0 }), 'selection: a.py:2-11');
    assert.equal(selectionLabel('a.py', { startLine: 1, endLine: 11, endCharacter: 4 }), 'selection: a.py:2-12');
    assert.equal(selectionLabel('a.py', { startLine: 0, endLine: 1, endCharacter: 0 }), 'selection: a.py:1');
    assert.equal(selectionLabel('a.py', { startLine: 3, endLine: 3, endCharacter: 0 }), 'selection: a.py:4');
    assert.equal(selectionLabel('a.py', undefined), 'file: a.py');
  });

  it('checks a picked model folder and says what is missing', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'lp-check-'));
    const empty = path.join(root, 'empty');
    mkdirSync(empty);
    const bad = await checkModelFolder(empty);
    assert.deepEqual(bad.missing, ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'an ONNX file (model.onnx or onnx/model*.onnx)']);
    assert.match(bad.problem!, /has no config\.json, tokenizer\.json, tokenizer_config\.json or an ONNX file/);

    const repo = path.join(root, 'repo');
    mkdirSync(path.join(repo, 'onnx'), { recursive: true });
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) writeFileSync(path.join(repo, f), '{}');
    writeFileSync(path.join(repo, 'onnx', 'model_q4.onnx'), 'x');
    const good = await checkModelFolder(repo);
    assert.equal(good.problem, undefined);
    assert.deepEqual(good.onnxFiles, ['onnx/model_q4.onnx']);

    const inner = await checkModelFolder(path.join(repo, 'onnx'));
    assert.match(inner.problem!, /Choose the folder above it/);

    writeFileSync(path.join(repo, 'config.json'), '{ not json');
    assert.match((await checkModelFolder(repo)).problem!, /config\.json is not valid JSON/);
    assert.match((await checkModelFolder(path.join(root, 'nope'))).problem!, /is not a folder/);
  });

  it('says a Hub model is downloaded once and how large it is; nothing for a local folder', () => {
    assert.equal(describeSize('onnx-community/Qwen2.5-Coder-0.5B-Instruct', 'q8'), 'about 500 MB');
    assert.equal(describeSize('org/unknown', 'q8'), undefined);
    const text = describeIdleModel({ kind: 'hub', id: 'onnx-community/Qwen2.5-Coder-0.5B-Instruct', dtype: 'q8' }, undefined)!;
    assert.match(text, /Downloaded once from the Hugging Face Hub.*\(about 500 MB\).*used offline/);
    assert.doesNotMatch(describeIdleModel({ kind: 'hub', id: 'org/unknown', dtype: 'q8' }, '/cache')!, /about/);
    assert.equal(describeIdleModel({ kind: 'local', path: '/m' }, undefined), undefined);
  });

  it('accepts finished texts from the engine as messages', () => {
    assert.ok(isEngineToHost({ kind: 'text', id: 3, record: record('a', [1]) }));
    assert.ok(isEngineToHost({ kind: 'error', id: 3, error: { name: 'HubDownloadError', message: 'x', code: 'network' } }));
    assert.equal(isEngineToHost({ kind: 'bogus', id: 3 }), false);
  });

  it("writes the engine's stderr and its exit to the log", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lp-engine-'));
    const script = path.join(dir, 'engine.cjs');
    // Stays up until the request arrives, then fails as a native crash would.
    writeFileSync(script, "process.on('message', () => { process.stderr.write('ort: something broke\\nsecond line\\n'); setTimeout(() => process.exit(3), 50); });\n");
    const lines: string[] = [];
    const crashes: string[] = [];
    const client = new EngineClient({ enginePath: script, idleTimeoutMs: 60_000, log: (l) => lines.push(l), onCrash: (m) => crashes.push(m) });
    await assert.rejects(client.call('effectiveSettings', { options: { maxTokens: 8, batchSize: 1 } }), EngineCrashedError);
    assert.ok(lines.includes('[engine] ort: something broke'), lines.join('\n'));
    assert.ok(lines.includes('[engine] second line'), lines.join('\n'));
    assert.ok(lines.some((l) => /^Engine process \d+ ended \(exit code 3\) unexpectedly\.$/.test(l)), lines.join('\n'));
    assert.match(crashes[0], /exit code 3: second line/);
  });
});
