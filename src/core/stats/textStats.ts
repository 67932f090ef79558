/**
 * Per-text statistics pooled over all of a text's tokens (across its windows), from the probes'
 * per-token values. Every token has the same number of hidden units, so the mean over tokens of
 * per-token means is the mean over all (token, unit) values of the text.
 */
import type { SubstepKind, TextLayerValues } from '../results';

export type TextLayerStats = TextLayerValues;

export interface TextStats {
  tokens: number;
  /** Forward passes the text took. */
  windows: number;
  /** Its values are those of one pass over all its tokens (one window, or windows continued through the KV cache). */
  exact: boolean;
  layers: TextLayerStats[];
}

/** One token's probe values, indexed by layer. */
export interface TokenProbeValues {
  mean: ArrayLike<number>;
  absMean: ArrayLike<number>;
  /** ‖delta‖ of the token at each layer. */
  l2: ArrayLike<number>;
  /** ‖resid_post‖ at each layer. */
  residL2: ArrayLike<number>;
  /** ‖resid_pre‖ at each layer (the previous layer's resid_post; the embedding output at layer 0). */
  residPreL2: ArrayLike<number>;
  substeps: { mean: ArrayLike<number>; absMean: ArrayLike<number>; l2: ArrayLike<number> }[];
}

/**
 * The metrics derived from one token's three norms at a layer, without another pass over the
 * hidden units: ‖post‖² = ‖pre‖² + ‖Δ‖² + 2 pre·Δ gives pre·post, hence the cosine.
 */
export function derivedMetrics(pre: number, post: number, delta: number): { relChange: number; cosine: number; normGrowth: number } {
  const cosine = (pre * pre + post * post - delta * delta) / (2 * pre * post);
  return { relChange: delta / pre, cosine: Math.max(-1, Math.min(1, cosine)), normGrowth: post / pre };
}

const POOLED = ['mean', 'absMean', 'l2', 'residL2', 'relChange', 'cosine', 'normGrowth'] as const;

/** Sums per layer of one text's per-token values, fed window by window. */
export class TextAccumulator {
  private tokens = 0;
  private readonly sums: Record<(typeof POOLED)[number], Float64Array>;
  private readonly subSums: { kind: SubstepKind; mean: Float64Array; absMean: Float64Array; l2: Float64Array }[];

  constructor(
    private readonly numLayers: number,
    substepKinds: SubstepKind[],
  ) {
    const z = () => new Float64Array(numLayers);
    this.sums = { mean: z(), absMean: z(), l2: z(), residL2: z(), relChange: z(), cosine: z(), normGrowth: z() };
    this.subSums = substepKinds.map((kind) => ({ kind, mean: z(), absMean: z(), l2: z() }));
  }

  /** Adds one token's values. */
  addToken(v: TokenProbeValues): void {
    this.tokens += 1;
    for (let l = 0; l < this.numLayers; l++) {
      this.sums.mean[l] += v.mean[l];
      this.sums.absMean[l] += v.absMean[l];
      this.sums.l2[l] += v.l2[l];
      this.sums.residL2[l] += v.residL2[l];
      const d = derivedMetrics(v.residPreL2[l], v.residL2[l], v.l2[l]);
      this.sums.relChange[l] += d.relChange;
      this.sums.cosine[l] += d.cosine;
      this.sums.normGrowth[l] += d.normGrowth;
      this.subSums.forEach((s, i) => {
        s.mean[l] += v.substeps[i].mean[l];
        s.absMean[l] += v.substeps[i].absMean[l];
        s.l2[l] += v.substeps[i].l2[l];
      });
    }
  }

  get tokenCount(): number {
    return this.tokens;
  }

  finish(passes: { windows: number; exact: boolean } = { windows: 1, exact: true }): TextStats {
    const n = this.tokens;
    const layers: TextLayerStats[] = [];
    for (let l = 0; l < this.numLayers; l++) {
      const at = (k: (typeof POOLED)[number]) => this.sums[k][l] / n;
      layers.push({
        mean: at('mean'),
        absMean: at('absMean'),
        l2: at('l2'),
        residL2: at('residL2'),
        relChange: at('relChange'),
        cosine: at('cosine'),
        normGrowth: at('normGrowth'),
        substeps: this.subSums.map((s) => ({ kind: s.kind, mean: s.mean[l] / n, absMean: s.absMean[l] / n, l2: s.l2[l] / n })),
      });
    }
    return { tokens: n, windows: passes.windows, exact: passes.exact, layers };
  }
}
