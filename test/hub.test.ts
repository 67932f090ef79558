import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { lstatSync } from 'node:fs';
import { lstat, mkdtemp, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DtypeNotAvailableError, downloadHubModel, type HubDownloadOptions } from '../src/core/model/hub';
import { availableDtypes, externalDataPathsFor, onnxFileForDtype } from '../src/core/model/dtype';
import type { DownloadProgress } from '../src/core/api';
import { FakeHub, sha256 } from './support/hub-server';

const ID = 'test-org/tiny-lm';
const GATED_ID = 'test-org/gated-lm';

const FILES: Record<string, Buffer> = {
  'config.json': Buffer.from(JSON.stringify({ model_type: 'llama', num_hidden_layers: 2, hidden_size: 8 })),
  'tokenizer.json': Buffer.from(JSON.stringify({ version: '1.0', model: { type: 'BPE', vocab: { a: 0 } } })),
  'tokenizer_config.json': Buffer.from(JSON.stringify({ model_max_length: 512 })),
  'generation_config.json': Buffer.from(JSON.stringify({ eos_token_id: 0 })),
  'README.md': Buffer.from('# tiny\n'),
  'onnx/model.onnx': randomBytes(200_000),
  'onnx/model_quantized.onnx': randomBytes(60_000),
  'onnx/model_quantized.onnx_data': randomBytes(1_500_000),
};
const Q8_FILES = ['config.json', 'generation_config.json', 'onnx/model_quantized.onnx', 'onnx/model_quantized.onnx_data', 'tokenizer.json', 'tokenizer_config.json'];
const DATA = 'onnx/model_quantized.onnx_data';

