/**
 * Downloading a transformers.js-style ONNX repo from the Hugging Face Hub into the local cache
 * (layout and reasons: cache.ts).
 *
 * @huggingface/hub does the talking to the Hub: modelInfo resolves a branch or tag to a commit,
 * listFiles lists the repo at that commit, fileDownloadInfo finds each file's download URL (after
 * the Hub's redirect to its CDN) and size. Its own downloaders (downloadFile,
 * downloadFileToCacheDir, snapshotDownload) fetch whole files with no byte range, progress,
 * cancellation or checksum, and snapshotDownload fetches every file of the repo (all dtypes); so
 * the file transfer itself is done here on top of the URL it gives: ranged GETs that resume a
 * kept `.incomplete` file, per-file progress, abort, size and hash checks, atomic rename.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fileDownloadInfo, HUB_URL, HubApiError, listFiles, modelInfo, type ListFileEntry } from '@huggingface/hub';
import type { DownloadProgress, Dtype } from '../api';
import { fileSize, isFile, RepoCache } from './cache';
import { availableDtypes, externalDataPathsFor, onnxPathForDtype } from './dtype';

export interface HubModelRequest {
  /** Repo id, e.g. onnx-community/Qwen2.5-Coder-0.5B-Instruct. */
  id: string;
  dtype: Dtype;
  /** Branch, tag or commit sha; defaults to main. */
  revision?: string;
}

export interface HubDownloadOptions {
  cacheDir: string;
  /** Defaults to $HF_ENDPOINT, else https://huggingface.co. */
  hubUrl?: string;
  /** Defaults to $HF_TOKEN. */
  accessToken?: string;
  /** Called per file as bytes arrive (not throttled). */
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

export interface HubModel {
  /** Snapshot folder: a model folder as DESIGN.md describes it. */
  folder: string;
  /** The ONNX file, relative to `folder`, e.g. onnx/model_quantized.onnx. */
  onnxFile: string;
  /** The commit sha the revision resolved to. */
  revision: string;
}

export type HubErrorCode = 'invalid-id' | 'invalid-options' | 'not-found' | 'revision-not-found' | 'unauthorized' | 'dtype-unavailable' | 'missing-file' | 'network' | 'offline' | 'integrity' | 'http';

export class HubDownloadError extends Error {
  constructor(readonly code: HubErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HubDownloadError';
  }
}

export class DtypeNotAvailableError extends HubDownloadError {
  constructor(message: string, readonly available: Dtype[]) {
    super('dtype-unavailable', message);
  }
}

/** Rejection when `signal` aborts; the partial file stays for the next call to resume. */
export class DownloadAbortedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}

/** Files the profiler needs besides the ONNX weights (DESIGN.md, "Model folder"). */
export const REQUIRED_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];
/** Fetched when the repo has them. */
export const OPTIONAL_FILES = ['generation_config.json', 'special_tokens_map.json'];

/** Resumed ranged requests within one call after a dropped connection, when each attempt made progress. */
const MAX_RESUMES = 3;

/**
 * Makes sure the files for `req.dtype` are in the cache and returns their snapshot folder.
 * With a complete snapshot cached it downloads nothing: a branch or tag costs one small request to
 * resolve it (none offline, or with HF_HUB_OFFLINE=1, when it resolved before), a commit sha none.
 */
export async function downloadHubModel(req: HubModelRequest, opts: HubDownloadOptions): Promise<HubModel> {
  const job = new DownloadJob(req, opts);
  try {
    return await job.run();
  } catch (err) {
    throw job.explain(err);
  }
}

class DownloadJob {
  private readonly id: string;
  private readonly revision: string;
  private readonly onnxPath: string;
  private readonly hubUrl: string;
  private readonly accessToken: string | undefined;
  private readonly cache: RepoCache;
  private readonly http: HubHttp;
  private readonly signal: AbortSignal | undefined;

