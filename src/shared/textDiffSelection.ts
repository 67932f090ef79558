/**
 * Two texts compared (two editor selections, a file against its last commit or the clipboard) as
 * the host keeps it and the views receive it: both texts' tokens, how they were aligned, and the
 * L2 distance of their hidden states per residual point and aligned pair. Capped to the first
 * MAX_DIFF_VIEW_TOKENS tokens of each text, so a huge comparison cannot bloat stored state.
 */
import type { DiffPoint, DiffText } from '../core/diff/diffResults';

export const MAX_DIFF_VIEW_TOKENS = 512;

export interface TextDiffSelection {
  a: { label: string; tokens: string[] };
  b: { label: string; tokens: string[] };
  alignment: 'position' | 'lcs';
  /** Positions [in A, in B], increasing in both. */
  pairs: [number, number][];
  onlyA: number[];
  onlyB: number[];
  /** Points in order: -1 (embedding output), then each block. */
  layers: number[];
  /** l2[point][pair], in the order of `pairs`. */
  l2: number[][];
  /** Set when a text had more tokens than are kept: the token counts before the cut. */
  totalTokens?: { a: number; b: number };
}

/** What the engine computed, trimmed to the first `max` tokens of each text. */
export function textDiffSelectionOf(
  outcome: { a: DiffText; b: DiffText; alignment: { mode: 'position' | 'lcs'; pairs: [number, number][]; onlyA: number[]; onlyB: number[] }; points: DiffPoint[] },
  max = MAX_DIFF_VIEW_TOKENS,
): TextDiffSelection {
  const keep = outcome.alignment.pairs.map(([i, j]) => i < max && j < max);
  const cut = outcome.a.tokens.length > max || outcome.b.tokens.length > max;
  return {
    a: { label: outcome.a.label, tokens: outcome.a.tokens.slice(0, max) },
    b: { label: outcome.b.label, tokens: outcome.b.tokens.slice(0, max) },
    alignment: outcome.alignment.mode,
    pairs: outcome.alignment.pairs.filter((_, k) => keep[k]),
    onlyA: outcome.alignment.onlyA.filter((i) => i < max),
    onlyB: outcome.alignment.onlyB.filter((j) => j < max),
    layers: outcome.points.map((p) => p.layer),
    l2: outcome.points.map((p) => p.l2.filter((_, k) => keep[k])),
    ...(cut ? { totalTokens: { a: outcome.a.tokens.length, b: outcome.b.tokens.length } } : {}),
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isNumber = (v: unknown): v is number => typeof v === 'number';
const isIndex = (v: unknown, n: number): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) < n;
const isSide = (v: unknown): v is { label: string; tokens: string[] } => isObject(v) && typeof v.label === 'string' && Array.isArray(v.tokens) && v.tokens.every((t) => typeof t === 'string');

/**
 * Checks a comparison that arrived from elsewhere (a snapshot, stored state written by another
 * version): positions within the texts, one distance per pair at every point. Anything else is rejected.
 */
export function parseTextDiffSelection(raw: unknown): TextDiffSelection | undefined {
  if (!isObject(raw) || !isSide(raw.a) || !isSide(raw.b) || (raw.alignment !== 'position' && raw.alignment !== 'lcs')) return undefined;
  const na = raw.a.tokens.length;
  const nb = raw.b.tokens.length;
  if (!Array.isArray(raw.pairs) || !raw.pairs.every((p) => Array.isArray(p) && p.length === 2 && isIndex(p[0], na) && isIndex(p[1], nb))) return undefined;
  if (!Array.isArray(raw.onlyA) || !raw.onlyA.every((i) => isIndex(i, na)) || !Array.isArray(raw.onlyB) || !raw.onlyB.every((j) => isIndex(j, nb))) return undefined;
  if (!Array.isArray(raw.layers) || raw.layers.length === 0 || !raw.layers.every(isNumber)) return undefined;
  const pairs = raw.pairs.length;
  if (!Array.isArray(raw.l2) || raw.l2.length !== raw.layers.length || !raw.l2.every((row) => Array.isArray(row) && row.length === pairs && row.every(isNumber))) return undefined;
  const total = raw.totalTokens;
  if (total !== undefined && !(isObject(total) && isNumber(total.a) && isNumber(total.b))) return undefined;
  return raw as unknown as TextDiffSelection;
}
