/** Lens summaries: a text's windows pooled into per-point sums, sums into summaries, datasets merged. */
import type { LensWindowValues } from './lensReadout';
import type { LensLastPositionSummary, LensPointSummary, LensSums } from './lensResults';

export function emptySums(points: number): LensSums[] {
  return Array.from({ length: points }, () => ({ positions: 0, predicted: 0, entropy: 0, nll: 0, top1: 0, agreeFinal: 0, klToFinal: 0, lastTexts: 0, lastEntropy: 0, lastAgree: 0 }));
}

/**
 * Adds one text's positions to `sums`. `next[t]` is the actual next token at position t (-1 at
 * the text's last position); the last point is the final layer (KL 0 by construction).
 */
export function addTextPositions(sums: LensSums[], values: LensWindowValues, next: number[], k: number): void {
  const P = sums.length;
  const final = P - 1;
  for (let t = 0; t < values.tokens; t++) {
    const finalTop = values.topIds[(t * P + final) * k];
    for (let p = 0; p < P; p++) {
      const s = sums[p];
      const top = values.topIds[(t * P + p) * k];
      const entropy = values.entropy[t * P + p];
      s.positions += 1;
      s.entropy += entropy;
      s.klToFinal += p === final ? 0 : values.klToFinal[t * P + p];
      s.agreeFinal += top === finalTop ? 1 : 0;
      if (next[t] >= 0) {
        s.predicted += 1;
        s.nll -= values.nextLogProb[t * P + p];
        s.top1 += top === next[t] ? 1 : 0;
      } else {
        s.lastTexts += 1;
        s.lastEntropy += entropy;
        s.lastAgree += top === finalTop ? 1 : 0;
      }
    }
  }
}

export function mergeSums(a: LensSums[], b: LensSums[]): LensSums[] {
  return a.map((x, p) => {
    const y = b[p];
    return {
      positions: x.positions + y.positions,
      predicted: x.predicted + y.predicted,
      entropy: x.entropy + y.entropy,
      nll: x.nll + y.nll,
      top1: x.top1 + y.top1,
      agreeFinal: x.agreeFinal + y.agreeFinal,
      klToFinal: x.klToFinal + y.klToFinal,
      lastTexts: x.lastTexts + y.lastTexts,
      lastEntropy: x.lastEntropy + y.lastEntropy,
      lastAgree: x.lastAgree + y.lastAgree,
    };
  });
}

const ratio = (a: number, n: number) => (n > 0 ? a / n : Number.NaN);

export function summarizePoints(sums: LensSums[], layers: number[]): LensPointSummary[] {
  return sums.map((s, p) => ({
    layer: layers[p],
    entropy: ratio(s.entropy, s.positions),
    nll: ratio(s.nll, s.predicted),
    top1: ratio(s.top1, s.predicted),
    agreeFinal: ratio(s.agreeFinal, s.positions),
    klToFinal: ratio(s.klToFinal, s.positions),
  }));
}

export function summarizeLastPosition(sums: LensSums[], layers: number[]): LensLastPositionSummary[] {
  return sums.map((s, p) => ({ layer: layers[p], entropy: ratio(s.lastEntropy, s.lastTexts), top1: ratio(s.lastAgree, s.lastTexts) }));
}
