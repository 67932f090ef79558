/**
 * Drill-down: which texts give a layer its value. From the per-text records of each dataset, the
 * texts with the highest and lowest value of a metric at one layer. Pure, like chartData.
 */
import type { TextLayerValues } from '../core/results';
import { allDatasets, colorIndexOf } from './chartData';
import type { ViewState } from './protocol';

/** A per-text value a chart shows, read from one text's values at one layer. */
export interface DrillMetric {
  /** In words, for the list's heading. */
  label: string;
  value: (v: TextLayerValues) => number;
}

const substep = (v: TextLayerValues, kind: string) => v.substeps?.find((s) => s.kind === kind)?.absMean;

export const DRILL_METRICS = {
  absMean: { label: 'mean |Δ|', value: (v) => v.absMean },
  mean: { label: 'mean Δ', value: (v) => v.mean },
  l2: { label: 'per-token L2 norm of Δ', value: (v) => v.l2 },
  relChange: { label: 'relative change ‖Δ‖ / ‖resid_pre‖', value: (v) => v.relChange },
  cosine: { label: 'cosine of resid_pre and resid_post', value: (v) => v.cosine },
  blockInfluence: { label: 'Block Influence (1 − cosine)', value: (v) => 1 - v.cosine },
  attentionShare: {
    label: 'attention’s share of the change',
    value: (v) => {
      const a = substep(v, 'attention');
      const m = substep(v, 'mlp');
      return a !== undefined && m !== undefined && a + m > 0 ? a / (a + m) : Number.NaN;
    },
  },
} satisfies Record<string, DrillMetric>;

export type DrillMetricId = keyof typeof DRILL_METRICS;

export function isDrillMetric(id: string): id is DrillMetricId {
  return Object.hasOwn(DRILL_METRICS, id);
}

export interface DrillText {
  path: string;
  value: number;
  tokens: number;
  /** The host can open it: a file, or a selection whose document the host knows (opened at its range). */
  opens: boolean;
}

export interface DrillDataset {
  name: string;
  colorIndex: number;
  /** Texts with a value at this layer. */
  n: number;
  /** Highest first. When the dataset has few texts, all of them, and `lowest` is empty. */
  highest: DrillText[];
  /** Lowest first. */
  lowest: DrillText[];
  /** Why no texts are listed (no per-text records, e.g. results from a profile@1 file). */
  reason?: string;
}

export interface DrillDown {
  layer: number;
  metric: DrillMetricId;
  datasets: DrillDataset[];
}

const isAbsolutePath = (p: string) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');

/** `only`: the datasets to list (default: the visible ones). */
export function drillDown(state: ViewState, metric: DrillMetricId, layer: number, count = 5, only?: readonly string[]): DrillDown {
  const hidden = new Set(state.hidden);
  const read = DRILL_METRICS[metric].value;
  const datasets = allDatasets(state)
    .filter((d) => (only ? only.includes(d.name) : !hidden.has(d.name)))
    .map((d): DrillDataset => {
      const base = { name: d.name, colorIndex: colorIndexOf(state, d.name) };
      const index = d.layers.findIndex((l) => l.layer === layer);
      const records = Array.isArray(d.records) ? d.records : [];
      if (records.length === 0) return { ...base, n: 0, highest: [], lowest: [], reason: 'No per-text values: these results were read from an older file (profile@1). Profile the dataset again to see its texts.' };
      if (index < 0) return { ...base, n: 0, highest: [], lowest: [], reason: `No layer ${layer} in this dataset.` };
      // A selection's record holds its label: it opens where the host knows its document.
      const selection = state.selection === d.name;
      const atOrigin = state.withOrigin?.includes(d.name) ?? false;
      const texts = records
        .map((r): DrillText => {
          const values = r.layers?.[index];
          const value = values ? read(values) : Number.NaN;
          return { path: String(r.path), value: typeof value === 'number' ? value : Number.NaN, tokens: r.tokens, opens: atOrigin || (!selection && isAbsolutePath(String(r.path))) };
        })
        .filter((t) => Number.isFinite(t.value))
        .sort((x, y) => y.value - x.value || (x.path < y.path ? -1 : 1));
      if (texts.length <= 2 * count) return { ...base, n: texts.length, highest: texts, lowest: [] };
      return { ...base, n: texts.length, highest: texts.slice(0, count), lowest: texts.slice(-count).reverse() };
    });
  return { layer, metric, datasets };
}

/** The file name, and the folder it sits in, for a short list entry. */
export function shortPath(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts.length <= 2 ? path : `…/${parts.slice(-2).join('/')}`;
}
