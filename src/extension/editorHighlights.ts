/**
 * Per-token view in the editor after Profile Selection or Logit Lens on Selection: each token is
 * shaded by how strongly the layers react to it (each layer scaled to its own maximum over the
 * selection, then averaged) or, lensed only, by how late its next-token prediction settles; its
 * hover lists per layer the absolute mean change at that token and what the layer would predict
 * next. Profiling and lensing the same selection add up in one state and one hover.
 *
 * Decorations belong to one TextEditor instance, and VS Code makes a new one whenever a document is
 * shown again (a tab switch, a split, a window reload). So the shading is kept as state (document,
 * text hash, token spans) and applied to every visible editor of that document whose text is still
 * the profiled one; the state is persisted, so a reloaded window shades the document again. Edits
 * to the document clear it, since the spans no longer match the text.
 */
import { SHADE_COLOR_IDS } from '../shared/tokenReaction';
import { sha256Text } from '../core/hash';
import * as vscode from 'vscode';
import type { TokenProfile } from '../core/results';
import type { Span } from '../core/model/tokenOffsets';
import { settleScores, type LensTokenPredictions } from '../shared/lensSelection';
import { reactionScores } from '../shared/tokenReaction';
import { tokenHoverMarkdown } from './tokenHover';

/** Alphas of the shading levels: light enough to keep code readable in light and dark themes. */


const STORAGE_KEY = 'layerProfiler.editorHighlights';
const STORAGE_VERSION = 2;

/** What is needed to shade a document again, in any editor, after a reload: a profile, a lens, or both. */
export interface HighlightState {
  version: typeof STORAGE_VERSION;
  uri: string;
  /** sha256 of the whole document's text when it was profiled: the spans hold only for that text. */
  textSha256: string;
  startOffset: number;
  label: string;
  profile?: TokenProfile;
  /** Per token, each point's top-1 next-token prediction (Logit Lens on Selection). */
  lens?: LensTokenPredictions;
}

/** One part of the state, as a command produces it. */
export type HighlightPart = { profile: TokenProfile } | { lens: LensTokenPredictions };

/** What a vscode.Memento offers that this needs. */
export interface HighlightStorage {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void>;
}

/** Reads the stored state; version 1 (a profile only) reads as version 2. Anything malformed is dropped. */
export function parseHighlightState(raw: unknown): HighlightState | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const s = raw as Record<string, unknown>;
  if ((s.version !== 1 && s.version !== STORAGE_VERSION) || typeof s.uri !== 'string' || typeof s.textSha256 !== 'string' || typeof s.startOffset !== 'number' || typeof s.label !== 'string') return undefined;
  const p = s.profile as Record<string, unknown> | undefined;
  const profile = typeof p === 'object' && p !== null && Array.isArray(p.tokens) && Array.isArray(p.offsets) && Array.isArray(p.absMean) ? (p as unknown as TokenProfile) : undefined;
  const l = s.lens as Record<string, unknown> | undefined;
  const lens = typeof l === 'object' && l !== null && Array.isArray(l.layers) && Array.isArray(l.next) && Array.isArray(l.top1) && Array.isArray(l.offsets) && l.top1.length === l.offsets.length ? (l as unknown as LensTokenPredictions) : undefined;
  if (!profile && !lens) return undefined;
  return { version: STORAGE_VERSION, uri: s.uri, textSha256: s.textSha256, startOffset: s.startOffset, label: s.label, ...(profile ? { profile } : {}), ...(lens ? { lens } : {}) };
}

/** Spans of the state's tokens: the longer of the profile's and the lens's (both tokenize the same text alike). */
function spansOf(state: HighlightState): (Span | null)[] {
  const a = state.profile?.offsets ?? [];
  const b = state.lens?.offsets ?? [];
  return a.length >= b.length ? a : b;
}

export class EditorHighlights implements vscode.Disposable {
  private readonly levels = SHADE_COLOR_IDS.map((id) =>
    vscode.window.createTextEditorDecorationType({ backgroundColor: new vscode.ThemeColor(id), borderRadius: '2px', rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed }),
  );
  private state: HighlightState | undefined;
  /** Decorations of `state`, built once per document version. */
  private built: { document: vscode.TextDocument; version: number; buckets: vscode.DecorationOptions[][]; count: number } | undefined;
  /** Hash of a document's text by version, so showing an editor again does not rehash it. */
  private hashed: { document: vscode.TextDocument; version: number; sha256: string } | undefined;
  private readonly applied = new WeakSet<vscode.TextEditor>();
  private readonly listeners: vscode.Disposable[];

  constructor(private readonly storage?: HighlightStorage) {
    this.state = parseHighlightState(storage?.get<unknown>(STORAGE_KEY));
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
    return this.state ? (this.built?.count ?? spansOf(this.state).filter(Boolean).length) : 0;
  }

  /** Whether `editor` (this instance) carries the shading now. */
  isShownIn(editor: vscode.TextEditor): boolean {
    return this.state !== undefined && this.applied.has(editor);
  }

  /** Whether the shading's hovers carry a logit lens's predictions. */
  get lensShown(): boolean {
    return this.state?.lens !== undefined;
  }

  /**
   * Shades the selection with a profile or a lens. The same selection of the same text keeps what
   * it had of the other part, so its hover lists both; anything else replaces the state.
   */
  show(editor: vscode.TextEditor, startOffset: number, label: string, part: HighlightPart): void {
    const uri = editor.document.uri.toString();
    const textSha256 = this.hashOf(editor.document);
    const previous = this.state;
    const same = previous && previous.uri === uri && previous.textSha256 === textSha256 && previous.startOffset === startOffset && previous.label === label;
    this.clear();
    const next: HighlightState = { ...(same ? previous : { version: STORAGE_VERSION, uri, textSha256, startOffset, label }), ...part };
    if (spansOf(next).every((s) => !s)) return;
    this.state = next;
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
    const { profile, lens, startOffset, label } = state;
    const scores = profile ? reactionScores(profile) : lens ? settleScores(lens) : [];
    const tokens = profile?.tokens ?? [];
    const buckets: vscode.DecorationOptions[][] = this.levels.map(() => []);
    let count = 0;
    spansOf(state).forEach((span, t) => {
      if (!span) return;
      const range = new vscode.Range(document.positionAt(startOffset + span[0]), document.positionAt(startOffset + span[1]));
      const level = Math.min(this.levels.length - 1, Math.floor((scores[t] ?? 0) * this.levels.length));
      const token = tokens[t] ?? document.getText(range);
      const md = new vscode.MarkdownString(tokenHoverMarkdown(label, token, t, profile, lens));
      md.supportHtml = false;
      buckets[level].push({ range, hoverMessage: md });
      count++;
    });
    this.built = { document, version: document.version, buckets, count };
    return this.built;
  }

  private hashOf(document: vscode.TextDocument): string {
    if (this.hashed?.document !== document || this.hashed.version !== document.version) this.hashed = { document, version: document.version, sha256: sha256Text(document.getText()) };
    return this.hashed.sha256;
  }

  dispose(): void {
    // Not clear(): the persisted state must outlive this window, so a reload shades the document again.
    for (const editor of vscode.window.visibleTextEditors) for (const type of this.levels) editor.setDecorations(type, []);
    this.listeners.forEach((l) => l.dispose());
    this.levels.forEach((t) => t.dispose());
  }
}
