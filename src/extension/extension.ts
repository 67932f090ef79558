/** Activation: wires the engine, the store, the views and the commands. Every registration is disposed. */
import path from 'node:path';
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { EngineClient } from './engineClient';
import { ProfileService, type HostUi } from './profileService';
import { ResultsPanel } from './resultsPanel';
import { ResultsStore } from './resultsStore';
import { modelKey, readSettings, SECTION, type Settings } from './settings';
import { SIDEBAR_VIEW_ID, SidebarView } from './sidebarView';
import { ViewHub } from './viewHub';
import type { ViewMessage } from '../shared/protocol';
import { ChartExporter } from './chartExporter';
import { EditorHighlights } from './editorHighlights';
import { DatasetRefresh } from './datasetRefresh';
import { LayersDocuments } from './layersDocument';
import { Notifier } from './notifier';
import { keepSelection, openText } from './viewActions';

/** What tests reach through `extension.exports`. */
export interface LayerProfilerApi {
  service: ProfileService;
  store: ResultsStore;
  engine: EngineClient;
  settings: () => Settings;
  highlights: EditorHighlights;
  /** The Output channel and notifications. */
  notifier: Notifier;
  /** Saves the panel's charts as PNG files into `folder`; returns how many. */
  exportCharts: (folder: vscode.Uri) => Promise<number>;
}

function hostUi(notifier: Notifier): HostUi {
  return {
    withProgress: (title, cancellable, task) =>
      Promise.resolve(
        vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable }, (progress, token) => {
          const controller = new AbortController();
          token.onCancellationRequested(() => controller.abort());
          return task({ report: (message, increment) => progress.report({ message, increment }) }, controller.signal);
        }),
      ),
    info: (message) => notifier.info(message),
    error: (message) => void notifier.error(message),
    log: (line) => notifier.log(line),
  };
}

export function activate(context: vscode.ExtensionContext): LayerProfilerApi {
  const settings = () => readSettings(vscode.workspace.getConfiguration(SECTION), vscode.workspace.getConfiguration('files').get<Record<string, unknown>>('exclude') ?? {});
  const store = new ResultsStore(context.workspaceState);
  const notifier = new Notifier();
  const ui = hostUi(notifier);
  let service: ProfileService;
  const engine = new EngineClient({
    enginePath: path.join(context.extensionPath, 'dist', 'engine.js'),
    idleTimeoutMs: settings().engineIdleMs,
    onCrash: (message) => {
      // A run in progress reports the crash itself, with what it kept of its texts.
      const running = service.running;
      service.engineCrashed(message);
      if (running) notifier.log(message);
      else ui.error(message);
    },
    log: (line) => notifier.log(line),
  });
  const hub = new ViewHub(() => service.viewState(), (m, from) => void onViewMessage(m, from.webview));
  service = new ProfileService(engine, store, ui, settings, () => hub.refresh());
  const panel = new ResultsPanel(context.extensionUri, hub);
  const exporter = new ChartExporter(hub, panel);
  const highlights = new EditorHighlights(context.workspaceState);
  const layersDocuments = new LayersDocuments();
  const datasetRefresh = new DatasetRefresh(service, store, settings);

  async function onViewMessage(m: ViewMessage, from: vscode.Webview): Promise<void> {
    const key = modelKey(settings().model);
    switch (m.type) {
      case 'command':
        await vscode.commands.executeCommand(`layerProfiler.${m.command}`);
        return;
      case 'toggleDataset':
        await store.setHidden(key, m.name, !m.visible);
        break;
      case 'renameDataset': {
        const to = await vscode.window.showInputBox({ title: `Rename dataset '${m.name}'`, value: m.name, validateInput: (v) => (v.trim() ? undefined : 'Give the dataset a name') });
        if (!to) return;
        try {
          await store.rename(key, m.name, to.trim());
        } catch (err) {
          void notifier.error((err as Error).message);
        }
        break;
      }
      case 'removeDataset':
        await store.remove(key, m.name);
        break;
      case 'setComparison':
        await store.setComparison(key, m.request);
        break;
      case 'setLensComparison':
        await store.setLensComparison(key, m.request);
        break;
      case 'keepSelection':
        if (!(await keepSelection(store, key))) return;
        break;
      case 'openText':
        await openText(store, key, m.dataset, m.path);
        return;
      case 'chartImage':
        await exporter.receive(m.chart, m.dataUrl, from);
        return;
    }
    hub.refresh();
  }

  context.subscriptions.push(
    notifier,
    panel,
    highlights,
    layersDocuments,
    vscode.window.registerWebviewViewProvider(SIDEBAR_VIEW_ID, new SidebarView(context.extensionUri, hub)),
    datasetRefresh,
    ...registerCommands({ service, highlights, store, panel, settings, exportCharts: (folder) => exporter.exportTo(folder), refresh: () => hub.refresh(), notifier, layersDocuments, datasetRefresh }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(SECTION)) service.settingsChanged();
    }),
    { dispose: () => engine.stop() },
  );
  return { service, store, engine, settings, highlights, notifier, exportCharts: (folder) => exporter.exportTo(folder) };
}

export function deactivate(): void {
  // Disposables registered on the context stop the engine.
}
