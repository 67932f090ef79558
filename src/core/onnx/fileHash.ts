/**
 * sha256 of model files, hashed once per process: the record cache hashes the model to find its
 * records, and loading the same file afterwards takes that hash instead of reading the weights
 * again. A hash is reused only for the same file unchanged (same device, inode, size and
 * modification time), so a file replaced or rewritten in between is hashed anew.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';

const known = new Map<string, { identity: string; sha256: string }>();

async function identity(file: string): Promise<string | undefined> {
  try {
    const s = await stat(file, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return undefined;
  }
}

/** The file's sha256 if this process hashed it and it has not changed since. */
export async function knownFileSha256(file: string): Promise<string | undefined> {
  const entry = known.get(path.resolve(file));
  return entry && entry.identity === (await identity(file)) ? entry.sha256 : undefined;
}

/** Keeps a hash just computed from the file's bytes (`size`: how many were hashed, a check that the file did not change meanwhile). */
export async function rememberFileSha256(file: string, sha256: string, size: number): Promise<void> {
  const id = await identity(file);
  if (id && id.split(':')[2] === String(size)) known.set(path.resolve(file), { identity: id, sha256 });
}

/** The file's sha256: remembered, or read in a stream (never whole in memory) and remembered. */
export async function fileSha256(file: string): Promise<string> {
  const remembered = await knownFileSha256(file);
  if (remembered) return remembered;
  const before = await identity(file);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * 2 ** 20 })) hash.update(chunk as Buffer);
  const sha256 = hash.digest('hex');
  if (before && before === (await identity(file))) known.set(path.resolve(file), { identity: before, sha256 });
  return sha256;
}
