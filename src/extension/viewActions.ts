/** Host actions that views ask for beyond plain commands: keeping the selection, opening a drilled-down text. */
import { isAbsolute } from 'node:path';
import * as vscode from 'vscode';
import type { ResultsStore, TextOrigin } from './resultsStore';

/** Keeps the selection slot's dataset, asking for its name (the label is the default). */
export async function keepSelection(store: ResultsStore, model: string): Promise<boolean> {
  const entry = store.get(model);
  const current = entry?.selection;
  if (!entry || current === undefined) return false;
  const taken = new Set(entry.results.datasets.map((d) => d.name).filter((n) => n !== current));
  const name = await vscode.window.showInputBox({
    title: 'Keep the selection as a dataset',
    value: current,
    prompt: 'The next Profile Selection adds a new selection instead of replacing this one.',
    validateInput: (v) => (!v.trim() ? 'Give the dataset a name' : taken.has(v.trim()) ? `A dataset named '${v.trim()}' already exists.` : undefined),
  });
  if (name === undefined) return false;
  await store.keepSelection(model, name.trim());
  return true;
}

/**
 * Opens a text listed in a drill-down. Only a path that is a record of the named dataset is
 * opened (a webview must not make the host open arbitrary files); a selection's record holds a
 * label, and opens the document it came from with the profiled range selected.
 */
export async function openText(store: ResultsStore, model: string, dataset: string, path: string): Promise<void> {
  const entry = store.get(model);
  const d = entry?.results.datasets.find((x) => x.name === dataset);
  if (!d?.records.some((r) => r.path === path)) return;
  const origin = entry?.origins?.[dataset];
  if (origin) {
    await openOrigin(origin);
    return;
  }
  if (!isAbsolute(path)) return;
  try {
    await vscode.window.showTextDocument(vscode.Uri.file(path), { preview: true, preserveFocus: false, viewColumn: vscode.ViewColumn.One });
  } catch (err) {
    void vscode.window.showWarningMessage(`Layer Profiler: cannot open ${path}: ${(err as Error).message}`);
  }
}

/** A selection's document, with the profiled range selected (clamped to the document as it is now). */
async function openOrigin(origin: TextOrigin): Promise<void> {
  try {
    const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(origin.uri));
    const end = Math.min(origin.end, document.getText().length);
    const range = new vscode.Range(document.positionAt(Math.min(origin.start, end)), document.positionAt(end));
    const editor = await vscode.window.showTextDocument(document, { preview: true, preserveFocus: false, viewColumn: vscode.ViewColumn.One, selection: range });
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  } catch (err) {
    void vscode.window.showWarningMessage(`Layer Profiler: cannot open the selection's document: ${(err as Error).message}`);
  }
}
