/** Dataset collection: every file not profiled is listed with its reason. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { collectFiles, readTextFile } from '../src/core/dataset/collect';
import { datasetSources, walkedOnce } from '../src/core/dataset/sources';
import type { SkippedFile } from '../src/core/results';

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

  it('lists FIFOs, sockets and device links in a folder as skipped, and never reads them', async function () {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lp-special-'));
    writeFileSync(path.join(dir, 'a.py'), 'print(1)\n');
    execFileSync('mkfifo', [path.join(dir, 'pipe.py')]);
    symlinkSync('/dev/zero', path.join(dir, 'zero.py'));
    const server = net.createServer().listen(path.join(dir, 'sock.py'));
    await new Promise((r) => server.once('listening', r));
    try {
      const { files, skipped } = await collectFiles([dir], { maxFileBytes: 1000 });
      assert.deepEqual(files.map((f) => f.relative), ['a.py']);
      const reasons = Object.fromEntries(skipped.map((s) => [path.basename(s.path), s.reason]));
      assert.match(reasons['pipe.py'] ?? '', /FIFO.*not a regular file/);
      assert.match(reasons['sock.py'] ?? '', /socket.*not a regular file/);
      assert.match(reasons['zero.py'] ?? '', /symlink to a character device.*not a regular file/);
      // Given directly, a FIFO is not opened (it would block until a writer came).
      const r = await readTextFile(path.join(dir, 'pipe.py'), 1000);
      assert.ok(!r.ok && /FIFO/.test(r.reason));
    } finally {
      server.close();
    }
  });

  it('a FIFO or device given as the dataset path is skipped as what it is, not "cannot list folder"', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lp-fifo-root-'));
    execFileSync('mkfifo', [path.join(dir, 'p')]);
    for (const root of [path.join(dir, 'p'), '/dev/zero']) {
      const { files, skipped } = await collectFiles([root], { maxFileBytes: 1000 });
      assert.equal(files.length, 0);
      assert.equal(skipped.length, 1);
      assert.match(skipped[0].reason, /(FIFO|character device).*, not a file or folder/);
      assert.doesNotMatch(skipped[0].reason, /ENOTDIR|scandir/);
    }
  });

  it('a NUL byte after the first 8 KiB still makes a file binary', async () => {
    const file = path.join(root, 'late-nul.txt');
    writeFileSync(file, Buffer.concat([Buffer.from('a'.repeat(9000)), Buffer.from([0]), Buffer.from('b\n')]));
    const r = await readTextFile(file, 100_000);
    assert.ok(!r.ok);
    assert.match(r.reason, /binary file \(a NUL byte at offset 9000\)/);
  });

  it('walks an input marked walkedOnce once: later readers get the first listing and its skipped files, as copies', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lp-walk-once-'));
    writeFileSync(path.join(dir, 'a.py'), 'a = 1\n');
    writeFileSync(path.join(dir, 'bin.dat'), Buffer.from([1, 0, 2]));
    symlinkSync(dir, path.join(dir, 'loop'));
    const marked = walkedOnce({ name: 'd', paths: [dir] });
    const plain = { name: 'd', paths: [dir] };
    const firstSkipped: SkippedFile[] = [];
    const first = await datasetSources(marked, firstSkipped);
    writeFileSync(path.join(dir, 'b.py'), 'b = 2\n');

    const laterSkipped: SkippedFile[] = [];
    const later = await datasetSources(marked, laterSkipped);
    assert.deepEqual(later.map((s) => path.basename(s.label)), first.map((s) => path.basename(s.label)), 'no second walk: b.py, added since, is not listed');
    assert.ok(!later.some((s) => s.label.endsWith('b.py')));
    assert.deepEqual(laterSkipped, firstSkipped, 'the walk\'s skipped files reach every reader');
    assert.ok(firstSkipped.some((s) => /symlink loop/.test(s.reason)), JSON.stringify(firstSkipped));
    assert.notEqual(later, first, 'each reader gets its own array');
    later.pop();
    assert.equal((await datasetSources(marked, [])).length, first.length);
    // Contents are read when asked for, not at the walk.
    writeFileSync(path.join(dir, 'a.py'), 'a = 3\n');
    const read = await first.find((s) => s.label.endsWith('a.py'))!.read();
    assert.deepEqual(read, { ok: true, text: 'a = 3\n' });

    // An input not marked is walked afresh each time.
    assert.ok((await datasetSources(plain, [])).some((s) => s.label.endsWith('b.py')));
  });
});
