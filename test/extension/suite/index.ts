/**
 * Entry of the integration suite that runs inside a real VS Code extension host (code-server here,
 * @vscode/test-electron where desktop VS Code exists): an ordinary mocha `run()`.
 * LAYER_PROFILER_ITEST_ONLY=views2 runs only the lens-dataset and patching suite (while developing it).
 */
import Mocha from 'mocha';

export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 180_000, color: false, reporter: 'spec' });
  // Define describe/it before the bundled test modules are evaluated.
  mocha.suite.emit('pre-require', globalThis, 'extension.itest', mocha);
  const only = process.env.LAYER_PROFILER_ITEST_ONLY;
  if (!only || only === 'extension') await import('./extension.itest');
  if (!only || only === 'views2') await import('./views2.itest');
  await new Promise<void>((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} integration test(s) failed`)) : resolve()));
  });
}
