/** The extension's commands: thin adapters from VS Code's UI to the ProfileService. */
import path from 'node:path';
import * as vscode from 'vscode';
import { askFolderJobs } from './folderJobs';
import { toCsv, toJson } from '../core/results/build';
import { findingsMarkdownFor } from './comparisonState';
import { formatInspect } from '../shared/inspectText';
import type { HostCommand } from '../shared/protocol';
import { CancelledError, EngineError } from './engineClient';
import type { EditorHighlights, HighlightPart } from './editorHighlights';
import type { LayersDocuments } from './layersDocument';
import { chooseModel, type ChooseModelOptions } from './modelPicker';
import type { NotificationAction, Notifier } from './notifier';
import type { ProfileService } from './profileService';
import type { ResultsPanel } from './resultsPanel';
import { selectionLabel } from './selectionLabel';
import { compareSelections, compareTexts, compareWithClipboard, compareWithHead, type CompareContext } from './compareCommands';
import { SelectionPair } from './selectionPair';
import { lensFolders, patchCompared, patchSelections, patchTexts } from './analysisCommands';
import { lensTokenPredictions } from '../shared/lensSelection';
import { describeSpec, modelKey, type Settings } from './settings';
import type { DatasetRefresh } from './datasetRefresh';
import type { ResultsStore } from './resultsStore';

export const COMMAND_IDS: Record<HostCommand, string> = {
  profileSelection: 'layerProfiler.profileSelection',
  lensSelection: 'layerProfiler.lensSelection',
  lensFolder: 'layerProfiler.lensFolder',
  patchSelections: 'layerProfiler.patchSelections',
  patchCompared: 'layerProfiler.patchCompared',
  compareSelections: 'layerProfiler.compareSelections',
  compareWithHead: 'layerProfiler.compareWithHead',
  compareWithClipboard: 'layerProfiler.compareWithClipboard',
  profileFolder: 'layerProfiler.profileFolder',
  refreshDataset: 'layerProfiler.refreshDataset',
  chooseModel: 'layerProfiler.chooseModel',
  showLayers: 'layerProfiler.showLayers',
  exportResults: 'layerProfiler.exportResults',
  clearResults: 'layerProfiler.clearResults',
  cancel: 'layerProfiler.cancel',
  openPanel: 'layerProfiler.openPanel',
};

export interface CommandContext {
  service: ProfileService;
  highlights: EditorHighlights;
  store: ResultsStore;
  panel: ResultsPanel;
  settings: () => Settings;
  exportCharts: (folder: vscode.Uri) => Promise<number>;
  refresh: () => void;
  notifier: Notifier;
  layersDocuments: LayersDocuments;
  datasetRefresh: DatasetRefresh;
}

