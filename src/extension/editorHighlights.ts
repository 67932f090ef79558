/**
 * Per-token view in the editor after Profile Selection: each token is shaded by how strongly the
 * layers react to it (each layer scaled to its own maximum over the selection, then averaged), and
 * its hover lists the absolute mean change every layer made at that token. Edits to the document
 * clear the shading, since the spans no longer match the text.
 */
import * as vscode from 'vscode';
import type { TokenProfile } from '../core/results';
import { reactionScores } from '../shared/tokenReaction';

/** Alphas of the shading levels: light enough to keep code readable in light and dark themes. */
const LEVEL_ALPHAS = [0.06, 0.14, 0.24, 0.36, 0.5, 0.66];

export class EditorHighlights implements vscode.Disposable {
  private readonly levels = LEVEL_ALPHAS.map((a) =>
    vscode.window.createTextEditorDecorationType({ backgroundColor: `rgba(255, 128, 0, ${a})`, borderRadius: '2px', rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed }),
  );
  private shown: { document: vscode.TextDocument; count: number } | undefined;
  private readonly listener: vscode.Disposable;

  constructor() {
    this.listener = vscode.workspace.onDidChangeTextDocument((e) => {
      if (this.shown && e.document === this.shown.document && e.contentChanges.length > 0) this.clear();
    });
  }

  /** Number of tokens shaded now (0 when cleared). */
  get count(): number {
    return this.shown?.count ?? 0;
  }

  show(editor: vscode.TextEditor, startOffset: number, label: string, profile: TokenProfile): void {
    this.clear();
    if (!profile.offsets) return;
    const scores = reactionScores(profile);
    const buckets: vscode.DecorationOptions[][] = this.levels.map(() => []);
    let count = 0;
    profile.offsets.forEach((span, t) => {
      if (!span) return;
      const range = new vscode.Range(editor.document.positionAt(startOffset + span[0]), editor.document.positionAt(startOffset + span[1]));
      const level = Math.min(this.levels.length - 1, Math.floor(scores[t] * this.levels.length));
      buckets[level].push({ range, hoverMessage: hover(label, profile, t) });
      count++;
    });
    this.levels.forEach((type, i) => editor.setDecorations(type, buckets[i]));
    this.shown = { document: editor.document, count };
  }

  clear(): void {
    if (!this.shown) return;
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document === this.shown.document) for (const type of this.levels) editor.setDecorations(type, []);
    }
    this.shown = undefined;
  }

  dispose(): void {
    this.clear();
    this.listener.dispose();
    this.levels.forEach((t) => t.dispose());
  }
}

function hover(label: string, profile: TokenProfile, t: number): vscode.MarkdownString {
  const rows = profile.absMean.map((row, layer) => {
    const max = Math.max(...row);
    const bar = '█'.repeat(Math.round((row[t] / (max || 1)) * 12));
    return `| ${layer} | ${row[t].toPrecision(3)} | ${bar} |`;
  });
  const md = new vscode.MarkdownString(
    [`**Layer Profiler** · token \`${JSON.stringify(profile.tokens[t]).slice(1, -1).replace(/`/g, 'ˋ')}\` · ${label}`, '', '| layer | abs mean Δ | relative to the layer\'s top token |', '|---:|---:|:---|', ...rows].join('\n'),
  );
  md.supportHtml = false;
  return md;
}
