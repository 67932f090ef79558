/**
 * Playwright helpers for UI tests against code-server (see codeServer.ts; run .ci/setup-harness.sh).
 *
 * Example (a mocha test under tsx):
 *   const vs = await openWithVsix('layer-profiler-0.1.0.vsix', '/path/to/ws', {
 *     waitFor: '.activitybar [aria-label="Layer Profiler"]',   // the extension's activity-bar icon
 *   });
 *   try {
 *     await runCommand(vs.page, 'Layer Profiler: Open Results Panel');
 *     const frame = await findWebviewFrame(vs.page, '#chart');
 *     await explorerContextMenu(vs.page, 'src/cpp', 'Profile Folder as Dataset');
 *     console.log(await readNotifications(vs.page));
 *     await screenshot(vs.page, 'panel');                        // test-output/screenshots/panel.png
 *   } finally {
 *     await vs.stop();
 *   }
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  createSandbox,
  installVsix,
  launchChromium,
  openWorkspace,
  REPO_ROOT,
  startCodeServer,
  stopAll,
  type Browser,
  type CodeServer,
  type Frame,
  type Page,
  type Sandbox,
} from './codeServer';

export interface VsCodeSession {
  page: Page;
  server: CodeServer;
  sandbox: Sandbox;
  /** Closes the browser, kills code-server's process group, removes the temp folders. Idempotent. */
  stop(): Promise<void>;
}

export interface OpenOptions {
  /** Environment for code-server and the extension host. */
  env?: NodeJS.ProcessEnv;
  /** User settings (merged over the harness defaults). */
  settings?: Record<string, unknown>;
  /** A selector to wait for once the workbench is up (e.g. the extension's activity-bar icon). */
  waitFor?: string;
  timeoutMs?: number;
  viewport?: { width: number; height: number };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it gives a value (errors count as not yet), failing after `timeoutMs` with the last error. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? ` (${(last as Error).message})` : ''}`);
    await sleep(300);
  }
}

/** A chart's plotted points, as the webview publishes them on its canvas (`data-points`). */
export async function chartPoints(frame: Frame, chart: string): Promise<Record<string, number>> {
  return JSON.parse((await frame.locator(`#${chart}`).getAttribute('data-points')) ?? '{}') as Record<string, number>;
}

/** Fresh code-server with the VSIX installed, Chromium showing `workspace`. */
export async function openWithVsix(
  vsixPath: string | string[],
  workspace: string,
  opts: OpenOptions = {},
): Promise<VsCodeSession> {
  const timeout = opts.timeoutMs ?? 60_000;
  let sandbox: Sandbox | undefined;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  try {
    sandbox = await createSandbox({ settings: opts.settings });
    for (const v of Array.isArray(vsixPath) ? vsixPath : [vsixPath]) await installVsix(sandbox, v);
    server = await startCodeServer(sandbox, { workspace, env: opts.env });
    browser = await launchChromium(sandbox, { viewport: opts.viewport });
    await openWorkspace(browser.page, server, workspace, { timeoutMs: timeout });
    if (opts.waitFor) await browser.page.locator(opts.waitFor).first().waitFor({ state: 'attached', timeout });
  } catch (e) {
    if (browser) await screenshot(browser.page, 'openWithVsix-failure').catch(() => {});
    await stopAll(browser, server, sandbox);
    throw e;
  }
  const [b, s, sb] = [browser, server, sandbox];
  let stopping: Promise<void> | undefined;
  return {
    page: b.page,
    server: s,
    sandbox: sb,
    stop: () => (stopping ??= stopAll(b, s, sb)),
  };
}

const QUICK_INPUT = '.quick-input-widget';
const QUICK_INPUT_BOX = `${QUICK_INPUT} .quick-input-box input`;
const QUICK_ROWS = `${QUICK_INPUT} .quick-input-list .monaco-list-row`;

/**
 * Runs a command by its palette title ("Category: Title", as shown in the palette) through F1.
 * The palette's list is built when it opens, so a command contributed by an extension that has not
 * registered yet is missing: close it and try again until `timeoutMs`.
 */
export async function runCommand(page: Page, title: string, opts: { timeoutMs?: number } = {}): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  const wanted = title.trim().toLowerCase();
  for (let attempt = 1; ; attempt++) {
    // Escape only closes an open quick input: pressed in an editor it would clear the selection.
    if (await page.locator(QUICK_INPUT).isVisible().catch(() => false)) await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    const box = page.locator(QUICK_INPUT_BOX);
    await box.waitFor({ state: 'visible', timeout: 10_000 });
    await box.fill(`>${title}`);
    // Wait for the list to settle on a row whose label is exactly the title.
    const t0 = Date.now();
    while (Date.now() - t0 < 2_000) {
      const labels: string[] = await page
        .locator(`${QUICK_ROWS} .quick-input-list-label .label-name, ${QUICK_ROWS} .monaco-icon-label .label-name`)
        .allTextContents()
        .catch(() => []);
      const idx = labels.findIndex((l) => l.replace(/\s+/g, ' ').trim().toLowerCase() === wanted);
      if (idx >= 0) {
        await page.locator(QUICK_ROWS).nth(idx).click();
        await page.locator(QUICK_INPUT).waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => {});
        return;
      }
      await sleep(150);
    }
    if (Date.now() > deadline) {
      const labels = await page.locator(`${QUICK_ROWS} .label-name`).allTextContents().catch(() => []);
      await page.keyboard.press('Escape');
      throw new Error(`command "${title}" not in the palette after ${attempt} tries; it showed: ${JSON.stringify(labels.slice(0, 10))}`);
    }
    await sleep(500);
  }
}

