/**
 * Per-text statistics pooled over all of a text's tokens (across its windows), from the probes'
 * per-token values. Every token has the same number of hidden units, so the mean over tokens of
 * per-token means is the mean over all (token, unit) values of the text.
 */
import type { SubstepKind } from '../results';

export interface TokenValues {
  /** [token][layer] values of one window, padding already removed. */
  mean: Float64Array[];
  absMean: Float64Array[];
  l2: Float64Array[];
  residL2: Float64Array[];
  substeps: { kind: SubstepKind; mean: Float64Array[]; absMean: Float64Array[]; l2: Float64Array[] }[];
}

export interface TextLayerStats {
  mean: number;
  absMean: number;
  l2: number;
  residL2: number;
  substeps: { kind: SubstepKind; mean: number; absMean: number; l2: number }[];
}

export interface TextStats {
  tokens: number;
  /** Forward passes the text took. */
  windows: number;
  /** Its values are those of one pass over all its tokens (one window, or windows continued through the KV cache). */
  exact: boolean;
  layers: TextLayerStats[];
}

/** Sums per layer of one text's per-token values, fed window by window. */
export class TextAccumulator {
  private tokens = 0;
  private readonly sums: { mean: Float64Array; absMean: Float64Array; l2: Float64Array; residL2: Float64Array };
  private readonly subSums: { kind: SubstepKind; mean: Float64Array; absMean: Float64Array; l2: Float64Array }[];

  constructor(
    private readonly numLayers: number,
    substepKinds: SubstepKind[],
  ) {
    const z = () => new Float64Array(numLayers);
    this.sums = { mean: z(), absMean: z(), l2: z(), residL2: z() };
    this.subSums = substepKinds.map((kind) => ({ kind, mean: z(), absMean: z(), l2: z() }));
  }

  /** Adds one token's values: stat arrays indexed by layer. */
  addToken(v: { mean: ArrayLike<number>; absMean: ArrayLike<number>; l2: ArrayLike<number>; residL2: ArrayLike<number>; substeps: { mean: ArrayLike<number>; absMean: ArrayLike<number>; l2: ArrayLike<number> }[] }): void {
    this.tokens += 1;
    for (let l = 0; l < this.numLayers; l++) {
      this.sums.mean[l] += v.mean[l];
      this.sums.absMean[l] += v.absMean[l];
      this.sums.l2[l] += v.l2[l];
      this.sums.residL2[l] += v.residL2[l];
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
      layers.push({
        mean: this.sums.mean[l] / n,
        absMean: this.sums.absMean[l] / n,
        l2: this.sums.l2[l] / n,
        residL2: this.sums.residL2[l] / n,
        substeps: this.subSums.map((s) => ({ kind: s.kind, mean: s.mean[l] / n, absMean: s.absMean[l] / n, l2: s.l2[l] / n })),
      });
    }
    return { tokens: n, windows: passes.windows, exact: passes.exact, layers };
  }
}