  constructor(private readonly req: HubModelRequest, private readonly opts: HubDownloadOptions) {
    this.id = req.id.trim();
    this.revision = req.revision?.trim() || 'main';
    this.onnxPath = onnxPathForDtype(req.dtype);
    this.hubUrl = (opts.hubUrl || process.env.HF_ENDPOINT || HUB_URL).replace(/\/+$/, '');
    this.accessToken = opts.accessToken || process.env.HF_TOKEN || process.env.HUGGING_FACE_HUB_TOKEN || undefined;
    this.signal = opts.signal;
    this.http = new HubHttp(opts.fetch ?? fetch, opts.signal);
    if (!/^[\w.-]+(\/[\w.-]+)?$/.test(this.id) || this.id.split('/').some((s) => s === '.' || s === '..')) {
      throw new HubDownloadError('invalid-id', `'${req.id}' is not a Hugging Face model id: expected 'org/name', e.g. onnx-community/Qwen2.5-Coder-0.5B-Instruct.`);
    }
    if (!URL.canParse(this.hubUrl) || !/^https?:$/.test(new URL(this.hubUrl).protocol)) {
      throw new HubDownloadError('invalid-options', `The Hub address '${this.hubUrl}' is not an http(s) URL; fix the hub URL setting or HF_ENDPOINT.`);
    }
    if (this.accessToken && !this.accessToken.startsWith('hf_')) {
      // @huggingface/hub refuses such tokens with a bare TypeError; say where the token came from.
      throw new HubDownloadError('unauthorized', `The Hugging Face access token ${opts.accessToken ? 'given' : 'in HF_TOKEN'} is malformed: tokens start with 'hf_'. Copy it again from https://huggingface.co/settings/tokens.`);
    }
    this.cache = new RepoCache(opts.cacheDir, this.id);
  }

  async run(): Promise<HubModel> {
    this.signal?.throwIfAborted();
    const commit = await this.resolveCommit();
    if (await this.isCached(commit)) return this.result(commit);
    if (isOfflineMode()) {
      throw new HubDownloadError('offline', `HF_HUB_OFFLINE is set and ${this.describe()} is not in the cache at ${this.opts.cacheDir}. Unset HF_HUB_OFFLINE to download it.`);
    }

    const files = await this.listRepo(commit);
    const plan = this.plan(files, commit);
    // The ONNX file comes last: its presence in a snapshot is what marks the snapshot complete.
    for (const entry of plan) await this.fetchIntoSnapshot(entry, commit);
    return this.result(commit);
  }

  private async resolveCommit(): Promise<string> {
    if (/^[0-9a-f]{40}$/.test(this.revision)) return this.revision;
    if (isOfflineMode()) {
      const cached = await this.cache.readRef(this.revision);
      if (cached) return cached;
      throw new HubDownloadError('offline', `HF_HUB_OFFLINE is set and revision '${this.revision}' of '${this.id}' has never been resolved in the cache at ${this.opts.cacheDir}. Unset HF_HUB_OFFLINE to download the model.`);
    }
    let commit: string;
    try {
      const info = await modelInfo({ name: this.id, revision: this.revision, hubUrl: this.hubUrl, accessToken: this.accessToken, fetch: this.http.fetch, additionalFields: ['sha'] });
      commit = info.sha;
    } catch (err) {
      if (this.isUnreachable(err)) {
        // Offline (or the Hub is down): a snapshot this ref pointed to before is good enough.
        const cached = await this.cache.readRef(this.revision);
        if (cached && (await this.isCached(cached))) return cached;
      }
      throw err;
    }
    if (!/^[0-9a-f]{40}$/.test(commit ?? '')) {
      throw new HubDownloadError('http', `The Hub (${this.hubUrl}) did not return a commit for revision '${this.revision}' of '${this.id}'.`);
    }
    await this.cache.writeRef(this.revision, commit);
    return commit;
  }

  private isCached(commit: string): Promise<boolean> {
    return this.cache.hasFiles(commit, [...REQUIRED_FILES, this.onnxPath]);
  }

  private result(commit: string): HubModel {
    return { folder: path.resolve(this.cache.snapshotFolder(commit)), onnxFile: this.onnxPath, revision: commit };
  }

  private async listRepo(commit: string): Promise<Map<string, ListFileEntry>> {
    const files = new Map<string, ListFileEntry>();
    const entries = listFiles({ repo: { type: 'model', name: this.id }, revision: commit, recursive: true, hubUrl: this.hubUrl, accessToken: this.accessToken, fetch: this.http.fetch });
    for await (const entry of entries) if (entry.type === 'file') files.set(entry.path, entry);
    return files;
  }