/** Shows the explorer if it is not visible. */
export async function showExplorer(page: Page): Promise<void> {
  const view = page.locator('.explorer-folders-view');
  if (await view.first().isVisible().catch(() => false)) return;
  await runCommand(page, 'View: Show Explorer');
  await view.first().waitFor({ state: 'visible', timeout: 10_000 });
}

function explorerRow(page: Page, label: string, level?: number) {
  const rows = page.locator(`.explorer-folders-view .monaco-list-row${level ? `[aria-level="${level}"]` : ''}`);
  return rows.filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRe(label)}$`) }) }).first();
}

/**
 * Opens the explorer's context menu on `folderName` (a path relative to the workspace root such as
 * "src/cpp"; parents are expanded) and chooses `itemLabel`. Menu items do not fire on a mouse click
 * here: the item is hovered, then Enter pressed.
 */
export async function explorerContextMenu(page: Page, folderName: string, itemLabel: string): Promise<void> {
  await showExplorer(page);
  const parts = folderName.split('/').filter(Boolean);
  let row = explorerRow(page, parts[0]!, 1);
  for (let i = 0; i < parts.length; i++) {
    row = explorerRow(page, parts[i]!, i + 1);
    await row.waitFor({ state: 'visible', timeout: 10_000 });
    if (i < parts.length - 1 && (await row.getAttribute('aria-expanded')) === 'false') {
      await row.click();
      await explorerRow(page, parts[i + 1]!, i + 2).waitFor({ state: 'visible', timeout: 10_000 });
    }
  }
  await row.click({ button: 'right' });
  const item = page.locator('.monaco-menu .action-item .action-label', {
    hasText: new RegExp(`^\\s*${escapeRe(itemLabel)}\\s*$`),
  }).first();
  await item.waitFor({ state: 'visible', timeout: 10_000 });
  await item.hover();
  await page.keyboard.press('Enter');
  await page.locator('.monaco-menu').first().waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => {});
}

/**
 * The frame of a webview (the inner `#active-frame` document) containing `selector`. Webviews are
 * nested iframes (iframe.webview.ready > iframe#active-frame); with several open, the first frame
 * that has the selector wins.
 */
export async function findWebviewFrame(page: Page, selector: string, opts: { timeoutMs?: number } = {}): Promise<Frame> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    for (const frame of page.frames() as Frame[]) {
      if (frame === page.mainFrame() || frame.isDetached()) continue;
      const hit = await frame.$(selector).catch(() => null);
      if (hit) return frame;
    }
    if (Date.now() > deadline) throw new Error(`no webview frame contains ${selector}`);
    await sleep(250);
  }
}

/**
 * Messages of all notifications, newest first. Toasts are not shown for development extensions,
 * so this opens the notification centre, reads it and (unless keepOpen) closes it again.
 */
export async function readNotifications(page: Page, opts: { keepOpen?: boolean } = {}): Promise<string[]> {
  const center = page.locator('.notifications-center');
  const wasOpen = await center.first().isVisible().catch(() => false);
  if (!wasOpen) {
    await runCommand(page, 'Notifications: Show Notifications');
    await center.first().waitFor({ state: 'visible', timeout: 5_000 });
  }
  await sleep(200);
  const texts: string[] = await page
    .locator('.notifications-center .notification-list-item-message')
    .allTextContents()
    .catch(() => []);
  if (!wasOpen && !opts.keepOpen) {
    // "Notifications: Hide Notifications" is not offered in the palette here; Escape (focus is in
    // the centre) closes it, the status bar's bell toggles it otherwise.
    await page.keyboard.press('Escape');
    if (!(await center.first().waitFor({ state: 'hidden', timeout: 2_000 }).then(() => true, () => false))) {
      await page.locator('.statusbar-item[id$="status.notifications"] a, .statusbar-item[id$="status.notifications"]').first().click().catch(() => {});
    }
  }
  return texts.map((t) => t.trim()).filter(Boolean);
}

/** Polls readNotifications until one matches. */
export async function waitForNotification(page: Page, match: RegExp | string, opts: { timeoutMs?: number } = {}): Promise<string> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  const test = (t: string) => (typeof match === 'string' ? t.includes(match) : match.test(t));
  for (;;) {
    const all = await readNotifications(page);
    const hit = all.find(test);
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no notification matching ${match}; saw ${JSON.stringify(all)}`);
    await sleep(500);
  }
}

export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-output', 'screenshots');

/** Saves a PNG of the whole page to test-output/screenshots/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await fs.promises.mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name.replace(/[^\w.-]+/g, '_')}.png`);
  await page.screenshot({ path: file });
  return file;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** After a scenario failed: a screenshot named `shot` and the notifications on screen, to say why (neither may fail in turn). */
export async function reportFailure(page: Page, shot: string): Promise<void> {
  await screenshot(page, shot).catch(() => undefined);
  const notes = await readNotifications(page).catch(() => []);
  if (notes.length) console.error(`notifications at failure:\n  ${notes.join('\n  ')}`);
}
