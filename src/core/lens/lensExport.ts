/** Lens results as JSON and CSV (one row per dataset and point; per text, point and position with --csv-tokens). */
import { csvField } from '../results/build';
import type { LensResults } from './lensResults';

export const LENS_CSV_COLUMNS = ['dataset', 'layer', 'texts', 'tokens', 'entropy', 'nll', 'top1', 'agree_final', 'kl_to_final', 'last_entropy', 'last_agree_final'] as const;
export const LENS_TOKEN_CSV_COLUMNS = ['text', 'layer', 'position', 'token', 'next_token', 'entropy', 'next_logprob', 'kl_to_final', 'top1_id', 'top1_token', 'top1_p'] as const;

const num = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '' : String(v));

export function lensToCsv(r: LensResults): string {
  const rows: string[] = [LENS_CSV_COLUMNS.join(',')];
  for (const d of r.datasets) {
    d.points.forEach((p, i) => {
      const last = d.lastPosition[i];
      rows.push([csvField(d.name), p.layer, d.texts, d.tokens, num(p.entropy), num(p.nll), num(p.top1), num(p.agreeFinal), num(p.klToFinal), num(last?.entropy), num(last?.top1)].join(','));
    });
  }
  return rows.join('\n') + '\n';
}

export function lensTokensToCsv(r: LensResults): string {
  const rows: string[] = [LENS_TOKEN_CSV_COLUMNS.join(',')];
  for (const t of r.texts) {
    for (const p of t.points) {
      t.ids.forEach((_, i) => {
        const top = p.top[i][0];
        rows.push([csvField(t.label), p.layer, i, csvField(t.tokens[i]), i + 1 < t.tokens.length ? csvField(t.tokens[i + 1]) : '', num(p.entropy[i]), num(p.nextLogProb[i]), num(p.klToFinal[i]), top.id, csvField(top.token), num(top.p)].join(','));
      });
    }
  }
  return rows.join('\n') + '\n';
}

/** JSON for files: non-finite numbers (a summary of no positions) become null. */
export function lensToJson(r: LensResults): string {
  return JSON.stringify(r, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}
