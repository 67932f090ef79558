/**
 * The file-hash memo kept on disk, so a later process (a re-run answered wholly from the record
 * cache, say) takes a large model's sha256 without reading its weights again. One small file per
 * model path under the record cache's folder (`file-hashes/`; none when the cache is off), holding
 * the path, the file's identity when hashed and the hash: an entry counts only for the same path
 * whose identity (device, inode, size, modification and change times) is unchanged, so any rewrite,
 * even a touch, makes the file be hashed anew. Entries are written to a temporary name and renamed,
 * so concurrent processes read a whole entry or none. The `.sha256` suffix keeps them out of the
 * record cache's eviction, which counts only its `.json` records; the store evicts its own entries
 * beyond MAX_STORED_HASHES, least recently used first (one entry per model path ever hashed would
 * otherwise only grow).
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defaultRecordCacheDir } from '../cache/recordCache';

interface StoredHash {
  path: string;
  identity: string;
  sha256: string;
}

/** Entries kept; beyond it the least recently used go. An entry is a few hundred bytes. */
export const MAX_STORED_HASHES = 256;

/** The record cache folder the store lives under, when a run names one (`--record-cache DIR`). */
let namedRoot: string | undefined;

/**
 * Keeps the hashes under this record cache folder (`DIR/file-hashes/`), as `--record-cache DIR`
 * asks of everything the run keeps; 'default': the default record cache's, as before.
 */
export function keepFileHashesUnder(recordCacheRoot: string | 'default'): void {
  namedRoot = recordCacheRoot === 'default' ? undefined : recordCacheRoot;
}

/** The folder of persisted hashes; read each time, so $LAYER_PROFILER_RECORD_CACHE=off (tests) keeps nothing. */
function storeDir(): string | undefined {
  const root = namedRoot ?? defaultRecordCacheDir();
  return root ? path.join(root, 'file-hashes') : undefined;
}

function entryFile(dir: string, file: string): string {
  return path.join(dir, `${createHash('sha256').update(file).digest('hex').slice(0, 32)}.sha256`);
}

/** The persisted hash of `file` (an absolute path) if it was taken at this same identity. */
export async function storedFileSha256(file: string, identity: string): Promise<string | undefined> {
  const dir = storeDir();
  if (!dir) return undefined;
  try {
    const entry = JSON.parse(await readFile(entryFile(dir, file), 'utf8')) as Partial<StoredHash>;
    const valid = entry.path === file && entry.identity === identity && typeof entry.sha256 === 'string' && /^[0-9a-f]{64}$/.test(entry.sha256);
    if (!valid) return undefined;
    // Used now: eviction goes by modification time.
    const now = new Date();
    await utimes(entryFile(dir, file), now, now).catch(() => undefined);
    return entry.sha256;
  } catch {
    return undefined;
  }
}

/** Persists a hash; failing to (a read-only cache folder) only costs a later process a re-read. */
export async function storeFileSha256(file: string, identity: string, sha256: string): Promise<void> {
  const dir = storeDir();
  if (!dir) return;
  const target = entryFile(dir, file);
  const tmp = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(tmp, JSON.stringify({ path: file, identity, sha256 } satisfies StoredHash));
    await rename(tmp, target);
    await evictBeyond(dir, MAX_STORED_HASHES);
  } catch {
    await rm(tmp, { force: true }).catch(() => undefined);
  }
}

/** Removes the least recently used entries until at most `max` remain (only after a write: writes are rare). */
async function evictBeyond(dir: string, max: number): Promise<void> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.sha256'));
  if (names.length <= max) return;
  const entries = await Promise.all(names.map(async (n) => ({ file: path.join(dir, n), mtimeMs: (await stat(path.join(dir, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
  entries.sort((a, b) => a.mtimeMs - b.mtimeMs);
  for (const e of entries.slice(0, entries.length - max)) await rm(e.file, { force: true });
}
