/**
 * The commands of the two analyses beside profiling: a folder read through the logit lens as a
 * dataset (explorer menu, palette), and activation patching of two selections (picked as Compare
 * Two Selections picks them: a multi-cursor pair at once, or A then B over two runs).
 */
import path from 'node:path';
import * as vscode from 'vscode';
import type { ProfileService } from './profileService';
import type { ResultsPanel } from './resultsPanel';
import { selectionLabel } from './selectionLabel';
import type { NamedText, SelectionPair } from './selectionPair';
import { askFolderJobs } from './folderJobs';

export interface AnalysisContext {
  service: ProfileService;
  panel: ResultsPanel;
  /** The clean text waiting for its corrupted counterpart. */
  pair: SelectionPair;
}

/** From the explorer: (uri, selected uris); else a folder picked in a dialog. Scripts and tests may pass `{ name }` to skip the prompt. */
export async function lensFolders(ctx: AnalysisContext, uri: unknown, uris: unknown, options?: { name?: string }): Promise<void> {
  const jobs = await askFolderJobs(
    uri,
    uris,
    {
      dialogTitle: 'Folders to read through the logit lens',
      openLabel: 'Read through the lens',
      nameTitle: (folder) => `Lens dataset name for ${folder}`,
      namePrompt: () => 'The logit lens of this folder appears under this name (a lens dataset of the same name is replaced).',
    },
    options?.name,
  );
  if (!jobs) return;
  ctx.panel.show(true);
  for (const job of jobs) {
    const entry = await ctx.service.lensFolder(job.folder.fsPath, job.name);
    if (entry.partial) break;
  }
}

/** The editor's non-empty selections in document order; its whole text when nothing is selected. */
function editorTexts(editor: vscode.TextEditor): NamedText[] {
  const file = path.basename(editor.document.fileName || editor.document.uri.path);
  const selections = editor.selections.filter((s) => !s.isEmpty && editor.document.getText(s).trim()).sort((x, y) => x.start.compareTo(y.start));
  if (selections.length > 0) return selections.map((s) => ({ label: selectionLabel(file, { startLine: s.start.line, endLine: s.end.line, endCharacter: s.end.character }), text: editor.document.getText(s) }));
  const text = editor.document.getText();
  return text.trim() ? [{ label: selectionLabel(file, undefined), text }] : [];
}

/** First selection: the clean text (A); the next: the corrupted one (B). Two selections at once patch at once. */
export async function patchSelections(ctx: AnalysisContext): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showWarningMessage('Layer Profiler: open a file and select the clean text, then the corrupted one.');
    return;
  }
  const step = ctx.pair.offer(editorTexts(editor));
  if (!step) {
    void vscode.window.showWarningMessage('Layer Profiler: the selection is empty; select some text or open a file with content.');
    return;
  }
  if (step.kind === 'compare') return patch(ctx, step.a, step.b);
  void vscode.window.showInformationMessage(`Layer Profiler: ${step.a.label} is the clean text. Select the corrupted text (as many tokens) and run Activation Patching again.`);
}

/** For scripts and tests: patches two given texts, optionally with a named target and foil token. */
export async function patchTexts(ctx: AnalysisContext, clean: unknown, corrupted: unknown, options?: unknown): Promise<void> {
  const named = (v: unknown): v is NamedText => typeof v === 'object' && v !== null && typeof (v as NamedText).label === 'string' && typeof (v as NamedText).text === 'string';
  if (!named(clean) || !named(corrupted)) throw new Error('Activation patching needs two texts, each with a label and a text.');
  const o = (typeof options === 'object' && options !== null ? options : {}) as { target?: unknown; foil?: unknown };
  const tokens = typeof o.target === 'string' && typeof o.foil === 'string' ? { target: o.target, foil: o.foil } : undefined;
  await patch(ctx, clean, corrupted, tokens);
}

/** The compared texts of the panel (A clean, B corrupted), from its button; undefined after a reload. */
export async function patchCompared(ctx: AnalysisContext, last: { a: NamedText; b: NamedText } | undefined): Promise<void> {
  if (!last) {
    void vscode.window.showInformationMessage('Layer Profiler: compare the two texts again (Compare Two Selections), then patch them from the panel; or run Activation Patching (Clean vs Corrupted).');
    return;
  }
  await patch(ctx, last.a, last.b);
}

const SAME_TOP = /predict the same top token/;

async function patch(ctx: AnalysisContext, clean: NamedText, corrupted: NamedText, tokens?: { target: string; foil: string }): Promise<void> {
  ctx.panel.show(true);
  try {
    await ctx.service.patchTexts(clean, corrupted, tokens);
  } catch (err) {
    // The default metric needs two different top tokens; when both runs agree, ask for the pair.
    if (tokens || !SAME_TOP.test((err as Error).message)) throw err;
    const named = await askTokens((err as Error).message);
    if (named) await ctx.service.patchTexts(clean, corrupted, named);
  }
}

async function askTokens(why: string): Promise<{ target: string; foil: string } | undefined> {
  const same = /both are '([^']*)'/.exec(why)?.[1];
  const target = await vscode.window.showInputBox({
    title: 'Activation patching: the metric’s target token',
    prompt: `The clean and corrupted runs both predict ${same !== undefined ? `“${same}”` : 'the same token'} next. Name the token the clean text should lead to (one token; include a leading space where the token has one).`,
    validateInput: (v) => (v.length ? undefined : 'Give a token'),
  });
  if (target === undefined) return undefined;
  const foil = await vscode.window.showInputBox({ title: 'Activation patching: the foil token', prompt: 'The token the corrupted text should lead to instead (the metric is logit(target) − logit(foil)).', validateInput: (v) => (v.length ? (v === target ? 'Name a different token' : undefined) : 'Give a token') });
  return foil === undefined ? undefined : { target, foil };
}