/** A Hub download that failed for want of a network: the user can switch to a local folder, or retry once online. */
function isOfflineError(err: unknown): boolean {
  return err instanceof EngineError && (err.code === 'network' || err.code === 'offline');
}

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  const run = (fn: (...args: unknown[]) => Promise<unknown>) => {
    const command = async (...args: unknown[]): Promise<unknown> => {
      try {
        return await fn(...args);
      } catch (err) {
        if (err instanceof CancelledError) {
          ctx.notifier.info('cancelled.');
          return undefined;
        }
        const actions: NotificationAction[] = isOfflineError(err)
          ? [
              { title: 'Use a local model folder…', run: () => vscode.commands.executeCommand(COMMAND_IDS.chooseModel, { action: 'local' } satisfies ChooseModelOptions) },
              { title: 'Retry', run: () => command(...args) },
            ]
          : [];
        // Not awaited: the command ends now; the notification's actions run when picked.
        void ctx.notifier.error((err as Error).message, actions);
        return undefined;
      }
    };
    return command;
  };
  const compare: CompareContext = { service: ctx.service, panel: ctx.panel, pair: new SelectionPair() };
  const analysis = { service: ctx.service, panel: ctx.panel, pair: new SelectionPair() };
  return [
    vscode.commands.registerCommand(COMMAND_IDS.lensFolder, run((uri, uris, options) => lensFolders(analysis, uri, uris, options as { name?: string } | undefined))),
    vscode.commands.registerCommand(COMMAND_IDS.patchSelections, run(() => patchSelections(analysis))),
    vscode.commands.registerCommand(COMMAND_IDS.patchCompared, run(() => patchCompared(analysis, compare.last))),
    vscode.commands.registerCommand('layerProfiler.patchTexts', run((clean, corrupted, options) => patchTexts(analysis, clean, corrupted, options))),
    vscode.commands.registerCommand(COMMAND_IDS.compareSelections, run(() => compareSelections(compare))),
    vscode.commands.registerCommand(COMMAND_IDS.compareWithHead, run((uri) => compareWithHead(compare, uri))),
    vscode.commands.registerCommand(COMMAND_IDS.compareWithClipboard, run(() => compareWithClipboard(compare))),
    vscode.commands.registerCommand('layerProfiler.compareTexts', run((a, b) => compareTexts(compare, a, b))),
    vscode.commands.registerCommand(COMMAND_IDS.profileSelection, run(() => profileSelection(ctx))),
    vscode.commands.registerCommand(COMMAND_IDS.lensSelection, run(() => lensSelection(ctx))),
    vscode.commands.registerCommand(COMMAND_IDS.profileFolder, run((uri, uris, options) => profileFolders(ctx, uri, uris, options as { name?: string } | undefined))),
    vscode.commands.registerCommand(
      COMMAND_IDS.chooseModel,
      run(async (options) => {
        const result = await chooseModel(typeof options === 'object' && options !== null ? (options as ChooseModelOptions) : {});
        if (result.saved) ctx.service.settingsChanged();
        return result;
      }),
    ),
    vscode.commands.registerCommand(COMMAND_IDS.refreshDataset, run((options) => ctx.datasetRefresh.refreshPicked((options as { name?: string } | undefined)?.name))),
    vscode.commands.registerCommand(COMMAND_IDS.showLayers, run(() => showLayers(ctx))),
    vscode.commands.registerCommand(COMMAND_IDS.exportResults, run(() => exportResults(ctx))),
    vscode.commands.registerCommand(COMMAND_IDS.clearResults, run((options) => clearResults(ctx, (options as { confirm?: boolean } | undefined)?.confirm !== false))),
    vscode.commands.registerCommand(COMMAND_IDS.cancel, run(async () => ctx.service.cancel() || vscode.window.showInformationMessage('Layer Profiler: nothing is running.'))),
    vscode.commands.registerCommand(COMMAND_IDS.openPanel, run(async () => ctx.panel.show())),
  ];
}

/** The active editor's selection (or whole document when nothing is selected), named for the views; undefined after telling the user what to do. */
interface EditorText {
  editor: vscode.TextEditor;
  text: string;
  label: string;
  startOffset: number;
  version: number;
}

function readSelection(what: string): EditorText | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showWarningMessage(`Layer Profiler: open a file and select some text to ${what}.`);
    return undefined;
  }
  const selection = editor.selection;
  const whole = selection.isEmpty;
  const text = editor.document.getText(whole ? undefined : selection);
  if (!text.trim()) {
    void vscode.window.showWarningMessage('Layer Profiler: the selection is empty; select some text or open a file with content.');
    return undefined;
  }
  const file = path.basename(editor.document.fileName || editor.document.uri.path);
  const label = selectionLabel(file, whole ? undefined : { startLine: selection.start.line, endLine: selection.end.line, endCharacter: selection.end.character });
  return { editor, text, label, startOffset: whole ? 0 : editor.document.offsetAt(selection.start), version: editor.document.version };
}

/**
 * Token spans hold only while the document is as it was when read. The editor may have been
 * replaced meanwhile (a tab switch): shade whichever shows the document now.
 */
function shadeIfUnchanged(ctx: CommandContext, read: EditorText, label: string, part: HighlightPart): void {
  const { editor } = read;
  const shown = vscode.window.visibleTextEditors.find((e) => e.document === editor.document) ?? editor;
  if (ctx.settings().highlightTokens && editor.document.version === read.version) ctx.highlights.show(shown, read.startOffset, label, part);
}

async function profileSelection(ctx: CommandContext): Promise<void> {
  const read = readSelection('profile');
  if (!read) return;
  ctx.panel.show(true);
  await ctx.service.profileText(read.label, read.text, { uri: read.editor.document.uri.toString(), start: read.startOffset, end: read.startOffset + read.text.length });
  const heatmap = ctx.store.get(modelKey(ctx.settings().model))?.heatmap;
  if (heatmap) shadeIfUnchanged(ctx, read, read.label, { profile: heatmap.profile });
}

