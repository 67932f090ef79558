/** How the benches summarise repeated measurements: quantiles (linear between order statistics), the median, and min/median/max. */

export interface Range {
  min: number;
  median: number;
  max: number;
}

export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  return s[lo] + (s[Math.ceil(at)] - s[lo]) * (at - lo);
}

export const median = (xs: number[]): number => quantile(xs, 0.5);

export const range = (xs: number[]): Range => ({ min: Math.min(...xs), median: median(xs), max: Math.max(...xs) });
