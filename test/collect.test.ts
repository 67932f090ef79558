/** Dataset collection: every file not profiled is listed with its reason. */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { collectFiles, readTextFile } from '../src/core/dataset/collect';

describe('dataset collection', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'lp-collect-'));
    mkdirSync(path.join(root, 'src/sub'), { recursive: true });
    mkdirSync(path.join(root, 'node_modules/x'), { recursive: true });
    writeFileSync(path.join(root, 'src/a.cpp'), 'int main() { return 0; }\n');
    writeFileSync(path.join(root, 'src/sub/b.py'), 'print("hi")\n');
    writeFileSync(path.join(root, 'src/empty.txt'), '');
    writeFileSync(path.join(root, 'src/blank.txt'), '   \n\n');
    writeFileSync(path.join(root, 'src/bin.dat'), Buffer.from([1, 2, 0, 3]));
    writeFileSync(path.join(root, 'src/latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
    writeFileSync(path.join(root, 'src/big.txt'), 'x'.repeat(5000));
    writeFileSync(path.join(root, 'node_modules/x/index.js'), 'module.exports = 1;\n');
    symlinkSync(path.join(root, 'src'), path.join(root, 'src/sub/loop'));
    writeFileSync(path.join(root, 'src/secret.txt'), 'no access\n');
    chmodSync(path.join(root, 'src/secret.txt'), 0o000);
  });

  it('walks folders, skips dependency folders, and reports symlink loops', async () => {
    const { files, skipped } = await collectFiles([root], { maxFileBytes: 1000 });
    const rel = files.map((f) => f.relative);
    assert.ok(rel.includes('src/a.cpp'));
    assert.ok(rel.includes('src/sub/b.py'));
    assert.ok(!rel.some((r) => r.startsWith('node_modules')));
    assert.ok(skipped.some((s) => s.path.endsWith('loop') && /symlink loop/.test(s.reason)), JSON.stringify(skipped));
  });

  it('honours include and exclude globs', async () => {
    const onlyPy = await collectFiles([root], { maxFileBytes: 1000, include: ['**/*.py'] });
    assert.deepEqual(onlyPy.files.map((f) => f.relative), ['src/sub/b.py']);
    const noSub = await collectFiles([root], { maxFileBytes: 1000, exclude: ['src/sub'] });
    assert.ok(!noSub.files.some((f) => f.relative.startsWith('src/sub')));
  });

  it('says why a file cannot be profiled', async () => {
    const reason = async (f: string) => {
      const r = await readTextFile(path.join(root, f), 1000);
      return r.ok ? 'ok' : r.reason;
    };
    assert.equal(await reason('src/a.cpp'), 'ok');
    assert.match(await reason('src/empty.txt'), /empty/);
    assert.match(await reason('src/blank.txt'), /empty/);
    assert.match(await reason('src/bin.dat'), /binary/);
    assert.match(await reason('src/latin1.txt'), /UTF-8/);
    assert.match(await reason('src/big.txt'), /larger than/);
    assert.match(await reason('src/missing.txt'), /does not exist/);
    if (process.getuid?.() !== 0) assert.match(await reason('src/secret.txt'), /permission denied/);
  });
});
