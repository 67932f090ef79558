/**
 * Independent reference: the layer statistics computed in float64, in plain loops, from raw
 * residual tensors the graph exposes, never from the probes under test.
 */
import type { WindowProbeValues } from '../../src/core/runtime/probedSession';

export interface ReferenceTextStats {
  tokens: number;
  /** Per layer: mean of delta over all tokens and units, mean of |delta|, mean per-token L2 of delta. */
  mean: number[];
  absMean: number[];
  l2: number[];
}

/** Pools the raw residuals of a text's windows into its per-layer statistics of resid_post - resid_pre. */
export function referenceTextStats(windows: WindowProbeValues[]): ReferenceTextStats {
  return referenceDeltaStats(windows, (w, l) => w.raw![l + 1], (w, l) => w.raw![l]);
}

/** The same for the sub-steps: attention = resid_mid - resid_pre, mlp = resid_post - resid_mid. */
export function referenceSubstepStats(windows: WindowProbeValues[]): { attention: ReferenceTextStats; mlp: ReferenceTextStats } {
  return {
    attention: referenceDeltaStats(windows, (w, l) => w.rawMid![l], (w, l) => w.raw![l]),
    mlp: referenceDeltaStats(windows, (w, l) => w.raw![l + 1], (w, l) => w.rawMid![l]),
  };
}

type Point = (w: WindowProbeValues, layer: number) => Float32Array;

function referenceDeltaStats(windows: WindowProbeValues[], after: Point, before: Point): ReferenceTextStats {
  const L = windows[0].raw!.length - 1;
  const sum = new Array<number>(L).fill(0);
  const abs = new Array<number>(L).fill(0);
  const l2 = new Array<number>(L).fill(0);
  let tokens = 0;
  let units = 0;
  for (const w of windows) {
    const H = w.raw![0].length / w.tokens;
    tokens += w.tokens;
    units += w.tokens * H;
    for (let l = 0; l < L; l++) {
      const a = after(w, l);
      const b = before(w, l);
      for (let t = 0; t < w.tokens; t++) {
        let sq = 0;
        for (let h = 0; h < H; h++) {
          const d = a[t * H + h] - b[t * H + h];
          sum[l] += d;
          abs[l] += Math.abs(d);
          sq += d * d;
        }
        l2[l] += Math.sqrt(sq);
      }
    }
  }
  return { tokens, mean: sum.map((s) => s / units), absMean: abs.map((s) => s / units), l2: l2.map((s) => s / tokens) };
}

/** Sample mean and standard deviation (n-1), two-pass, float64. */
export function meanStd(values: number[]): { mean: number; std: number | null } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, std: null };
  const ss = values.reduce((a, b) => a + (b - mean) * (b - mean), 0);
  return { mean, std: Math.sqrt(ss / (n - 1)) };
}

export function relClose(a: number, b: number, rel: number, abs = 1e-7): boolean {
  return Math.abs(a - b) <= abs + rel * Math.max(Math.abs(a), Math.abs(b));
}
