/** The side view in the Layer Profiler activity-bar container. */
import * as vscode from 'vscode';
import type { ViewHub } from './viewHub';
import { webviewHtml, webviewOptions } from './webviewHtml';

export const SIDEBAR_VIEW_ID = 'layerProfiler.sidebar';

export class SidebarView implements vscode.WebviewViewProvider {
  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly hub: ViewHub,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    view.webview.options = webviewOptions(this.extensionUri);
    view.webview.html = webviewHtml(view.webview, this.extensionUri, 'sidebar');
    const listeners = this.hub.attach(view, view.onDidChangeVisibility);
    view.onDidDispose(() => {
      this.hub.detach(view);
      listeners.forEach((d) => d.dispose());
    });
  }
}
