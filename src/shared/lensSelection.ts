/**
 * The logit lens of an editor selection as the host keeps it and the views receive it: the lens's
 * per-position predictions for the first tokens of the text (capped, so a huge selection cannot
 * bloat stored state), the actual next token of each, and where each token lies in the text.
 */
import type { LensText, LensTextPoint, LensTop } from '../core/lens/lensResults';
import type { Span } from '../core/model/tokenOffsets';

/** Tokens of a lensed selection kept per position: each keeps k predictions per point. */
export const MAX_LENS_VIEW_TOKENS = 512;

export interface LensSelection {
  label: string;
  k: number;
  /** Points in order: -1 (embedding output), then each block; the last is the model's own output. */
  layers: number[];
  tokens: string[];
  ids: number[];
  /** The actual next token's id at each position; -1 at the end of the text. */
  nextIds: number[];
  /** Character span of each token in the selection (null where a token has no visible text). */
  offsets?: (Span | null)[];
  /** Per point (same order as `layers`), per position. */
  points: { entropy: number[]; top: LensTop[][]; nextLogProb: (number | null)[] }[];
  /** Set when the text had more tokens than are kept (the first ones are kept). */
  totalTokens?: number;
}

/** A lens run trimmed to its first `max` positions, with the actual next token of each. */
export function lensSelectionOf(text: LensText, k: number, offsets?: (Span | null)[], max = MAX_LENS_VIEW_TOKENS): LensSelection {
  const n = Math.min(text.ids.length, max);
  const slice = <T>(a: T[]) => a.slice(0, n);
  return {
    label: text.label,
    k,
    layers: text.points.map((p) => p.layer),
    tokens: slice(text.tokens),
    ids: slice(text.ids),
    nextIds: slice(text.ids.map((_, t) => (t + 1 < text.ids.length ? text.ids[t + 1] : -1))),
    ...(offsets ? { offsets: offsets.slice(0, n) } : {}),
    points: text.points.map((p: LensTextPoint) => ({ entropy: slice(p.entropy), top: slice(p.top), nextLogProb: slice(p.nextLogProb) })),
    ...(n < text.ids.length ? { totalTokens: text.ids.length } : {}),
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isNumber = (v: unknown): v is number => typeof v === 'number';
const numbers = (v: unknown, n: number): v is number[] => Array.isArray(v) && v.length === n && v.every(isNumber);
const isTop = (v: unknown): v is LensTop => isObject(v) && isNumber(v.id) && typeof v.token === 'string' && isNumber(v.p);

/**
 * Checks a lens selection that arrived from elsewhere (a snapshot, stored state written by another
 * version): every array as long as the tokens, every point complete. Anything else is rejected.
 */
export function parseLensSelection(raw: unknown): LensSelection | undefined {
  if (!isObject(raw) || typeof raw.label !== 'string' || !isNumber(raw.k) || !Array.isArray(raw.tokens) || !raw.tokens.every((t) => typeof t === 'string')) return undefined;
  const n = raw.tokens.length;
  if (!numbers(raw.ids, n) || !numbers(raw.nextIds, n) || !Array.isArray(raw.layers) || !raw.layers.every(isNumber) || !Array.isArray(raw.points)) return undefined;
  if (raw.points.length !== raw.layers.length || raw.layers.length === 0) return undefined;
  for (const p of raw.points as unknown[]) {
    if (!isObject(p) || !numbers(p.entropy, n) || !Array.isArray(p.top) || p.top.length !== n || !Array.isArray(p.nextLogProb) || p.nextLogProb.length !== n) return undefined;
    if (!p.top.every((row) => Array.isArray(row) && row.length > 0 && row.every(isTop))) return undefined;
    if (!p.nextLogProb.every((v) => v === null || isNumber(v))) return undefined;
  }
  if (raw.offsets !== undefined && !(Array.isArray(raw.offsets) && raw.offsets.length === n && raw.offsets.every((s) => s === null || (Array.isArray(s) && s.length === 2 && s.every(isNumber))))) return undefined;
  if (raw.totalTokens !== undefined && !isNumber(raw.totalTokens)) return undefined;
  return raw as unknown as LensSelection;
}

/** What the editor hover shows of a lensed token: per point, the top-1 prediction and whether it is the actual next token. */
export interface LensTokenPredictions {
  layers: number[];
  /** The actual next token (raw), or null at the end of the text. */
  next: (string | null)[];
  /** [token][point]: the layer's top-1 prediction for the next token. */
  top1: { token: string; p: number; correct: boolean }[][];
  offsets: (Span | null)[];
}

/** The per-token top-1s the editor keeps for hovers (small: no top-k, no entropies). */
export function lensTokenPredictions(sel: LensSelection): LensTokenPredictions {
  return {
    layers: sel.layers.slice(),
    next: sel.nextIds.map((id, t) => (id < 0 ? null : t + 1 < sel.tokens.length ? sel.tokens[t + 1] : null)),
    top1: sel.tokens.map((_, t) =>
      sel.points.map((p) => {
        const best = p.top[t][0];
        return { token: best.token, p: best.p, correct: best.id === sel.nextIds[t] };
      }),
    ),
    offsets: sel.offsets ?? sel.tokens.map(() => null),
  };
}

/**
 * How late each token's prediction settles, in [0, 1]: the first point from which every later
 * point's top-1 equals the model's own, over the number of points. 0: the embedding already
 * predicts what the model will; 1: only the last layer does.
 */
export function settleScores(pred: LensTokenPredictions): number[] {
  return pred.top1.map((row) => {
    const P = row.length;
    if (P < 2) return 0;
    const final = row[P - 1].token;
    let first = P - 1;
    while (first > 0 && row[first - 1].token === final) first--;
    return first / (P - 1);
  });
}
