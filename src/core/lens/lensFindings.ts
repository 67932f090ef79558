/**
 * Findings in plain words for lens datasets: per dataset, how early its layers know the next
 * token (the first layer whose top-1 agrees with the model's own prediction on at least half the
 * positions, and the first whose top-1 accuracy comes within 90% of the output's), and for the
 * comparison shown, the layers where one dataset's lens is significantly better than the other's.
 */
import { layerList, type Findings, type FindingsSection } from '../compare/findings';
import type { Correction, LayerComparison } from '../compare/types';
import { LENS_METRIC_WORDS, type LensMetric } from './lensMetrics';
import type { LensPointSummary } from './lensResults';

export interface LensFindingsDataset {
  name: string;
  texts: number;
  /** Pooled over positions, per point in order (-1 first). */
  points: LensPointSummary[];
}

export interface LensFindingsComparison {
  a: string;
  b: string;
  metric: LensMetric;
  correction: Correction;
  alpha: number;
  layers: LayerComparison[];
}

/** The share of the final point's value a layer needs to count as knowing the next token. */
export const NEAR_FINAL = 0.9;

const pointName = (layer: number) => (layer < 0 ? 'the embedding output' : `layer ${layer}`);

/** The first point whose value reaches `threshold`, or undefined. */
export function firstReaching(points: readonly LensPointSummary[], pick: (p: LensPointSummary) => number, threshold: number): LensPointSummary | undefined {
  return points.find((p) => Number.isFinite(pick(p)) && pick(p) >= threshold);
}

export function lensFindings(datasets: readonly LensFindingsDataset[], comparison: LensFindingsComparison | undefined): Findings {
  const sections: FindingsSection[] = [];
  if (comparison) sections.push(comparisonSection(comparison));
  sections.push(earliest(datasets));
  const method = comparison
    ? `Metric: ${LENS_METRIC_WORDS[comparison.metric].label} per text (each text's mean over its positions). Welch's t-test per layer, ${comparison.correction === 'bh' ? 'Benjamini–Hochberg q' : comparison.correction === 'holm' ? 'Holm-adjusted p' : 'p not adjusted'} across the layers, significant when ${comparison.correction === 'none' ? 'p' : 'q'} ≤ ${comparison.alpha}.`
    : 'Lens summaries pooled over every position of every text of each dataset.';
  return { title: 'Logit lens findings', method, sections };
}

function earliest(datasets: readonly LensFindingsDataset[]): FindingsSection {
  const lines = datasets.map((d) => {
    const final = d.points[d.points.length - 1];
    if (!final) return `- ${d.name}: no lens points`;
    const agree = firstReaching(d.points, (p) => p.agreeFinal, 0.5);
    const near = Number.isFinite(final.top1) && final.top1 > 0 ? firstReaching(d.points, (p) => p.top1, NEAR_FINAL * final.top1) : undefined;
    const parts = [agree ? `agrees with the output's top-1 on half the positions from ${pointName(agree.layer)}` : 'no layer before the output agrees with it on half the positions'];
    if (near) parts.push(`top-1 accuracy within ${Math.round(NEAR_FINAL * 100)}% of the output's (${pct(final.top1)}) from ${pointName(near.layer)}`);
    return `- ${d.name} (${d.texts} text${d.texts === 1 ? '' : 's'}): ${parts.join('; ')}`;
  });
  return { heading: 'How early each dataset’s layers know the next token', lines };
}

function comparisonSection(c: LensFindingsComparison): FindingsSection {
  const words = LENS_METRIC_WORDS[c.metric];
  const q = c.correction === 'none' ? 'p' : 'q';
  const lines: string[] = [];
  for (const side of ['a', 'b'] as const) {
    const name = side === 'a' ? c.a : c.b;
    const other = side === 'a' ? c.b : c.a;
    // Better on `side`: higher where higher is better, lower where lower is.
    const better = c.layers.filter((l) => l.significant && l.higher !== null && (words.better === 'higher' ? l.higher === side : l.higher !== side));
    if (better.length === 0) continue;
    lines.push(`**${capital(pointList(better.map((l) => l.layer)))} know${better.length === 1 ? 's' : ''} the next token better on ${name} than on ${other}** (${words.label} ${words.better}):`);
    for (const l of better) {
      const [x, y] = side === 'a' ? [l.a.mean, l.b.mean] : [l.b.mean, l.a.mean];
      const show = words.unit === 'nats' ? (v: number) => `${num(v)} nats` : pct;
      lines.push(`- ${pointName(l.layer)}: ${show(x)} vs ${show(y)} (${q} = ${pNum(l.q)})`);
    }
  }
  const tested = c.layers.filter((l) => l.degenerate !== 'too-few-texts');
  if (tested.length === 0) lines.push(`No layer can be tested: ${c.a} or ${c.b} has fewer than 2 texts.`);
  else if (!c.layers.some((l) => l.significant)) lines.push(`No layer differs between ${c.a} and ${c.b} on ${words.label} at this sample size (n = ${c.layers[0].a.n} and ${c.layers[0].b.n}).`);
  return { heading: `${c.a} vs ${c.b}: ${words.label}`, lines };
}

/** "layers 3–5", "the embedding output and layer 0": point -1 is named, not numbered. */
function pointList(layers: readonly number[]): string {
  const blocks = layers.filter((l) => l >= 0);
  const parts = [...(layers.some((l) => l < 0) ? ['the embedding output'] : []), ...(blocks.length ? [layerList(blocks, false)] : [])];
  return parts.join(' and ');
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function pct(v: number): string {
  return `${Math.round(v * 1000) / 10}%`;
}

function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? String(Number(v.toPrecision(3))) : v.toExponential(2);
}

function pNum(v: number | null): string {
  if (v === null) return '—';
  return v === 0 ? '0' : v < 0.001 ? v.toExponential(1) : String(Number(v.toPrecision(2)));
}
