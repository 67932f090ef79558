/** The results webview panel: one per window, restored after a reload by its serializer. */
import * as vscode from 'vscode';
import type { ViewHub } from './viewHub';
import { webviewHtml, webviewOptions } from './webviewHtml';

export const PANEL_VIEW_TYPE = 'layerProfiler.results';

export class ResultsPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly hub: ViewHub,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel) => this.adopt(panel),
      }),
    );
  }

  get current(): vscode.WebviewPanel | undefined {
    return this.panel;
  }

  show(preserveFocus = false): vscode.WebviewPanel {
    if (this.panel) {
      // Never cover the editor being profiled: in its group, the panel moves beside it.
      const editorColumn = vscode.window.activeTextEditor?.viewColumn;
      this.panel.reveal(editorColumn !== undefined && editorColumn === this.panel.viewColumn ? vscode.ViewColumn.Beside : undefined, preserveFocus);
      return this.panel;
    }
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, 'Layer Profiler', { viewColumn: vscode.ViewColumn.Beside, preserveFocus }, { ...webviewOptions(this.extensionUri), retainContextWhenHidden: false });
    this.adopt(panel);
    return panel;
  }

  private adopt(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.svg');
    panel.webview.options = webviewOptions(this.extensionUri);
    panel.webview.html = webviewHtml(panel.webview, this.extensionUri, 'panel');
    const view = { get webview() { return panel.webview; }, get visible() { return panel.visible; } };
    const listeners = this.hub.attach(view, panel.onDidChangeViewState);
    panel.onDidDispose(() => {
      this.hub.detach(view);
      listeners.forEach((d) => d.dispose());
      if (this.panel === panel) this.panel = undefined;
    });
  }

  dispose(): void {
    this.panel?.dispose();
    this.disposables.forEach((d) => d.dispose());
  }
}
