/**
 * Show Discovered Layers opens a read-only virtual document (its own URI scheme), which VS Code
 * never offers to save, rather than an Untitled one that turns dirty.
 */
import * as vscode from 'vscode';

export const LAYERS_SCHEME = 'layer-profiler';

export class LayersDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly contents = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(LAYERS_SCHEME, this);

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? 'The layers of this model are no longer known: run Layer Profiler: Show Discovered Layers again.';
  }

  /** Opens (or refreshes) the document named after `model` with `text`. */
  async show(model: string, text: string): Promise<vscode.TextEditor> {
    const name = model.split(/[\\/]/).filter(Boolean).pop() ?? 'model';
    const uri = vscode.Uri.from({ scheme: LAYERS_SCHEME, path: `/Layers of ${name}.txt`, query: model });
    this.contents.set(uri.toString(), text);
    this.changed.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    return vscode.window.showTextDocument(doc, { preview: true });
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
  }
}
