/**
 * Where each token of an encoded text lies in that text, so per-token values can be drawn on the
 * editor. Tokenizers without offset output are aligned by decoding: a token decoded alone is found
 * at the cursor (after whitespace a decoder may have dropped, as SentencePiece's leading '▁');
 * byte-level tokens that split a character decode to U+FFFD alone, so they are grouped until the
 * group decodes to real text, and every token of the group gets the group's span.
 */
export type Span = [start: number, end: number];

const REPLACEMENT = '\uFFFD';
/** Longest run of tokens merged to complete one character (UTF-8 needs at most 4 bytes). */
const MAX_GROUP = 8;

export function tokenOffsets(decode: (ids: number[]) => string, ids: number[], text: string): (Span | null)[] {
  const spans: (Span | null)[] = new Array(ids.length).fill(null);
  let pos = 0;
  for (let i = 0; i < ids.length; ) {
    let matched = false;
    for (let n = 1; n <= MAX_GROUP && i + n <= ids.length; n++) {
      const piece = decode(ids.slice(i, i + n));
      if (piece.includes(REPLACEMENT) && !text.includes(REPLACEMENT)) continue;
      if (piece.length === 0) {
        // Special tokens (BOS) and the like decode to nothing: they have no place in the text.
        i += n;
        matched = true;
        break;
      }
      const at = findAt(text, piece, pos);
      if (at === undefined) continue;
      for (let k = 0; k < n; k++) spans[i + k] = [at, at + piece.length];
      pos = at + piece.length;
      i += n;
      matched = true;
      break;
    }
    if (!matched) i += 1; // leave this token without a span and try the next one
  }
  return spans;
}

/** `piece` at `pos`, or after whitespace the decoder dropped, or with leading whitespace the text lacks. */
function findAt(text: string, piece: string, pos: number): number | undefined {
  if (text.startsWith(piece, pos)) return pos;
  let p = pos;
  while (p < text.length && /\s/.test(text[p])) p++;
  if (p > pos && text.startsWith(piece, p)) return p;
  const trimmed = piece.trimStart();
  if (trimmed.length > 0 && trimmed.length < piece.length && text.startsWith(trimmed, p)) return p;
  return undefined;
}
