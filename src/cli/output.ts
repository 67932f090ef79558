/**
 * Output files: checked before any work starts, and written so that nothing the user owns is
 * destroyed. A regular file is replaced atomically (written beside it, then renamed); anything
 * else (a device, a FIFO) is opened and written through, never renamed over; a symlink is
 * followed and its target written. `-` is stdout.
 */
import { accessSync, constants, lstatSync, readlinkSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { describeKind } from '../core/dataset/collect';
import { UsageError } from './modelArg';

export const STDOUT = '-';

export class OutputError extends Error {}

/**
 * Checks that `file` can be written, without creating or changing anything: an existing target
 * that is not a folder and is writable, or a writable existing folder to create it in.
 * `what` names the option in the message (`--json`).
 */
export function checkOutputPath(file: string, what: string): void {
  if (file === STDOUT) return;
  if (file === '') throw new UsageError(`${what} needs a file name (or - for stdout).`);
  const target = followLinks(file);
  let info;
  try {
    info = statSync(target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new UsageError(`${what} ${file}: ${firstFileAbove(target) ?? 'a folder above it'} is a file, not a folder.`);
    if (code === 'EACCES') throw new UsageError(`${what} ${file}: permission denied.`);
    if (code !== 'ENOENT') throw new UsageError(`${what} ${file}: ${(err as Error).message}.`);
  }
  if (info) {
    if (info.isDirectory()) throw new UsageError(`${what} ${file} is a folder; give a file name.`);
    if (!canAccess(target, constants.W_OK)) throw new UsageError(`${what} ${file}: no permission to write it.`);
    return;
  }
  const parent = path.dirname(target);
  let parentInfo;
  try {
    parentInfo = statSync(parent);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new UsageError(`${what} ${file}: ${firstFileAbove(parent) ?? 'a folder above it'} is a file, not a folder.`);
    if (code === 'ENOENT') throw new UsageError(`${what} ${file}: the folder ${parent} does not exist (create it first).`);
    throw new UsageError(`${what} ${file}: ${(err as Error).message}.`);
  }
  if (!parentInfo.isDirectory()) throw new UsageError(`${what} ${file}: ${parent} is ${describeKind(parentInfo)}, not a folder.`);
  if (!canAccess(parent, constants.W_OK | constants.X_OK)) throw new UsageError(`${what} ${file}: no permission to create files in ${parent}.`);
}

/** Refuses two outputs that are the same file (one would overwrite the other). */
export function checkDistinctOutputs(outputs: { option: string; file: string | undefined }[]): void {
  const seen = new Map<string, string>();
  for (const { option, file } of outputs) {
    if (file === undefined) continue;
    const key = file === STDOUT ? STDOUT : identity(file);
    const other = seen.get(key);
    if (other) throw new UsageError(`${other} and ${option} name the same ${file === STDOUT ? 'stream (stdout)' : `file (${file})`}: one would overwrite the other.`);
    seen.set(key, option);
  }
}

/** Writes `content` to `file` (see the module comment); errors name the file and say why in words. */
export function writeOutput(file: string, content: string): void {
  if (file === STDOUT) {
    process.stdout.write(content);
    return;
  }
  const target = followLinks(file);
  let existing;
  try {
    existing = statSync(target);
  } catch {
    existing = undefined;
  }
  try {
    if (existing && !existing.isFile()) {
      // A device or FIFO: renaming over it would replace the node itself.
      writeFileSync(target, content);
      return;
    }
    const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
    try {
      writeFileSync(tmp, content, { flag: 'wx' });
      if (existing) chmodSync(tmp, existing.mode & 0o7777);
      renameSync(tmp, target);
    } catch (err) {
      try {
        unlinkSync(tmp);
      } catch {
        // nothing was left
      }
      throw err;
    }
  } catch (err) {
    throw new OutputError(`Cannot write ${file}: ${describeWriteError(err)}.`);
  }
}

function describeWriteError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a folder';
    case 'ENOENT':
      return 'its folder does not exist';
    case 'EROFS':
      return 'read-only file system';
    case 'EDQUOT':
      return 'disk quota exceeded';
    default:
      return e.message;
  }
}

/** The file a path finally names: symlinks followed, a dangling one to where it points. */
function followLinks(file: string): string {
  let current = path.resolve(file);
  for (let hops = 0; hops < 40; hops++) {
    let info;
    try {
      info = lstatSync(current);
    } catch {
      // Not there (or not reachable): the path's folders may still be links.
      try {
        return path.join(realpathSync(path.dirname(current)), path.basename(current));
      } catch {
        return current;
      }
    }
    if (!info.isSymbolicLink()) {
      try {
        return realpathSync(current);
      } catch {
        return current;
      }
    }
    current = path.resolve(path.dirname(current), readlinkSync(current));
  }
  return current;
}

function identity(file: string): string {
  const target = followLinks(file);
  try {
    const s = statSync(target);
    return `${s.dev}:${s.ino}`;
  } catch {
    return target;
  }
}

function canAccess(p: string, mode: number): boolean {
  try {
    accessSync(p, mode);
    return true;
  } catch {
    return false;
  }
}

/** The nearest component of `p` that exists and is not a folder. */
function firstFileAbove(p: string): string | undefined {
  const parts = path.resolve(p).split(path.sep);
  for (let i = 2; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join(path.sep) || path.sep;
    try {
      if (!statSync(prefix).isDirectory()) return prefix;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
