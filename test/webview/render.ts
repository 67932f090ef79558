/**
 * Renders the webview bundle in headless Chromium, as VS Code would host it (same CSP, a fake
 * acquireVsCodeApi that answers `ready` with a snapshot), in a dark and then a light theme, and
 * saves screenshots to test-output/screenshots/webview-*.png. Fails on CSP violations, console
 * errors, or charts without one point per layer per dataset.
 *
 *   npx tsx test/webview/render.ts
 *
 * Needs /usr/bin/chromium and playwright-core (from node_modules, or installed in /tmp/pw; it is
 * deliberately not a dependency of the project).
 */
import * as esbuild from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import { sampleState } from './fixture';
import { DARK, LIGHT } from './themes';
import { webviewDocument } from '../../src/shared/webviewDocument';

const root = resolve(__dirname, '../..');
const pageDir = join(root, 'test-output/webview-page');
const shotDir = join(root, 'test-output/screenshots');
const NONCE = 'dGVzdC1ub25jZQ==';

// Only what this script uses of playwright-core, so the repo needs no types for it.
interface Page {
  goto(url: string): Promise<unknown>;
  on(event: 'console', fn: (m: { type(): string; text(): string }) => void): void;
  on(event: 'pageerror', fn: (e: Error) => void): void;
  waitForSelector(selector: string, options?: { state?: string }): Promise<unknown>;
  evaluate<T>(fn: string): Promise<T>;
  screenshot(options: { path: string; fullPage?: boolean; clip?: Box }): Promise<unknown>;
  mouse: { move(x: number, y: number): Promise<void> };
  click(selector: string): Promise<void>;
  close(): Promise<void>;
}
interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
interface Browser {
  newPage(options: { viewport: { width: number; height: number }; deviceScaleFactor?: number }): Promise<Page>;
  close(): Promise<void>;
}

async function loadChromium(): Promise<{ launch(o: object): Promise<Browser> }> {
  // The VS Code test harness installs playwright-core under .harness (.ci/setup-harness.sh).
  for (const spec of ['playwright-core', join(root, '.harness/server/node_modules/playwright-core/index.mjs')]) {
    try {
      return ((await import(spec)) as { chromium: { launch(o: object): Promise<Browser> } }).chromium;
    } catch {
      // try the next place
    }
  }
  throw new Error('playwright-core not found: run `bash .ci/setup-harness.sh` first.');
}

async function build(): Promise<void> {
  await esbuild.build({ bundle: true, platform: 'browser', target: 'es2022', format: 'iife', sourcemap: true, entryPoints: { webview: join(root, 'src/webview/main.ts') }, outdir: join(root, 'dist'), logLevel: 'warning' });
}

function page(view: 'panel' | 'sidebar', origin: string, fake: string): string {
  return webviewDocument({ view, nonce: NONCE, cspSource: origin, styleHref: `${origin}/webview.css`, scripts: [`${origin}/${fake}`, `${origin}/webview.js`] });
}

/** The fake VS Code side: theme variables, a recording acquireVsCodeApi, CSP violation capture. */
function fakeVscode(state: unknown): string {
  return `(() => {
  const themes = ${JSON.stringify({ dark: DARK, light: LIGHT })};
  window.__posted = [];
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
  window.__applyTheme = (name) => {
    const t = themes[name];
    const html = document.documentElement;
    for (const [k, v] of Object.entries(t.vars)) html.style.setProperty(k, v);
    document.body.classList.remove('vscode-dark', 'vscode-light');
    document.body.classList.add(t.bodyClass);
  };
  window.__applyTheme(new URLSearchParams(location.search).get('theme') || 'dark');
  let saved = undefined;
  // Like the host: answer ready with a snapshot, and apply visibility/comparison changes with a new one.
  const state = ${JSON.stringify(state)};
  const snapshot = () => setTimeout(() => window.postMessage({ type: 'snapshot', state }, '*'), 0);
  window.acquireVsCodeApi = () => ({
    postMessage(m) {
      window.__posted.push(m);
      if (!m) return;
      if (m.type === 'ready') snapshot();
      if (m.type === 'toggleDataset') {
        state.hidden = m.visible ? state.hidden.filter((n) => n !== m.name) : [...state.hidden, m.name];
        snapshot();
      }
      if (m.type === 'setComparison') {
        state.comparison = { a: m.a, b: m.b };
        snapshot();
      }
    },
    getState: () => saved,
    setState: (s) => { saved = s; },
  });
})();`;
}

