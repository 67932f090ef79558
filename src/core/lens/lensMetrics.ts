/** The per-point lens metrics the views chart and compare, and how each reads (no statistics imports: the webview uses it). */

/** Per-point lens metrics a text has a value of, in the order the views offer them. */
export const LENS_METRICS = ['top1', 'agreeFinal', 'nll', 'entropy', 'klToFinal'] as const;
export type LensMetric = (typeof LENS_METRICS)[number];

/** How each metric reads, and which way means "the layer already knows the next token". */
export const LENS_METRIC_WORDS: Record<LensMetric, { label: string; unit: string; better: 'higher' | 'lower' }> = {
  top1: { label: 'top-1 accuracy', unit: 'fraction of positions', better: 'higher' },
  agreeFinal: { label: 'agreement with the final layer', unit: 'fraction of positions', better: 'higher' },
  nll: { label: 'NLL of the next token', unit: 'nats', better: 'lower' },
  entropy: { label: 'entropy', unit: 'nats', better: 'lower' },
  klToFinal: { label: 'KL to the final layer', unit: 'nats', better: 'lower' },
};

export function isLensMetric(v: unknown): v is LensMetric {
  return typeof v === 'string' && (LENS_METRICS as readonly string[]).includes(v);
}

