/**
 * Aligning the tokens of two texts for a side-by-side comparison: position by position, or by the
 * longest common subsequence of their token ids (an insertion in one text then leaves the tokens
 * after it paired with their counterparts, not with whatever sits at the same position).
 */

export type AlignMode = 'position' | 'lcs';

export interface Alignment {
  mode: AlignMode;
  /** Pairs of positions [in A, in B], increasing in both. */
  pairs: [number, number][];
  /** Positions of A, and of B, that have no partner. */
  onlyA: number[];
  onlyB: number[];
}

/** Position by position over the shorter length; the longer text's tail is unpaired. */
export function alignByPosition(a: readonly number[], b: readonly number[]): Alignment {
  const n = Math.min(a.length, b.length);
  const pairs = Array.from({ length: n }, (_, i): [number, number] => [i, i]);
  return { mode: 'position', pairs, onlyA: range(n, a.length), onlyB: range(n, b.length) };
}

/**
 * Longest common subsequence of the ids (dynamic programming, O(|a|·|b|) time and memory). Among
 * equally long subsequences the one matching earliest in A is taken, so the result is deterministic.
 */
export function alignByLcs(a: readonly number[], b: readonly number[]): Alignment {
  const n = a.length;
  const m = b.length;
  const w = m + 1;
  // lengths[i * w + j]: LCS length of a[i..] and b[j..].
  const lengths = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lengths[i * w + j] = a[i] === b[j] ? lengths[(i + 1) * w + j + 1] + 1 : Math.max(lengths[(i + 1) * w + j], lengths[i * w + j + 1]);
    }
  }
  const pairs: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      pairs.push([i, j]);
      i++;
      j++;
    } else if (lengths[(i + 1) * w + j] >= lengths[i * w + j + 1]) i++;
    else j++;
  }
  const pairedA = new Set(pairs.map((p) => p[0]));
  const pairedB = new Set(pairs.map((p) => p[1]));
  return { mode: 'lcs', pairs, onlyA: range(0, n).filter((x) => !pairedA.has(x)), onlyB: range(0, m).filter((x) => !pairedB.has(x)) };
}

/** The default: position by position when the lengths match, else by common subsequence. */
export function alignTokens(a: readonly number[], b: readonly number[], mode?: AlignMode): Alignment {
  const chosen = mode ?? (a.length === b.length ? 'position' : 'lcs');
  return chosen === 'position' ? alignByPosition(a, b) : alignByLcs(a, b);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}
