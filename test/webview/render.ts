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
import { sampleState, sampleTextDiff } from './fixture';
import { DARK, HC_DARK, HC_LIGHT, LIGHT } from './themes';
import type { ComparisonRequest, ViewState } from '../../src/shared/protocol';
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
  mouse: { move(x: number, y: number): Promise<void>; click(x: number, y: number): Promise<void> };
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
  await esbuild.build({ bundle: true, platform: 'browser', target: 'es2022', format: 'iife', sourcemap: true, entryPoints: { webview: join(root, 'webview/main.ts') }, outdir: join(root, 'dist'), logLevel: 'warning' });
}

function page(view: 'panel' | 'sidebar', origin: string, fake: string): string {
  return webviewDocument({ view, nonce: NONCE, cspSource: origin, styleHref: `${origin}/webview.css`, scripts: [`${origin}/${fake}`, `${origin}/webview.js`] });
}

/** The key of a host state in the fake's table: what the host's answer depends on. */
const stateKey = (hidden: string[], comparison: ComparisonRequest | undefined) => JSON.stringify([hidden, comparison ?? null]);

/**
 * The fake VS Code side: theme variables, a recording acquireVsCodeApi, CSP violation capture.
 * `variants` are the host's answers (its comparison and findings) after the changes a check makes,
 * keyed by stateKey; a change without one keeps the statistics and updates hidden/comparison only.
 */
