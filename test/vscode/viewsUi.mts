/**
 * The lens datasets and activation patching as a user reaches them, in Chromium against
 * code-server with the packaged VSIX: Logit Lens on Folder as Dataset from the explorer's context
 * menu on two folders, then Activation Patching (Clean vs Corrupted) from the palette on two
 * selections. The panel must chart every point for each dataset, compare them with ★ marks, draw
 * a patching grid of a row per layer and a column per token, and show a cell's exact effect on
 * hover. Screenshots in the dark and the light theme go to test-output/screenshots/views-*.png.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Frame, Page } from '../harness/codeServer.ts';
import { chartPoints, reportFailure, sleep, until, explorerContextMenu, findWebviewFrame, openWithVsix, readNotifications, runCommand, screenshot } from '../harness/ui.ts';

export interface ViewsUiOptions {
  vsix: string;
  workspace: string;
  modelDir: string;
  numLayers: number;
}

/** Opens a workspace file from the explorer (focus may be in the panel's webview, where Ctrl+P does not reach the workbench). */
async function openFile(page: Page, name: string): Promise<void> {
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first().dblclick();
  await page.locator(`.tabs-container .tab.active[aria-label*="${name}"]`).first().waitFor({ timeout: 15_000 });
}

/** Selects line `line` (1-based) of the active editor with the keyboard. */
async function selectLine(page: Page, line: number): Promise<void> {
  await page.locator('.monaco-editor .view-line').first().click();
  await page.keyboard.press('Control+Home');
  for (let i = 1; i < line; i++) await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+End');
}

