/** Hands a window's per-token probe values to a text's accumulator, token by token. */
import type { WindowProbeValues } from '../runtime/probedSession';
import type { TextAccumulator, TokenProbeValues } from './textStats';

/** Token `t` of a window: each statistic's per-layer values, and ‖resid_pre‖ from the neighbouring point. */
export function tokenValues(v: WindowProbeValues, t: number, numLayers: number): TokenProbeValues {
  const L = numLayers;
  const at = (a: Float32Array) => a.subarray(t * L, (t + 1) * L);
  const residL2 = at(v.residL2);
  const residPreL2 = new Float64Array(L);
  residPreL2[0] = v.embedL2[t];
  for (let l = 1; l < L; l++) residPreL2[l] = residL2[l - 1];
  return {
    mean: at(v.mean),
    absMean: at(v.absMean),
    l2: at(v.l2),
    residL2,
    residPreL2,
    substeps: v.substeps.map((s) => ({ mean: at(s.mean), absMean: at(s.absMean), l2: at(s.l2) })),
  };
}

/** Feeds a window's tokens from `from` on (1 leaves out a text's first position). */
export function feedWindow(acc: TextAccumulator, v: WindowProbeValues, numLayers: number, from = 0): void {
  for (let t = from; t < v.tokens; t++) acc.addToken(tokenValues(v, t, numLayers));
}
