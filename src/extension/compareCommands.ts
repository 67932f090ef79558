/**
 * The two-text comparison commands: two selections, a file against its last commit, and the
 * editor's text against the clipboard. Each gathers two texts and hands them to the ProfileService.
 */
import path from 'node:path';
import * as vscode from 'vscode';
import { readAtHead } from './gitHead';
import type { ProfileService } from './profileService';
import type { ResultsPanel } from './resultsPanel';
import { selectionLabel } from './selectionLabel';
import { SelectionPair, type NamedText } from './selectionPair';

export interface CompareContext {
  service: ProfileService;
  panel: ResultsPanel;
  pair: SelectionPair;
  /** The last two texts compared, so the panel can patch them (A clean, B corrupted) without picking them again. */
  last?: { a: NamedText; b: NamedText };
}

function fileName(document: vscode.TextDocument): string {
  return path.basename(document.fileName || document.uri.path);
}

/** The editor's non-empty selections, in document order; its whole text when nothing is selected. */
function editorTexts(editor: vscode.TextEditor): NamedText[] {
  const file = fileName(editor.document);
  const selections = editor.selections.filter((s) => !s.isEmpty && editor.document.getText(s).trim()).sort((x, y) => x.start.compareTo(y.start));
  if (selections.length > 0) return selections.map((s) => ({ label: selectionLabel(file, { startLine: s.start.line, endLine: s.end.line, endCharacter: s.end.character }), text: editor.document.getText(s) }));
  const text = editor.document.getText();
  return text.trim() ? [{ label: selectionLabel(file, undefined), text }] : [];
}

async function compare(ctx: CompareContext, a: NamedText, b: NamedText): Promise<void> {
  ctx.panel.show(true);
  await ctx.service.diffTexts(a, b);
  ctx.last = { a, b };
}

/**
 * First run: the selection becomes A (or, with two selections, A and B compare at once). Second
 * run: the selection then is B. The message after the first run also offers an open file as B.
 */
export async function compareSelections(ctx: CompareContext): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showWarningMessage('Layer Profiler: open a file and select the text to compare.');
    return;
  }
  const step = ctx.pair.offer(editorTexts(editor));
  if (!step) {
    void vscode.window.showWarningMessage('Layer Profiler: the selection is empty; select some text or open a file with content.');
    return;
  }
  if (step.kind === 'compare') return compare(ctx, step.a, step.b);
  // Not awaited: the command ends now, and the next run takes B whether or not this is answered.
  void vscode.window.showInformationMessage(`Layer Profiler: ${step.a.label} is text A. Select text B and run Compare Two Selections again.`, PICK_B, FORGET_A).then(async (answer) => {
    if (ctx.pair.pending !== step.a) return;
    if (answer === FORGET_A) ctx.pair.clear();
    if (answer !== PICK_B) return;
    const b = await pickOpenDocument(editor.document);
    if (!b || ctx.pair.pending !== step.a) return;
    ctx.pair.clear();
    await vscode.commands.executeCommand('layerProfiler.compareTexts', step.a, b);
  });
}

const PICK_B = 'Pick B from open files…';
const FORGET_A = 'Forget A';

/** For the message's action, and for scripts: compares two given texts (errors reported like any command's). */
export async function compareTexts(ctx: CompareContext, a: unknown, b: unknown): Promise<void> {
  const named = (v: unknown): v is NamedText => typeof v === 'object' && v !== null && typeof (v as NamedText).label === 'string' && typeof (v as NamedText).text === 'string';
  if (!named(a) || !named(b)) throw new Error('Compare two texts needs two texts, each with a label and a text.');
  await compare(ctx, a, b);
}

async function pickOpenDocument(current: vscode.TextDocument): Promise<NamedText | undefined> {
  const documents = vscode.workspace.textDocuments.filter((d) => d !== current && d.uri.scheme !== 'output' && d.getText().trim());
  if (documents.length === 0) {
    void vscode.window.showInformationMessage('Layer Profiler: no other file with text is open. Select text B in an editor and run Compare Two Selections again.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    documents.map((d) => ({ label: fileName(d), description: vscode.workspace.asRelativePath(d.uri), document: d })),
    { title: 'Compare text A with the whole of…' },
  );
  return picked && { label: selectionLabel(fileName(picked.document), undefined), text: picked.document.getText() };
}

/** The file (from the explorer or the editor title, else the active editor) at its last commit (A) against its text now (B). */
export async function compareWithHead(ctx: CompareContext, uri: unknown): Promise<void> {
  const target = uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri;
  if (!target || target.scheme !== 'file') {
    void vscode.window.showWarningMessage('Layer Profiler: open a file saved in a Git repository to compare it with its previous version.');
    return;
  }
  const document = await vscode.workspace.openTextDocument(target);
  const name = fileName(document);
  const old = await readAtHead(target.fsPath);
  await compare(ctx, { label: `${name} at HEAD`, text: old }, { label: document.isDirty ? `${name} (unsaved)` : name, text: document.getText() });
}

/** The clipboard (A) against the selection, or the whole file when nothing is selected (B). */
export async function compareWithClipboard(ctx: CompareContext): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  const clipboard = await vscode.env.clipboard.readText();
  if (!clipboard.trim()) {
    void vscode.window.showWarningMessage('Layer Profiler: the clipboard holds no text. Copy the text to compare first.');
    return;
  }
  const b = editor && editorTexts(editor)[0];
  if (!b) {
    void vscode.window.showWarningMessage('Layer Profiler: open a file and select the text to compare with the clipboard.');
    return;
  }
  await compare(ctx, { label: 'clipboard', text: clipboard }, b);
}