function serve(dir: string): Promise<{ server: Server; origin: string }> {
  const files: Record<string, string> = { '/webview.js': join(root, 'dist/webview.js'), '/webview.css': join(root, 'media/webview.css') };
  const types: Record<string, string> = { js: 'text/javascript', css: 'text/css', html: 'text/html', map: 'application/json' };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    // Chromium asks every new origin for a favicon; VS Code's webviews never would.
    if (path === '/favicon.ico') return void res.writeHead(204).end();
    const file = files[path] ?? join(dir, path.replace(/^\/+/, ''));
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': types[file.split('.').pop() ?? ''] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, origin: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

const failures: string[] = [];
function check(ok: boolean, what: string): void {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

async function open(browser: Browser, url: string, width: number, height: number): Promise<{ p: Page; errors: string[] }> {
  const p = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: 1 });
  const errors: string[] = [];
  p.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
  });
  p.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await p.goto(url);
  return { p, errors };
}

async function finish(p: Page, errors: string[], name: string): Promise<void> {
  const csp = await p.evaluate<string[]>('window.__csp');
  check(csp.length === 0, `${name}: no CSP violations ${csp.join('; ')}`);
  check(errors.length === 0, `${name}: no console errors or warnings ${errors.join('; ')}`);
  await p.close();
}

/** Polls an expression; Playwright's waitForFunction would need eval, which the page's CSP forbids. */
async function waitFor(p: Page, expression: string, timeoutMs = 10000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await p.evaluate<boolean>(`!!(${expression})`))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${expression}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const points = (p: Page, id: string) => p.evaluate<string | null>(`document.querySelector('${id}')?.dataset.points ?? null`);

