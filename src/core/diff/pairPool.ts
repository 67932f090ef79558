/**
 * Many before/after pairs (`diff --pairs A_DIR B_DIR`, files matched by relative path): each pair's
 * distances averaged over its aligned tokens, then pooled per point across pairs (mean, sample
 * std, n), as profiles pool texts. A single pair's numbers are measurements; pooled ones have a spread.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Summary } from '../results';
import { emptyMoments, pushValue, summarize } from '../stats/moments';
import type { DiffPoint } from './diffResults';

export const DIFF_PAIRS_SCHEMA = 'layer-profiler/diff-pairs@1';

/** One pair's distances at a point, averaged over its aligned tokens (nulls left out). */
export interface PairPointMeans {
  layer: number;
  l2: number;
  cosine: number | null;
  relL2: number | null;
}

export interface PooledPoint {
  layer: number;
  l2: Summary;
  cosine: Summary;
  relL2: Summary;
}

export function pairMeans(points: DiffPoint[]): PairPointMeans[] {
  const mean = (values: (number | null)[]) => {
    const kept = values.filter((v): v is number => v !== null && Number.isFinite(v));
    return kept.length ? kept.reduce((a, b) => a + b, 0) / kept.length : null;
  };
  return points.map((p) => ({ layer: p.layer, l2: mean(p.l2) ?? Number.NaN, cosine: mean(p.cosine), relL2: mean(p.relL2) }));
}

export function poolPairs(pairs: PairPointMeans[][]): PooledPoint[] {
  if (pairs.length === 0) return [];
  return pairs[0].map((first, i) => {
    const m = { l2: emptyMoments(), cosine: emptyMoments(), relL2: emptyMoments() };
    for (const pair of pairs) {
      const p = pair[i];
      if (Number.isFinite(p.l2)) pushValue(m.l2, p.l2);
      if (p.cosine !== null) pushValue(m.cosine, p.cosine);
      if (p.relL2 !== null) pushValue(m.relL2, p.relL2);
    }
    return { layer: first.layer, l2: summarize(m.l2), cosine: summarize(m.cosine), relL2: summarize(m.relL2) };
  });
}

/** Files of two folders matched by their path relative to each folder. */
export async function matchFiles(aDir: string, bDir: string): Promise<{ matched: string[]; onlyA: string[]; onlyB: string[] }> {
  const a = new Set(await listFiles(aDir));
  const b = new Set(await listFiles(bDir));
  return { matched: [...a].filter((f) => b.has(f)).sort(), onlyA: [...a].filter((f) => !b.has(f)).sort(), onlyB: [...b].filter((f) => !a.has(f)).sort() };
}

async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.name === '.git' || e.name === 'node_modules') continue;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) out.push(path.relative(root, full));
    }
  };
  await walk(root);
  return out;
}
