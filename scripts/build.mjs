// Separate esbuild bundles: CLI, engine process, extension host, webview, extension tests.
// `vscode` and the native ONNX Runtime addon stay external.
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  external: ['vscode', 'onnxruntime-node'],
  logLevel: 'warning',
};

const builds = [
  // The CLI loads its tokenizer on a worker thread (src/core/model/tokenizerThread.ts), from its own bundle.
  { ...node, entryPoints: { cli: 'src/cli/index.ts', tokenizerWorker: 'src/core/model/tokenizerWorker.ts' }, outdir: 'dist' },
];
if (existsSync('src/engine/main.ts')) builds.push({ ...node, entryPoints: { engine: 'src/engine/main.ts' }, outdir: 'dist' });
if (existsSync('src/extension/extension.ts')) builds.push({ ...node, entryPoints: { extension: 'src/extension/extension.ts' }, outdir: 'dist' });
if (existsSync('webview/main.ts')) {
  builds.push({ bundle: true, platform: 'browser', target: 'es2022', format: 'iife', sourcemap: !production, minify: production, entryPoints: { webview: 'webview/main.ts' }, outdir: 'dist', logLevel: 'warning' });
}
// The integration suite loads mocha from node_modules at run time (it is not bundle-friendly).
if (existsSync('test/extension/suite/index.ts')) builds.push({ ...node, external: [...node.external, 'mocha'], entryPoints: { 'suite/index': 'test/extension/suite/index.ts' }, outdir: 'dist/test' });

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
