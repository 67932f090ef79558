/**
 * Integration tests against the real `vscode` API: commands registered, folders and selections
 * profiled through the commands, results stored per model, cancellation honoured, an engine crash
 * survived. The model is a generated one whose folder the runner passes in LAYER_PROFILER_TEST_MODEL.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import type { LayerProfilerApi } from '../../../src/extension/extension';
import { modelKey } from '../../../src/extension/settings';
import { FakeHub } from '../../support/hub-server';
import { serveModelAsQ8 } from '../../support/hubRepo';

const EXTENSION_ID = 'layer-profiler.layer-profiler';

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Layer Profiler in VS Code', function () {
  let api: LayerProfilerApi;
  let work: string;
  const modelDir = process.env.LAYER_PROFILER_TEST_MODEL;

  before(async () => {
    assert.ok(modelDir, 'LAYER_PROFILER_TEST_MODEL must name a generated model folder');
    const ext = vscode.extensions.getExtension<LayerProfilerApi>(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is installed`);
    api = await ext.activate();
    await vscode.workspace.getConfiguration('layerProfiler').update('localModelPath', modelDir, vscode.ConfigurationTarget.Global);
    await until('settings to apply', () => api.settings().model.kind === 'local');
    work = mkdtempSync(path.join(os.tmpdir(), 'lp-itest-'));
    mkdirSync(path.join(work, 'cpp'));
    mkdirSync(path.join(work, 'many'));
    writeFileSync(path.join(work, 'cpp/a.cpp'), 'int add(int a, int b) { return a + b; }\n');
    writeFileSync(path.join(work, 'cpp/b.cpp'), '#include <vector>\nint n(std::vector<int> v) { return v.size(); }\n');
    writeFileSync(path.join(work, 'cpp/logo.png'), Buffer.from([0x89, 0x50, 0, 0]));
    for (let i = 0; i < 400; i++) writeFileSync(path.join(work, 'many', `f${i}.py`), `def f${i}(x):\n    return x * ${i} + ${i % 7}\n`.repeat(20));
  });

  after(async () => {
    await vscode.commands.executeCommand('layerProfiler.clearResults', { confirm: false });
    await vscode.workspace.getConfiguration('layerProfiler').update('localModelPath', undefined, vscode.ConfigurationTarget.Global);
  });

  it('registers every command', async () => {
    const all = new Set(await vscode.commands.getCommands(true));
    for (const c of ['profileSelection', 'lensSelection', 'compareSelections', 'compareWithHead', 'compareWithClipboard', 'profileFolder', 'chooseModel', 'showLayers', 'exportResults', 'clearResults', 'cancel', 'openPanel']) {
      assert.ok(all.has(`layerProfiler.${c}`), c);
    }
  });

  it('profiles a folder as a dataset and stores it under the model', async () => {
    await vscode.commands.executeCommand('layerProfiler.profileFolder', vscode.Uri.file(path.join(work, 'cpp')), undefined, { name: 'cpp' });
    const entry = api.store.get(modelKey(api.settings().model));
    assert.ok(entry);
    const cpp = entry.results.datasets.find((d) => d.name === 'cpp');
    assert.ok(cpp);
    assert.equal(cpp.texts, 2);
    assert.deepEqual(cpp.skipped.map((s) => path.basename(s.path)), ['logo.png']);
    assert.equal(cpp.layers.length, entry.results.model.numLayers);
    for (const l of cpp.layers) assert.ok(l.absMean.mean > 0 && l.absMean.n === 2 && l.absMean.std !== null);
    await until('the results panel to open', () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.label === 'Layer Profiler'));
  });

  it('profiles the selection and keeps its token x layer values', async () => {
    const doc = await vscode.workspace.openTextDocument({ content: 'def greet(name):\n    return f"hello {name}"\n\nprint(greet("you"))\n', language: 'python' });
    const editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(0, 0, 1, 100);
    await vscode.commands.executeCommand('layerProfiler.profileSelection');
    const entry = api.store.get(modelKey(api.settings().model))!;
    assert.ok(entry.heatmap);
    const { tokens, absMean } = entry.heatmap.profile;
    assert.ok(tokens.length > 5);
    assert.equal(absMean.length, entry.results.model.numLayers);
    for (const row of absMean) assert.equal(row.length, tokens.length);
    assert.ok(entry.results.datasets.some((d) => d.name.startsWith('selection:') && d.texts === 1));
    // The selected tokens are shaded in the editor; an edit clears the shading.
    const placed = entry.heatmap.profile.offsets!.filter(Boolean).length;
    assert.ok(placed >= tokens.length / 2, `${placed} of ${tokens.length} tokens placed in the text`);
    assert.equal(api.highlights.count, placed);
    assert.ok(api.highlights.isShownIn(editor));
    // Switching tabs gives the document a new TextEditor when it is shown again: it is shaded too.
    const other = await vscode.workspace.openTextDocument({ content: 'unrelated\n', language: 'plaintext' });
    await vscode.window.showTextDocument(other, { preview: false });
    await until('the other tab', () => vscode.window.activeTextEditor?.document === other);
    const back = await vscode.window.showTextDocument(doc);
    assert.notEqual(back, editor, 'a new editor instance');
    await until('the shading in the new editor', () => api.highlights.isShownIn(back));
    assert.equal(api.highlights.count, placed);
    await back.edit((e) => e.insert(new vscode.Position(0, 0), '# edited\n'));
    assert.equal(api.highlights.count, 0);
    assert.equal(api.highlights.isShownIn(back), false);
  });

  it('reads the selection through the logit lens: the grid in the store, the lens in the tokens\' hovers, added to a profile of the same selection', async () => {
    const doc = await vscode.workspace.openTextDocument({ content: 'def square(x):\n    return x * x\n\nprint(square(3))\n', language: 'python' });
    const editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(0, 0, 1, 100);
    await vscode.commands.executeCommand('layerProfiler.lensSelection');
    const entry = api.store.get(modelKey(api.settings().model))!;
    const lens = entry.lens;
    assert.ok(lens, 'the lens is kept for the panel');
    assert.equal(lens.layers.length, entry.results.model.numLayers + 1, 'the embedding output and every layer');
    assert.deepEqual(lens.layers, [-1, ...Array.from({ length: entry.results.model.numLayers }, (_, i) => i)]);
    for (const p of lens.points) assert.ok(p.top.length === lens.tokens.length && p.top.every((row) => row.length === lens.k));
    assert.ok(api.highlights.lensShown && api.highlights.isShownIn(editor) && api.highlights.count > 0, 'the lensed tokens are shaded, with the lens in their hovers');
    const panel = vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.label === 'Layer Profiler');
    assert.ok(panel, 'the results panel shows the grid');
    // Profiling the same selection afterwards keeps the lens in the hovers beside the layer changes.
    await vscode.commands.executeCommand('layerProfiler.profileSelection');
    assert.ok(api.highlights.lensShown, 'profile and lens of one selection share the hover');
    assert.ok(api.store.get(modelKey(api.settings().model))!.lens, 'profiling keeps the lens in the panel');
  });

  it('compares two selections: a multi-cursor pair at once, or A then B over two runs', async () => {
    const doc = await vscode.workspace.openTextDocument({ content: 'total = price * count\ntotal = price + count\n', language: 'python' });
    const editor = await vscode.window.showTextDocument(doc);
    editor.selections = [new vscode.Selection(0, 0, 0, 21), new vscode.Selection(1, 0, 1, 21)];
    await vscode.commands.executeCommand('layerProfiler.compareSelections');
    const key = modelKey(api.settings().model);
    const both = api.store.get(key)!.textDiff;
    assert.ok(both, 'the comparison is kept for the panel');
    assert.match(both.a.label, /:1$/);
    assert.match(both.b.label, /:2$/);
    assert.equal(both.layers.length, api.store.get(key)!.results.model.numLayers + 1, 'the embedding output and every layer');
    assert.ok(both.pairs.length > 0 && both.l2.every((row) => row.length === both.pairs.length));
    assert.deepEqual(api.service.viewState().textDiff, both, 'the panel gets it in its snapshot');
    // Two runs: the first selection waits as A, the next one is B.
    editor.selection = new vscode.Selection(0, 0, 0, 21);
    await vscode.commands.executeCommand('layerProfiler.compareSelections');
    assert.equal(api.store.get(key)!.textDiff, both, 'one selection alone compares nothing yet');
    editor.selection = new vscode.Selection(0, 0, 0, 21);
    await vscode.commands.executeCommand('layerProfiler.compareSelections');
    const same = api.store.get(key)!.textDiff!;
    assert.notEqual(same, both);
    assert.deepEqual(same.onlyA, []);
    assert.ok(same.l2.every((row) => row.every((v) => v < 1e-3)), 'a text against itself has no distance');
    assert.ok(vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => t.label === 'Layer Profiler'), 'the results panel shows the grid');
  });

  it('compares a file with its version at HEAD, and the selection with the clipboard', async () => {
    const repo = mkdtempSync(path.join(os.tmpdir(), 'lp-git-'));
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: repo });
    git('init', '-q');
    const file = path.join(repo, 'calc.py');
    writeFileSync(file, 'def area(w, h):\n    return w * h\n');
    git('add', 'calc.py');
    git('commit', '-qm', 'first');
    writeFileSync(file, 'def area(width, height):\n    return width * height\n');
    const editor = await vscode.window.showTextDocument(vscode.Uri.file(file));
    await vscode.commands.executeCommand('layerProfiler.compareWithHead', vscode.Uri.file(file));
    const key = modelKey(api.settings().model);
    const head = api.store.get(key)!.textDiff!;
    assert.equal(head.a.label, 'calc.py at HEAD');
    assert.equal(head.b.label, 'calc.py');
    assert.ok(head.a.tokens.join('').includes('w'), 'A is the committed text');
    assert.ok(head.onlyA.length + head.onlyB.length > 0, 'the renamed parameters leave unpaired tokens');
    editor.selection = new vscode.Selection(1, 0, 1, 100);
    await vscode.env.clipboard.writeText('    return w * h');
    await vscode.commands.executeCommand('layerProfiler.compareWithClipboard');
    const clip = api.store.get(key)!.textDiff!;
    assert.equal(clip.a.label, 'clipboard');
    assert.match(clip.b.label, /calc\.py:2$/);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('names a whole-line selection by the lines it covers', async () => {
    const doc = await vscode.workspace.openTextDocument({ content: 'a = 1\nb = 2\nc = 3\nd = 4\n', language: 'python' });
    const editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(1, 0, 3, 0); // lines 2-3, as Shift+Down twice selects them
    await vscode.commands.executeCommand('layerProfiler.profileSelection');
    const names = api.store.get(modelKey(api.settings().model))!.results.datasets.map((d) => d.name);
    assert.ok(names.some((n) => /^selection: .*:2-3$/.test(n)), names.join(', '));
  });

  it('shows the discovered layers in TransformerLens terms', async () => {
    await vscode.commands.executeCommand('layerProfiler.showLayers');
    const doc = await until('the layers document', () => vscode.window.activeTextEditor?.document.uri.scheme === 'layer-profiler' && vscode.window.activeTextEditor.document);
    assert.equal(doc.isUntitled, false, 'a virtual document, not an Untitled one');
    assert.equal(doc.isDirty, false, 'nothing to save');
    const text = doc.getText();
    const layers = api.store.get(modelKey(api.settings().model))!.results.model.numLayers;
    for (let i = 0; i < layers; i++) assert.match(text, new RegExp(`blocks\\.${i}\\n\\s+resid_pre`));
    for (const name of ['attn_out', 'resid_mid', 'mlp_out', 'resid_post']) assert.ok(text.includes(name), name);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('exports the panel charts as PNG images', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lp-png-'));
    const count = await api.exportCharts(vscode.Uri.file(out));
    const files = readdirSync(out).sort();
    assert.equal(files.length, count);
    for (const chart of ['absMean', 'mean', 'absMeanSem', 'variance', 'heatmap', 'textdiff', 'textdiff-lines']) assert.ok(files.includes(`layer-profiler-${chart}.png`), `${chart} in ${files.join(', ')}`);
    for (const f of files) assert.deepEqual([...readFileSync(path.join(out, f)).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], `${f} is a PNG`);
  });

  it('cancelling keeps the files finished so far and marks the dataset partial', async () => {
    const run = vscode.commands.executeCommand('layerProfiler.profileFolder', vscode.Uri.file(path.join(work, 'many')), undefined, { name: 'many' });
    await until('progress', () => api.service.viewState().progress && api.service.viewState().progress!.textsDone > 0);
    await vscode.commands.executeCommand('layerProfiler.cancel');
    await run;
    const many = api.store.get(modelKey(api.settings().model))!.results.datasets.find((d) => d.name === 'many');
    assert.ok(many, 'the partial dataset is kept');
    assert.equal(many.partial, true);
    assert.ok(many.texts > 0 && many.texts < 400, `texts ${many.texts}`);
  });

  it('an engine crash (kill -9) mid-run keeps the finished texts, marked partial, and says how many', async () => {
    const run = vscode.commands.executeCommand('layerProfiler.profileFolder', vscode.Uri.file(path.join(work, 'many')), undefined, { name: 'crashed' });
    // The dataset shows in the views while it is profiled.
    await until('finished texts in the view state', () => (api.service.viewState().results?.datasets.find((d) => d.name === 'crashed')?.texts ?? 0) >= 2);
    api.engine.killForTest();
    await run;
    const crashed = api.store.get(modelKey(api.settings().model))!.results.datasets.find((d) => d.name === 'crashed');
    assert.ok(crashed, 'the finished texts are kept');
    assert.equal(crashed.partial, true);
    assert.ok(crashed.texts >= 2 && crashed.texts < 400, `texts ${crashed.texts}`);
    assert.equal(crashed.records.length, crashed.texts);
    const said = await until('the error in the log', () => api.notifier.lines().find((l) => /stopped unexpectedly.*finished before that are kept in 'crashed', marked partial/.test(l)));
    assert.match(said, new RegExp(`The ${crashed.texts} files finished`));
  });

  it('Choose Model checks a picked folder, says what is missing, and stores a good one where asked', async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'lp-not-a-model-'));
    writeFileSync(path.join(empty, 'config.json'), '{}');
    const config = () => vscode.workspace.getConfiguration('layerProfiler');
    const bad = (await vscode.commands.executeCommand('layerProfiler.chooseModel', { folder: empty, target: 'user' })) as { saved: boolean; problem?: string };
    assert.equal(bad.saved, false);
    assert.match(bad.problem ?? '', /has no tokenizer\.json, tokenizer_config\.json or an ONNX file/);
    assert.equal(config().inspect('localModelPath')?.globalValue, modelDir, 'a bad folder changes nothing');
    const good = (await vscode.commands.executeCommand('layerProfiler.chooseModel', { folder: modelDir, target: 'workspace' })) as { saved: boolean; message?: string };
    try {
      assert.equal(good.saved, true);
      assert.match(good.message ?? '', /in this workspace's settings \(\.vscode\/settings\.json\)/);
      assert.equal(config().inspect('localModelPath')?.workspaceValue, modelDir);
    } finally {
      for (const key of ['localModelPath', 'dtype']) await config().update(key, undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('downloads a Hub model into the configured cache, then profiles with it', async () => {
    const hub = await FakeHub.start();
    const config = vscode.workspace.getConfiguration('layerProfiler');
    try {
      serveModelAsQ8(hub, 'test-org/hub-model', { dir: modelDir!, onnxPath: path.join(modelDir!, 'onnx/model.onnx') });
      const cache = mkdtempSync(path.join(os.tmpdir(), 'lp-itest-cache-'));
      await config.update('localModelPath', undefined, vscode.ConfigurationTarget.Global);
      await config.update('model', 'test-org/hub-model', vscode.ConfigurationTarget.Global);
      await config.update('dtype', 'q8', vscode.ConfigurationTarget.Global);
      await config.update('hubEndpoint', hub.url, vscode.ConfigurationTarget.Global);
      await config.update('cacheDir', cache, vscode.ConfigurationTarget.Global);
      await until('the Hub model in the settings', () => api.settings().model.kind === 'hub');
      await vscode.commands.executeCommand('layerProfiler.profileFolder', vscode.Uri.file(path.join(work, 'cpp')), undefined, { name: 'from hub' });
      const entry = api.store.get(modelKey(api.settings().model));
      assert.ok(entry, 'results are stored under the Hub model, apart from the local one');
      assert.deepEqual(entry.results.datasets.map((d) => d.name), ['from hub']);
      assert.equal(entry.results.model.id, 'test-org/hub-model');
      assert.equal(entry.results.model.dtype, 'q8');
      assert.ok(hub.contentRequests().some((r) => hub.fileOf(r) === 'onnx/model_quantized.onnx'), 'the q8 file was downloaded');
      assert.ok(existsSync(path.join(cache, 'models--test-org--hub-model')), 'into the configured cache');
    } finally {
      for (const key of ['model', 'dtype', 'hubEndpoint', 'cacheDir']) await config.update(key, undefined, vscode.ConfigurationTarget.Global);
      await config.update('localModelPath', modelDir, vscode.ConfigurationTarget.Global);
      await until('the local model back in the settings', () => api.settings().model.kind === 'local');
      await hub.close();
    }
  });

  it('survives an engine crash: the next command starts a new engine', async () => {
    const before = api.engine.generation;
    api.engine.killForTest();
    await until('the crash to be noticed', () => !api.engine.running);
    await vscode.commands.executeCommand('layerProfiler.profileFolder', vscode.Uri.file(path.join(work, 'cpp')), undefined, { name: 'cpp again' });
    assert.ok(api.engine.generation > before);
    assert.ok(api.store.get(modelKey(api.settings().model))!.results.datasets.some((d) => d.name === 'cpp again'));
  });
});
