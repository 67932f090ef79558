/**
 * Findings in plain words, derived from the statistics alone (no language model): per comparison,
 * which layers differ, in which direction, by how much and how sure; per dataset, which layers
 * change the stream most, which vary most from text to text, where the profile peaks and how
 * attention and MLP share each layer's change.
 */
import type { DatasetResult, LayerSummary, ProfileResults, Summary } from '../results';
import type { CompareResults, Comparison, Correction } from './types';

export interface FindingsSection {
  heading: string;
  /** Markdown paragraphs or list items (a line starting with "- " is a list item). */
  lines: string[];
}

export interface Findings {
  title: string;
  /** What was tested, in one sentence. */
  method: string;
  sections: FindingsSection[];
}

interface MetricWords {
  /** How the metric reads in a sentence. */
  label: string;
  /** +1: larger means the layer changes the stream more; -1: smaller means more change; 0: neither. */
  change: 1 | -1 | 0;
}

const METRICS: Record<string, MetricWords> = {
  absMean: { label: 'mean |Δ|', change: 1 },
  l2: { label: 'per-token L2 norm of Δ', change: 1 },
  relChange: { label: 'relative change ‖Δ‖ / ‖resid_pre‖', change: 1 },
  cosine: { label: 'cosine of resid_pre and resid_post', change: -1 },
  mean: { label: 'mean Δ', change: 0 },
  residL2: { label: 'residual norm leaving the block', change: 0 },
};

const CORRECTIONS: Record<Correction, string> = {
  bh: 'Benjamini–Hochberg q across the layers of each comparison',
  holm: 'Holm-adjusted p across the layers of each comparison',
  none: 'p not adjusted across layers',
};

export function metricWords(metric: string): MetricWords {
  return METRICS[metric] ?? { label: metric, change: 0 };
}

export function findings(results: ProfileResults, compare: CompareResults): Findings {
  const m = metricWords(compare.metric);
  const sections: FindingsSection[] = compare.comparisons.map((c) => comparisonSection(c, compare));
  const datasets = results.datasets.filter((d) => d.layers.length > 0);
  sections.push(mostChange(datasets), mostVariable(datasets), peaks(datasets), attentionVsMlp(datasets));
  return {
    title: `Findings: ${results.model.id}`,
    method: `Metric: ${m.label} (\`${compare.metric}\`) per text. Welch's t-test per layer, ${CORRECTIONS[compare.correction]}, significant when ${compare.correction === 'none' ? 'p' : 'q'} ≤ ${compare.alpha}.`,
    sections,
  };
}

export function findingsMarkdown(results: ProfileResults, compare: CompareResults): string {
  const f = findings(results, compare);
  const out = [`# ${f.title}`, '', f.method];
  for (const s of f.sections) {
    out.push('', `## ${s.heading}`, '');
    s.lines.forEach((line, i) => {
      // A paragraph after a list needs a blank line, and so does a list after a paragraph.
      const prev = s.lines[i - 1];
      if (prev !== undefined && prev.startsWith('- ') !== line.startsWith('- ')) out.push('');
      out.push(line);
    });
  }
  return out.join('\n') + '\n';
}

