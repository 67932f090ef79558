/**
 * The end-to-end scenario a new user goes through, driven in Chromium against code-server with the
 * packaged VSIX installed: profile a selection from the palette, profile two folders from the
 * explorer's context menu, and read the panel's charts.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Frame, Page } from '../harness/codeServer.ts';
import { chartPoints, reportFailure, until, explorerContextMenu, findWebviewFrame, openWithVsix, readNotifications, runCommand, screenshot } from '../harness/ui.ts';

export interface EndToEndOptions {
  vsix: string;
  workspace: string;
  modelDir: string;
  numLayers: number;
}

async function openFile(page: Page, name: string): Promise<void> {
  await page.keyboard.press('Control+P');
  const box = page.locator('.quick-input-widget .quick-input-box input');
  await box.waitFor({ state: 'visible', timeout: 10_000 });
  await box.fill(name);
  await page.locator('.quick-input-widget .quick-input-list .monaco-list-row').first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter');
  await page.locator(`.tabs-container .tab[aria-label*="${name}"]`).first().waitFor({ timeout: 15_000 });
}

export async function runEndToEnd(o: EndToEndOptions): Promise<void> {
  const vs = await openWithVsix(o.vsix, o.workspace, {
    settings: { 'layerProfiler.localModelPath': o.modelDir, 'layerProfiler.maxTokens': 64 },
    waitFor: '.activitybar [aria-label="Layer Profiler"]',
    viewport: { width: 1600, height: 1000 },
  });
  const { page } = vs;
  try {
    // 1. Profile Selection from the palette, on the first five lines of a Python file.
    await openFile(page, 'fib.py');
    await page.locator('.monaco-editor .view-line').first().click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.down('Shift');
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowDown');
    await page.keyboard.up('Shift');
    await until('the selection to cover five lines', async () => ((await page.locator('.statusbar').innerText()).includes('selected') ? true : undefined), 10_000);
    await runCommand(page, 'Layer Profiler: Profile Selection');
    const panel = await findWebviewFrame(page, '#heatmap', { timeoutMs: 90_000 });
    const rows = await until('the heatmap to show every layer', async () => {
      const r = await panel.locator('#heatmap').getAttribute('data-rows');
      return r && Number(r) > 0 ? Number(r) : undefined;
    });
    assert.equal(rows, o.numLayers, 'one heatmap row per layer');
    assert.ok(Number(await panel.locator('#heatmap').getAttribute('data-cols')) > 10, 'one heatmap column per token');
    await screenshot(page, 'e2e-1-selection');
    // The profiled tokens are shaded in the editor, and a token's hover lists every layer.
    await page.locator('.monaco-editor .view-line span', { hasText: 'fib' }).first().hover();
    const hover = page.locator('.monaco-hover', { hasText: 'Layer Profiler' }).first();
    await hover.waitFor({ state: 'visible', timeout: 15_000 });
    const hoverText = await hover.innerText();
    for (let layer = 0; layer < o.numLayers; layer++) assert.match(hoverText, new RegExp(`\\b${layer}\\s+\\d`), `layer ${layer} in the hover`);
    await screenshot(page, 'e2e-1b-token-hover');
    await page.mouse.move(5, 500);

    // 1b. Logit Lens on the same selection: a token × layer grid of next-token predictions, top-k
    // on a cell's hover, and each token's hover lists what every layer would predict next.
    await runCommand(page, 'Layer Profiler: Logit Lens on Selection');
    const lensFrame = await findWebviewFrame(page, '#lens', { timeoutMs: 90_000 });
    const lensRows = await until('the lens grid', async () => {
      const r = await lensFrame.locator('#lens').getAttribute('data-rows');
      return r && Number(r) > 0 ? Number(r) : undefined;
    });
    assert.equal(lensRows, o.numLayers + 1, 'one lens row per layer and one for the embedding output');
    await lensFrame.locator('#section-lens').scrollIntoViewIfNeeded();
    const cellHeight = Math.max(14, Math.min(20, Math.round(440 / lensRows)));
    await lensFrame.locator('#lens').hover({ position: { x: 2 * 64 + 30, y: (lensRows - 1) * cellHeight + 4 + cellHeight / 2 } });
    const lensTip = lensFrame.locator('[data-testid=lens-tip]');
    await lensTip.waitFor({ state: 'visible', timeout: 10_000 });
    assert.match(await lensTip.innerText(), /model’s own output[\s\S]*\n1\. “[\s\S]*\n2\. “/, 'a cell\'s hover lists the top-k');
    await screenshot(page, 'e2e-1e-lens-grid');
    await page.mouse.move(5, 500);
    await until('the lens in a token\'s hover', async () => {
      await page.mouse.move(5, 500);
      await page.locator('.monaco-editor .view-line span', { hasText: 'fib' }).first().hover();
      const h = page.locator('.monaco-hover', { hasText: 'predicts next' }).first();
      return (await h.waitFor({ state: 'visible', timeout: 3_000 }).then(() => true, () => false)) ? true : undefined;
    }, 60_000);
    const lensHover = await page.locator('.monaco-hover', { hasText: 'predicts next' }).first().innerText();
    assert.match(lensHover, /embed/, 'the embedding output is listed');
    assert.match(lensHover, new RegExp(`${o.numLayers - 1} \\(output\\)`), 'the model\'s own prediction is listed');
    await screenshot(page, 'e2e-1f-lens-token-hover');
    await page.mouse.move(5, 500);

    // The shading survives a tab switch (a new editor instance) and a window reload.
    const shadedHover = async (shot: string) => {
      await page.mouse.move(5, 500);
      await until('the shaded token\'s hover', async () => {
        await page.mouse.move(5, 500);
        // Re-activate fib.py each try: on a loaded machine a late focus change can bring another tab forward.
        const fibTab = page.locator('.tabs-container .tab[aria-label*="fib.py"]').first();
        if (!(await page.locator('.tabs-container .tab.active[aria-label*="fib.py"]').count())) await fibTab.click().catch(() => undefined);
        await page.locator('.monaco-editor .view-line span', { hasText: 'fib' }).first().hover();
        const h = page.locator('.monaco-hover', { hasText: 'Layer Profiler' }).first();
        return (await h.isVisible().catch(() => false)) || (await h.waitFor({ state: 'visible', timeout: 3_000 }).then(() => true, () => false)) ? true : undefined;
      }, 90_000);
      await screenshot(page, shot);
      await page.mouse.move(5, 500);
    };
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'greet.py' }).first().dblclick();
    await page.locator('.tabs-container .tab.active[aria-label*="greet.py"]').first().waitFor({ timeout: 15_000 });
    await page.locator('.tabs-container .tab[aria-label*="fib.py"]').first().click();
    await page.locator('.tabs-container .tab.active[aria-label*="fib.py"]').first().waitFor({ timeout: 15_000 });
    await shadedHover('e2e-1c-hover-after-tab-switch');
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.locator('.activitybar [aria-label="Layer Profiler"]').first().waitFor({ state: 'attached', timeout: 60_000 });
    await page.locator('.tabs-container .tab[aria-label*="fib.py"]').first().waitFor({ timeout: 30_000 });
    // The restored editor needs focus before it shows hovers.
    await page.locator('.monaco-editor .view-line', { hasText: 'print' }).first().waitFor({ state: 'visible', timeout: 90_000 });
    await page.locator('.monaco-editor .view-line', { hasText: 'print' }).first().click();
    await shadedHover('e2e-1d-hover-after-reload');

    // 2. Profile Folder as Dataset from the explorer's context menu, accepting the default names.
    for (const folder of ['cpp', 'python']) {
      await explorerContextMenu(page, folder, 'Profile Folder as Dataset');
      const input = page.locator('.quick-input-widget .quick-input-box input');
      await input.waitFor({ state: 'visible', timeout: 15_000 });
      assert.equal(await input.inputValue(), folder, 'the dataset name defaults to the folder name');
      await page.keyboard.press('Enter');
      await until(`the '${folder}' dataset in the charts`, async () => {
        const frame = await findWebviewFrame(page, '#chart-absMean', { timeoutMs: 5_000 });
        return (await chartPoints(frame, 'chart-absMean'))[folder] ? true : undefined;
      });
    }

    // 3. Every layer chart shows one point per layer for each dataset.
    const frame = await findWebviewFrame(page, '#chart-absMean');
    const expected = { 'selection: fib.py:1-5': o.numLayers, cpp: o.numLayers, python: o.numLayers };
    for (const chart of ['chart-absMean', 'chart-mean', 'chart-absMeanSem', 'chart-variance', 'chart-relChange', 'chart-blockInfluence', 'chart-l2']) {
      assert.deepEqual(await chartPoints(frame, chart), expected, chart);
    }
    assert.deepEqual(Object.values(await chartPoints(frame, 'chart-difference')), [o.numLayers], 'the difference chart ranks every layer');
    assert.match(await frame.locator('[data-testid=findings]').innerText(), /Where the profile peaks/, 'findings in plain words at the top');
    await frame.locator('#section-absMean').scrollIntoViewIfNeeded();
    await screenshot(page, 'e2e-2-panel');

    // 4. Compare cpp with python through the picker: CIs, marks, and t, df, p, q, g in the table.
    await frame.locator('#section-difference').scrollIntoViewIfNeeded();
    for (const [side, name] of [['a', 'cpp'], ['b', 'python']] as const) {
      await frame.locator(`#compare-${side}`).click();
      await frame.locator(`#compare-${side} [role="option"]`, { hasText: name }).first().click();
    }
    await until('the cpp − python comparison', async () => ((await chartPoints(frame, 'chart-difference'))['cpp − python'] === o.numLayers ? true : undefined), 30_000);
    assert.match((await frame.locator('#chart-difference').getAttribute('aria-label')) ?? '', /95% confidence intervals.*(Significant after correction|No layer is significant)/);
    await frame.locator('#toggle-table-difference').click();
    const head = await frame.locator('#table-difference th[scope=col]').allInnerTexts();
    assert.deepEqual(head.slice(0, 8), ['Layer', 'Difference', '95% CI', 't', 'df', 'p', 'q', "Hedges' g"], 'the comparison table gives t, df, p, q and g');
    assert.equal(await frame.locator('#table-difference tbody tr').count(), o.numLayers);
    await screenshot(page, 'e2e-3-difference');
    await frame.locator('#toggle-table-difference').click();

    // 5. Profile Selection again: the new selection replaces the last one; Keep as dataset keeps it.
    const selections = async () => Object.keys(await chartPoints(frame, 'chart-absMean')).filter((n) => n.startsWith('selection: '));
    const before = await selections();
    await page.locator('.monaco-editor .view-line').first().click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.down('Shift');
    for (let i = 0; i < 2; i++) await page.keyboard.press('ArrowDown');
    await page.keyboard.up('Shift');
    await runCommand(page, 'Layer Profiler: Profile Selection');
    const after = await until('the new selection to replace the old one', async () => {
      const now = await selections();
      return now.length === 1 && now[0] !== before[0] ? now : undefined;
    });
    assert.equal(Object.keys(await chartPoints(frame, 'chart-absMean')).length, 3, 'still three datasets: the selection is one slot');
    await frame.locator('[data-focus-key="keep-selection"]').click();
    const keepInput = page.locator('.quick-input-widget .quick-input-box input');
    await keepInput.waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(await keepInput.inputValue(), after[0], 'Keep as dataset offers the selection’s label as its name');
    await page.keyboard.press('Enter');
    await until('the kept selection to leave the slot', async () => ((await frame.locator('.dataset-selection').count()) === 0 ? true : undefined), 15_000);

    // 6. Y axes zoom to the data; the toggle starts them at zero. Then drill-down: a click on a
    // layer lists its texts; a text opens in the editor.
    await frame.locator('#section-absMean').scrollIntoViewIfNeeded();
    const zoomedMin = Number(await frame.locator('#chart-absMean').getAttribute('data-y-min'));
    await frame.locator('[data-testid=y-from-zero]').click();
    await until('the y axis to start at zero', async () => ((await frame.locator('#chart-absMean').getAttribute('data-y-min')) === '0' ? true : undefined), 10_000);
    assert.ok(zoomedMin > 0, `the y axis zoomed to the data first (min ${zoomedMin})`);
    await frame.locator('[data-testid=y-from-zero]').click();
    const box = await frame.locator('#chart-absMean').boundingBox();
    assert.ok(box, 'the chart has a box');
    await frame.locator('#chart-absMean').click({ position: { x: 60 + ((o.numLayers - 0.5) / o.numLayers) * (box.width - 70), y: box.height / 2 } });
    const drill = frame.locator('#section-absMean [data-testid=drill]');
    await drill.waitFor({ state: 'visible', timeout: 15_000 });
    assert.ok((await drill.locator('[data-testid="drill-cpp"] .drill-link').count()) === 3, 'the three cpp files are listed');
    assert.ok((await drill.locator('[data-testid^="drill-selection"] .drill-link').count()) >= 1, 'a selection is listed by its label and opens its document at the profiled range');
    await screenshot(page, 'e2e-3b-drilldown');
    const link = drill.locator('[data-testid="drill-cpp"] .drill-link').first();
    const file = path.basename((await link.getAttribute('data-path')) ?? '');
    await link.click();
    await page.locator(`.tabs-container .tab[aria-label*="${file}"]`).first().waitFor({ timeout: 15_000 });
    await screenshot(page, 'e2e-3c-opened-from-drilldown');

    // 7. The side view lists the datasets and draws its compact chart.
    await page.locator('.activitybar [aria-label="Layer Profiler"]').first().click();
    const side = await findWebviewFrame(page, '#chart-sidebar-absMean', { timeoutMs: 30_000 });
    await until('the side view chart', async () => ((await chartPoints(side, 'chart-sidebar-absMean')).cpp === o.numLayers ? true : undefined));
    await screenshot(page, 'e2e-4-sidebar');

    // 8. Compare with Previous Version from the explorer: area.py as committed against the file
    // now (parameters renamed, a line added), as a token × layer grid of distances.
    await explorerContextMenu(page, 'area.py', 'Compare with Previous Version');
    const diffFrame = await findWebviewFrame(page, '#textdiff', { timeoutMs: 90_000 });
    const diffRows = await until('the distance grid', async () => {
      const r = await diffFrame.locator('#textdiff').getAttribute('data-rows');
      return r && Number(r) > 0 ? Number(r) : undefined;
    });
    assert.equal(diffRows, o.numLayers + 1, 'one row per layer and one for the embedding output');
    assert.match((await diffFrame.locator('#textdiff').getAttribute('aria-label')) ?? '', /area\.py at HEAD and area\.py/);
    assert.ok(Object.keys(await chartPoints(diffFrame, 'chart-textdiff-lines')).length > 0, 'a line per token across the layers');
    await diffFrame.locator('#section-textdiff').scrollIntoViewIfNeeded();
    await diffFrame.locator('#textdiff').hover({ position: { x: 5 * 22 + 10, y: (diffRows - 2) * 15 } });
    await diffFrame.locator('[data-testid=textdiff-tip]').waitFor({ state: 'visible', timeout: 10_000 });
    await screenshot(page, 'e2e-5-compare-previous-version');
    await page.mouse.move(5, 500);

    const errors = (await readNotifications(page)).filter((n) => /Layer Profiler:.*(error|stopped|cannot|failed)/i.test(n));
    assert.deepEqual(errors, [], 'no error notifications');
  } catch (err) {
    await reportFailure(page, 'e2e-failure');
    throw err;
  } finally {
    await vs.stop();
  }
}