function fakeVscode(state: ViewState, variants: ViewState[] = []): string {
  const table = Object.fromEntries(variants.map((v) => [stateKey(v.hidden, v.comparison), v]));
  return `(() => {
  const themes = ${JSON.stringify({ dark: DARK, light: LIGHT, 'hc-dark': HC_DARK, 'hc-light': HC_LIGHT })};
  const table = ${JSON.stringify(table)};
  window.__posted = [];
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
  window.__applyTheme = (name) => {
    const t = themes[name];
    const html = document.documentElement;
    for (const [k, v] of Object.entries(t.vars)) html.style.setProperty(k, v);
    document.body.classList.remove('vscode-dark', 'vscode-light', 'vscode-high-contrast', 'vscode-high-contrast-light');
    document.body.classList.add(t.bodyClass);
  };
  window.__applyTheme(new URLSearchParams(location.search).get('theme') || 'dark');
  let saved = undefined;
  // Like the host: answer ready with a snapshot, and apply visibility/comparison changes with a new one.
  let state = ${JSON.stringify(state)};
  const lookup = () => {
    const known = table[JSON.stringify([state.hidden, state.comparison ?? null])];
    if (known) state = JSON.parse(JSON.stringify(known));
  };
  const snapshot = () => setTimeout(() => window.postMessage({ type: 'snapshot', state }, '*'), 0);
  window.acquireVsCodeApi = () => ({
    postMessage(m) {
      window.__posted.push(m);
      if (!m) return;
      if (m.type === 'ready') snapshot();
      if (m.type === 'toggleDataset') {
        state.hidden = m.visible ? state.hidden.filter((n) => n !== m.name) : [...state.hidden, m.name];
        lookup();
        snapshot();
      }
      if (m.type === 'setComparison') {
        state.comparison = m.request;
        lookup();
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

const LAYER_CHARTS = ['absMean', 'mean', 'absMeanSem', 'variance', 'relChange', 'blockInfluence', 'attentionShare', 'l2'];

/** Width and height of a PNG data URL, from its IHDR chunk. */
function pngSize(dataUrl: string): { width: number; height: number } {
  const bytes = Buffer.from(dataUrl.split(',')[1], 'base64');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

async function clip(p: Page, selector: string): Promise<Box> {
  return p.evaluate<Box>(`(() => { const r = document.querySelector('${selector}').getBoundingClientRect(); return { x: r.x, y: r.y + window.scrollY, width: r.width, height: r.height }; })()`);
}

async function panel(browser: Browser, origin: string): Promise<void> {
  const { p, errors } = await open(browser, `${origin}/panel.html?theme=dark`, 1280, 900);
  await p.waitForSelector('#chart-absMean[data-points]');
  await waitFor(p, `document.querySelector('#heatmap')?.dataset.cols === '40'`);
  const expected = JSON.stringify({ cpp: 24, python: 24 });
  for (const id of LAYER_CHARTS) check((await points(p, `#chart-${id}`)) === expected, `#chart-${id} has 24 points per dataset`);
  check((await points(p, '#chart-difference')) === JSON.stringify({ 'cpp − python': 24 }), '#chart-difference ranks 24 layers');
  const significant = JSON.parse((await p.evaluate<string>(`document.querySelector('#chart-difference').dataset.significant`)) ?? '[]') as number[];
  check(significant.length > 0 && significant.includes(4), `the comparison marks significant layers (${significant.join(', ')})`);
  check((await p.evaluate<string>(`document.querySelector('#chart-difference').getAttribute('aria-label')`)).includes('95% confidence intervals'), 'comparison aria-label names the CIs');
  check(!(await p.evaluate<string>('document.body.textContent')).includes('do not overlap'), 'the false "do not overlap" sentence is gone');
  const findings = await p.evaluate<string>(`document.querySelector('[data-testid=findings]')?.textContent ?? ''`);
  check(findings.includes('cpp vs python') && /q = /.test(findings), 'findings in plain words at the top name the comparison and q');
  check((await p.evaluate<string>(`document.querySelector('#heatmap').dataset.rows + 'x' + document.querySelector('#heatmap').dataset.cols`)) === '24x40', '#heatmap is 24 layers x 40 tokens');
  check((await p.evaluate<string>(`document.querySelector('#chart-absMean').getAttribute('aria-label') ?? ''`)).includes('24 layers'), 'canvas aria-label summarises the chart');
  check((await p.evaluate<string>('JSON.stringify(window.__posted[0])')) === '{"type":"ready"}', 'posts ready first');
  await p.screenshot({ path: join(shotDir, 'webview-panel-dark.png'), fullPage: true });

  for (const id of ['absMeanSem', 'attentionShare', 'blockInfluence']) await p.screenshot({ path: join(shotDir, `webview-chart-${id}-dark.png`), clip: await clip(p, `#section-${id}`), fullPage: true });

  // Comparison table: t, df, p, q and g per layer.
  await p.click('#toggle-table-difference');
  await p.waitForSelector('#table-difference');
  const head = await p.evaluate<string>(`[...document.querySelectorAll('#table-difference th[scope=col]')].map((t) => t.textContent).join('|')`);
  check(head === "Layer|Difference|95% CI|t|df|p|q|Hedges' g|Significant (q ≤ 0.05)", `comparison table columns (${head})`);
  await p.screenshot({ path: join(shotDir, 'webview-comparison-dark.png'), clip: await clip(p, '#section-difference'), fullPage: true });
  await p.click('#toggle-table-difference');

  // Drill-down: a click on layer 5 of the first chart lists that layer's texts; a text opens through the host.
  await p.evaluate(`document.querySelector('#section-absMean').scrollIntoView()`);
  const at = await p.evaluate<Box>(`(() => { const r = document.querySelector('#chart-absMean').getBoundingClientRect(); return { x: r.x + 60 + (5.5 / 24) * (r.width - 70), y: r.y + r.height / 2, width: 0, height: 0 }; })()`);
  await p.mouse.move(at.x, at.y);
  await p.mouse.click(at.x, at.y);
  await waitFor(p, `document.querySelector('#section-absMean [data-testid=drill]')`);
  const layer = await p.evaluate<string>(`document.querySelector('#section-absMean [data-testid=drill]').dataset.layer`);
  const lists = await p.evaluate<number>(`document.querySelectorAll('#section-absMean [data-testid=drill] .drill-link').length`);
  check(lists === 20, `drill-down lists 5 highest and 5 lowest texts per dataset at layer ${layer} (${lists})`);
  await p.screenshot({ path: join(shotDir, 'webview-drilldown-dark.png'), clip: await clip(p, '#section-absMean'), fullPage: true });
  await p.click('#section-absMean .drill-link');
  const opened = JSON.parse(await p.evaluate<string>(`JSON.stringify(window.__posted.at(-1))`)) as { type: string; dataset: string; path: string };
  check(opened.type === 'openText' && opened.dataset === 'cpp' && opened.path.startsWith('/work/samples/cpp/'), `a drilled-down text posts openText (${JSON.stringify(opened)})`);

  // Y axes zoom to the data; the toggle returns them to zero.
  const zoomed = await p.evaluate<string>(`document.querySelector('#chart-mean').dataset.yMin + '..' + document.querySelector('#chart-mean').dataset.yMax`);
  await p.click('[data-testid=y-from-zero]');
  await waitFor(p, `document.querySelector('#chart-absMean').dataset.yMin === '0'`);
  check(true, 'the toggle starts y axes at zero');
  await p.click('[data-testid=y-from-zero]');
  await waitFor(p, `document.querySelector('#chart-mean').dataset.yMin + '..' + document.querySelector('#chart-mean').dataset.yMax === '${zoomed}'`);
  check(true, `toggled back, the axes zoom to the data again (mean: ${zoomed})`);

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
  const all = [...LAYER_CHARTS, 'difference', 'heatmap'];
  await waitFor(p, `window.__posted.filter((m) => m.type === 'chartImage').length >= ${all.length}`);
  const charts = await p.evaluate<string>(`window.__posted.filter((m) => m.type === 'chartImage' && m.dataUrl.startsWith('data:image/png;base64,')).map((m) => m.chart).join(',')`);
  check(charts === all.join(','), `exportCharts posts a PNG per chart (${charts})`);
  const absPng = await p.evaluate<string>(`window.__posted.find((m) => m.chart === 'absMean').dataUrl`);
  const cssWidth = await p.evaluate<number>(`document.querySelector('#chart-absMean').getBoundingClientRect().width`);
  const size = pngSize(absPng);
  check(Math.abs(size.width - 2 * cssWidth) <= 2, `exported chart is 2× (${size.width} px for ${cssWidth} CSS px)`);
  check((await p.evaluate<number>(`document.querySelector('#chart-absMean').width`)) === Math.round(cssWidth), 'the chart on screen is back to 1× after export');
  writeFileSync(join(shotDir, 'webview-export-absMean.png'), Buffer.from(absPng.split(',')[1], 'base64'));
  writeFileSync(join(shotDir, 'webview-export-difference.png'), Buffer.from((await p.evaluate<string>(`window.__posted.find((m) => m.chart === 'difference').dataUrl`)).split(',')[1], 'base64'));
  const heatPng = await p.evaluate<string>(`window.__posted.find((m) => m.chart === 'heatmap').dataUrl`);
  writeFileSync(join(shotDir, 'webview-export-heatmap.png'), Buffer.from(heatPng.split(',')[1], 'base64'));

  // Picking B's dataset for A swaps the pair, through the real dropdown.
  await p.evaluate(`document.querySelector('#section-difference').scrollIntoView()`);
  await p.click('#compare-a');
  await p.click('#compare-a [role="option"]:has-text("python")');
  check((await p.evaluate<string>(`JSON.stringify(window.__posted.at(-1))`)) === '{"type":"setComparison","request":{"choice":{"kind":"pair","a":"python","b":"cpp"},"metric":"absMean"}}', 'choosing dataset A posts setComparison (swapped)');
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

/** Eight datasets: distinct colours and shapes, dataset vs rest, in light, dark and both high-contrast themes. */
async function eight(browser: Browser, origin: string): Promise<void> {
  const { p, errors } = await open(browser, `${origin}/panel8.html?theme=dark`, 1280, 900);
  await p.waitForSelector('#chart-absMean[data-points]');
  check(Object.keys(JSON.parse((await points(p, '#chart-absMean')) ?? '{}')).length === 8, 'eight datasets give eight series');
  await p.click('#compare-mode');
  await p.click('#compare-mode [role="option"]:has-text("vs the rest")');
  check((await p.evaluate<string>(`JSON.stringify(window.__posted.at(-1))`)) === '{"type":"setComparison","request":{"choice":{"kind":"vsRest","name":"cpp"},"metric":"absMean"}}', 'the picker asks for cpp vs the rest');
  await waitFor(p, `document.querySelector('#chart-difference').dataset.points === '{"cpp − the rest":24}'`);
  check(true, 'the comparison shows cpp − the rest');
  for (const theme of ['dark', 'light', 'hc-dark', 'hc-light']) {
    await p.evaluate(`window.__applyTheme('${theme}')`);
    await p.evaluate(`new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`);
    await p.evaluate(`window.scrollTo(0, 0)`);
    await p.screenshot({ path: join(shotDir, `webview-8-datasets-${theme}.png`), fullPage: true });
    for (const id of ['absMean', 'relChange', 'difference']) await p.screenshot({ path: join(shotDir, `webview-8-${id}-${theme}.png`), clip: await clip(p, `#section-${id}`), fullPage: true });
  }
  await finish(p, errors, 'eight datasets');
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

/** The logit lens grid: one row per point, one column per token, hover lists the top-k, the shading toggles, light and dark. */
async function lens(browser: Browser, origin: string): Promise<void> {
  const { p, errors } = await open(browser, `${origin}/lens.html?theme=dark`, 1280, 900);
  await waitFor(p, `document.querySelector('#lens')?.dataset.cols === '40'`);
  check((await p.evaluate<string>(`document.querySelector('#lens').dataset.rows`)) === '25', '#lens has 25 rows (embedding output and 24 layers)');
  check(Number(await p.evaluate<string>(`document.querySelector('#lens').dataset.correct`)) > 0, 'some cells are marked as predicting the actual next token');
  check((await p.evaluate<string>(`document.querySelector('#lens').getAttribute('aria-label') ?? ''`)).startsWith('Logit lens of fib.py'), 'the lens canvas has an aria-label summary');
  await p.evaluate(`document.querySelector('#section-lens').scrollIntoView()`);
  // Hover layer 20 (row 21) of token 3.
  const cell = await p.evaluate<Box>(`(() => { const r = document.querySelector('#lens').getBoundingClientRect(); return { x: r.x + 3 * 64 + 30, y: r.y + 21 * 18 + 8, width: 0, height: 0 }; })()`);
  await p.mouse.move(cell.x, cell.y);
  await waitFor(p, `!document.querySelector('[data-testid=lens-tip]').hidden`);
  const tip = await p.evaluate<string>(`document.querySelector('[data-testid=lens-tip]').innerText`);
  check(tip.includes('token 3') && tip.includes('layer 20') && /\n1\. “/.test(tip) && /\n5\. “/.test(tip) && tip.includes('entropy'), `lens tooltip lists the top 5 with probabilities (${tip.replace(/\n/g, ' | ')})`);
  await p.screenshot({ path: join(shotDir, 'webview-lens-dark.png'), clip: await clip(p, '#section-lens'), fullPage: true });
  await p.mouse.move(0, 0);
  await p.click('#lens-shade');
  await p.click('#lens-shade [role="option"]:has-text("entropy")');
  await waitFor(p, `document.querySelector('#lens').dataset.shade === 'entropy'`);
  check(true, 'the shade select switches the grid to entropy');
  await p.screenshot({ path: join(shotDir, 'webview-lens-entropy-dark.png'), clip: await clip(p, '#section-lens'), fullPage: true });
  await p.evaluate(`window.__applyTheme('light')`);
  await p.evaluate(`new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`);
  await p.screenshot({ path: join(shotDir, 'webview-lens-entropy-light.png'), clip: await clip(p, '#section-lens'), fullPage: true });
  await p.click('#lens-shade');
  await p.click('#lens-shade [role="option"]:has-text("probability")');
  await waitFor(p, `document.querySelector('#lens').dataset.shade === 'probability'`);
  await p.mouse.move(cell.x, cell.y);
  await waitFor(p, `!document.querySelector('[data-testid=lens-tip]').hidden`);
  await p.screenshot({ path: join(shotDir, 'webview-lens-light.png'), clip: await clip(p, '#section-lens'), fullPage: true });
  await p.mouse.move(0, 0);
  await p.click('#toggle-table-lens');
  await p.waitForSelector('#table-lens');
  check((await p.evaluate<number>(`document.querySelectorAll('#table-lens tbody tr').length`)) === 25, 'the lens table has a row per point');
  await p.click('#toggle-table-lens');
  await p.evaluate(`window.postMessage({ type: 'exportCharts' }, '*')`);
  await waitFor(p, `window.__posted.some((m) => m.type === 'chartImage' && m.chart === 'lens')`);
  const png = await p.evaluate<string>(`window.__posted.find((m) => m.chart === 'lens').dataUrl`);
  writeFileSync(join(shotDir, 'webview-export-lens.png'), Buffer.from(png.split(',')[1], 'base64'));
  check(pngSize(png).width >= 2 * (60 + 40 * 64), `the lens exports at 2× with every token (${pngSize(png).width} px)`);
  await finish(p, errors, 'lens');
}

/** Two compared texts: the distance grid (pairs and unpaired tokens as columns, a row per point), its hover, a line per token, light and dark. */
async function textDiff(browser: Browser, origin: string): Promise<void> {
  const { p, errors } = await open(browser, `${origin}/textdiff.html?theme=dark`, 1280, 900);
  const sel = sampleTextDiff();
  const cols = sel.pairs.length + sel.onlyA.length + sel.onlyB.length;
  await waitFor(p, `document.querySelector('#textdiff')?.dataset.cols === '${cols}'`);
  check((await p.evaluate<string>(`document.querySelector('#textdiff').dataset.rows`)) === '25', '#textdiff has 25 rows (embedding output and 24 layers)');
  check((await p.evaluate<string>(`document.querySelector('#textdiff').getAttribute('aria-label') ?? ''`)).startsWith('L2 distance between fib.py at HEAD and fib.py'), 'the distance grid has an aria-label summary');
  const lines = JSON.parse((await points(p, '#chart-textdiff-lines')) ?? '{}') as Record<string, number>;
  check(Object.keys(lines).length === 8 && Object.values(lines).every((n) => n === 25), `a line per token across the 25 points for 8 tokens (${JSON.stringify(lines)})`);
  await p.evaluate(`document.querySelector('#section-textdiff').scrollIntoView()`);
  await p.evaluate(`new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`);
  const cell = await p.evaluate<Box>(`(() => { const r = document.querySelector('#textdiff').getBoundingClientRect(); return { x: r.x + 12 * 22 + 10, y: r.y + 20 * 15 + 6, width: 0, height: 0 }; })()`);
  await p.mouse.move(cell.x, cell.y);
  await waitFor(p, `!document.querySelector('[data-testid=textdiff-tip]').hidden`);
  const tip = await p.evaluate<string>(`document.querySelector('[data-testid=textdiff-tip]').textContent`);
  check(/A token \d+ .* B token \d+ .* layer \d+ · L2 distance/.test(tip) || /has no partner/.test(tip), `distance tooltip names both tokens and the layer (${tip})`);
  await p.screenshot({ path: join(shotDir, 'webview-textdiff-dark.png'), clip: await clip(p, '#section-textdiff'), fullPage: true });
  await p.mouse.move(0, 0);
  await p.evaluate(`window.__applyTheme('light')`);
  await p.evaluate(`new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`);
  await p.screenshot({ path: join(shotDir, 'webview-textdiff-light.png'), clip: await clip(p, '#section-textdiff'), fullPage: true });
  await p.click('#toggle-table-textdiff');
  await p.waitForSelector('#table-textdiff');
  check((await p.evaluate<number>(`document.querySelectorAll('#table-textdiff tbody tr').length`)) === 25, 'the distance table has a row per point');
  await p.evaluate(`window.dispatchEvent(new MessageEvent('message', { data: { type: 'exportCharts' } }))`);
  await waitFor(p, `window.__posted.some((m) => m.type === 'chartImage' && m.chart === 'textdiff')`);
  const png = await p.evaluate<string>(`window.__posted.find((m) => m.chart === 'textdiff').dataUrl`);
  writeFileSync(join(shotDir, 'webview-export-textdiff.png'), Buffer.from(png.split(',')[1], 'base64'));
  await finish(p, errors, 'textdiff');
}

/** Folders read through the lens: a chart per metric with a line per dataset, the comparison with ★, findings; light and dark. */
async function lensDatasets(browser: Browser, origin: string): Promise<void> {
  const { p, errors } = await open(browser, `${origin}/lensdatasets.html?theme=dark`, 1280, 900);
  await p.waitForSelector('#chart-lens-top1[data-points]');
  for (const m of ['top1', 'nll', 'entropy', 'agreeFinal', 'klToFinal']) check((await points(p, `#chart-lens-${m}`)) === JSON.stringify({ cpp: 25, python: 25 }), `#chart-lens-${m} has 25 points (emb and 24 layers) per dataset`);
  check((await points(p, '#chart-lens-difference')) === JSON.stringify({ 'cpp − python': 25 }), 'the lens comparison has a bar per point');
  const significant = JSON.parse((await p.evaluate<string>(`document.querySelector('#chart-lens-difference').dataset.significant`)) ?? '[]') as number[];
  check(significant.includes(15) && !significant.includes(2), `cpp knows the next token earlier: layer 15 significant, layer 2 not (${significant.join(', ')})`);
  const findings = await p.evaluate<string>(`document.querySelector('[data-testid=lens-findings]')?.textContent ?? ''`);
  check(/know(s)? the next token better on cpp than on python/.test(findings), `lens findings name the layers (${findings.slice(0, 160)})`);
  for (const theme of ['dark', 'light']) {
    await p.evaluate(`window.__applyTheme('${theme}')`);
    await p.evaluate(`new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`);
    for (const id of ['lens-top1', 'lens-nll', 'lens-difference']) await p.screenshot({ path: join(shotDir, `webview-${id}-${theme}.png`), clip: await clip(p, `#section-${id}`), fullPage: true });
    await p.screenshot({ path: join(shotDir, `webview-lens-findings-${theme}.png`), clip: await clip(p, '#section-lens-findings'), fullPage: true });
  }
  await p.evaluate(`document.querySelector('#section-lens-difference').scrollIntoView()`);
  await p.click('#lens-compare-metric');
  await p.click('#lens-compare-metric [role="option"]:has-text("NLL")');
  check((await p.evaluate<string>(`JSON.stringify(window.__posted.at(-1))`)) === '{"type":"setLensComparison","request":{"a":"cpp","b":"python","metric":"nll"}}', 'choosing a metric posts setLensComparison');
  await finish(p, errors, 'lens datasets');
}

/** Activation patching: a grid per point kind, the metric in words, the hover's exact effect; light and dark. */
async function patching(browser: Browser, origin: string): Promise<void> {
  const { p, errors } = await open(browser, `${origin}/patch.html?theme=dark`, 1280, 900);
  await waitFor(p, `document.querySelector('#patch-resid_post')?.dataset.cols === '5'`);
  for (const kind of ['resid_post', 'attn_out', 'mlp_out']) check((await p.evaluate<string>(`document.querySelector('#patch-${kind}')?.dataset.rows ?? ''`)) === '24', `#patch-${kind} has a row per layer`);
  const metric = await p.evaluate<string>(`document.querySelector('[data-testid=patch-metric]').textContent`);
  check(metric.includes('Paris') && metric.includes('Berlin') && metric.includes('4.21') && metric.includes('−3.87'), `the metric is explained with its tokens and values (${metric})`);
  await p.evaluate(`document.querySelector('#section-patch').scrollIntoView()`);
  // Layer 20 (row 20), position 4 (the last): the effect is 1 there.
  const cell = await p.evaluate<Box>(`(() => { const r = document.querySelector('#patch-resid_post').getBoundingClientRect(); return { x: r.x + 52 + 4 * 34 + 15, y: r.y + 20 * 13 + 6, width: 0, height: 0 }; })()`);
  await p.mouse.move(cell.x, cell.y);
  await waitFor(p, `!document.querySelector('[data-testid=patch-resid_post-tip]').hidden`);
  const tip = await p.evaluate<string>(`document.querySelector('[data-testid=patch-resid_post-tip]').textContent`);
  check(/resid_post · layer 20 · position 4 .* effect 1 · metric 4\.21/.test(tip), `the hover shows the exact effect (${tip})`);
  await p.screenshot({ path: join(shotDir, 'webview-patch-dark.png'), clip: await clip(p, '#section-patch'), fullPage: true });
  await p.mouse.move(0, 0);
  await p.evaluate(`window.__applyTheme('light')`);
  await p.evaluate(`new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`);
  await p.screenshot({ path: join(shotDir, 'webview-patch-light.png'), clip: await clip(p, '#section-patch'), fullPage: true });
  await p.click('#toggle-table-patch');
  await p.waitForSelector('#table-patch');
  check((await p.evaluate<number>(`document.querySelectorAll('#table-patch tbody tr').length`)) === 72, 'the patching table has a row per point kind and layer');
  await p.evaluate(`window.dispatchEvent(new MessageEvent('message', { data: { type: 'exportCharts' } }))`);
  await waitFor(p, `window.__posted.some((m) => m.type === 'chartImage' && m.chart === 'patch-resid_post')`);
  const png = await p.evaluate<string>(`window.__posted.find((m) => m.chart === 'patch-resid_post').dataUrl`);
  writeFileSync(join(shotDir, 'webview-export-patch.png'), Buffer.from(png.split(',')[1], 'base64'));
  await finish(p, errors, 'patch');
}

async function main(): Promise<void> {
  mkdirSync(pageDir, { recursive: true });
  mkdirSync(shotDir, { recursive: true });
  await build();
  const { server, origin } = await serve(pageDir);
  const pair = (a: string, b: string): ComparisonRequest => ({ choice: { kind: 'pair', a, b }, metric: 'absMean' });
  writeFileSync(join(pageDir, 'fake-vscode.js'), fakeVscode(sampleState(), [sampleState({ comparison: pair('python', 'cpp') }), sampleState({ comparison: pair('python', 'cpp'), hidden: ['python'] })]));
  writeFileSync(join(pageDir, 'fake-vscode-8.js'), fakeVscode(sampleState({ datasets: 8 }), [sampleState({ datasets: 8, comparison: { choice: { kind: 'vsRest', name: 'cpp' }, metric: 'absMean' } })]));
  writeFileSync(join(pageDir, 'panel8.html'), page('panel', origin, 'fake-vscode-8.js'));
  writeFileSync(join(pageDir, 'fake-vscode-empty.js'), fakeVscode(sampleState({ empty: true })));
  writeFileSync(join(pageDir, 'panel.html'), page('panel', origin, 'fake-vscode.js'));
  writeFileSync(join(pageDir, 'sidebar.html'), page('sidebar', origin, 'fake-vscode.js'));
  writeFileSync(join(pageDir, 'empty.html'), page('panel', origin, 'fake-vscode-empty.js'));
  writeFileSync(join(pageDir, 'fake-vscode-long.js'), fakeVscode(sampleState({ tokens: 3000 })));
  writeFileSync(join(pageDir, 'long.html'), page('panel', origin, 'fake-vscode-long.js'));
  writeFileSync(join(pageDir, 'fake-vscode-lens.js'), fakeVscode(sampleState({ lens: true })));
  writeFileSync(join(pageDir, 'lens.html'), page('panel', origin, 'fake-vscode-lens.js'));
  writeFileSync(join(pageDir, 'fake-vscode-textdiff.js'), fakeVscode(sampleState({ textDiff: true })));
  writeFileSync(join(pageDir, 'textdiff.html'), page('panel', origin, 'fake-vscode-textdiff.js'));
  writeFileSync(join(pageDir, 'fake-vscode-lensdatasets.js'), fakeVscode(sampleState({ lensDatasets: true })));
  writeFileSync(join(pageDir, 'lensdatasets.html'), page('panel', origin, 'fake-vscode-lensdatasets.js'));
  writeFileSync(join(pageDir, 'fake-vscode-patch.js'), fakeVscode(sampleState({ patch: true })));
  writeFileSync(join(pageDir, 'patch.html'), page('panel', origin, 'fake-vscode-patch.js'));
  const chromium = await loadChromium();
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  // WEBVIEW_ONLY=lensDatasets,patching runs just those checks (while developing them).
  const only = process.env.WEBVIEW_ONLY?.split(',');
  const run = (name: string, check: (b: Browser, o: string) => Promise<void>) => (!only || only.includes(name) ? check(browser, origin) : Promise.resolve());
  try {
    await run('panel', panel);
    await run('eight', eight);
    await run('sidebar', (b, o) => sidebar(b, o, 'dark'));
    await run('sidebar', (b, o) => sidebar(b, o, 'light'));
    await run('empty', empty);
    await run('longText', longText);
    await run('lens', lens);
    await run('textDiff', textDiff);
    await run('lensDatasets', lensDatasets);
    await run('patching', patching);
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
