/** Joins one typed array picked from each of several window pieces, in order (token-by-token decoding). */
export function joined<T, A extends Float32Array | Int32Array>(parts: readonly T[], pick: (p: T) => A, make: (n: number) => A): A {
  const out = make(parts.reduce((n, p) => n + pick(p).length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(pick(p), at);
    at += pick(p).length;
  }
  return out;
}

export function joinedFloats<T>(parts: readonly T[], pick: (p: T) => Float32Array): Float32Array {
  return joined(parts, pick, (n) => new Float32Array(n));
}
