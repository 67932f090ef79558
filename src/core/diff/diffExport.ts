/** Two-text distances as JSON and CSV (one row per point and aligned pair). */
import { stringify } from 'csv-stringify/sync';
import { spreadsheetSafe } from '../results/build';
import type { DiffResults } from './diffResults';

export const DIFF_CSV_COLUMNS = ['layer', 'pair', 'position_a', 'position_b', 'token_a', 'token_b', 'l2', 'cosine', 'rel_l2'] as const;

const num = (v: number | null) => (v === null || !Number.isFinite(v) ? '' : String(v));

export function diffToCsv(r: DiffResults): string {
  const rows: (string | number)[][] = [];
  for (const p of r.points) {
    r.pairs.forEach(([i, j], k) => {
      rows.push([p.layer, k, i, j, spreadsheetSafe(r.a.tokens[i]), spreadsheetSafe(r.b.tokens[j]), num(p.l2[k]), num(p.cosine[k]), num(p.relL2[k])]);
    });
  }
  return stringify(rows, { header: true, columns: [...DIFF_CSV_COLUMNS], record_delimiter: 'unix' });
}

/** JSON for files: non-finite numbers become null. */
export function resultsToJson(r: object): string {
  return JSON.stringify(r, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}
