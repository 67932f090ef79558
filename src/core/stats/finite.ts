/** Texts whose values are not finite (a model with NaN activations) are skipped, naming where. */
import type { TextStats } from './textStats';

export class NonFiniteValuesError extends Error {}

/** Where a text's values first stop being finite numbers ("NaN or infinite at layer 1 (absMean)"), or undefined. */
export function nonFiniteValues(stats: TextStats): string | undefined {
  for (let l = 0; l < stats.layers.length; l++) {
    const layer = stats.layers[l];
    const bad: string[] = (['mean', 'absMean', 'l2', 'residL2', 'relChange', 'cosine', 'normGrowth'] as const).filter((k) => !Number.isFinite(layer[k]));
    for (const s of layer.substeps) for (const k of ['mean', 'absMean', 'l2'] as const) if (!Number.isFinite(s[k])) bad.push(`${s.kind} ${k}`);
    if (bad.length) return `NaN or infinite at layer ${l} (${bad.join(', ')})`;
  }
  return undefined;
}
