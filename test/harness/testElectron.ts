/**
 * The same integration suite on desktop VS Code (Electron), for machines that have it installed.
 * Needs `@vscode/test-electron` (a devDependency; not installed here) and VSCODE_EXECUTABLE set to
 * the VS Code binary: test-electron's own download cannot work offline, so it is never attempted.
 *
 * Example:
 *   VSCODE_EXECUTABLE=/usr/share/code/code npx tsx test/harness/testElectron.ts \
 *     . dist/test/suite/index.js test/fixtures/ws
 * or from code:
 *   const code = await runElectronTests({ extensionDevelopmentPath, extensionTestsPath, workspace });
 *
 * Same options and exit-code meaning as runIntegration.ts's runExtensionTests, so a caller can pick
 * one: `process.env.VSCODE_EXECUTABLE ? runElectronTests(o) : runExtensionTests(o)`.
 * Note: desktop VS Code runs the extension host on Electron's Node (not Node 24): N-API addons only.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunOptions } from './runIntegration';

/** The part of @vscode/test-electron used here (typed locally so it need not be installed). */
interface TestElectron {
  runTests(opts: {
    vscodeExecutablePath: string;
    extensionDevelopmentPath: string | string[];
    extensionTestsPath: string;
    launchArgs?: string[];
    extensionTestsEnv?: Record<string, string | undefined>;
  }): Promise<number>;
}

export async function runElectronTests(opts: Omit<RunOptions, 'log' | 'vsixDependencies'>): Promise<number> {
  const exe = process.env.VSCODE_EXECUTABLE;
  if (!exe || !fs.existsSync(exe)) {
    throw new Error('set VSCODE_EXECUTABLE to a desktop VS Code binary (downloads are not attempted)');
  }
  const moduleName = '@vscode/test-electron'; // a variable: resolved at run time only
  const { runTests } = (await import(moduleName)) as TestElectron;
  const tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'lp-electron-'));
  await fs.promises.mkdir(path.join(tmp, 'user-data/User'), { recursive: true });
  if (opts.settings) {
    await fs.promises.writeFile(path.join(tmp, 'user-data/User/settings.json'), JSON.stringify(opts.settings));
  }
  const timeoutMs = opts.timeoutMs ?? (Number(process.env.HARNESS_TIMEOUT_MS) || 300_000);
  let timer: NodeJS.Timeout | undefined;
  try {
    const run = runTests({
      vscodeExecutablePath: exe,
      extensionDevelopmentPath: path.resolve(opts.extensionDevelopmentPath),
      extensionTestsPath: path.resolve(opts.extensionTestsPath),
      extensionTestsEnv: opts.env,
      launchArgs: [
        ...(opts.workspace ? [path.resolve(opts.workspace)] : []),
        '--user-data-dir', path.join(tmp, 'user-data'),
        '--extensions-dir', path.join(tmp, 'extensions'),
        '--disable-extensions', // other installed extensions; the one under development still loads
        '--disable-telemetry',
        '--disable-gpu',
        // runTests itself adds --no-sandbox, --disable-updates, --skip-welcome,
        // --skip-release-notes and --disable-workspace-trust
      ],
    }).catch((e: { code?: number; message?: string }) => {
      // runTests rejects with a TestRunFailedError (.code, .signal) when VS Code exits non-zero
      console.error(e?.message ?? String(e));
      return typeof e?.code === 'number' && e.code !== 0 ? e.code : 1;
    });
    const timedOut = new Promise<number>((r) => {
      timer = setTimeout(() => {
        console.error(`[harness] timed out after ${timeoutMs} ms`);
        r(124);
      }, timeoutMs);
    });
    // On timeout VS Code is still running (runTests does not hand out the process): callers exit.
    return await Promise.race([run, timedOut]);
  } finally {
    clearTimeout(timer);
    await fs.promises.rm(tmp, { recursive: true, force: true }).catch(() => {});
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const [dev, tests, ws] = process.argv.slice(2);
  if (!dev || !tests) {
    console.error('usage: VSCODE_EXECUTABLE=... tsx test/harness/testElectron.ts <extensionDevelopmentPath> <extensionTestsPath> [workspace]');
    process.exit(2);
  }
  runElectronTests({ extensionDevelopmentPath: dev, extensionTestsPath: tests, workspace: ws }).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
