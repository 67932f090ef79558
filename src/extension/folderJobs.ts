/**
 * The folders a folder command runs on, each with the dataset name it is kept under: the
 * explorer's selection (or a folder dialog), then one name asked per folder. Profiling and the
 * logit lens ask the same way; only their words differ.
 */
import path from 'node:path';
import * as vscode from 'vscode';

export interface FolderJob {
  folder: vscode.Uri;
  name: string;
}

export interface FolderJobWords {
  /** Title of the folder dialog, when the command was not run from the explorer. */
  dialogTitle: string;
  openLabel: string;
  /** Title of the name prompt for a folder (shown as a workspace-relative path). */
  nameTitle: (relativePath: string) => string;
  /** The prompt under the name box for a proposed name. */
  namePrompt: (proposed: string) => string;
}

/**
 * From the explorer: (uri, selected uris); else a folder dialog. `name` (scripts and tests) skips
 * the prompt for a single folder. Undefined when the user cancels.
 */
export async function askFolderJobs(uri: unknown, uris: unknown, words: FolderJobWords, name?: string): Promise<FolderJob[] | undefined> {
  let folders = (Array.isArray(uris) ? uris : uri ? [uri] : []).filter((u): u is vscode.Uri => u instanceof vscode.Uri);
  if (folders.length === 0) {
    const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: true, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri, title: words.dialogTitle, openLabel: words.openLabel });
    if (!picked?.length) return undefined;
    folders = picked;
  }
  if (name && folders.length === 1) return [{ folder: folders[0], name }];
  const jobs: FolderJob[] = [];
  for (const folder of folders) {
    const proposed = path.basename(folder.fsPath);
    const given = await vscode.window.showInputBox({
      title: words.nameTitle(vscode.workspace.asRelativePath(folder)),
      value: proposed,
      prompt: words.namePrompt(proposed),
      validateInput: (v) => (v.trim() ? undefined : 'Give the dataset a name'),
    });
    if (given === undefined) return undefined;
    jobs.push({ folder, name: given.trim() });
  }
  return jobs;
}