function comparisonSection(c: Comparison, compare: CompareResults): FindingsSection {
  const w = metricWords(compare.metric);
  const qName = compare.correction === 'none' ? 'p' : 'q';
  const bName = c.b === 'rest' && c.pooled ? `the rest (${c.pooled.join(', ')})` : c.b;
  const lines: string[] = [];
  for (const side of ['a', 'b'] as const) {
    const layers = c.layers.filter((l) => l.significant && l.higher !== null && (w.change >= 0 ? l.higher === side : l.higher !== side));
    if (layers.length === 0) continue;
    const [x, y] = side === 'a' ? [c.a, bName] : [bName, c.a];
    const verb = w.change === 0 ? `have a higher ${w.label}` : 'change the stream more';
    lines.push(`**${layerList(layers.map((l) => l.layer), true)} ${layers.length === 1 ? verb.replace(/^have/, 'has').replace(/^change/, 'changes') : verb} on ${x} than on ${y}:**`);
    for (const l of layers) {
      const [mx, my] = side === 'a' ? [l.a.mean, l.b.mean] : [l.b.mean, l.a.mean];
      const ci = l.ci95 ? `; 95% CI of the difference ${num(side === 'a' ? l.ci95[0] : -l.ci95[1])} to ${num(side === 'a' ? l.ci95[1] : -l.ci95[0])}` : '';
      lines.push(`- layer ${l.layer}: ${w.label} ${relative(mx, my)} (${num(mx)} vs ${num(my)}${ci}; ${qName} = ${pNum(l.q)})`);
    }
  }
  const none = c.layers.filter((l) => !l.significant && l.degenerate !== 'too-few-texts');
  const untestable = c.layers.filter((l) => l.degenerate === 'too-few-texts');
  const ns = c.layers[0] ? `n = ${c.layers[0].a.n} ${c.a}, ${c.layers[0].b.n} ${c.b}` : '';
  if (none.length === c.layers.length && c.layers.length > 0) {
    const best = none.reduce((x, y) => ((y.q ?? 1) < (x.q ?? 1) ? y : x));
    lines.push(`No layer differs between ${c.a} and ${bName} at this sample size (${ns}); the smallest ${qName} is ${pNum(best.q)} (layer ${best.layer}).`);
  } else if (none.length > 0) {
    lines.push(`No difference at this sample size (${ns}) in ${layerList(none.map((l) => l.layer), false)}.`);
  }
  if (untestable.length > 0) {
    const few = [c.a, c.b].filter((_, i) => (i === 0 ? untestable[0].a.n : untestable[0].b.n) < 2);
    lines.push(`${capital(layerList(untestable.map((l) => l.layer), false))} cannot be tested: ${few.join(' and ')} ${few.length > 1 ? 'have' : 'has'} fewer than 2 texts.`);
  }
  return { heading: `${c.a} vs ${bName}`, lines };
}

function mostChange(datasets: DatasetResult[]): FindingsSection {
  const lines = datasets.map((d) => {
    const top = [...d.layers].sort((x, y) => y.absMean.mean - x.absMean.mean).slice(0, 3);
    return `- ${d.name}: ${top.map((l) => `layer ${l.layer} (${num(l.absMean.mean)})`).join(', ')}`;
  });
  return { heading: 'Which layers change the stream most (largest mean |Δ|)', lines };
}

function mostVariable(datasets: DatasetResult[]): FindingsSection {
  const lines = datasets.map((d) => {
    const cvs = d.layers.map((l) => ({ layer: l.layer, cv: cv(l.absMean) })).filter((x): x is { layer: number; cv: number } => x.cv !== null);
    if (cvs.length === 0) return `- ${d.name}: needs at least 2 texts (has ${d.layers[0]?.absMean.n ?? 0})`;
    const top = cvs.sort((x, y) => y.cv - x.cv).slice(0, 3);
    return `- ${d.name}: ${top.map((x) => `layer ${x.layer} (CV ${x.cv.toFixed(2)})`).join(', ')}`;
  });
  return { heading: 'Which layers vary most from text to text (coefficient of variation of mean |Δ|: std / mean)', lines };
}

