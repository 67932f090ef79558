/**
 * Turning dataset paths (files and folders) into the list of texts to profile, and the files
 * passed over with their reasons. Nothing is dropped silently: every file that is not profiled
 * is listed in `skipped`.
 */
import picomatch from 'picomatch';
import { lstat, open, readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { SkippedFile } from '../results';

export interface CollectOptions {
  include?: string[];
  exclude?: string[];
  maxFileBytes: number;
}

export interface DatasetFile {
  path: string;
  /** Path relative to the dataset root it was found under, used for globs and display. */
  relative: string;
}

/** Folders no one means to profile; excluded unless an include glob names them. */
const DEFAULT_EXCLUDES = ['**/.git/**', '**/node_modules/**', '**/.hg/**', '**/.svn/**', '**/__pycache__/**'];

export async function collectFiles(roots: string[], opts: CollectOptions): Promise<{ files: DatasetFile[]; skipped: SkippedFile[] }> {
  const include = opts.include?.length ? picomatch(opts.include, { dot: true }) : () => true;
  const exclude = picomatch([...DEFAULT_EXCLUDES, ...(opts.exclude ?? [])], { dot: true });
  const files: DatasetFile[] = [];
  const skipped: SkippedFile[] = [];
  for (const root of roots) {
    const full = path.resolve(root);
    let info;
    try {
      info = await stat(full);
    } catch (err) {
      skipped.push({ path: full, reason: describeFsError(err, 'cannot read') });
      continue;
    }
    if (info.isFile()) {
      files.push({ path: full, relative: path.basename(full) });
      continue;
    }
    if (!info.isDirectory()) {
      skipped.push({ path: full, reason: `${describeKind(info)}, not a file or folder` });
      continue;
    }
    const visited = new Set<string>();
    await walk(full, full, visited, { include, exclude }, files, skipped);
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, skipped };
}

async function walk(
  root: string,
  dir: string,
  visited: Set<string>,
  globs: { include: (p: string) => boolean; exclude: (p: string) => boolean },
  files: DatasetFile[],
  skipped: SkippedFile[],
): Promise<void> {
  let real: string;
  try {
    real = await realpath(dir);
  } catch (err) {
    skipped.push({ path: dir, reason: describeFsError(err, 'cannot resolve') });
    return;
  }
  if (visited.has(real)) {
    skipped.push({ path: dir, reason: 'symlink loop: this folder was already visited' });
    return;
  }
  visited.add(real);
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    skipped.push({ path: dir, reason: describeFsError(err, 'cannot list folder') });
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const full = path.join(dir, e.name);
    const rel = path.relative(root, full).split(path.sep).join('/');
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    let kind = describeKind(e);
    if (e.isSymbolicLink()) {
      try {
        const target = await stat(full);
        isDir = target.isDirectory();
        isFile = target.isFile();
        kind = `a symlink to ${describeKind(target)}`;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        skipped.push({ path: full, reason: code === 'ELOOP' ? 'symlink loop' : 'broken symlink' });
        continue;
      }
    }
    if (isDir) {
      if (globs.exclude(rel) || globs.exclude(rel + '/x')) continue;
      await walk(root, full, visited, globs, files, skipped);
    } else if (isFile) {
      if (globs.exclude(rel) || !globs.include(rel)) continue;
      files.push({ path: full, relative: rel });
    } else {
      // FIFOs, sockets and devices: reading one blocks or never ends, so they are listed, never read.
      if (globs.exclude(rel) || !globs.include(rel)) continue;
      skipped.push({ path: full, reason: `${kind}, not a regular file` });
    }
  }
}

type FileKind = { isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean };

/** What a file is, in words ("a FIFO (named pipe)", "a character device"). */
export function describeKind(info: FileKind): string {
  if (info.isFile()) return 'a regular file';
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSymbolicLink()) return 'a symlink';
  return 'a special file';
}

export type ReadResult = { ok: true; text: string } | { ok: false; reason: string };

/** Reads a dataset file as UTF-8 text, or says why it cannot be profiled. */
export async function readTextFile(file: string, maxFileBytes: number): Promise<ReadResult> {
  try {
    const info = await lstat(file).then((l) => (l.isSymbolicLink() ? stat(file) : l));
    // A FIFO or device would block or never end; it is not text on disk.
    if (!info.isFile()) return { ok: false, reason: `${describeKind(info)}, not a regular file` };
    if (info.size > maxFileBytes) return { ok: false, reason: `larger than the ${formatBytes(maxFileBytes)} limit (${formatBytes(info.size)})` };
    if (info.size === 0) return { ok: false, reason: 'empty file' };
    if (await looksBinary(file)) return { ok: false, reason: 'binary file' };
    const bytes = await readFile(file);
    // The first 8 KiB decide most files; a NUL later still means binary, not text to profile.
    const nul = bytes.indexOf(0);
    if (nul >= 0) return { ok: false, reason: `binary file (a NUL byte at offset ${nul})` };
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return { ok: false, reason: 'not valid UTF-8 text' };
    }
    if (text.trim().length === 0) return { ok: false, reason: 'empty file (only whitespace)' };
    return { ok: true, text };
  } catch (err) {
    return { ok: false, reason: describeFsError(err, 'cannot read') };
  }
}

/** A NUL byte in the first 8 KiB marks a binary file, as git and grep decide. */
async function looksBinary(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.alloc(8192);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).includes(0);
  } finally {
    await handle.close();
  }
}

function describeFsError(err: unknown, what: string): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EACCES' || e.code === 'EPERM') return `${what}: permission denied`;
  if (e.code === 'ENOENT') return `${what}: does not exist`;
  if (e.code === 'ELOOP') return 'symlink loop';
  return `${what}: ${e.message}`;
}

function formatBytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}
