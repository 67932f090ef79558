/**
 * Integration tests of the lens datasets and activation patching against the real `vscode` API:
 * Logit Lens on Folder as Dataset stores per-text records and the panel gets the comparison;
 * Activation Patching (Clean vs Corrupted) picks its two texts as Compare Two Selections does, and
 * the panel's button patches the last compared texts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import type { LayerProfilerApi } from '../../../src/extension/extension';
import { modelKey } from '../../../src/extension/settings';

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

describe('Layer Profiler in VS Code: lens datasets and activation patching', function () {
  let api: LayerProfilerApi;
  let work: string;
  const modelDir = process.env.LAYER_PROFILER_TEST_MODEL;
  const entry = () => api.store.get(modelKey(api.settings().model));
  const panelOpen = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => t.label === 'Layer Profiler');

  before(async () => {
    assert.ok(modelDir, 'LAYER_PROFILER_TEST_MODEL must name a generated model folder');
    const ext = vscode.extensions.getExtension<LayerProfilerApi>(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is installed`);
    api = await ext.activate();
    await vscode.workspace.getConfiguration('layerProfiler').update('localModelPath', modelDir, vscode.ConfigurationTarget.Global);
    await until('settings to apply', () => api.settings().model.kind === 'local');
    work = mkdtempSync(path.join(os.tmpdir(), 'lp-views2-'));
    const files: Record<string, string[]> = {
      cpp: ['int add(int a, int b) { return a + b; }\n', '#include <vector>\nint n(std::vector<int> v) { return v.size(); }\n', 'struct P { double x, y; };\n'],
      python: ['def add(a, b):\n    return a + b\n', 'for i in range(3):\n    print(i)\n', 'import sys\nprint(sys.argv)\n'],
    };
    for (const [name, texts] of Object.entries(files)) {
      mkdirSync(path.join(work, name));
      texts.forEach((t, i) => writeFileSync(path.join(work, name, `f${i}.txt`), t));
    }
  });

  after(async () => {
    await vscode.commands.executeCommand('layerProfiler.clearResults', { confirm: false });
    await vscode.workspace.getConfiguration('layerProfiler').update('localModelPath', undefined, vscode.ConfigurationTarget.Global);
  });

  it('registers the commands', async () => {
    const all = new Set(await vscode.commands.getCommands(true));
    for (const c of ['lensFolder', 'patchSelections', 'patchTexts', 'patchCompared']) assert.ok(all.has(`layerProfiler.${c}`), c);
  });

  it('reads two folders through the lens as datasets: per-text records stored, their comparison and findings in the view', async () => {
    for (const name of ['cpp', 'python']) await vscode.commands.executeCommand('layerProfiler.lensFolder', vscode.Uri.file(path.join(work, name)), undefined, { name });
    const stored = entry()?.lensDatasets;
    assert.ok(stored, 'lens datasets are stored under the model');
    assert.deepEqual(stored.map((d) => [d.name, d.texts, d.records.length]), [['cpp', 3, 3], ['python', 3, 3]]);
    const layers = entry()!.results.model.numLayers;
    assert.deepEqual(stored[0].layers, [-1, ...Array.from({ length: layers }, (_, i) => i)]);
    for (const d of stored) {
      const final = d.pooled[d.pooled.length - 1];
      assert.equal(final.agreeFinal, 1, 'the output agrees with itself');
      assert.equal(final.klToFinal, 0);
    }
    const view = api.service.viewState().lensDatasets;
    assert.ok(view, 'the panel gets the lens datasets');
    assert.deepEqual(view.datasets.map((d) => d.name), ['cpp', 'python']);
    assert.ok('layers' in view.compare, 'two datasets are compared');
    assert.equal(view.compare.layers.length, layers + 1);
    assert.ok(view.compare.layers.every((l) => l.a.n === 3 && l.b.n === 3), 'each text is one observation');
    assert.ok(view.findings.sections.some((s) => /How early/.test(s.heading)));
    await until('the results panel', panelOpen);
  });

  it('patches two selections picked one after the other (clean, then corrupted), and a pair named with target and foil tokens', async () => {
    const doc = await vscode.workspace.openTextDocument({ content: 'x = a * b\nx = a + b\nint s = a * b;\n', language: 'python' });
    const editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(0, 0, 0, 9);
    await vscode.commands.executeCommand('layerProfiler.patchSelections');
    assert.equal(entry()?.patch, undefined, 'the first selection waits as the clean text');
    editor.selection = new vscode.Selection(1, 0, 1, 9);
    await vscode.commands.executeCommand('layerProfiler.patchSelections');
    const patch = entry()!.patch;
    assert.ok(patch, 'the run is kept for the panel');
    assert.match(patch.clean.label, /:1$/);
    assert.match(patch.corrupted.label, /:2$/);
    assert.equal(patch.metric.kind, 'logit-diff');
    assert.notEqual(patch.metric.clean, patch.metric.corrupted);
    const layers = entry()!.results.model.numLayers;
    const resid = patch.grids.find((g) => g.point === 'resid_post');
    assert.ok(resid && resid.layers.length === layers, 'a row per layer');
    const n = patch.corrupted.ids.length;
    assert.ok(resid.layers.every((l) => l.effect.length === n), 'a column per position');
    const last = resid.layers[layers - 1].effect;
    assert.ok(Math.abs(last[n - 1] - 1) < 1e-4, `the last layer at the last position restores the clean metric (${last[n - 1]})`);
    for (let p = 0; p < n - 1; p++) assert.ok(Math.abs(last[p]) < 1e-6, `the last layer at position ${p} changes nothing`);
    assert.deepEqual(api.service.viewState().patch, patch);
    assert.ok(panelOpen());
    // Named tokens (each one token for this tokenizer): the metric is logit(target) − logit(foil).
    await vscode.commands.executeCommand('layerProfiler.patchTexts', { label: 'clean', text: 'x = a * b' }, { label: 'corrupted', text: 'x = a + b' }, { target: ' a', foil: ' =' });
    const named = entry()!.patch!;
    assert.equal(named.metric.kind, 'target');
    assert.equal(named.metric.targetToken, ' a');
    assert.equal(named.metric.foilToken, ' =');
  });

  it('patches the last compared texts from the panel when they have as many tokens', async () => {
    const doc = await vscode.workspace.openTextDocument({ content: 'int s = a * b;\nint s = a + b;\n', language: 'cpp' });
    const editor = await vscode.window.showTextDocument(doc);
    editor.selections = [new vscode.Selection(0, 0, 0, 14), new vscode.Selection(1, 0, 1, 14)];
    await vscode.commands.executeCommand('layerProfiler.compareSelections');
    const diff = entry()!.textDiff!;
    assert.equal(diff.a.tokens.length, diff.b.tokens.length);
    await vscode.commands.executeCommand('layerProfiler.patchCompared');
    const patch = entry()!.patch!;
    assert.equal(patch.clean.label, diff.a.label);
    assert.equal(patch.corrupted.label, diff.b.label);
    assert.ok(patch.grids.length >= 1);
  });
});