describe('downloadHubModel', function () {
  let hub: FakeHub;
  let commit: string;
  let tmp: string;
  let cacheDir: string;
  const HUB_ENV = ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_ENDPOINT', 'HF_HUB_OFFLINE'];
  const savedEnv = new Map(HUB_ENV.map((k) => [k, process.env[k]]));

  before(async () => {
    for (const k of HUB_ENV) delete process.env[k];
    hub = await FakeHub.start();
    commit = hub.addRepo(ID, FILES).commit;
    hub.addRepo(GATED_ID, FILES, { gated: true });
    tmp = await mkdtemp(path.join(os.tmpdir(), 'lp-hub-'));
  });

  after(async () => {
    for (const [k, v] of savedEnv) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    await hub.close();
    await rm(tmp, { recursive: true, force: true });
  });

  let n = 0;
  beforeEach(() => {
    cacheDir = path.join(tmp, `cache${n++}`);
    hub.resetLog();
  });

  afterEach(async function () {
    // Whatever happened, nothing unfinished may sit under a final name.
    for (const f of await walk(cacheDir)) {
      if (f.includes(`${path.sep}snapshots${path.sep}`) || f.includes(`${path.sep}refs${path.sep}`)) assert.doesNotMatch(f, /\.(incomplete|tmp)$/);
      assert.doesNotMatch(f, /\.lock$/, `lock left behind: ${f}`);
    }
  });

  const opts = (extra: Partial<HubDownloadOptions> = {}): HubDownloadOptions => ({ cacheDir, hubUrl: hub.url, accessToken: undefined, ...extra });

  it('downloads exactly the q8 files, byte-identical, into the Hugging Face cache layout', async () => {
    const progress: DownloadProgress[] = [];
    const m = await downloadHubModel({ id: ID, dtype: 'q8' }, opts({ onProgress: (p) => progress.push(p) }));

    assert.equal(m.onnxFile, 'onnx/model_quantized.onnx');
    assert.equal(m.revision, commit);
    assert.equal(m.folder, path.join(cacheDir, 'models--test-org--tiny-lm', 'snapshots', commit));
    assert.deepEqual(await walk(m.folder, m.folder), Q8_FILES);
    for (const f of Q8_FILES) assert.ok((await readFile(path.join(m.folder, f))).equals(FILES[f]), f);

    const fetched = hub.contentRequests().map((r) => hub.fileOf(r)).sort();
    assert.deepEqual(fetched, Q8_FILES);
    assert.equal(hub.requests.filter((r) => r.path.includes('/resolve/') && /onnx\/model\.onnx$|README/.test(r.path)).length, 0);

    // Snapshot entries link to content-addressed blobs; LFS blobs are named by their sha256.
    const link = path.join(m.folder, DATA);
    if ((await lstat(link)).isSymbolicLink()) {
      assert.equal(path.basename(await readlink(link)), sha256(FILES[DATA]));
    }
    assert.equal((await readFile(path.join(cacheDir, 'models--test-org--tiny-lm', 'refs', 'main'), 'utf8')).trim(), commit);

    const last = new Map(progress.map((p) => [p.file, p]));
    assert.deepEqual([...last.keys()].sort(), Q8_FILES);
    for (const [file, p] of last) {
      assert.equal(p.bytesTotal, FILES[file].length);
      assert.equal(p.bytesDone, FILES[file].length);
    }
  });

  it('downloads nothing the second time, and needs no network for a cached commit or offline', async () => {
    const first = await downloadHubModel({ id: ID, dtype: 'q8' }, opts());
    hub.resetLog();
    const second = await downloadHubModel({ id: ID, dtype: 'q8' }, opts());
    assert.deepEqual(second, first);
    assert.equal(hub.contentRequests().length, 0);
    assert.ok(hub.requests.length <= 1, `requests: ${hub.requests.map((r) => r.path).join(', ')}`);
    assert.ok(hub.requests.every((r) => r.path.startsWith(`/api/models/${ID}/revision/`)));

    hub.resetLog();
    assert.deepEqual(await downloadHubModel({ id: ID, dtype: 'q8', revision: commit }, opts()), first);
    assert.equal(hub.requests.length, 0);

    const offline: typeof fetch = async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    };
    assert.deepEqual(await downloadHubModel({ id: ID, dtype: 'q8' }, opts({ fetch: offline })), first);

    // Another dtype of the same commit reuses the shared config and tokenizer blobs.
    hub.resetLog();
    const fp32 = await downloadHubModel({ id: ID, dtype: 'fp32' }, opts());
    assert.equal(fp32.folder, first.folder);
    assert.deepEqual(hub.contentRequests().map((r) => hub.fileOf(r)), ['onnx/model.onnx']);
  });

  it('honours HF_HUB_OFFLINE: the cached snapshot of a ref, else a clear error', async () => {
    const first = await downloadHubModel({ id: ID, dtype: 'q8' }, opts());
    hub.resetLog();
    process.env.HF_HUB_OFFLINE = '1';
    try {
      assert.deepEqual(await downloadHubModel({ id: ID, dtype: 'q8' }, opts()), first);
      await assert.rejects(downloadHubModel({ id: ID, dtype: 'fp16' }, opts()), /HF_HUB_OFFLINE is set/);
      await assert.rejects(downloadHubModel({ id: ID, dtype: 'q8', revision: 'dev' }, opts()), /HF_HUB_OFFLINE is set/);
    } finally {
      delete process.env.HF_HUB_OFFLINE;
    }
    assert.equal(hub.requests.length, 0);
  });

  it('says the network is down, and mentions the cache, when offline with nothing cached', async () => {
    const offline: typeof fetch = async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('getaddrinfo ENOTFOUND huggingface.co'), { code: 'ENOTFOUND' }) });
    };
    await assert.rejects(downloadHubModel({ id: ID, dtype: 'q8' }, opts({ fetch: offline })), (err: Error) => {
      assert.match(err.message, /Could not reach the Hub/);
      assert.match(err.message, /network/);
      assert.match(err.message, /cache/);
      return true;
    });
  });

  it('resumes with a Range request when the connection drops mid-file', async () => {
    hub.cutOnce(ID, DATA, 300_000);
    const m = await downloadHubModel({ id: ID, dtype: 'q8' }, opts());
    assert.ok((await readFile(path.join(m.folder, DATA))).equals(FILES[DATA]));
    const dataRequests = hub.contentRequests().filter((r) => hub.fileOf(r) === DATA);
    assert.equal(dataRequests.length, 2);
    assert.equal(dataRequests[0].range, undefined);
    assert.equal(dataRequests[1].range, 'bytes=300000-');
    assert.equal(dataRequests[1].status, 206);
  });

  it('keeps the partial file when aborted, never under its final name, and the next call resumes it', async () => {
    hub.chunkDelayMs = 2;
    const controller = new AbortController();
    const blobs = path.join(cacheDir, 'models--test-org--tiny-lm', 'blobs');
    const finalBlob = path.join(blobs, sha256(FILES[DATA]));
    const finalLink = path.join(cacheDir, 'models--test-org--tiny-lm', 'snapshots', commit, DATA);
    let abortedAt = 0;
    let checks = 0;
    const onProgress = (p: DownloadProgress) => {
      if (p.file !== DATA) return;
      checks++;
      assert.equal(existsSync(finalBlob), false);
      assert.equal(existsSync(finalLink), false);
      if (!abortedAt && p.bytesDone >= 200_000) {
        abortedAt = p.bytesDone;
        controller.abort();
      }
    };
    await assert.rejects(downloadHubModel({ id: ID, dtype: 'q8' }, opts({ signal: controller.signal, onProgress })), (err: Error) => {
      assert.equal(err.name, 'AbortError');
      return true;
    });
    assert.ok(checks > 1);
    assert.ok(abortedAt > 0 && abortedAt < FILES[DATA].length);
    assert.equal((await stat(finalBlob + '.incomplete')).size, abortedAt);
    assert.equal(existsSync(finalBlob), false);
    assert.equal(existsSync(finalLink), false);
    assert.equal(existsSync(path.join(path.dirname(finalLink), 'model_quantized.onnx')), false);

    hub.resetLog();
    const m = await downloadHubModel({ id: ID, dtype: 'q8' }, opts());
    assert.ok((await readFile(path.join(m.folder, DATA))).equals(FILES[DATA]));
    const dataRequests = hub.contentRequests().filter((r) => hub.fileOf(r) === DATA);
    assert.deepEqual(dataRequests.map((r) => r.range), [`bytes=${abortedAt}-`]);
    assert.equal(existsSync(finalBlob + '.incomplete'), false);
    // Files finished before the abort were not fetched again.
    assert.deepEqual(hub.contentRequests().map((r) => hub.fileOf(r)).sort(), ['onnx/model_quantized.onnx', DATA]);
  });

  it('fetches a file once when two downloads of the same model run at the same time', async () => {
    hub.chunkDelayMs = 1;
    const [a, b] = await Promise.all([downloadHubModel({ id: ID, dtype: 'q8' }, opts()), downloadHubModel({ id: ID, dtype: 'q8' }, opts())]);
    assert.deepEqual(a, b);
    assert.ok((await readFile(path.join(a.folder, DATA))).equals(FILES[DATA]));
    assert.equal(hub.contentRequests().filter((r) => hub.fileOf(r) === DATA).length, 1);
  });

  it('rejects an already aborted signal without touching the network', async () => {
    await assert.rejects(downloadHubModel({ id: ID, dtype: 'q8' }, opts({ signal: AbortSignal.abort() })), { name: 'AbortError' });
    assert.equal(hub.requests.length, 0);
  });

  it('lists the dtypes the repo has when the requested one is missing', async () => {
    await assert.rejects(downloadHubModel({ id: ID, dtype: 'q4' }, opts()), (err: Error) => {
      assert.ok(err instanceof DtypeNotAvailableError);
      assert.deepEqual(err.available, ['fp32', 'q8']);
      assert.match(err.message, /no q4 weights \(onnx\/model_q4\.onnx\)/);
      assert.match(err.message, /Available there: fp32, q8\./);
      return true;
    });
    assert.equal(hub.contentRequests().length, 0);
  });

  it('explains an unknown repo, an unknown revision and a gated repo', async () => {
    await assert.rejects(downloadHubModel({ id: 'test-org/nope', dtype: 'q8' }, opts()), /^HubDownloadError: Model 'test-org\/nope' was not found on the Hub \(http:\/\/127\.0\.0\.1:\d+\)/);
    await assert.rejects(downloadHubModel({ id: ID, dtype: 'q8', revision: 'v9' }, opts()), /Revision 'v9' of model 'test-org\/tiny-lm' was not found/);
    await assert.rejects(downloadHubModel({ id: GATED_ID, dtype: 'q8' }, opts()), (err: Error) => {
      assert.match(err.message, /gated/);
      assert.match(err.message, /HF_TOKEN/);
      return true;
    });
    const m = await downloadHubModel({ id: GATED_ID, dtype: 'q8' }, opts({ accessToken: 'hf_test' }));
    assert.ok((await readFile(path.join(m.folder, DATA))).equals(FILES[DATA]));
    assert.ok(hub.requests.filter((r) => r.path.includes('/resolve/')).every((r) => r.authorization === 'Bearer hf_test' || r.status === 401));
    await assert.rejects(downloadHubModel({ id: '../etc', dtype: 'q8' }, opts()), /not a Hugging Face model id/);
    await assert.rejects(downloadHubModel({ id: GATED_ID, dtype: 'q8' }, opts({ accessToken: 'abc' })), /token given is malformed/);
  });

  it('discards a download whose bytes do not match the listed hash', async () => {
    hub.tamper(ID, DATA);
    await assert.rejects(downloadHubModel({ id: ID, dtype: 'q8' }, opts()), /arrived corrupted/);
    const blobs = path.join(cacheDir, 'models--test-org--tiny-lm', 'blobs');
    assert.equal(existsSync(path.join(blobs, sha256(FILES[DATA]))), false);
    assert.equal(existsSync(path.join(blobs, sha256(FILES[DATA]) + '.incomplete')), false);
    hub.resetLog();
    const m = await downloadHubModel({ id: ID, dtype: 'q8' }, opts());
    assert.ok((await readFile(path.join(m.folder, DATA))).equals(FILES[DATA]));
  });
});

