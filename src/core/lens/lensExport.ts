/** Lens results as JSON and CSV (one row per dataset and point; per text, point and position with --csv-tokens). */
import { stringify } from 'csv-stringify/sync';
import { spreadsheetSafe } from '../results/build';
import type { LensResults } from './lensResults';

export const LENS_CSV_COLUMNS = ['dataset', 'layer', 'texts', 'tokens', 'entropy', 'nll', 'top1', 'agree_final', 'kl_to_final', 'last_entropy', 'last_agree_final'] as const;
export const LENS_TOKEN_CSV_COLUMNS = ['text', 'layer', 'position', 'token', 'next_token', 'entropy', 'next_logprob', 'kl_to_final', 'top1_id', 'top1_token', 'top1_p'] as const;

const num = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '' : String(v));

export function lensToCsv(r: LensResults): string {
  const rows: (string | number)[][] = [];
  for (const d of r.datasets) {
    d.points.forEach((p, i) => {
      const last = d.lastPosition[i];
      rows.push([spreadsheetSafe(d.name), p.layer, d.texts, d.tokens, num(p.entropy), num(p.nll), num(p.top1), num(p.agreeFinal), num(p.klToFinal), num(last?.entropy), num(last?.top1)]);
    });
  }
  return stringify(rows, { header: true, columns: [...LENS_CSV_COLUMNS], record_delimiter: 'unix' });
}

export function lensTokensToCsv(r: LensResults): string {
  const rows: (string | number)[][] = [];
  for (const t of r.texts) {
    for (const p of t.points) {
      t.ids.forEach((_, i) => {
        const top = p.top[i][0];
        rows.push([spreadsheetSafe(t.label), p.layer, i, spreadsheetSafe(t.tokens[i]), i + 1 < t.tokens.length ? spreadsheetSafe(t.tokens[i + 1]) : '', num(p.entropy[i]), num(p.nextLogProb[i]), num(p.klToFinal[i]), top.id, spreadsheetSafe(top.token), num(top.p)]);
      });
    }
  }
  return stringify(rows, { header: true, columns: [...LENS_TOKEN_CSV_COLUMNS], record_delimiter: 'unix' });
}

/** JSON for files: non-finite numbers (a summary of no positions) become null. */
export function lensToJson(r: LensResults): string {
  return JSON.stringify(r, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}
