/**
 * A file's content at the last commit (`git show HEAD:./name`, run in the file's folder, so it
 * works in any repository the file belongs to). No `vscode` import: unit-tested.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

export class GitHeadError extends Error {}

export async function readAtHead(file: string, git = 'git'): Promise<string> {
  const cwd = path.dirname(file);
  try {
    const { stdout } = await promisify(execFile)(git, ['show', `HEAD:./${path.basename(file)}`], { cwd, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' });
    return stdout;
  } catch (err) {
    const stderr = ((err as { stderr?: string }).stderr ?? '').trim();
    if ((err as { code?: unknown }).code === 'ENOENT') throw new GitHeadError('Git was not found. Install Git, or compare with the clipboard instead.');
    if (/not a git repository/i.test(stderr)) throw new GitHeadError(`${path.basename(file)} is not in a Git repository, so it has no previous version.`);
    if (/does not exist in 'HEAD'|exists on disk, but not in 'HEAD'/i.test(stderr)) throw new GitHeadError(`${path.basename(file)} is not in the last commit yet, so it has no previous version.`);
    if (/invalid object name 'HEAD'|bad revision 'HEAD'/i.test(stderr)) throw new GitHeadError('The repository has no commits yet, so the file has no previous version.');
    throw new GitHeadError(`Reading the previous version of ${path.basename(file)} failed: ${stderr.split('\n')[0] || (err as Error).message}`);
  }
}
