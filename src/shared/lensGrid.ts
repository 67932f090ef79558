/**
 * The logit lens grid as the panel draws it: one row per point (embedding output at the top, the
 * model's own output at the bottom), one column per token, each cell the point's top-1 prediction
 * for the next token, shaded by its probability or by the point's entropy. No DOM: unit-testable.
 */
import { displayToken } from './chartData';
import type { TableModel } from './chartText';
import type { LensSelection } from './lensSelection';

export type LensShade = 'probability' | 'entropy';
export const LENS_SHADES: readonly LensShade[] = ['probability', 'entropy'];

export interface LensCell {
  /** The top-1 prediction, as shown (whitespace made visible). */
  token: string;
  p: number;
  /** Entropy of the point's distribution at this position, in nats. */
  entropy: number;
  /** The top-1 prediction is the actual next token. */
  correct: boolean;
  /** log p(actual next token); null at the end of the text. */
  nextLogProb: number | null;
  /** The k most likely next tokens, as shown, most likely first. */
  top: { token: string; p: number; correct: boolean }[];
}

export interface LensGrid {
  rows: number;
  cols: number;
  /** The point of each row: -1 is the embedding output. */
  layers: number[];
  rowLabels: string[];
  /** Input tokens, as shown. */
  tokens: string[];
  /** The actual next token of each column, as shown; null where it is not known (end of the text or past the kept tokens). */
  next: (string | null)[];
  /** [row][col]. */
  cells: LensCell[][];
  /** Largest entropy in the grid (the top of the entropy scale). */
  maxEntropy: number;
}

/** A row's label: `embed` for the embedding output, the block index, and `out` on the model's own output. */
export function lensRowLabel(layer: number, last: boolean): string {
  if (layer < 0) return 'embed';
  return last ? `${layer} out` : String(layer);
}

export function lensGrid(sel: LensSelection): LensGrid {
  const cols = sel.tokens.length;
  const rows = sel.points.length;
  let maxEntropy = 0;
  const cells = sel.points.map((point) =>
    sel.tokens.map((_, t): LensCell => {
      const next = sel.nextIds[t];
      const top = point.top[t].map((c) => ({ token: displayToken(c.token), p: c.p, correct: c.id === next }));
      const entropy = point.entropy[t];
      if (Number.isFinite(entropy)) maxEntropy = Math.max(maxEntropy, entropy);
      return { token: top[0].token, p: top[0].p, entropy, correct: top[0].correct, nextLogProb: point.nextLogProb[t], top };
    }),
  );
  return {
    rows,
    cols,
    layers: sel.layers.slice(),
    rowLabels: sel.layers.map((l, i) => lensRowLabel(l, i === rows - 1)),
    tokens: sel.tokens.map(displayToken),
    next: sel.tokens.map((_, t) => (sel.nextIds[t] >= 0 && t + 1 < cols ? displayToken(sel.tokens[t + 1]) : null)),
    cells,
    maxEntropy,
  };
}

/**
 * Where a cell falls on the colour scale, 0..1 (NaN when its value is missing): its top-1
 * probability, or its entropy over the grid's largest (both rise with the colour scale).
 */
export function lensShadePosition(grid: LensGrid, row: number, col: number, shade: LensShade): number {
  const cell = grid.cells[row]?.[col];
  if (!cell) return Number.NaN;
  const v = shade === 'probability' ? cell.p : grid.maxEntropy > 0 ? cell.entropy / grid.maxEntropy : 0;
  return Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : Number.NaN;
}

/** The words of a cell's hover: where it is, the top-k with probabilities, and the entropy. */
export function lensCellLines(grid: LensGrid, row: number, col: number): string[] {
  const cell = grid.cells[row]?.[col];
  if (!cell) return [];
  const layer = grid.layers[row];
  const where = layer < 0 ? 'embedding output' : row === grid.rows - 1 ? `layer ${layer} (the model’s own output)` : `layer ${layer}`;
  const next = grid.next[col];
  const lines = [`token ${col} “${grid.tokens[col]}” · ${where}`, next === null ? 'next token: not known (end of the kept text)' : `actual next token: “${next}”`];
  cell.top.forEach((c, i) => lines.push(`${i + 1}. “${c.token}”  ${formatProbability(c.p)}${c.correct ? '  ✓ actual next' : ''}`));
  lines.push(`entropy ${cell.entropy.toFixed(2)} nats${cell.nextLogProb === null ? '' : ` · p(actual next) ${formatProbability(Math.exp(cell.nextLogProb))}`}`);
  return lines;
}

export function formatProbability(p: number): string {
  if (!Number.isFinite(p)) return '–';
  if (p >= 0.001) return p.toFixed(3);
  return p.toExponential(1);
}

/** One sentence for screen readers: what the grid shows and how often the last layer is right. */
export function describeLensGrid(grid: LensGrid, label: string): string {
  const known = grid.next.map((n, c) => (n === null ? -1 : c)).filter((c) => c >= 0);
  const right = grid.cells.map((row) => known.filter((c) => row[c].correct).length);
  const last = grid.rows - 1;
  const best = Math.max(...right);
  const first = known.length > 0 ? right.indexOf(best) : -1;
  return `Logit lens of ${label}: ${grid.rows} points (embedding output and ${grid.rows - 1} layers) by ${grid.cols} tokens. The model's own prediction is right at ${right[last]} of ${known.length} positions${first >= 0 ? `; ${grid.rowLabels[first]} is the first point to get the most right (${best})` : ''}.`;
}

/** The grid as an accessible table: a row per point, a column per token, each cell its top-1, probability and ✓ when right. */
export function lensTable(grid: LensGrid, label: string): TableModel {
  return {
    caption: `Logit lens, each layer's top-1 prediction for the next token (probability; ✓ the actual next token): ${label}`,
    columns: ['Layer', ...grid.tokens.map((t, i) => `${i}: ${t} → ${grid.next[i] ?? '?'}`)],
    rows: grid.cells.map((row, r) => [grid.rowLabels[r], ...row.map((c) => `${c.token} (${formatProbability(c.p)})${c.correct ? ' ✓' : ''}`)]),
  };
}
