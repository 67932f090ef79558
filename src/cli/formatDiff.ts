/** Tables for `diff` (L2 distance per point and aligned pair) and `patch` (effect per layer and position). */
import type { DiffResults } from '../core/diff/diffResults';
import type { PatchResults } from '../core/patch/patchResults';

const cell = (s: string, w: number) => (s.length > w ? s.slice(0, w - 1) + '…' : s.padStart(w));
const label = (t: string) => JSON.stringify(t).slice(1, -1);

export function formatDiff(r: DiffResults): string {
  const w = 9;
  const lines = [`${r.a.label} (${r.a.ids.length} tokens) vs ${r.b.label} (${r.b.ids.length} tokens), aligned by ${r.alignment}: ${r.pairs.length} pairs`];
  if (r.onlyA.length || r.onlyB.length) lines.push(`unpaired: A ${r.onlyA.map((i) => `${i}:${label(r.a.tokens[i])}`).join(' ') || '-'}; B ${r.onlyB.map((j) => `${j}:${label(r.b.tokens[j])}`).join(' ') || '-'}`);
  lines.push(`L2 distance ‖h_A − h_B‖ per point (rows) and aligned pair (columns); ${r.note}`);
  lines.push(['A'.padStart(6), ...r.pairs.map(([i]) => cell(label(r.a.tokens[i]), w))].join(' '));
  lines.push(['B'.padStart(6), ...r.pairs.map(([, j]) => cell(label(r.b.tokens[j]), w))].join(' '));
  lines.push('layer');
  for (const p of r.points) lines.push([String(p.layer).padStart(6), ...p.l2.map((v) => cell(v === 0 ? '0' : v.toPrecision(3), w))].join(' '));
  return lines.join('\n') + '\n';
}

export function formatPatch(r: PatchResults): string {
  const w = 8;
  const m = r.metric;
  const lines = [
    `metric: logit[${label(m.targetToken)}] − logit[${label(m.foilToken)}] at the last position: clean ${m.clean.toPrecision(4)}, corrupted ${m.corrupted.toPrecision(4)}`,
    'effect = (patched − corrupted) / (clean − corrupted): 1 = the patch restores the clean output, 0 = no change',
    ...r.notes,
  ];
  for (const g of r.grids) {
    lines.push('', `${g.point}: layer (rows) × position (columns)`);
    lines.push(['layer'.padStart(6), ...r.corrupted.tokens.map((t) => cell(label(t), w))].join(' '));
    for (const l of g.layers) lines.push([String(l.layer).padStart(6), ...l.effect.map((v) => cell(v.toFixed(3), w))].join(' '));
  }
  return lines.join('\n') + '\n';
}
