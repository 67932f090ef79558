/**
 * `npm run test:vscode`: the extension in a real VS Code (code-server, Chromium), after
 * `.ci/setup-harness.sh`.
 *   1. The integration suite (test/extension/suite) against the real `vscode` API.
 *   2. End to end: the packaged VSIX installed into code-server, a workspace with C++ and Python
 *      folders, Profile Selection and Profile Folder as Dataset run from the palette and the
 *      explorer menu with a local test model; the panel's charts must show one point per layer
 *      for each dataset, and the heatmap must appear. Screenshots go to test-output/screenshots/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ensureModel } from '../modelgen/index.ts';
import { runExtensionTests } from '../harness/runIntegration.ts';
import { runElectronTests } from '../harness/testElectron.ts';
import { runEndToEnd } from './endToEnd.mts';
import { runViewsUi } from './viewsUi.mts';
import { makeWorkspace } from './workspace.mts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const only = process.argv[2]; // 'integration' | 'webview' | 'e2e' | 'views' (the lens-dataset and patching suites only) | undefined (all)

function build(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
}

let packaged: string | undefined;
function packageVsix(): string {
  if (packaged) return packaged;
  const out = execFileSync(process.execPath, ['scripts/package.mjs'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const name = out.trim().split('\n').pop()!;
  const vsix = path.join(ROOT, name);
  if (!existsSync(vsix)) throw new Error(`packaging did not produce ${vsix}`);
  packaged = vsix;
  return vsix;
}

async function main(): Promise<number> {
  rmSync(path.join(ROOT, 'test-output/screenshots'), { recursive: true, force: true });
  build();
  const model = await ensureModel('optimum-llama', { layers: 4 });
  let failures = 0;
  if (only === 'views') {
    // The lens datasets and activation patching alone: their integration suite, then their UI scenario.
    console.log('\n== lens datasets and patching: integration suite (real vscode API in code-server) ==');
    const code = await runExtensionTests({
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: path.join(ROOT, 'dist/test/suite/index.js'),
      workspace: makeWorkspace(),
      env: { LAYER_PROFILER_TEST_MODEL: model.dir, LAYER_PROFILER_ITEST_ONLY: 'views2' },
    });
    console.log(`views integration suite: exit ${code}`);
    if (code !== 0) failures++;
  }
  if (!only || only === 'integration') {
    // Desktop VS Code where it exists (VSCODE_EXECUTABLE), code-server otherwise.
    const electron = !!process.env.VSCODE_EXECUTABLE;
    console.log(`\n== integration suite (real vscode API in ${electron ? 'desktop VS Code' : 'code-server'}) ==`);
    const code = await (electron ? runElectronTests : runExtensionTests)({
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: path.join(ROOT, 'dist/test/suite/index.js'),
      workspace: makeWorkspace(),
      env: { LAYER_PROFILER_TEST_MODEL: model.dir },
    });
    console.log(`integration suite: exit ${code}`);
    if (code !== 0) failures++;
  }
  if (!only || only === 'webview') {
    console.log('\n== webview render check (both views, dark and light themes, CSP) ==');
    try {
      execFileSync(process.execPath, ['--import', 'tsx', 'test/webview/render.ts'], { cwd: ROOT, stdio: 'inherit' });
    } catch {
      failures++;
    }
  }
  if (!only || only === 'e2e') {
    console.log('\n== end to end (packaged VSIX, palette and explorer menu, webview charts) ==');
    const vsix = packageVsix();
    try {
      await runEndToEnd({ vsix, workspace: makeWorkspace(), modelDir: model.dir, numLayers: model.numLayers });
      console.log('end to end: passed');
    } catch (err) {
      console.error(`end to end: FAILED: ${(err as Error).stack ?? err}`);
      failures++;
    }
  }
  if (!only || only === 'views') {
    console.log('\n== lens datasets and patching in the UI (packaged VSIX, explorer menu and palette) ==');
    const vsix = packageVsix();
    try {
      await runViewsUi({ vsix, workspace: makeWorkspace(), modelDir: model.dir, numLayers: model.numLayers });
      console.log('views UI: passed');
    } catch (err) {
      console.error(`views UI: FAILED: ${(err as Error).stack ?? err}`);
      failures++;
    }
  }
  const shots = path.join(ROOT, 'test-output/screenshots');
  if (existsSync(shots)) console.log(`screenshots: ${readdirSync(shots).filter((f) => f.endsWith('.png')).map((f) => path.join('test-output/screenshots', f)).join(', ')}`);
  const total = !only ? 4 : only === 'views' ? 2 : 1;
  console.log(`vscode tests: ${total - failures} passed, ${failures} failed`);
  return failures ? 1 : 0;
}

process.exitCode = await main();
