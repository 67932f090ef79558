/**
 * A small stand-in for the Hugging Face Hub, enough for @huggingface/hub's model-info, tree,
 * paths-info and resolve calls, on 127.0.0.1 at a random port. LFS files are redirected to a
 * `/cdn/<sha256>` URL as the Hub redirects to its CDN. It logs every request and can cut a file's
 * body off once after N bytes, serve it slowly, or serve tampered bytes.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoggedRequest {
  method: string;
  /** Decoded path part of the URL. */
  path: string;
  range?: string;
  authorization?: string;
  status?: number;
}

interface RepoFile {
  path: string;
  data: Buffer;
  gitOid: string;
  lfs?: { oid: string; size: number; pointerSize: number };
}

interface Repo {
  id: string;
  commit: string;
  gated: boolean;
  files: Map<string, RepoFile>;
}

export interface AddRepoOptions {
  gated?: boolean;
  /** Which files are stored with LFS; default: .onnx and external data files, and anything over 10 kB. */
  isLfs?: (path: string, data: Buffer) => boolean;
}

export class FakeHub {
  readonly requests: LoggedRequest[] = [];
  private readonly repos = new Map<string, Repo>();
  private readonly cuts = new Map<string, number>();
  private readonly tampered = new Set<string>();
  /** Delay between 16 kB chunks of file bodies, in ms (0: as fast as possible). */
  chunkDelayMs = 0;

  private constructor(private readonly server: http.Server, readonly url: string) {}

