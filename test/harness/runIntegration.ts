/**
 * Runs an extension's integration suite (an ordinary CommonJS `run()` entry, as for
 * @vscode/test-electron) inside code-server's real extension host, and returns its exit code.
 *
 * Example:
 *   import { runExtensionTests } from './test/harness/runIntegration';
 *   const code = await runExtensionTests({
 *     extensionDevelopmentPath: '/work/main',              // folder with the extension's package.json
 *     extensionTestsPath: '/work/main/dist/test/suite/index.js',
 *     workspace: '/work/main/test/fixtures/ws',
 *     env: { LP_TEST_MODEL: '/path/to/model' },            // seen by the extension host
 *     timeoutMs: 300_000,
 *   });
 *   process.exitCode = code;
 *
 * From the shell (prints the suite's output, exits with its code):
 *   npx tsx test/harness/runIntegration.ts <extensionDevelopmentPath> <extensionTestsPath> [workspace]
 *
 * Exit codes: the suite's own; 124 on timeout; 1 when VS Code could not start.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import {
  createSandbox,
  installVsix,
  launchChromium,
  openWorkspace,
  remoteUri,
  startCodeServer,
  stopAll,
  type Browser,
  type CodeServer,
  type Sandbox,
} from './codeServer';

const VERBOSE = process.env.HARNESS_VERBOSE === '1';
/** Workbench chatter that is not the suite's (shown with HARNESS_VERBOSE=1). */
const NOISE = new RegExp(
  [
    'ENOTFOUND open-vsx\\.org', // no extension gallery offline
    'open-vsx\\.org/vscode/gallery',
    '^Resolv(ing|ed) connection token',
    '^Creating a socket',
    '^\\[reconnection-grace-time\\]',
    '^Updating additional builtin extensions cache',
    '^\\[Service Worker\\]',
    '^\\[AgentHost',
    '^\\[AccountPolicyGate\\]',
  ].join('|'),
);

export interface RunOptions {
  /** Folder of the extension under test (its package.json). */
  extensionDevelopmentPath: string;
  /** The compiled suite entry exporting `run(): Promise<void>` (a file, or a folder with index.js). */
  extensionTestsPath: string;
  /** Folder to open; none opens an empty window. */
  workspace?: string;
  /** Extra environment for the extension host. */
  env?: NodeJS.ProcessEnv;
  /** Whole run, start included. Default 300 s (HARNESS_TIMEOUT_MS overrides). */
  timeoutMs?: number;
  /** Other extensions to install first (.vsix files). */
  vsixDependencies?: string[];
  /** User settings for the run. */
  settings?: Record<string, unknown>;
  /** Where the suite's output goes; default process.stdout. */
  log?: (line: string) => void;
}

export async function runExtensionTests(opts: RunOptions): Promise<number> {
  const started = Date.now();
  const timeoutMs = opts.timeoutMs ?? (Number(process.env.HARNESS_TIMEOUT_MS) || 300_000);
  const log = opts.log ?? ((line: string) => process.stdout.write(line.endsWith('\n') ? line : `${line}\n`));
  const devPath = path.resolve(opts.extensionDevelopmentPath);
  const testsPath = path.resolve(opts.extensionTestsPath);
  for (const p of [devPath, testsPath, ...(opts.workspace ? [opts.workspace] : [])]) {
    if (!fs.existsSync(p)) throw new Error(`not found: ${p}`);
  }

  let sb: Sandbox | undefined;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    sb = await createSandbox({ settings: opts.settings });
    for (const v of opts.vsixDependencies ?? []) await installVsix(sb, v);
    server = await startCodeServer(sb, { workspace: opts.workspace, env: opts.env });
    browser = await launchChromium(sb);
    const { page } = browser;

    let resolveExit!: (code: number) => void;
    const exit = new Promise<number>((r) => (resolveExit = r));
    // VS Code's smoke-test driver looks these up on `window`: the extension host's log lines
    // (mocha's reporter output among them) and, once the extension host has exited after `run()`,
    // its exit code.
    await page.exposeFunction('codeAutomationLog', (level: string, message: unknown) => {
      const text = Array.isArray(message) ? format(...message) : String(message);
      if (VERBOSE || !NOISE.test(text)) log(level === 'error' || level === 'warn' ? `[${level}] ${text}` : text);
    });
    await page.exposeFunction('codeAutomationExit', (code: number) => resolveExit(Number(code) || 0));
    page.on('crash', () => {
      log('[harness] page crashed');
      resolveExit(1);
    });
    const srv = server;
    let finished = false;
    const serverDied = srv.exited.then(() => {
      if (!finished) log(`[harness] code-server exited during the run:\n${srv.output().slice(-4000)}`);
      return 1;
    });
    const timedOut = new Promise<number>((r) => {
      timer = setTimeout(() => {
        log(`[harness] timed out after ${timeoutMs} ms`);
        r(124);
      }, Math.max(1, timeoutMs - (Date.now() - started)));
    });

    await openWorkspace(page, server, opts.workspace, {
      payload: [
        ['extensionDevelopmentPath', remoteUri(server, devPath)],
        ['extensionTestsPath', remoteUri(server, testsPath)],
      ],
      waitForWorkbench: false,
    });
    const code = await Promise.race([exit, serverDied, timedOut]);
    finished = true;
    if (code !== 0 && process.env.HARNESS_VERBOSE !== '1') {
      const tail = server.output().split('\n').filter((l) => /error|fail/i.test(l) && !NOISE.test(l)).slice(-20);
      if (tail.length) log(`[harness] code-server errors (last ${tail.length}):\n${tail.join('\n')}`);
    }
    log(`[harness] exit code ${code} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return code;
  } catch (e) {
    log(`[harness] ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    return 1;
  } finally {
    clearTimeout(timer);
    await stopAll(browser, server, sb);
  }
}

// CLI
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const [dev, tests, ws] = process.argv.slice(2);
  if (!dev || !tests) {
    console.error('usage: tsx test/harness/runIntegration.ts <extensionDevelopmentPath> <extensionTestsPath> [workspace]');
    process.exit(2);
  }
  runExtensionTests({ extensionDevelopmentPath: dev, extensionTestsPath: tests, workspace: ws }).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