describe('transformers.js dtype file names', () => {
  it('maps each dtype to its onnx/ file', () => {
    assert.deepEqual(
      (['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'] as const).map(onnxFileForDtype),
      ['model.onnx', 'model_fp16.onnx', 'model_quantized.onnx', 'model_int8.onnx', 'model_uint8.onnx', 'model_q4.onnx', 'model_q4f16.onnx', 'model_bnb4.onnx'],
    );
  });

  it('finds available dtypes and external data chunks in a listing', () => {
    const listing = ['onnx/model.onnx', 'onnx/model.onnx_data_1', 'onnx/model.onnx_data', 'onnx/model.onnx.data', 'onnx/model_fp16.onnx', 'onnx/model_fp16.onnx_data', 'onnx/model.onnx_data_x', 'model.onnx'];
    assert.deepEqual(availableDtypes(listing), ['fp32', 'fp16']);
    assert.deepEqual(externalDataPathsFor('onnx/model.onnx', listing), ['onnx/model.onnx.data', 'onnx/model.onnx_data', 'onnx/model.onnx_data_1']);
    assert.deepEqual(externalDataPathsFor('onnx/model_q4.onnx', listing), []);
  });
});

function existsSync(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** All files under `dir` (links included), sorted; relative to `base` with `/` when given. */
async function walk(dir: string, base?: string): Promise<string[]> {
  const out: string[] = [];
  async function go(d: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) await go(full);
      else out.push(base ? path.relative(base, full).split(path.sep).join('/') : full);
    }
  }
  await go(dir);
  return out.sort();
}