function peaks(datasets: DatasetResult[]): FindingsSection {
  const lines = datasets.map((d) => {
    const peak = d.layers.reduce((x, y) => (y.absMean.mean > x.absMean.mean ? y : x));
    const sorted = d.layers.map((l) => l.absMean.mean).sort((x, y) => x - y);
    const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    const last = d.layers[d.layers.length - 1].layer;
    const where = peak.layer === last ? ' (the last layer)' : peak.layer === d.layers[0].layer ? ' (the first layer)' : '';
    const ratio = median > 0 ? `, ${(peak.absMean.mean / median).toFixed(1)}× the median layer` : '';
    return `- ${d.name}: layer ${peak.layer}${where}, mean |Δ| ${num(peak.absMean.mean)}${ratio}`;
  });
  const layers = new Set(datasets.map((d) => d.layers.reduce((x, y) => (y.absMean.mean > x.absMean.mean ? y : x)).layer));
  if (datasets.length > 1 && layers.size === 1) lines.push(`Every dataset peaks at layer ${[...layers][0]}.`);
  return { heading: 'Where the profile peaks', lines };
}

function attentionVsMlp(datasets: DatasetResult[]): FindingsSection {
  const heading = 'How attention and MLP share each layer\'s change (mean |attn_out| / (mean |attn_out| + mean |mlp_out|))';
  const lines: string[] = [];
  for (const d of datasets) {
    const shares = d.layers.map((l) => ({ layer: l.layer, share: attentionShare(l) })).filter((x): x is { layer: number; share: number } => x.share !== null);
    if (shares.length === 0) continue;
    const avg = shares.reduce((s, x) => s + x.share, 0) / shares.length;
    const lo = shares.reduce((x, y) => (y.share < x.share ? y : x));
    const hi = shares.reduce((x, y) => (y.share > x.share ? y : x));
    const mlp = shares.filter((x) => x.share < 0.5).map((x) => x.layer);
    const attn = shares.filter((x) => x.share > 0.5).map((x) => x.layer);
    const parts = [`attention ${pct(avg)} on average (from ${pct(lo.share)} in layer ${lo.layer} to ${pct(hi.share)} in layer ${hi.layer})`];
    if (mlp.length) parts.push(`the MLP carries more in ${layerList(mlp, false)}`);
    if (attn.length) parts.push(`attention carries more in ${layerList(attn, false)}`);
    lines.push(`- ${d.name}: ${parts.join('; ')}`);
  }
  if (lines.length === 0) lines.push('These results have no attention/MLP split (the model\'s blocks were not split into sub-steps, or they are parallel blocks).');
  return { heading, lines };
}

function attentionShare(l: LayerSummary): number | null {
  const a = l.substeps?.find((s) => s.kind === 'attention')?.absMean.mean;
  const m = l.substeps?.find((s) => s.kind === 'mlp')?.absMean.mean;
  if (a === undefined || m === undefined || !(a + m > 0)) return null;
  return a / (a + m);
}

function cv(s: Summary): number | null {
  return s.std === null || !(s.mean > 0) ? null : s.std / s.mean;
}

/** "24% higher" / "8% lower" / "higher" (when the reference is 0). */
function relative(x: number, y: number): string {
  const dir = x > y ? 'higher' : 'lower';
  if (y === 0) return dir;
  return `${pct(Math.abs(x - y) / Math.abs(y))} ${dir}`;
}

/** "layer 3", "layers 0–2, 5". */
export function layerList(layers: readonly number[], capitalized: boolean): string {
  const sorted = [...layers].sort((x, y) => x - y);
  const runs: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    runs.push(j === i ? `${sorted[i]}` : j === i + 1 ? `${sorted[i]}, ${sorted[j]}` : `${sorted[i]}–${sorted[j]}`);
    i = j + 1;
  }
  const s = `${sorted.length === 1 ? 'layer' : 'layers'} ${runs.join(', ')}`;
  return capitalized ? capital(s) : s;
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function pct(v: number): string {
  const p = v * 100;
  return `${p >= 10 || p === 0 ? p.toFixed(0) : p.toPrecision(2)}%`;
}

function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? String(Number(v.toPrecision(3))) : v.toExponential(2);
}

function pNum(v: number | null): string {
  if (v === null) return '—';
  return v === 0 ? '0' : v < 0.001 ? v.toExponential(1) : String(Number(v.toPrecision(2)));
}
