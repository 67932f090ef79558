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
  /** Per layer, means over tokens of ‖delta‖ / ‖pre‖, cos(pre, post) (dot product in float64), ‖post‖ / ‖pre‖. */
  relChange: number[];
  cosine: number[];
  normGrowth: number[];
}

/**
 * Pools the raw residuals of a text's windows into its per-layer statistics of resid_post - resid_pre.
 * `skipFirst` leaves the text's first position (token 0 of its first window) out.
 */
export function referenceTextStats(windows: WindowProbeValues[], skipFirst = false): ReferenceTextStats {
  return referenceDeltaStats(windows, (w, l) => w.raw![l + 1], (w, l) => w.raw![l], skipFirst);
}

/** The same for the sub-steps: attention = resid_mid - resid_pre, mlp = resid_post - resid_mid. */
export function referenceSubstepStats(windows: WindowProbeValues[]): { attention: ReferenceTextStats; mlp: ReferenceTextStats } {
  return {
    attention: referenceDeltaStats(windows, (w, l) => w.rawMid![l], (w, l) => w.raw![l]),
    mlp: referenceDeltaStats(windows, (w, l) => w.raw![l + 1], (w, l) => w.rawMid![l]),
  };
}

type Point = (w: WindowProbeValues, layer: number) => Float32Array;

function referenceDeltaStats(windows: WindowProbeValues[], after: Point, before: Point, skipFirst = false): ReferenceTextStats {
  const L = windows[0].raw!.length - 1;
  const zeros = () => new Array<number>(L).fill(0);
  const [sum, abs, l2, rel, cos, growth] = [zeros(), zeros(), zeros(), zeros(), zeros(), zeros()];
  let tokens = 0;
  let units = 0;
  windows.forEach((w, wi) => {
    const H = w.raw![0].length / w.tokens;
    const from = skipFirst && wi === 0 ? 1 : 0;
    tokens += w.tokens - from;
    units += (w.tokens - from) * H;
    for (let l = 0; l < L; l++) {
      const a = after(w, l);
      const b = before(w, l);
      for (let t = from; t < w.tokens; t++) {
        let sq = 0;
        let pre = 0;
        let post = 0;
        let dot = 0;
        for (let h = 0; h < H; h++) {
          const x = b[t * H + h];
          const y = a[t * H + h];
          const d = y - x;
          sum[l] += d;
          abs[l] += Math.abs(d);
          sq += d * d;
          pre += x * x;
          post += y * y;
          dot += x * y;
        }
        l2[l] += Math.sqrt(sq);
        rel[l] += Math.sqrt(sq) / Math.sqrt(pre);
        cos[l] += dot / Math.sqrt(pre * post);
        growth[l] += Math.sqrt(post) / Math.sqrt(pre);
      }
    }
  });
  const perToken = (v: number[]) => v.map((s) => s / tokens);
  return { tokens, mean: sum.map((s) => s / units), absMean: abs.map((s) => s / units), l2: perToken(l2), relChange: perToken(rel), cosine: perToken(cos), normGrowth: perToken(growth) };
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
