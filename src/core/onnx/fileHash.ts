/**
 * sha256 of model files, hashed once per process: the record cache hashes the model to find its
 * records, and loading the same file afterwards takes that hash instead of reading the weights
 * again. A hash is reused only for the same file unchanged (same device, inode, size and
 * modification and change times), so a file replaced or rewritten in between is hashed anew.
 * Hashes are also kept on disk (fileHashStore.ts), so a later process reuses them under the same rule.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { storedFileSha256, storeFileSha256 } from './fileHashStore';

const known = new Map<string, { identity: string; sha256: string }>();

let reads = 0;

/** How many times fileSha256 read a whole file to hash it: lets tests see a remembered hash was taken. */
export function fileHashReadCount(): number {
  return reads;
}

/** Forgets this process's hashes (tests: what a fresh process would see; the persisted ones stay). */
export function forgetFileHashesInProcess(): void {
  known.clear();
}

/** What makes a file the same file, unchanged: device, inode, size, modification and change times. */
export async function fileIdentity(file: string): Promise<string | undefined> {
  try {
    const s = await stat(file, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return undefined;
  }
}

/** The file's sha256 if this process, or an earlier one, hashed it and it has not changed since. */
export async function knownFileSha256(file: string): Promise<string | undefined> {
  const full = path.resolve(file);
  const id = await fileIdentity(full);
  if (!id) return undefined;
  const entry = known.get(full);
  if (entry && entry.identity === id) return entry.sha256;
  const stored = await storedFileSha256(full, id);
  if (stored) known.set(full, { identity: id, sha256: stored });
  return stored;
}

async function remember(full: string, id: string, sha256: string): Promise<void> {
  known.set(full, { identity: id, sha256 });
  await storeFileSha256(full, id, sha256);
}

/**
 * Keeps a hash just computed from the file's bytes. `before`: the file's identity taken before it
 * was read; the hash is kept only if the file is still that file, unchanged (it is persisted, so a
 * hash of bytes rewritten mid-read must not be).
 */
export async function rememberFileSha256(file: string, sha256: string, before: string | undefined): Promise<void> {
  const id = await fileIdentity(file);
  if (id && id === before) await remember(path.resolve(file), id, sha256);
}

/** Device, inode, size and modification time agree: only the change time may differ. */
function sameFileAndBytes(a: string, b: string): boolean {
  return a.split(':').slice(0, 4).join(':') === b.split(':').slice(0, 4).join(':');
}

/**
 * Runs `change`, which makes or removes hard links to `files` (staging for ONNX Runtime) and so
 * moves their change time without touching their bytes, and keeps the hashes known before it under
 * the files' new identity, so a later process still finds them. Only across this one step: a file
 * whose size or modification time moved meanwhile loses its hash as usual.
 */
export async function keepFileSha256sAcross<T>(files: string[], change: () => Promise<T>): Promise<T> {
  const carried: { full: string; before: string; sha256: string }[] = [];
  for (const file of files) {
    const full = path.resolve(file);
    const before = await fileIdentity(full);
    const sha256 = before ? await knownFileSha256(full) : undefined;
    if (before && sha256) carried.push({ full, before, sha256 });
  }
  try {
    return await change();
  } finally {
    for (const k of carried) {
      const after = await fileIdentity(k.full);
      if (after && after !== k.before && sameFileAndBytes(k.before, after)) await remember(k.full, after, k.sha256);
    }
  }
}

/** The file's sha256: remembered, or read in a stream (never whole in memory) and remembered. */
export async function fileSha256(file: string): Promise<string> {
  const remembered = await knownFileSha256(file);
  if (remembered) return remembered;
  const before = await fileIdentity(file);
  const hash = createHash('sha256');
  reads += 1;
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * 2 ** 20 })) hash.update(chunk as Buffer);
  const sha256 = hash.digest('hex');
  if (before && before === (await fileIdentity(file))) await remember(path.resolve(file), before, sha256);
  return sha256;
}
