/**
 * The on-disk model cache. It uses the Hugging Face cache layout, the one huggingface_hub (Python)
 * and @huggingface/hub's downloadFileToCacheDir/snapshotDownload/scanCacheDir use:
 *
 *   <cacheDir>/models--<org>--<name>/blobs/<etag>              file contents, one per content hash
 *   <cacheDir>/models--<org>--<name>/snapshots/<commit>/<path>  symlink to ../../blobs/<etag>
 *   <cacheDir>/models--<org>--<name>/refs/<revision>            commit sha the revision last resolved to
 *   <cacheDir>/.locks/models--<org>--<name>/<etag>.lock         held while a blob is downloaded
 *
 * Why this layout rather than one of our own: a snapshot folder is exactly a model folder (DESIGN.md
 * "Model folder"), so the CLI, the engine and the VS Code extension can all load it as a local
 * model; blobs are shared between revisions and dtypes (config and tokenizer files are stored
 * once); refs make offline use of a branch name possible; and the standard tools (`hf cache scan`,
 * scanCacheDir) understand and can clean it. Blob names follow downloadFileToCacheDir (LFS sha256,
 * else xet hash, else git oid), so the two can share a cache folder.
 *
 * Only complete, verified blobs ever get their final name: downloads go to `<etag>.incomplete`
 * (kept between runs for resumption), snapshot links are made under a temporary name and renamed.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, readFile, rename, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { getRepoFolderName } from '@huggingface/hub';

export const INCOMPLETE_SUFFIX = '.incomplete';

export class RepoCache {
  readonly storageFolder: string;
  private readonly locksFolder: string;

  constructor(readonly cacheDir: string, repoId: string) {
    const folderName = getRepoFolderName({ type: 'model', name: repoId });
    this.storageFolder = path.join(cacheDir, folderName);
    this.locksFolder = path.join(cacheDir, '.locks', folderName);
  }

  snapshotFolder(commit: string): string {
    return path.join(this.storageFolder, 'snapshots', commit);
  }

  snapshotFile(commit: string, repoPath: string): string {
    return path.join(this.snapshotFolder(commit), ...safeRepoPath(repoPath).split('/'));
  }

  blobPath(etag: string): string {
    return path.join(this.storageFolder, 'blobs', safeName(etag));
  }

  incompletePath(etag: string): string {
    return this.blobPath(etag) + INCOMPLETE_SUFFIX;
  }

  /** The commit a branch or tag resolved to when last online, if recorded. */
  async readRef(revision: string): Promise<string | undefined> {
    try {
      const commit = (await readFile(this.refPath(revision), 'utf8')).trim();
      return /^[0-9a-f]{40}$/.test(commit) ? commit : undefined;
    } catch {
      return undefined;
    }
  }

  async writeRef(revision: string, commit: string): Promise<void> {
    if ((await this.readRef(revision)) === commit) return;
    await writeFileAtomic(this.refPath(revision), commit);
  }

  /** Whether all of `repoPaths` are present (following links) in the snapshot of `commit`. */
  async hasFiles(commit: string, repoPaths: string[]): Promise<boolean> {
    for (const p of repoPaths) {
      if (!(await isFile(this.snapshotFile(commit, p)))) return false;
    }
    return true;
  }

  /** Points `snapshots/<commit>/<repoPath>` at a complete blob, replacing any previous entry atomically. */
  async linkIntoSnapshot(commit: string, repoPath: string, etag: string): Promise<void> {
    const target = this.snapshotFile(commit, repoPath);
    const blob = this.blobPath(etag);
    await mkdir(path.dirname(target), { recursive: true });
    const temp = tempNameFor(target);
    try {
      await symlink(path.relative(path.dirname(target), blob), temp);
    } catch {
      // No symlinks (Windows without developer mode): a copy, as huggingface_hub does there.
      await copyFile(blob, temp);
    }
    try {
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  /**
   * Holds an exclusive lock on one blob across processes (the CLI and the extension may fetch the
   * same model at once). A lock whose owner process is gone is taken over.
   */
  async withBlobLock<T>(etag: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    await mkdir(this.locksFolder, { recursive: true });
    const lockPath = path.join(this.locksFolder, `${safeName(etag)}.lock`);
    for (;;) {
      signal?.throwIfAborted();
      try {
        const fh = await open(lockPath, 'wx');
        await fh.writeFile(String(process.pid));
        await fh.close();
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
      if (owner > 0 && !isAlive(owner)) {
        await unlink(lockPath).catch(() => undefined);
        continue;
      }
      await sleep(200, signal);
    }
    try {
      return await fn();
    } finally {
      await unlink(lockPath).catch(() => undefined);
    }
  }

  private refPath(revision: string): string {
    return path.join(this.storageFolder, 'refs', ...safeRepoPath(revision).split('/'));
  }
}

export async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

export async function fileSize(p: string): Promise<number | undefined> {
  try {
    return (await stat(p)).size;
  } catch {
    return undefined;
  }
}

async function writeFileAtomic(target: string, data: string): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });
  const temp = tempNameFor(target);
  await writeFile(temp, data);
  await rename(temp, target);
}

function tempNameFor(target: string): string {
  return `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/** Repo paths and revisions come from the server: refuse anything that could leave the cache folder. */
function safeRepoPath(p: string): string {
  const parts = p.split('/');
  if (p === '' || p.startsWith('/') || p.includes('\\') || parts.some((s) => s === '' || s === '.' || s === '..')) {
    throw new Error(`Refusing unsafe path from the Hub: ${JSON.stringify(p)}`);
  }
  return p;
}

function safeName(s: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(s) || s.startsWith('.')) throw new Error(`Refusing unsafe file hash from the Hub: ${JSON.stringify(s)}`);
  return s;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(timer);
      reject(signal!.reason);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