  private plan(files: Map<string, ListFileEntry>, commit: string): ListFileEntry[] {
    const at = `at revision ${this.revision === commit ? commit.slice(0, 12) : `'${this.revision}'`}`;
    if (!files.has(this.onnxPath)) {
      const available = availableDtypes(files.keys());
      const there = available.length > 0
        ? `Available there: ${available.join(', ')}.`
        : 'It has no transformers.js ONNX weights (onnx/model*.onnx) at all; pick a repo that has, such as those of onnx-community.';
      throw new DtypeNotAvailableError(`Model '${this.id}' has no ${this.req.dtype} weights (${this.onnxPath}) ${at}. ${there}`, available);
    }
    const missing = REQUIRED_FILES.filter((f) => !files.has(f));
    if (missing.length > 0) {
      throw new HubDownloadError('missing-file', `Model '${this.id}' ${at} lacks ${missing.join(', ')}, which the profiler needs next to the ONNX file.`);
    }
    const paths = [
      ...REQUIRED_FILES,
      ...OPTIONAL_FILES.filter((f) => files.has(f)),
      ...externalDataPathsFor(this.onnxPath, files.keys()),
      this.onnxPath,
    ];
    return paths.map((p) => files.get(p)!);
  }

  private async fetchIntoSnapshot(entry: ListFileEntry, commit: string): Promise<void> {
    // The same blob naming as @huggingface/hub's downloadFileToCacheDir, so both can share a cache.
    const etag = entry.lfs?.oid ?? entry.xetHash ?? entry.oid;
    if (!etag) throw new HubDownloadError('http', `The Hub listing of '${this.id}' gives no hash for ${entry.path}.`);
    if (await isFile(this.cache.snapshotFile(commit, entry.path))) return;
    const blob = this.cache.blobPath(etag);
    if (!(await isFile(blob))) {
      await this.cache.withBlobLock(etag, this.signal, async () => {
        // Another process may have finished it while we waited for the lock.
        if (!(await isFile(blob))) await this.downloadBlob(entry, commit, etag);
      });
    }
    await this.cache.linkIntoSnapshot(commit, entry.path, etag);
  }

  private async downloadBlob(entry: ListFileEntry, commit: string, etag: string): Promise<void> {
    const size = entry.lfs?.size ?? entry.size;
    const info = await fileDownloadInfo({ repo: { type: 'model', name: this.id }, path: entry.path, revision: commit, hubUrl: this.hubUrl, accessToken: this.accessToken, fetch: this.http.fetch });
    if (!info) throw new HubDownloadError('missing-file', `${entry.path} of '${this.id}' is listed by the Hub but could not be downloaded (not found).`);
    if (info.size !== size) {
      throw new HubDownloadError('integrity', `The Hub reports ${info.size} bytes for ${entry.path} of '${this.id}' but its listing says ${size}; try again later.`);
    }

    const incomplete = this.cache.incompletePath(etag);
    await mkdir(path.dirname(incomplete), { recursive: true });
    const checksum = checksumFor(entry, size);
    const state: TransferState = { done: (await fileSize(incomplete)) ?? 0, hash: checksum?.create() };
    const fh = await open(incomplete, 'a');
    try {
      if (state.done > size) await restart(fh, state, checksum);
      if (state.done > 0 && state.hash) await hashFilePrefix(incomplete, state.done, state.hash);
      this.progress(entry.path, state.done, size);
      let resumes = 0;
      while (state.done < size) {
        const before = state.done;
        try {
          await this.transfer(info.url, entry.path, size, fh, state, checksum);
        } catch (err) {
          if (this.signal?.aborted || isAbort(err)) throw err;
          if (!this.isUnreachable(err) || state.done === before || resumes >= MAX_RESUMES) {
            if (this.isUnreachable(err) && state.done > before) {
              throw new HubDownloadError('network', `The connection to the Hub (${this.hubUrl}) dropped while downloading ${entry.path} of '${this.id}' (${state.done} of ${size} bytes; ${causeText(err)}). The partial file is kept: run again to resume.`, { cause: err });
            }
            throw err;
          }
          resumes++;
        }
      }
      await fh.datasync();
    } finally {
      await fh.close();
    }

    if (checksum) {
      const actual = state.hash!.digest('hex');
      if (actual !== checksum.expected) {
        await unlink(incomplete).catch(() => undefined);
        throw new HubDownloadError('integrity', `${entry.path} of '${this.id}' arrived corrupted (${checksum.algo} ${actual}, expected ${checksum.expected}); the download was discarded, run again.`);
      }
    }
    await rename(incomplete, this.cache.blobPath(etag));
  }

