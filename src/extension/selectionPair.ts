/**
 * Compare Two Selections picks its texts in one or two steps: two selections of a multi-cursor
 * selection compare at once; a single selection becomes A and waits for the next one (B). No
 * `vscode` import: unit-tested.
 */

export interface NamedText {
  label: string;
  text: string;
}

export type PairStep = { kind: 'compare'; a: NamedText; b: NamedText } | { kind: 'waiting'; a: NamedText };

export class SelectionPair {
  private pendingA: NamedText | undefined;

  get pending(): NamedText | undefined {
    return this.pendingA;
  }

  /** `texts`: the editor's non-empty selections in order (or its whole text when nothing is selected). */
  offer(texts: readonly NamedText[]): PairStep | undefined {
    if (texts.length === 0) return undefined;
    if (texts.length >= 2) {
      this.pendingA = undefined;
      return { kind: 'compare', a: texts[0], b: texts[1] };
    }
    const a = this.pendingA;
    if (!a) {
      this.pendingA = texts[0];
      return { kind: 'waiting', a: texts[0] };
    }
    this.pendingA = undefined;
    return { kind: 'compare', a, b: texts[0] };
  }

  /** Forgets a waiting A (the user dismissed it, or used it with another text). */
  clear(): void {
    this.pendingA = undefined;
  }
}
