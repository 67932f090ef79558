import type { TokenProfile } from '../core/results';

/**
 * How strongly the layers react to each token, in [0, 1]: the mean over layers of the token's
 * absolute mean change relative to that layer's largest one in the text. Scaling per layer keeps a
 * few large layers from deciding the picture alone.
 */
export function reactionScores(profile: TokenProfile): number[] {
  const tokens = profile.tokens.length;
  const scores = new Array<number>(tokens).fill(0);
  for (const row of profile.absMean) {
    const max = Math.max(...row);
    if (!(max > 0)) continue;
    for (let t = 0; t < tokens; t++) scores[t] += row[t] / max / profile.absMean.length;
  }
  return scores;
}

/**
 * Theme colours of the six shading levels, contributed in package.json (`contributes.colors`) with
 * a default for dark, light and both high-contrast themes, so the shading follows the theme and
 * users can change it with `workbench.colorCustomizations`.
 */
export const SHADE_COLOR_IDS = [1, 2, 3, 4, 5, 6].map((level) => `layerProfiler.tokenShade${level}`);
