/** Terminal tables for the logit lens. */
import type { LensDataset, LensText } from '../core/lens/lensResults';

const layerName = (layer: number) => (layer < 0 ? 'embed' : String(layer));
const fmt = (v: number | null) => (v === null || !Number.isFinite(v) ? '—' : v.toFixed(3));

/** One text: per layer its mean entropy, NLL and KL, then each position's top-1 prediction per layer. */
export function formatLensText(t: LensText): string {
  const out = [`${t.label}: ${t.ids.length} tokens`];
  out.push(`  ${'layer'.padStart(5)}  ${'entropy'.padStart(8)} ${'NLL'.padStart(8)} ${'top-1'.padStart(6)} ${'KL'.padStart(8)}`);
  for (const p of t.points) {
    const predicted = p.nextLogProb.flatMap((v, i) => (v === null ? [] : [{ v, i }]));
    const nll = predicted.length ? -predicted.reduce((s, x) => s + x.v, 0) / predicted.length : null;
    const acc = predicted.length ? predicted.filter((x) => p.top[x.i][0].id === t.ids[x.i + 1]).length / predicted.length : null;
    const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
    out.push(`  ${layerName(p.layer).padStart(5)}  ${fmt(mean(p.entropy)).padStart(8)} ${fmt(nll).padStart(8)} ${fmt(acc).padStart(6)} ${fmt(mean(p.klToFinal)).padStart(8)}`);
  }
  const shown = Math.min(t.ids.length, 24);
  const cell = (s: string) => JSON.stringify(s).slice(1, -1).slice(0, 10).padEnd(10);
  out.push('', `  top-1 next token per layer (first ${shown} positions)`);
  out.push(`  ${'token'.padEnd(10)}  ${t.points.map((p) => layerName(p.layer).padEnd(10)).join(' ')}`);
  for (let i = 0; i < shown; i++) out.push(`  ${cell(t.tokens[i])}  ${t.points.map((p) => cell(p.top[i][0].token)).join(' ')}`);
  return out.join('\n') + '\n\n';
}

export function formatLensDatasets(datasets: LensDataset[]): string {
  const out: string[] = [];
  for (const d of datasets) {
    out.push(`dataset ${d.name}: ${d.texts} texts, ${d.tokens} tokens${d.skipped.length ? `, ${d.skipped.length} skipped` : ''}${d.partial ? ' (partial: cancelled)' : ''}`);
    out.push(`  ${'layer'.padStart(5)}  ${'entropy'.padStart(8)} ${'NLL'.padStart(8)} ${'top-1'.padStart(6)} ${'=final'.padStart(6)} ${'KL'.padStart(8)}`);
    for (const p of d.points) out.push(`  ${layerName(p.layer).padStart(5)}  ${fmt(p.entropy).padStart(8)} ${fmt(p.nll).padStart(8)} ${fmt(p.top1).padStart(6)} ${fmt(p.agreeFinal).padStart(6)} ${fmt(p.klToFinal).padStart(8)}`);
    out.push('');
  }
  return out.join('\n');
}