async function panel(browser: Browser, origin: string): Promise<void> {
  const { p, errors } = await open(browser, `${origin}/panel.html?theme=dark`, 1280, 900);
  await p.waitForSelector('#chart-absMean[data-points]');
  await waitFor(p, `document.querySelector('#heatmap')?.dataset.cols === '40'`);
  const expected = JSON.stringify({ cpp: 24, python: 24 });
  for (const id of ['#chart-absMean', '#chart-mean', '#chart-absMeanSem', '#chart-variance']) check((await points(p, id)) === expected, `${id} has 24 points per dataset`);
  check((await points(p, '#chart-difference')) === JSON.stringify({ 'cpp − python': 24 }), '#chart-difference ranks 24 layers');
  check((await p.evaluate<string>(`document.querySelector('#heatmap').dataset.rows + 'x' + document.querySelector('#heatmap').dataset.cols`)) === '24x40', '#heatmap is 24 layers x 40 tokens');
  check((await p.evaluate<string>(`document.querySelector('#chart-absMean').getAttribute('aria-label') ?? ''`)).includes('24 layers'), 'canvas aria-label summarises the chart');
  check((await p.evaluate<string>('JSON.stringify(window.__posted[0])')) === '{"type":"ready"}', 'posts ready first');
  await p.screenshot({ path: join(shotDir, 'webview-panel-dark.png'), fullPage: true });

  // The heatmap up close, with the tooltip of one cell (layer 5, token 7).
  await p.evaluate(`document.querySelector('#section-heatmap').scrollIntoView()`);
  const cell = await p.evaluate<Box>(`(() => { const r = document.querySelector('#heatmap').getBoundingClientRect(); return { x: r.x + 7 * 22 + 10, y: r.y + 5 * 16 + 8, width: 0, height: 0 }; })()`);
  await p.mouse.move(cell.x, cell.y);
  const tip = await p.evaluate<string>(`document.querySelector('.heatmap-tip').textContent`);
  check(tip.includes('layer 5') && tip.includes('token 7'), `heatmap tooltip names token and layer (${tip})`);
  const box = await p.evaluate<Box>(`(() => { const r = document.querySelector('#section-heatmap').getBoundingClientRect(); return { x: r.x, y: r.y, width: r.width, height: r.height }; })()`);
  await p.screenshot({ path: join(shotDir, 'webview-heatmap-dark.png'), clip: box });
  await p.mouse.move(0, 0);

  // Theme switch through the MutationObserver, as VS Code does it: classes and variables change in place.
  await p.evaluate(`window.__applyTheme('light')`);
  await p.evaluate(`new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`);
  await p.screenshot({ path: join(shotDir, 'webview-panel-light.png'), fullPage: true });

  await p.click('#toggle-table-absMean');
  await p.waitForSelector('#table-absMean');
  check((await p.evaluate<number>(`document.querySelectorAll('#table-absMean tbody tr').length`)) === 24, 'Show table gives a row per layer');
  check((await p.evaluate<number>(`document.querySelectorAll('#table-absMean th[scope=col]').length`)) === 5, 'table has scoped column headers');
  await p.evaluate(`document.querySelector('#section-absMean').scrollIntoView()`);
  await p.screenshot({ path: join(shotDir, 'webview-panel-table.png') });

  await p.evaluate(`window.postMessage({ type: 'exportCharts' }, '*')`);
  await waitFor(p, `window.__posted.filter((m) => m.type === 'chartImage').length >= 6`);
  const charts = await p.evaluate<string>(`window.__posted.filter((m) => m.type === 'chartImage' && m.dataUrl.startsWith('data:image/png;base64,')).map((m) => m.chart).join(',')`);
  check(charts === 'absMean,mean,absMeanSem,variance,difference,heatmap', `exportCharts posts six PNGs (${charts})`);
  const heatPng = await p.evaluate<string>(`window.__posted.find((m) => m.chart === 'heatmap').dataUrl`);
  writeFileSync(join(shotDir, 'webview-export-heatmap.png'), Buffer.from(heatPng.split(',')[1], 'base64'));

  // Picking B's dataset for A swaps the pair, through the real dropdown.
  await p.evaluate(`document.querySelector('#section-difference').scrollIntoView()`);
  await p.click('#compare-a');
  await p.click('#compare-a [role="option"]:has-text("python")');
  check((await p.evaluate<string>(`JSON.stringify(window.__posted.at(-1))`)) === '{"type":"setComparison","a":"python","b":"cpp"}', 'choosing dataset A posts setComparison (swapped)');
  await waitFor(p, `document.querySelector('#chart-difference').dataset.points === '{"python − cpp":24}'`);

  await p.click('[data-testid="dataset-toggle-python"]');
  check((await p.evaluate<string>(`JSON.stringify(window.__posted.at(-1))`)) === '{"type":"toggleDataset","name":"python","visible":false}', 'dataset checkbox posts toggleDataset');
  await waitFor(p, `document.querySelector('#chart-absMean').dataset.points === '{"cpp":24}'`);
  check(true, 'hiding python leaves one series per chart');
  check((await p.evaluate<string>(`document.querySelector('#section-difference .section-note').textContent`)).includes('second dataset'), 'difference chart explains it needs two datasets');
  const focused = await p.evaluate<string | null>(`document.activeElement?.outerHTML.slice(0, 120) ?? null`);
  check((focused ?? '').includes('data-focus-key="visible:python"'), `focus stays on the toggled checkbox after the snapshot (${focused})`);
  await p.screenshot({ path: join(shotDir, 'webview-panel-one-dataset.png'), fullPage: true });
  await p.click('[data-testid="progress"] vscode-button');
  check((await p.evaluate<string>(`JSON.stringify(window.__posted.at(-1))`)) === '{"type":"command","command":"cancel"}', 'Cancel posts the cancel command');
  await finish(p, errors, 'panel');
}