  static async start(): Promise<FakeHub> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const hub = new FakeHub(server, `http://127.0.0.1:${port}`);
    server.on('request', (req, res) => {
      res.on('error', () => undefined);
      hub.handle(req, res).catch((err) => {
        if (!res.headersSent) sendJson(res, 500, { error: String(err) });
        else res.destroy();
      });
    });
    return hub;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  addRepo(id: string, files: Record<string, Buffer | string>, opts: AddRepoOptions = {}): { commit: string } {
    const isLfs = opts.isLfs ?? ((p, d) => /\.onnx(_data(_\d+)?|\.data)?$/.test(p) || d.length > 10_000);
    const repo: Repo = { id, commit: randomBytes(20).toString('hex'), gated: !!opts.gated, files: new Map() };
    for (const [p, content] of Object.entries(files)) {
      const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
      if (isLfs(p, data)) {
        const oid = sha256(data);
        const pointer = Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize ${data.length}\n`);
        repo.files.set(p, { path: p, data, gitOid: gitBlobOid(pointer), lfs: { oid, size: data.length, pointerSize: pointer.length } });
      } else {
        repo.files.set(p, { path: p, data, gitOid: gitBlobOid(data) });
      }
    }
    this.repos.set(id, repo);
    return { commit: repo.commit };
  }

  /** The next body of `path` stops after the byte at absolute offset `afterBytes` - 1, then the socket is destroyed. */
  cutOnce(repoId: string, path: string, afterBytes: number): void {
    this.cuts.set(`${repoId}/${path}`, afterBytes);
  }

  /** Serve `path` with its bytes altered (the listing keeps the true hash). */
  tamper(repoId: string, path: string): void {
    this.tampered.add(`${repoId}/${path}`);
  }

  resetLog(): void {
    this.requests.length = 0;
    this.chunkDelayMs = 0;
    this.cuts.clear();
    this.tampered.clear();
  }

  /** Requests for file contents (resolve or CDN), minus @huggingface/hub's 1-byte `Range: bytes=0-0` probes. */
  contentRequests(): LoggedRequest[] {
    return this.requests.filter((r) => (r.path.includes('/resolve/') || r.path.startsWith('/cdn/')) && r.range !== 'bytes=0-0');
  }

  /** Repo path a logged content request was for. */
  fileOf(r: LoggedRequest): string | undefined {
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(r.path);
    if (cdn) {
      for (const repo of this.repos.values()) for (const f of repo.files.values()) if (f.lfs?.oid === cdn[1]) return f.path;
      return undefined;
    }
    return /\/resolve\/[^/]+\/(.+)$/.exec(r.path)?.[1];
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const segments = url.pathname.split('/').slice(1).map(decodeURIComponent);
    const entry: LoggedRequest = {
      method: req.method ?? 'GET',
      path: segments.length ? '/' + segments.join('/') : '/',
      range: header(req, 'range'),
      authorization: header(req, 'authorization'),
    };
    this.requests.push(entry);
    res.on('finish', () => (entry.status = res.statusCode));
    res.on('close', () => (entry.status ??= res.statusCode));

    if (segments[0] === 'api' && segments[1] === 'models') {
      const repo = this.repoOr404(res, `${segments[2]}/${segments[3]}`);
      if (!repo) return;
      const [kind, rev, ...rest] = segments.slice(4);
      if (!this.revisionOr404(res, repo, rev)) return;
      if (kind === 'revision' && req.method === 'GET') return this.modelInfo(res, repo);
      if (kind === 'tree' && req.method === 'GET') return this.tree(res, repo, rest.join('/'), url.searchParams.get('recursive') === 'true');
      if (kind === 'paths-info' && req.method === 'POST') return this.pathsInfo(req, res, repo);
      return sendJson(res, 404, { error: 'Not found' });
    }
    if (segments[0] === 'cdn' && segments.length === 2) {
      for (const repo of this.repos.values()) {
        for (const f of repo.files.values()) if (f.lfs?.oid === segments[1]) return this.sendFile(req, res, repo, f, { ETag: `"${f.lfs.oid}"` });
      }
      return sendJson(res, 404, { error: 'No such object' });
    }
    if (segments[2] === 'resolve' && segments.length >= 5) {
      const repo = this.repoOr404(res, `${segments[0]}/${segments[1]}`);
      if (!repo) return;
      if (!this.revisionOr404(res, repo, segments[3])) return;
      if (repo.gated && !req.headers.authorization) {
        return sendJson(res, 401, { error: `Access to model ${repo.id} is restricted. You must have access to it and be authenticated to access it. Please log in.` }, { 'X-Error-Code': 'GatedRepo' });
      }
      const file = repo.files.get(segments.slice(4).join('/'));
      if (!file) return sendJson(res, 404, { error: 'Entry not found' }, { 'X-Error-Code': 'EntryNotFound' });
      if (file.lfs) {
        res.writeHead(302, {
          Location: `/cdn/${file.lfs.oid}`,
          ETag: `"${file.gitOid}"`,
          'X-Repo-Commit': repo.commit,
          'X-Linked-Etag': `"${file.lfs.oid}"`,
          'X-Linked-Size': String(file.lfs.size),
          'Content-Length': '0',
        });
        res.end();
        return;
      }
      return this.sendFile(req, res, repo, file, { ETag: `"${file.gitOid}"`, 'X-Repo-Commit': repo.commit });
    }
    sendJson(res, 404, { error: 'Not found' });
  }

  private repoOr404(res: http.ServerResponse, id: string): Repo | undefined {
    const repo = this.repos.get(id);
    if (!repo) sendJson(res, 404, { error: 'Repository not found' }, { 'X-Error-Code': 'RepoNotFound' });
    return repo;
  }

  private revisionOr404(res: http.ServerResponse, repo: Repo, rev: string | undefined): boolean {
    if (rev === 'main' || rev === 'HEAD' || rev === repo.commit) return true;
    sendJson(res, 404, { error: `Invalid rev id: ${rev}` }, { 'X-Error-Code': 'RevisionNotFound' });
    return false;
  }

  private modelInfo(res: http.ServerResponse, repo: Repo): void {
    sendJson(res, 200, {
      _id: repo.commit.slice(0, 24),
      id: repo.id,
      modelId: repo.id,
      sha: repo.commit,
      private: false,
      gated: repo.gated ? 'auto' : false,
      downloads: 0,
      likes: 0,
      tags: ['onnx', 'transformers.js'],
      lastModified: new Date(0).toISOString(),
      siblings: [...repo.files.keys()].map((rfilename) => ({ rfilename })),
    });
  }

  private tree(res: http.ServerResponse, repo: Repo, under: string, recursive: boolean): void {
    const prefix = under ? `${under}/` : '';
    const out: object[] = [];
    const dirs = new Set<string>();
    for (const f of repo.files.values()) {
      if (!f.path.startsWith(prefix)) continue;
      const rest = f.path.slice(prefix.length).split('/');
      for (let i = 1; i < rest.length; i++) dirs.add(prefix + rest.slice(0, i).join('/'));
      if (recursive || rest.length === 1) out.push(fileEntry(f));
    }
    for (const d of [...dirs].sort()) {
      if (recursive || !d.slice(prefix.length).includes('/')) out.push({ type: 'directory', oid: gitBlobOid(Buffer.from(d)), size: 0, path: d });
    }
    sendJson(res, 200, out);
  }

  private async pathsInfo(req: http.IncomingMessage, res: http.ServerResponse, repo: Repo): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { paths?: string[]; expand?: boolean };
    const out = (body.paths ?? []).flatMap((p) => {
      const f = repo.files.get(p);
      if (!f) return [];
      return [{ ...fileEntry(f), ...(body.expand ? { lastCommit: { id: repo.commit, title: 'Upload', date: new Date(0).toISOString() }, securityFileStatus: { status: 'safe' } } : {}) }];
    });
    sendJson(res, 200, out);
  }

  private async sendFile(req: http.IncomingMessage, res: http.ServerResponse, repo: Repo, file: RepoFile, headers: Record<string, string>): Promise<void> {
    const key = `${repo.id}/${file.path}`;
    let data = file.data;
    if (this.tampered.has(key)) {
      data = Buffer.from(data);
      data[data.length >> 1] ^= 0xff;
    }
    const size = data.length;
    const common = { ...headers, 'Accept-Ranges': 'bytes', 'Content-Type': 'application/octet-stream' };
    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = header(req, 'range');
    if (range) {
      const m = /^bytes=(\d+)-(\d*)$/.exec(range);
      if (!m || Number(m[1]) >= size) {
        res.writeHead(416, { ...common, 'Content-Range': `bytes */${size}` });
        res.end();
        return;
      }
      start = Number(m[1]);
      end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
      status = 206;
    }
    res.writeHead(status, {
      ...common,
      'Content-Length': String(end - start + 1),
      ...(status === 206 ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const cut = end - start + 1 > 1 ? this.cuts.get(key) : undefined;
    if (cut !== undefined) this.cuts.delete(key);
    const stopAt = cut !== undefined && cut > start && cut <= end ? cut : end + 1;
    for (let at = start; at < stopAt; at += 16 * 1024) {
      if (res.destroyed) return;
      const chunk = data.subarray(at, Math.min(at + 16 * 1024, stopAt));
      if (!res.write(chunk)) await drained(res);
      if (this.chunkDelayMs > 0) await new Promise((r) => setTimeout(r, this.chunkDelayMs));
    }
    if (stopAt <= end) {
      // Let the bytes already written leave, then drop the connection mid-body.
      await new Promise<void>((resolve) => setTimeout(resolve, 20));
      res.socket?.destroy();
      return;
    }
    res.end();
  }
}

function drained(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function fileEntry(f: RepoFile): object {
  return { type: 'file', oid: f.gitOid, size: f.data.length, path: f.path, ...(f.lfs ? { lfs: f.lfs } : {}) };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Git's object id for a blob: sha1 of "blob <size>\0" + content. */
export function gitBlobOid(data: Buffer): string {
  return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
}
