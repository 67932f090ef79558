/**
 * The file-hash memo persisted across processes: a fresh process (the in-process map forgotten)
 * takes a stored hash without reading the file, a changed file (rewritten, or only its change time
 * moved) is read again, and every hash equals sha256 computed here from the file's bytes.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, linkSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureModel } from './modelgen';
import { fileHashReadCount, fileSha256, forgetFileHashesInProcess, knownFileSha256 } from '../src/core/onnx/fileHash';
import { keepFileHashesUnder, MAX_STORED_HASHES } from '../src/core/onnx/fileHashStore';
import { readOnnxModel } from '../src/core/onnx/modelFile';
import { loadAndAnalyze } from '../src/core/modelLoading';
import { instrumentForProfile } from '../src/core/profileGraph';
import { createOrtSession, stageModel } from '../src/core/runtime/probedSession';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
/** File times advance in the kernel's coarse clock ticks (up to 10 ms): a change is made a tick later, so its time differs. */
const nextTick = () => new Promise((resolve) => setTimeout(resolve, 30));

describe('persisted file hashes', () => {
  let dir: string;
  let cache: string;
  let previous: string | undefined;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lp-filehash-'));
    cache = path.join(dir, 'records');
    previous = process.env.LAYER_PROFILER_RECORD_CACHE;
    process.env.LAYER_PROFILER_RECORD_CACHE = cache;
    forgetFileHashesInProcess();
  });

  afterEach(() => {
    keepFileHashesUnder('default');
    if (previous === undefined) delete process.env.LAYER_PROFILER_RECORD_CACHE;
    else process.env.LAYER_PROFILER_RECORD_CACHE = previous;
    forgetFileHashesInProcess();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a later process takes the stored hash without reading the file', async () => {
    const file = path.join(dir, 'weights.bin');
    const bytes = randomBytes(3 * 2 ** 20 + 17);
    writeFileSync(file, bytes);
    const reads = fileHashReadCount();
    assert.equal(await fileSha256(file), sha256(bytes));
    assert.equal(fileHashReadCount(), reads + 1);
    assert.equal(readdirSync(path.join(cache, 'file-hashes')).filter((n) => n.endsWith('.sha256')).length, 1, 'one entry, no temporary left');

    forgetFileHashesInProcess();
    assert.equal(await knownFileSha256(file), sha256(bytes));
    forgetFileHashesInProcess();
    assert.equal(await fileSha256(path.relative(process.cwd(), file)), sha256(bytes), 'the same file by a relative path');
    assert.equal(fileHashReadCount(), reads + 1, 'not read again');
  });

  it('a rewritten or touched file is hashed anew', async () => {
    const file = path.join(dir, 'weights.bin');
    const first = randomBytes(2 ** 20);
    writeFileSync(file, first);
    assert.equal(await fileSha256(file), sha256(first));

    // Same size, one byte changed: a stale hash would be wrong.
    const second = Buffer.from(first);
    second[12345] ^= 0xff;
    await nextTick();
    writeFileSync(file, second);
    forgetFileHashesInProcess();
    assert.equal(await knownFileSha256(file), undefined);
    let reads = fileHashReadCount();
    assert.equal(await fileSha256(file), sha256(second));
    assert.equal(fileHashReadCount(), reads + 1);

    // Only the change time moves (a mode change): still not trusted.
    await nextTick();
    chmodSync(file, 0o600);
    forgetFileHashesInProcess();
    assert.equal(await knownFileSha256(file), undefined);
    reads = fileHashReadCount();
    assert.equal(await fileSha256(file), sha256(second));
    assert.equal(fileHashReadCount(), reads + 1);
  });

  it('keeps hashes under the record cache folder a run names, not the default one', async () => {
    const named = path.join(dir, 'elsewhere');
    keepFileHashesUnder(named);
    const file = path.join(dir, 'weights.bin');
    const bytes = randomBytes(4096);
    writeFileSync(file, bytes);
    await fileSha256(file);
    assert.equal(readdirSync(path.join(named, 'file-hashes')).filter((n) => n.endsWith('.sha256')).length, 1);
    assert.equal(existsSync(path.join(cache, 'file-hashes')), false, 'nothing under the default folder');
    forgetFileHashesInProcess();
    assert.equal(await knownFileSha256(file), sha256(bytes), 'a later process naming the same folder finds it');
    keepFileHashesUnder('default');
    forgetFileHashesInProcess();
    assert.equal(await knownFileSha256(file), undefined, 'one naming no folder looks in the default one');
  });

  it(`keeps at most ${MAX_STORED_HASHES} entries, evicting the least recently used`, async () => {
    const store = path.join(cache, 'file-hashes');
    const files: string[] = [];
    for (let i = 0; i < MAX_STORED_HASHES; i++) {
      const file = path.join(dir, `w${i}.bin`);
      writeFileSync(file, `weights ${i}`);
      await fileSha256(file);
      files.push(file);
    }
    // Entries age in creation order, one second apart; the first file's is then read (used).
    const entries = readdirSync(store).map((n) => path.join(store, n));
    assert.equal(entries.length, MAX_STORED_HASHES);
    const t0 = Date.now() / 1000 - 10 * MAX_STORED_HASHES;
    for (const [i, file] of files.entries()) {
      const entry = entries.find((e) => readFileSync(e, 'utf8').includes(JSON.stringify(path.resolve(file))))!;
      utimesSync(entry, t0 + i, t0 + i);
    }
    forgetFileHashesInProcess();
    assert.equal(await knownFileSha256(files[0]), sha256(Buffer.from('weights 0')));

    const extra = [0, 1].map((i) => path.join(dir, `extra${i}.bin`));
    for (const file of extra) {
      writeFileSync(file, file);
      await fileSha256(file);
    }
    assert.equal(readdirSync(store).filter((n) => n.endsWith('.sha256')).length, MAX_STORED_HASHES);
    forgetFileHashesInProcess();
    assert.ok(await knownFileSha256(files[0]), 'the one just used stays');
    assert.equal(await knownFileSha256(files[1]), undefined, 'the oldest unused went');
    assert.equal(await knownFileSha256(files[2]), undefined, 'and the next oldest');
    assert.ok(await knownFileSha256(files[3]));
    for (const file of extra) assert.ok(await knownFileSha256(file));
  });

  it('a damaged entry is ignored, and with the cache off nothing persists', async () => {
    const file = path.join(dir, 'weights.bin');
    const bytes = randomBytes(4096);
    writeFileSync(file, bytes);
    await fileSha256(file);
    const store = path.join(cache, 'file-hashes');
    for (const name of readdirSync(store)) writeFileSync(path.join(store, name), '{"path":');
    forgetFileHashesInProcess();
    assert.equal(await knownFileSha256(file), undefined);
    assert.equal(await fileSha256(file), sha256(bytes));

    process.env.LAYER_PROFILER_RECORD_CACHE = 'off';
    const other = path.join(dir, 'other.bin');
    writeFileSync(other, randomBytes(4096));
    await fileSha256(other);
    forgetFileHashesInProcess();
    assert.equal(await knownFileSha256(other), undefined);
  });

  it('loading a model persists its hash for a later process', async () => {
    const m = await ensureModel('optimum-llama');
    const file = path.join(dir, 'model.onnx');
    copyFileSync(path.join(m.dir, m.onnxFile), file);
    const expected = sha256(readFileSync(file));
    assert.equal((await readOnnxModel(file)).sha256, expected);
    forgetFileHashesInProcess();
    const reads = fileHashReadCount();
    assert.equal(await fileSha256(file), expected);
    assert.equal(fileHashReadCount(), reads, 'not read again');
  });

  it('staging for ONNX Runtime (a hard link made and removed) keeps the hash; a link made by anyone else does not', async () => {
    const m = await ensureModel('optimum-llama', { hidden: 128, vocabSize: 2000 });
    const folder = path.join(dir, 'model');
    cpSync(m.dir, folder, { recursive: true });
    const file = path.join(folder, m.onnxFile);
    const expected = sha256(readFileSync(file));
    const { model, spine } = await loadAndAnalyze({ kind: 'local', path: folder }, {});
    const ctime = statSync(file, { bigint: true }).ctimeNs;
    await nextTick();
    const staged = await stageModel(model, instrumentForProfile(model, spine).edit);
    assert.ok('file' in staged && staged.linked.includes(path.resolve(file)), 'the model file itself is linked');
    await (await createOrtSession(staged, {})).release();
    assert.equal(existsSync(staged.dir), false);
    assert.notEqual(statSync(file, { bigint: true }).ctimeNs, ctime, 'linking moved the change time');

    forgetFileHashesInProcess();
    assert.equal(await knownFileSha256(file), expected, 'the hash is still found by a later process');

    await nextTick();
    linkSync(file, path.join(dir, 'another-link'));
    unlinkSync(path.join(dir, 'another-link'));
    forgetFileHashesInProcess();
    assert.equal(await knownFileSha256(file), undefined, 'any other change of the change time is not trusted');
  });
});
