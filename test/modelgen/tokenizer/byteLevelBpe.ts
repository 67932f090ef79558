/**
 * A byte-level BPE vocabulary of an exact size: 256 byte tokens (so any text, any script, any
 * control character encodes), merges learned from a small corpus and then filled with synthetic
 * ones until the size is reached, and the special tokens last.
 */
import { MERGE_CORPUS } from './corpus';

/** GPT-2's reversible byte -> printable character map, which ByteLevel pre-tokenizers assume. */
export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const map: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    map[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++);
  }
  return map;
}

/** GPT-2's pre-tokenization pattern, the one the ByteLevel pre-tokenizer applies with use_regex. */
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export interface BpeVocab {
  /** Token -> id for byte tokens and merge results (special tokens not included). */
  vocab: Map<string, number>;
  merges: [string, string][];
}

export function buildByteLevelBpe(modelTokens: number, corpus = MERGE_CORPUS): BpeVocab {
  if (modelTokens < 256) throw new Error(`A byte-level vocabulary needs at least 256 tokens besides the special ones (got ${modelTokens}).`);
  const byteChars = bytesToUnicode();
  const vocab = new Map<string, number>();
  byteChars.forEach((c, i) => vocab.set(c, i));
  const merges: [string, string][] = [];
  const addMerge = (a: string, b: string): void => {
    merges.push([a, b]);
    vocab.set(a + b, vocab.size);
  };

  learnMerges(corpus, byteChars, modelTokens, vocab, addMerge);
  fillSyntheticMerges(modelTokens, byteChars, vocab, addMerge);
  return { vocab, merges };
}

/** Plain BPE training; ties broken by the pair's text so the result never depends on Map order quirks. */
function learnMerges(corpus: string, byteChars: string[], target: number, vocab: Map<string, number>, addMerge: (a: string, b: string) => void): void {
  const counts = new Map<string, number>();
  const encoder = new TextEncoder();
  for (const m of corpus.matchAll(GPT2_SPLIT)) {
    const word = [...encoder.encode(m[0])].map((b) => byteChars[b]).join('\u0000');
    counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  const words = [...counts.entries()].map(([w, n]) => ({ symbols: w.split('\u0000'), n }));
  while (vocab.size < target) {
    const pairs = new Map<string, number>();
    for (const { symbols, n } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]}\u0000${symbols[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + n);
      }
    }
    let best: string | undefined;
    let bestCount = 1;
    for (const [key, n] of pairs) {
      if (n > bestCount || (n === bestCount && best !== undefined && key < best)) {
        best = key;
        bestCount = n;
      }
    }
    if (!best) return;
    const [a, b] = best.split('\u0000');
    if (vocab.has(a + b)) return; // cannot happen in plain BPE; guards the vocab size invariant
    addMerge(a, b);
    for (const word of words) {
      const s = word.symbols;
      const merged: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          merged.push(a + b);
          i++;
        } else {
          merged.push(s[i]);
        }
      }
      word.symbols = merged;
    }
  }
}

/** Extends tokens in vocab order by one identifier-ish character until the size is reached. */
function fillSyntheticMerges(target: number, byteChars: string[], vocab: Map<string, number>, addMerge: (a: string, b: string) => void): void {
  const alphabet = [...'etaoinshrdlcumwfgypbvkjxqz_ETAOINSHRDLCUMWFGYPBVKJXQZ0123456789'].map((c) => byteChars[c.charCodeAt(0)]);
  const bases = [byteChars[0x20], ...alphabet];
  for (let i = 0; vocab.size < target; i++) {
    const base = i < bases.length ? bases[i] : [...vocab.keys()][256 + i - bases.length];
    if (base === undefined) throw new Error('Cannot extend the vocabulary any further.');
    for (const c of alphabet) {
      if (vocab.size >= target) return;
      if (!vocab.has(base + c)) addMerge(base, c);
    }
  }
}
