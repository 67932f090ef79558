/** The HTML shell of both webviews: strict CSP, one nonce'd script, styles from the extension only. */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { webviewDocument } from '../shared/webviewDocument';

export type ViewKind = 'panel' | 'sidebar';

export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, view: ViewKind): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'webview.css'));
  return webviewDocument({ view, nonce, cspSource: webview.cspSource, styleHref: style.toString(), scripts: [script.toString()] });
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')] };
}
