/**
 * Per-token view in the editor after Profile Selection: each token is shaded by how strongly the
 * layers react to it (each layer scaled to its own maximum over the selection, then averaged), and
 * its hover lists the absolute mean change every layer made at that token.
 *
 * Decorations belong to one TextEditor instance, and VS Code makes a new one whenever a document is
 * shown again (a tab switch, a split, a window reload). So the shading is kept as state (document,
 * text hash, token spans) and applied to every visible editor of that document whose text is still
 * the profiled one; the state is persisted, so a reloaded window shades the document again. Edits
 * to the document clear it, since the spans no longer match the text.
 */
import { createHash } from 'node:crypto';
import * as vscode from 'vscode';
import type { TokenProfile } from '../core/results';
import { reactionScores } from '../shared/tokenReaction';

/** Alphas of the shading levels: light enough to keep code readable in light and dark themes. */
const LEVEL_ALPHAS = [0.06, 0.14, 0.24, 0.36, 0.5, 0.66];

const STORAGE_KEY = 'layerProfiler.editorHighlights';
const STORAGE_VERSION = 1;

/** What is needed to shade a document again, in any editor, after a reload. */
export interface HighlightState {
  version: typeof STORAGE_VERSION;
  uri: string;
  /** sha256 of the whole document's text when it was profiled: the spans hold only for that text. */
  textSha256: string;
  startOffset: number;
  label: string;
  profile: TokenProfile;
}

/** What a vscode.Memento offers that this needs. */
export interface HighlightStorage {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void>;
}

export function isHighlightState(raw: unknown): raw is HighlightState {
  if (typeof raw !== 'object' || raw === null) return false;
  const s = raw as Record<string, unknown>;
  const p = s.profile as Record<string, unknown> | undefined;
  return (
    s.version === STORAGE_VERSION &&
    typeof s.uri === 'string' &&
    typeof s.textSha256 === 'string' &&
    typeof s.startOffset === 'number' &&
    typeof s.label === 'string' &&
    typeof p === 'object' &&
    p !== null &&
    Array.isArray(p.tokens) &&
    Array.isArray(p.offsets) &&
    Array.isArray(p.absMean)
  );
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

export class EditorHighlights implements vscode.Disposable {
  private readonly levels = LEVEL_ALPHAS.map((a) =>
    vscode.window.createTextEditorDecorationType({ backgroundColor: `rgba(255, 128, 0, ${a})`, borderRadius: '2px', rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed }),
  );
  private state: HighlightState | undefined;
  /** Decorations of `state`, built once per document version. */
  private built: { document: vscode.TextDocument; version: number; buckets: vscode.DecorationOptions[][]; count: number } | undefined;
  /** Hash of a document's text by version, so showing an editor again does not rehash it. */
  private hashed: { document: vscode.TextDocument; version: number; sha256: string } | undefined;
  private readonly applied = new WeakSet<vscode.TextEditor>();
  private readonly listeners: vscode.Disposable[];

  constructor(private readonly storage?: HighlightStorage) {
    const stored = storage?.get<unknown>(STORAGE_KEY);
    if (isHighlightState(stored)) this.state = stored;
    this.listeners = [
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (this.state && e.document.uri.toString() === this.state.uri && e.contentChanges.length > 0) this.clear();
      }),
      vscode.window.onDidChangeVisibleTextEditors((editors) => this.applyAll(editors)),
    ];
    this.applyAll(vscode.window.visibleTextEditors);
  }

  /** Number of tokens shaded (0 when nothing is). */
  get count(): number {
    return this.state ? (this.built?.count ?? this.state.profile.offsets?.filter(Boolean).length ?? 0) : 0;
  }

  /** Whether `editor` (this instance) carries the shading now. */
  isShownIn(editor: vscode.TextEditor): boolean {
    return this.state !== undefined && this.applied.has(editor);
  }

  show(editor: vscode.TextEditor, startOffset: number, label: string, profile: TokenProfile): void {
    this.clear();
    if (!profile.offsets) return;
    this.state = { version: STORAGE_VERSION, uri: editor.document.uri.toString(), textSha256: this.hashOf(editor.document), startOffset, label, profile };
    void this.storage?.update(STORAGE_KEY, this.state);
    this.applyAll(vscode.window.visibleTextEditors);
  }

  clear(): void {
    const uri = this.state?.uri;
    this.state = undefined;
    this.built = undefined;
    void this.storage?.update(STORAGE_KEY, undefined);
    if (!uri) return;
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.toString() !== uri) continue;
      for (const type of this.levels) editor.setDecorations(type, []);
      this.applied.delete(editor);
    }
  }

  private applyAll(editors: readonly vscode.TextEditor[]): void {
    const state = this.state;
    if (!state) return;
    for (const editor of editors) {
      if (editor.document.uri.toString() !== state.uri || this.applied.has(editor)) continue;
      if (this.hashOf(editor.document) !== state.textSha256) continue;
      const { buckets } = this.decorations(editor.document, state);
      this.levels.forEach((type, i) => editor.setDecorations(type, buckets[i]));
      this.applied.add(editor);
    }
  }

  private decorations(document: vscode.TextDocument, state: HighlightState): { buckets: vscode.DecorationOptions[][]; count: number } {
    if (this.built?.document === document && this.built.version === document.version) return this.built;
    const { profile, startOffset, label } = state;
    const scores = reactionScores(profile);
    const buckets: vscode.DecorationOptions[][] = this.levels.map(() => []);
    let count = 0;
    profile.offsets?.forEach((span, t) => {
      if (!span) return;
      const range = new vscode.Range(document.positionAt(startOffset + span[0]), document.positionAt(startOffset + span[1]));
      const level = Math.min(this.levels.length - 1, Math.floor(scores[t] * this.levels.length));
      buckets[level].push({ range, hoverMessage: hover(label, profile, t) });
      count++;
    });
    this.built = { document, version: document.version, buckets, count };
    return this.built;
  }

  private hashOf(document: vscode.TextDocument): string {
    if (this.hashed?.document !== document || this.hashed.version !== document.version) this.hashed = { document, version: document.version, sha256: sha256(document.getText()) };
    return this.hashed.sha256;
  }

  dispose(): void {
    // Not clear(): the persisted state must outlive this window, so a reload shades the document again.
    for (const editor of vscode.window.visibleTextEditors) for (const type of this.levels) editor.setDecorations(type, []);
    this.listeners.forEach((l) => l.dispose());
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
