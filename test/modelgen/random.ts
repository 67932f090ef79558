/**
 * Seeded randomness for weights. Every tensor gets its own stream derived from (seed, tensor
 * name), so a weight's values do not depend on the order in which a style builds its graph, and two
 * styles (or the two branches of a merged decoder) that share a parameter name share its values.
 */

/** mulberry32: tiny, fast, good enough for test weights; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over the name, mixed with the seed, so streams of different tensors are unrelated. */
export function streamSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Fills `out` with N(mean, std) samples (Box-Muller, both values of each pair used). */
export function fillNormal(out: Float32Array, rand: () => number, std: number, mean = 0): Float32Array {
  for (let i = 0; i < out.length; i += 2) {
    const u = 1 - rand(); // in (0, 1], so log never sees 0
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    out[i] = mean + r * Math.cos(2 * Math.PI * v);
    if (i + 1 < out.length) out[i + 1] = mean + r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** Per-name normal tensors for one model seed. */
export class WeightRandom {
  constructor(readonly seed: number) {}

  normal(name: string, size: number, std: number, mean = 0): Float32Array {
    return fillNormal(new Float32Array(size), mulberry32(streamSeed(this.seed, name)), std, mean);
  }

  /** A scalar in [lo, hi), stable per name; used for per-layer gains so layers differ visibly. */
  uniform(name: string, lo: number, hi: number): number {
    return lo + (hi - lo) * mulberry32(streamSeed(this.seed, name))();
  }
}