async function sidebar(browser: Browser, origin: string, theme: 'dark' | 'light'): Promise<void> {
  const { p, errors } = await open(browser, `${origin}/sidebar.html?theme=${theme}`, 260, 900);
  await p.waitForSelector('#chart-sidebar-absMean[data-points]');
  check((await points(p, '#chart-sidebar-absMean')) === JSON.stringify({ cpp: 24, python: 24 }), `sidebar (${theme}) chart has 24 points per dataset`);
  check((await p.evaluate<number>('document.documentElement.scrollWidth')) <= 260, `sidebar (${theme}) fits 260 px without horizontal scroll`);
  await p.screenshot({ path: join(shotDir, `webview-sidebar-${theme}.png`), fullPage: true });
  await finish(p, errors, `sidebar-${theme}`);
}

async function empty(browser: Browser, origin: string): Promise<void> {
  const { p, errors } = await open(browser, `${origin}/empty.html?theme=dark`, 900, 600);
  await p.waitForSelector('#empty:not([hidden])');
  await p.click('#empty vscode-button');
  check((await p.evaluate<string>(`JSON.stringify(window.__posted.at(-1))`)) === '{"type":"command","command":"profileSelection"}', 'empty state button posts profileSelection');
  await p.screenshot({ path: join(shotDir, 'webview-empty-dark.png'), fullPage: true });
  await finish(p, errors, 'empty');
}

/** A 3000-token selection: the heatmap canvas stays viewport-sized and scrolling reaches the last token. */
async function longText(browser: Browser, origin: string): Promise<void> {
  const { p, errors } = await open(browser, `${origin}/long.html?theme=dark`, 1280, 900);
  await waitFor(p, `document.querySelector('#heatmap')?.dataset.cols === '3000'`);
  const width = await p.evaluate<number>(`document.querySelector('#heatmap').getBoundingClientRect().width`);
  check(width <= 1280, `long heatmap canvas stays within the viewport (${width} px)`);
  await p.evaluate(`(() => { const s = document.querySelector('.heatmap-scroll'); s.scrollIntoView(); s.scrollLeft = s.scrollWidth; })()`);
  await p.evaluate(`new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`);
  const last = await p.evaluate<Box>(`(() => { const r = document.querySelector('#heatmap').getBoundingClientRect(); return { x: r.right - 8, y: r.y + 20, width: 0, height: 0 }; })()`);
  await p.mouse.move(last.x, last.y);
  const tip = await p.evaluate<string>(`document.querySelector('.heatmap-tip').textContent`);
  check(tip.startsWith('token 2999 '), `scrolled to the end, the last column is token 2999 (${tip})`);
  const box = await p.evaluate<Box>(`(() => { const r = document.querySelector('#section-heatmap').getBoundingClientRect(); return { x: r.x, y: r.y, width: r.width, height: r.height }; })()`);
  await p.screenshot({ path: join(shotDir, 'webview-heatmap-long.png'), clip: box });
  await finish(p, errors, 'long');
}

async function main(): Promise<void> {
  mkdirSync(pageDir, { recursive: true });
  mkdirSync(shotDir, { recursive: true });
  await build();
  const { server, origin } = await serve(pageDir);
  writeFileSync(join(pageDir, 'fake-vscode.js'), fakeVscode(sampleState()));
  writeFileSync(join(pageDir, 'fake-vscode-empty.js'), fakeVscode(sampleState({ empty: true })));
  writeFileSync(join(pageDir, 'panel.html'), page('panel', origin, 'fake-vscode.js'));
  writeFileSync(join(pageDir, 'sidebar.html'), page('sidebar', origin, 'fake-vscode.js'));
  writeFileSync(join(pageDir, 'empty.html'), page('panel', origin, 'fake-vscode-empty.js'));
  writeFileSync(join(pageDir, 'fake-vscode-long.js'), fakeVscode(sampleState({ tokens: 3000 })));
  writeFileSync(join(pageDir, 'long.html'), page('panel', origin, 'fake-vscode-long.js'));
  const chromium = await loadChromium();
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    await panel(browser, origin);
    await sidebar(browser, origin, 'dark');
    await sidebar(browser, origin, 'light');
    await empty(browser, origin);
    await longText(browser, origin);
  } finally {
    await browser.close();
    server.close();
  }
  console.log(failures.length ? `\n${failures.length} check(s) failed` : '\nall checks passed');
  process.exitCode = failures.length ? 1 : 0;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
