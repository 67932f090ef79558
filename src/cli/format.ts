/** Human-readable tables for the terminal. */
import type { ProfileProgress } from '../core/api';
import type { ProfileResults } from '../core/results';

export function formatResultsTable(results: ProfileResults): string {
  const out: string[] = [];
  out.push(`${results.model.id} (${results.model.numLayers} layers, ${results.model.dtype})`);
  for (const d of results.datasets) {
    out.push('');
    out.push(`dataset ${d.name}: ${d.texts} texts, ${d.tokens} tokens${d.skipped.length ? `, ${d.skipped.length} skipped` : ''}${d.partial ? ' (partial: cancelled)' : ''}`);
    if (d.layers.length === 0) {
      out.push('  no texts profiled');
      continue;
    }
    const max = Math.max(...d.layers.map((l) => l.absMean.mean));
    out.push(`  ${'layer'.padStart(5)}  ${'abs mean'.padStart(11)} ${'± std'.padStart(10)}  ${'mean'.padStart(11)} ${'± std'.padStart(10)}  `);
    for (const l of d.layers) {
      const bar = '█'.repeat(Math.max(0, Math.round((l.absMean.mean / (max || 1)) * 24)));
      out.push(`  ${String(l.layer).padStart(5)}  ${fmt(l.absMean.mean).padStart(11)} ${fmt(l.absMean.std).padStart(10)}  ${fmt(l.mean.mean).padStart(11)} ${fmt(l.mean.std).padStart(10)}  ${bar}`);
    }
  }
  return out.join('\n') + '\n';
}

export function formatProgress(p: ProfileProgress): string {
  const rate = p.elapsedMs > 0 ? (p.tokensDone / p.elapsedMs) * 1000 : 0;
  const tokens = p.tokensExpected && p.tokensExpected > p.tokensDone ? `${p.tokensDone}/~${p.tokensExpected} tokens` : `${p.tokensDone} tokens`;
  const left = p.secondsLeft !== undefined && p.textsDone < p.textsTotal ? `, ~${formatSeconds(p.secondsLeft)} left` : '';
  return `[${p.dataset}] ${p.textsDone}/${p.textsTotal} texts, ${tokens}, ${(p.elapsedMs / 1000).toFixed(1)} s, ${rate.toFixed(0)} tok/s${left}`;
}

function formatSeconds(s: number): string {
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function fmt(v: number | null): string {
  if (v === null || Number.isNaN(v)) return '—';
  return Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(5) : v.toExponential(2);
}