async function lensSelection(ctx: CommandContext): Promise<void> {
  const read = readSelection('read through the logit lens');
  if (!read) return;
  ctx.panel.show(true);
  const lens = await ctx.service.lensText(read.label, read.text);
  shadeIfUnchanged(ctx, read, read.label, { lens: lensTokenPredictions(lens) });
}

/** From the explorer: (uri, selected uris). Scripts and tests may pass `{ name }` to skip the prompt. */
async function profileFolders(ctx: CommandContext, uri: unknown, uris: unknown, options?: { name?: string }): Promise<void> {
  const existing = new Set(ctx.store.get(modelKey(ctx.settings().model))?.results.datasets.map((d) => d.name) ?? []);
  const jobs = await askFolderJobs(
    uri,
    uris,
    {
      dialogTitle: 'Folders to profile as datasets',
      openLabel: 'Profile',
      nameTitle: (folder) => `Dataset name for ${folder}`,
      namePrompt: (proposed) => (existing.has(proposed) ? 'A dataset with this name exists and will be replaced.' : 'Results of this folder appear under this name.'),
    },
    options?.name,
  );
  if (!jobs) return;
  ctx.panel.show(true);
  for (const job of jobs) {
    const result = await ctx.service.profileFolder(job.folder.fsPath, job.name);
    if (result.partial) break;
  }
}

async function showLayers(ctx: CommandContext): Promise<void> {
  const text = formatInspect(await ctx.service.layers());
  await ctx.layersDocuments.show(describeSpec(ctx.settings().model), text);
}

async function exportResults(ctx: CommandContext): Promise<void> {
  const entry = ctx.store.get(modelKey(ctx.settings().model));
  if (!entry || entry.results.datasets.length === 0) {
    void vscode.window.showInformationMessage('Layer Profiler: there are no results to export yet. Profile a selection or a folder first.');
    return;
  }
  const pick = await vscode.window.showQuickPick(
    [
      { label: 'JSON', description: 'all statistics and per-text records (layer-profiler/profile@2)', format: 'json' as const },
      { label: 'CSV', description: 'one row per dataset and layer', format: 'csv' as const },
      { label: 'Findings (Markdown)', description: 'the panel’s findings in plain words, for its comparison', format: 'md' as const },
      { label: 'Charts as PNG', description: 'every chart of the results panel', format: 'png' as const },
    ],
    { title: 'Export results' },
  );
  if (!pick) return;
  const base = vscode.workspace.workspaceFolders?.[0]?.uri;
  if (pick.format === 'png') {
    const folder = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, defaultUri: base, openLabel: 'Save charts here' });
    if (!folder?.[0]) return;
    const count = await ctx.exportCharts(folder[0]);
    void vscode.window.showInformationMessage(`Layer Profiler: saved ${count} chart images to ${folder[0].fsPath}.`);
    return;
  }
  const filters: Record<string, string[]> = { json: { JSON: ['json'] }, csv: { CSV: ['csv'] }, md: { Markdown: ['md'] } }[pick.format];
  const target = await vscode.window.showSaveDialog({ defaultUri: base && vscode.Uri.joinPath(base, pick.format === 'md' ? 'layer-profile-findings.md' : `layer-profile.${pick.format}`), filters });
  if (!target) return;
  const content = pick.format === 'json' ? toJson(entry.results) : pick.format === 'csv' ? toCsv(entry.results) : findingsMarkdownFor(entry.results, entry.hidden, entry.comparison);
  await vscode.workspace.fs.writeFile(target, Buffer.from(content, 'utf8'));
  void vscode.window.showInformationMessage(`Layer Profiler: results written to ${target.fsPath}.`);
}

async function clearResults(ctx: CommandContext, confirm: boolean): Promise<void> {
  const key = modelKey(ctx.settings().model);
  if (!ctx.store.get(key)) return;
  if (confirm) {
    const answer = await vscode.window.showWarningMessage('Clear all Layer Profiler results of this model?', { modal: true }, 'Clear');
    if (answer !== 'Clear') return;
  }
  await ctx.store.clear(key);
  ctx.highlights.clear();
  ctx.refresh();
}