  /** One GET from `state.done` on, appending to `fh`; updates `state` as bytes are written. */
  private async transfer(url: string, file: string, size: number, fh: FileHandle, state: TransferState, checksum: Checksum | undefined): Promise<void> {
    const headers: Record<string, string> = {};
    if (this.accessToken) headers.Authorization = `Bearer ${this.accessToken}`;
    if (state.done > 0) headers.Range = `bytes=${state.done}-`;
    const res = await this.http.fetch(url, { headers });
    if (res.status === 416) {
      // Our partial file does not fit what the server has: start over.
      await res.body?.cancel();
      await restart(fh, state, checksum);
      return;
    }
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      throw new HubApiError(res.url || url, res.status, res.headers.get('x-request-id') ?? undefined, text.slice(0, 200) || res.statusText);
    }
    if (state.done > 0 && (res.status !== 206 || rangeStart(res.headers.get('content-range')) !== state.done)) {
      if (res.status === 206) {
        await res.body?.cancel();
        await restart(fh, state, checksum);
        return;
      }
      // 200: the server ignored the Range header and sends the whole file.
      await restart(fh, state, checksum);
    }
    if (!res.body) throw new HubDownloadError('http', `The Hub sent no content for ${file} of '${this.id}'.`);
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (state.done + value.byteLength > size) {
          await restart(fh, state, checksum);
          throw new HubDownloadError('integrity', `The Hub sent more than the ${size} bytes of ${file} of '${this.id}'; the download was discarded, run again.`);
        }
        await fh.write(value);
        state.hash?.update(value);
        state.done += value.byteLength;
        this.progress(file, state.done, size);
      }
    } finally {
      reader.releaseLock();
    }
  }

  private progress(file: string, bytesDone: number, bytesTotal: number): void {
    this.opts.onProgress?.({ file, bytesDone, bytesTotal });
  }

  /** Network failure or a Hub that is down, as opposed to an answer about the model. */
  private isUnreachable(err: unknown): boolean {
    if (err instanceof HubApiError) return err.statusCode >= 500 || err.statusCode === 429;
    if (err instanceof HubDownloadError || isAbort(err)) return false;
    // undici reports a failed connection as TypeError('fetch failed') and a dropped body as TypeError('terminated').
    return hasNetworkCode(err) || (err instanceof TypeError && /fetch failed|terminated|network|socket/i.test(err.message));
  }

  private describe(): string {
    return `'${this.id}' (${this.req.dtype}, revision ${this.revision})`;
  }

  /** Turns whatever went wrong into an error whose message says what to do. */
  explain(err: unknown): unknown {
    if (this.signal?.aborted || isAbort(err)) {
      return new DownloadAbortedError(`Download of '${this.id}' was cancelled; what was downloaded is kept and the next run resumes it.`, { cause: this.signal?.reason ?? err });
    }
    if (err instanceof HubDownloadError) return err;
    if (err instanceof HubApiError) {
      const code = this.http.errorCode(err.url);
      const status = err.statusCode;
      const tokenHint = this.accessToken
        ? 'The access token given was refused: check that it is valid and has read access to this repo.'
        : 'Create an access token at https://huggingface.co/settings/tokens and set it in the HF_TOKEN environment variable.';
      if (code === 'RevisionNotFound') {
        return new HubDownloadError('revision-not-found', `Revision '${this.revision}' of model '${this.id}' was not found on the Hub (${this.hubUrl}). Give a branch, tag or commit that exists, or leave it out to use main.`, { cause: err });
      }
      if (code === 'RepoNotFound' || (status === 404 && code !== 'EntryNotFound')) {
        return new HubDownloadError('not-found', `Model '${this.id}' was not found on the Hub (${this.hubUrl}). Check the id (org/name, e.g. onnx-community/Qwen2.5-Coder-0.5B-Instruct); if the repo is private, set a token in the HF_TOKEN environment variable.`, { cause: err });
      }
      if (code === 'GatedRepo' || status === 401 || status === 403) {
        const gated = code === 'GatedRepo' ? ' It is gated: accept its conditions on the model page on the Hub first.' : '';
        return new HubDownloadError('unauthorized', `Model '${this.id}' on the Hub (${this.hubUrl}) needs authorisation (HTTP ${status}).${gated} ${tokenHint}`, { cause: err });
      }
      if (code === 'EntryNotFound') {
        return new HubDownloadError('missing-file', `A file of model '${this.id}' was not found on the Hub (${this.hubUrl}): ${err.url}.`, { cause: err });
      }
      if (this.isUnreachable(err)) return this.unreachable(err);
      return new HubDownloadError('http', `The Hub (${this.hubUrl}) refused a request for '${this.id}' (HTTP ${status}): ${err.message}`, { cause: err });
    }
    if (this.isUnreachable(err)) return this.unreachable(err);
    return err;
  }

  private unreachable(err: unknown): HubDownloadError {
    return new HubDownloadError('network', `Could not reach the Hub at ${this.hubUrl} (${causeText(err)}): the network seems down, or the Hub is unavailable. ${this.describe()} is not complete in the cache at ${this.opts.cacheDir}, so it must be downloaded once while online; after that it is used offline.`, { cause: err });
  }
}

