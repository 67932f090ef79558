// Builds a platform-specific VSIX: the bundles plus only the target's ONNX Runtime binaries.
// Usage: node scripts/package.mjs [--target linux-x64|linux-arm64|darwin-arm64|win32-x64|win32-arm64]
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const i = process.argv.indexOf('--target');
const target = i >= 0 ? process.argv[i + 1] : `${process.platform}-${process.arch}`;
const [platform, arch] = target.split('-');
const platforms = { linux: ['x64', 'arm64'], darwin: ['arm64'], win32: ['x64', 'arm64'] };
if (!platforms[platform]?.includes(arch)) throw new Error(`Unsupported target ${target}`);

execFileSync(process.execPath, ['scripts/build.mjs', '--production'], { stdio: 'inherit' });

// .vscodeignore lists exactly what ships (vsce applies negations after exclusions, whatever their
// order); only the target's own ONNX Runtime binaries are added here, per platform.
const ignore = [
  ...readFileSync('.vscodeignore', 'utf8').split('\n').filter((line) => line.trim() && !line.startsWith('#')),
  `!node_modules/onnxruntime-node/bin/napi-v*/${platform}/${arch}/**`,
];
const ignoreFile = path.join(os.tmpdir(), `layer-profiler-vscodeignore-${process.pid}`);
writeFileSync(ignoreFile, ignore.join('\n') + '\n');
const version = JSON.parse(readFileSync('package.json', 'utf8')).version;
const out = `layer-profiler-${target}-${version}.vsix`;
try {
  execFileSync(
    process.execPath,
    ['node_modules/@vscode/vsce/vsce', 'package', '--target', target, '--ignoreFile', ignoreFile, '--allow-missing-repository', '--out', out],
    { stdio: 'inherit' },
  );
} finally {
  rmSync(ignoreFile, { force: true });
}
console.log(out);
