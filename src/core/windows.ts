/**
 * How a text's tokens are cut into forward passes. A window is one pass; a segment is a run of
 * windows that continue one another through the KV cache, so a segment's values are those of one
 * pass over all its tokens. Without a cache every window is its own segment.
 */

export interface WindowPolicy {
  /** Tokens per window: the requested maximum, capped by what the graph takes. */
  windowLength: number;
  /** Windows continue one another through the KV cache. */
  carriesCache: boolean;
  /** Most positions one pass may hold (position table rows, the config's positions), if bounded. */
  positionLimit?: number;
}

export interface TextWindows {
  segments: number[][][];
  windows: number;
  /** The whole text was seen in one pass (one segment), so its values are those of one pass. */
  exact: boolean;
}

export function planTextWindows(ids: number[], policy: WindowPolicy): TextWindows {
  const segmentLength = policy.carriesCache ? (policy.positionLimit ?? Infinity) : policy.windowLength;
  const segments: number[][][] = [];
  for (let start = 0; start < ids.length; start += segmentLength) {
    const segment = ids.slice(start, start + segmentLength);
    const windows: number[][] = [];
    for (let i = 0; i < segment.length; i += policy.windowLength) windows.push(segment.slice(i, i + policy.windowLength));
    segments.push(windows);
  }
  return { segments, windows: segments.reduce((n, s) => n + s.length, 0), exact: segments.length <= 1 };
}

/** The window length for a requested maximum: capped by a fixed sequence length and the position limit. */
export function effectiveWindowLength(requested: number, caps: { fixedSequenceLength?: number; positionLimit?: number }): number {
  return Math.max(1, Math.min(requested, caps.fixedSequenceLength ?? Infinity, caps.positionLimit ?? Infinity));
}
