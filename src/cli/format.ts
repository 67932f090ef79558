/** Human-readable tables for the terminal. */
import type { InspectResult, ProfileProgress } from '../core/api';
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

export function formatInspect(r: InspectResult): string {
  const out = [
    `${r.model.id}`,
    `  file ${r.model.file}, dtype ${r.model.dtype}, opset ${r.model.opset}, ${r.model.style}${r.model.architecture ? `, ${r.model.architecture}` : ''}`,
    `  ${r.model.numLayers} layers${r.model.hiddenSize ? `, hidden size ${r.model.hiddenSize}` : ''}`,
    ...r.notes.map((n) => `  note: ${n}`),
    `  blocks.0.resid_pre = ${r.layers[0]?.residualIn}`,
  ];
  for (const l of r.layers) {
    out.push(`  blocks.${l.layer}.resid_post = ${l.residual}${l.added ? `  [added: ${l.added}]` : ''}`);
    for (const s of l.substeps) if (s.residual !== l.residual || l.substeps.length > 1) out.push(`      ${s.kind === 'attention' ? 'resid_mid (after attention)' : `after ${s.kind}`} = ${s.residual}`);
  }
  return out.join('\n') + '\n';
}

export function formatProgress(p: ProfileProgress): string {
  const rate = p.elapsedMs > 0 ? (p.tokensDone / p.elapsedMs) * 1000 : 0;
  const left = p.textsDone > 0 && p.textsTotal > p.textsDone ? ((p.elapsedMs / p.textsDone) * (p.textsTotal - p.textsDone)) / 1000 : undefined;
  return `[${p.dataset}] ${p.textsDone}/${p.textsTotal} texts, ${p.tokensDone} tokens, ${(p.elapsedMs / 1000).toFixed(1)} s, ${rate.toFixed(0)} tok/s${left !== undefined ? `, ~${left.toFixed(0)} s left` : ''}`;
}

function fmt(v: number | null): string {
  if (v === null || Number.isNaN(v)) return '—';
  return Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(5) : v.toExponential(2);
}
