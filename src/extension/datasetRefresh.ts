/**
 * Refreshing a dataset profiled from a folder: on demand (Refresh Dataset…), and, when the
 * `layerProfiler.refreshOnSave` setting is on, a few seconds after a file in its folder is saved.
 * The engine takes unchanged texts from the record cache, so a refresh costs one pass per edited file.
 */
import * as vscode from 'vscode';
import { datasetsHolding, refreshableDatasets, type DatasetFolder } from '../shared/datasetFolders';
import { BusyError, type ProfileService } from './profileService';
import type { ResultsStore } from './resultsStore';
import { modelKey, type Settings } from './settings';

const SAVE_DEBOUNCE_MS = 2000;

export class DatasetRefresh implements vscode.Disposable {
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly listener: vscode.Disposable;

  constructor(
    private readonly service: ProfileService,
    private readonly store: ResultsStore,
    private readonly settings: () => Settings,
  ) {
    this.listener = vscode.workspace.onDidSaveTextDocument((doc) => this.saved(doc.uri));
  }

  private folders(): DatasetFolder[] {
    return refreshableDatasets(this.store.get(modelKey(this.settings().model))?.results.datasets ?? []);
  }

  /** Asks which dataset (when not named) and profiles its folder again. */
  async refreshPicked(name?: string): Promise<void> {
    const folders = this.folders();
    if (folders.length === 0) {
      void vscode.window.showInformationMessage('Layer Profiler: no dataset profiled from a folder to refresh. Profile a folder first (right-click it in the Explorer).');
      return;
    }
    const chosen = name !== undefined ? folders.find((f) => f.name === name) : folders.length === 1 ? folders[0] : (await vscode.window.showQuickPick(folders.map((f) => ({ label: f.name, description: f.folder, folder: f })), { title: 'Refresh which dataset?' }))?.folder;
    if (chosen) await this.service.profileFolder(chosen.folder, chosen.name);
  }

  private saved(uri: vscode.Uri): void {
    if (!this.settings().refreshOnSave || uri.scheme !== 'file') return;
    for (const d of datasetsHolding(uri.fsPath, this.folders())) {
      clearTimeout(this.pending.get(d.name));
      this.pending.set(d.name, setTimeout(() => void this.refreshLater(d), SAVE_DEBOUNCE_MS));
    }
  }

  /** A refresh asked while another run goes waits for it. */
  private async refreshLater(d: DatasetFolder): Promise<void> {
    this.pending.delete(d.name);
    try {
      await this.service.profileFolder(d.folder, d.name);
    } catch (err) {
      if (err instanceof BusyError) this.pending.set(d.name, setTimeout(() => void this.refreshLater(d), SAVE_DEBOUNCE_MS));
    }
  }

  dispose(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    this.listener.dispose();
  }
}