export async function runViewsUi(o: ViewsUiOptions): Promise<void> {
  // Two lines of as many tokens for the generated model's tokenizer, whose runs predict different next tokens.
  writeFileSync(path.join(o.workspace, 'ops.cpp'), 'int s = a * b;\nint s = a + b;\n');
  const vs = await openWithVsix(o.vsix, o.workspace, {
    settings: { 'layerProfiler.localModelPath': o.modelDir, 'layerProfiler.maxTokens': 64 },
    waitFor: '.activitybar [aria-label="Layer Profiler"]',
    viewport: { width: 1600, height: 1000 },
  });
  const { page } = vs;
  try {
    // 1. Logit Lens on Folder as Dataset from the explorer, on both folders, accepting the default names.
    for (const folder of ['cpp', 'python']) {
      await explorerContextMenu(page, folder, 'Logit Lens on Folder as Dataset');
      const input = page.locator('.quick-input-widget .quick-input-box input');
      await input.waitFor({ state: 'visible', timeout: 15_000 });
      assert.equal(await input.inputValue(), folder, 'the lens dataset name defaults to the folder name');
      await page.keyboard.press('Enter');
      await until(`the '${folder}' lens dataset in the charts`, async () => {
        const frame = await findWebviewFrame(page, '#chart-lens-top1', { timeoutMs: 5_000 });
        return (await chartPoints(frame, 'chart-lens-top1'))[folder] ? true : undefined;
      });
    }
    const frame = await findWebviewFrame(page, '#chart-lens-top1');
    const expected = { cpp: o.numLayers + 1, python: o.numLayers + 1 };
    for (const m of ['top1', 'nll', 'entropy', 'agreeFinal', 'klToFinal']) assert.deepEqual(await chartPoints(frame, `chart-lens-${m}`), expected, `chart-lens-${m}: the embedding output and every layer`);
    assert.deepEqual(await chartPoints(frame, 'chart-lens-difference'), { 'cpp − python': o.numLayers + 1 }, 'the comparison has a bar per point');
    assert.match((await frame.locator('#chart-lens-difference').getAttribute('aria-label')) ?? '', /95% confidence intervals.*(Significant after correction|No layer is significant)/);
    assert.match(await frame.locator('[data-testid=lens-findings]').innerText(), /How early each dataset/);
    // The theme code-server starts with; the views are shot in it, and again after toggling to the other.
    const first = (await frame.locator('body.vscode-dark').count()) > 0 ? 'dark' : 'light';
    const second = first === 'dark' ? 'light' : 'dark';
    await frame.locator('#section-lens-top1').scrollIntoViewIfNeeded();
    await screenshot(page, `views-1-lens-charts-${first}`);
    await frame.locator('#section-lens-difference').scrollIntoViewIfNeeded();
    await screenshot(page, `views-2-lens-comparison-${first}`);
    // The metric picker asks the host for another comparison, which arrives in a new snapshot.
    await frame.locator('#lens-compare-metric').click();
    await frame.locator('#lens-compare-metric [role="option"]', { hasText: 'entropy' }).first().click();
    await until('the entropy comparison', async () => (/difference of entropy/i.test((await frame.locator('#chart-lens-difference').getAttribute('aria-label')) ?? '') ? true : undefined), 30_000);

    // 2. Activation Patching from the palette: line 1 is the clean text, line 2 the corrupted one.
    await openFile(page, 'ops.cpp');
    await selectLine(page, 1);
    await runCommand(page, 'Layer Profiler: Activation Patching (Clean vs Corrupted)');
    await sleep(500);
    await selectLine(page, 2);
    await runCommand(page, 'Layer Profiler: Activation Patching (Clean vs Corrupted)');
    const patchFrame = await findWebviewFrame(page, '#patch-resid_post', { timeoutMs: 120_000 });
    const rows = await until('the patching grid', async () => {
      const r = await patchFrame.locator('#patch-resid_post').getAttribute('data-rows');
      return r && Number(r) > 0 ? Number(r) : undefined;
    });
    assert.equal(rows, o.numLayers, 'a row per layer');
    const cols = Number(await patchFrame.locator('#patch-resid_post').getAttribute('data-cols'));
    assert.ok(cols >= 8, `a column per token (${cols})`);
    for (const kind of ['attn_out', 'mlp_out']) assert.equal(await patchFrame.locator(`#patch-${kind}`).getAttribute('data-rows'), String(o.numLayers), `${kind} has a row per layer`);
    assert.match(await patchFrame.locator('[data-testid=patch-metric]').innerText(), /Metric: logit\(.*\) − logit\(.*\) at the last position.*Clean run: .*corrupted run: /);
    await patchFrame.locator('#section-patch').scrollIntoViewIfNeeded();
    // Hover the last layer's last position: patching it restores the clean metric (effect 1).
    const cellHeight = Math.max(10, Math.min(20, Math.round(320 / rows)));
    await patchFrame.locator('#patch-resid_post').hover({ position: { x: 52 + (cols - 1) * 34 + 15, y: (rows - 1) * cellHeight + cellHeight / 2 } });
    const tip = patchFrame.locator('[data-testid=patch-resid_post-tip]');
    await tip.waitFor({ state: 'visible', timeout: 10_000 });
    assert.match(await tip.innerText(), new RegExp(`resid_post · layer ${o.numLayers - 1} · position ${cols - 1} .* effect (1|0\\.99999\\d*|1\\.0000\\d*) · metric`), 'the hover shows the exact effect');
    await screenshot(page, `views-3-patching-${first}`);
    await page.mouse.move(5, 500);

    // 3. The same views in the other theme.
    await runCommand(page, 'Preferences: Toggle between Light/Dark Themes');
    await until(`the ${second} theme in the webview`, async () => ((await patchFrame.locator(`body.vscode-${second}`).count()) > 0 ? true : undefined), 30_000);
    await sleep(500);
    await patchFrame.locator('#section-patch').scrollIntoViewIfNeeded();
    await screenshot(page, `views-4-patching-${second}`);
    // The panel's frame may have been replaced since the lens charts were read: use the current one.
    const now = await findWebviewFrame(page, '#chart-lens-top1');
    await now.locator('#section-lens-difference').scrollIntoViewIfNeeded();
    await screenshot(page, `views-5-lens-comparison-${second}`);
    await now.locator('#section-lens-top1').scrollIntoViewIfNeeded();
    await screenshot(page, `views-6-lens-charts-${second}`);

    const errors = (await readNotifications(page)).filter((n) => /Layer Profiler:.*(error|stopped|cannot|failed|must)/i.test(n));
    assert.deepEqual(errors, [], 'no error notifications');
  } catch (err) {
    await reportFailure(page, 'views-failure');
    throw err;
  } finally {
    await vs.stop();
  }
}