interface TransferState {
  done: number;
  hash: Hash | undefined;
}

interface Checksum {
  algo: 'sha256' | 'git-sha1';
  expected: string;
  create(): Hash;
}

/**
 * What the listing lets us check the bytes against: LFS files carry their sha256; plain git files
 * their git blob id (sha1 of "blob <size>\0" + content). Xet-only files get the size check alone.
 */
function checksumFor(entry: ListFileEntry, size: number): Checksum | undefined {
  const lfsOid = entry.lfs?.oid;
  if (lfsOid) return /^[0-9a-f]{64}$/.test(lfsOid) ? { algo: 'sha256', expected: lfsOid, create: () => createHash('sha256') } : undefined;
  if (!entry.xetHash && entry.oid && /^[0-9a-f]{40}$/.test(entry.oid)) {
    return { algo: 'git-sha1', expected: entry.oid, create: () => createHash('sha1').update(`blob ${size}\0`) };
  }
  return undefined;
}

async function restart(fh: FileHandle, state: TransferState, checksum: Checksum | undefined): Promise<void> {
  await fh.truncate(0);
  state.done = 0;
  state.hash = checksum?.create();
}

async function hashFilePrefix(file: string, bytes: number, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(file, { start: 0, end: bytes - 1 })) hash.update(chunk as Buffer);
}

function rangeStart(contentRange: string | null): number | undefined {
  const m = /^bytes (\d+)-/.exec(contentRange ?? '');
  return m ? Number(m[1]) : undefined;
}

function isOfflineMode(): boolean {
  return ['1', 'true', 'yes', 'on'].includes((process.env.HF_HUB_OFFLINE ?? '').toLowerCase());
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}

const NETWORK_CODES = /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|EPIPE|UND_ERR_\w+)$/;

function hasNetworkCode(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.test(code)) return true;
  }
  return false;
}

function causeText(err: unknown): string {
  const parts: string[] = [];
  for (let e = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    const msg = e instanceof Error ? e.message : String(e);
    parts.push(typeof code === 'string' && !msg.includes(code) ? `${msg} [${code}]` : msg);
  }
  return parts.join(': ') || 'unknown error';
}

/**
 * The fetch handed to @huggingface/hub and used for transfers: adds the abort signal (the library
 * takes none) and remembers the Hub's X-Error-Code of failed answers, which its HubApiError drops
 * but which tells a missing repo from a gated one or a missing revision.
 */
class HubHttp {
  private readonly codes = new Map<string, string>();
  private lastCode: string | undefined;

  constructor(private readonly base: typeof fetch, private readonly signal: AbortSignal | undefined) {}

  readonly fetch: typeof fetch = async (input, init) => {
    const res = await this.base(input, { ...init, signal: this.signal ?? init?.signal });
    if (!res.ok) {
      const code = res.headers.get('x-error-code') ?? undefined;
      this.lastCode = code;
      if (code) {
        this.codes.set(res.url, code);
        this.codes.set(input instanceof Request ? input.url : String(input), code);
      }
    }
    return res;
  };

  errorCode(url: string): string | undefined {
    return this.codes.get(url) ?? this.lastCode;
  }
}
