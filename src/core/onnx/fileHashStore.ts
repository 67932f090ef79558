/**
 * The file-hash memo kept on disk, so a later process (a re-run answered wholly from the record
 * cache, say) takes a large model's sha256 without reading its weights again. One small file per
 * model path under the record cache's folder (`file-hashes/`; none when the cache is off), holding
 * the path, the file's identity when hashed and the hash: an entry counts only for the same path
 * whose identity (device, inode, size, modification and change times) is unchanged, so any rewrite,
 * even a touch, makes the file be hashed anew. Entries are written to a temporary name and renamed,
 * so concurrent processes read a whole entry or none. The `.sha256` suffix keeps them out of the
 * record cache's eviction, which counts only its `.json` records.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defaultRecordCacheDir } from '../cache/recordCache';

interface StoredHash {
  path: string;
  identity: string;
  sha256: string;
}

/** The folder of persisted hashes; read each time, so $LAYER_PROFILER_RECORD_CACHE=off (tests) keeps nothing. */
function storeDir(): string | undefined {
  const root = defaultRecordCacheDir();
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
    return valid ? entry.sha256 : undefined;
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
  } catch {
    await rm(tmp, { force: true }).catch(() => undefined);
  }
}
