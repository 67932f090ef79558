/**
 * What the two-text distance graph yields per run, and the aligned positions it is fed. A run's
 * `targets` are per-position flags aligned with each row's ids (1: the position is in a pair), so
 * windows and their token-by-token pieces carry their own share; the gathered positions come out
 * in increasing order, which is the pairs' order on each side (alignments are monotone).
 */
import * as ort from 'onnxruntime-node';
import { DIFF_IO, diffRowStateOutput, diffStateOutput } from '../graph/diffGraph';
import { joinedFloats } from '../runtime/joined';
import type { Readout } from '../runtime/windowRunner';

/** Paired mode: per aligned pair and point, pair-major `[pair * points + point]`. */
export interface DiffReductions {
  kind: 'paired';
  pairs: number;
  l2: Float32Array;
  normA: Float32Array;
  normB: Float32Array;
  dot: Float32Array;
}

/** One text's aligned states, per point `[pair * hidden + h]`. */
export interface DiffStates {
  kind: 'states';
  pairs: number;
  hidden: number;
  states: Float32Array[];
}

/** Both rows' aligned states of one run (windows of an LCS alignment), each side in its pairs' order. */
export interface DiffRowStates {
  kind: 'rows';
  a: DiffStates;
  b: DiffStates;
}

export type DiffRunValues = DiffReductions | DiffStates | DiffRowStates;

/** Per-position flags for `n` positions: 1 where `positions` holds the position. */
export function pairFlags(n: number, positions: number[]): number[] {
  const flags = new Array<number>(n).fill(0);
  for (const p of positions) flags[p] = 1;
  return flags;
}

/** The flagged positions as an int64 index input. */
function indexTensor(flags: number[] | undefined): ort.Tensor {
  const positions: bigint[] = [];
  (flags ?? []).forEach((f, t) => f && positions.push(BigInt(t)));
  return new ort.Tensor('int64', BigInt64Array.from(positions), [positions.length]);
}

const none = (): ort.Tensor => indexTensor(undefined);

function statesOf(out: ort.InferenceSession.ReturnType, fetches: string[]): DiffStates {
  const first = out[fetches[0]];
  return { kind: 'states', pairs: Number(first.dims[0]), hidden: Number(first.dims[1]), states: fetches.map((f) => Float32Array.from(out[f].data as Float32Array)) };
}

/** Consecutive pieces of one text's aligned states, joined in order. */
export function joinStates(parts: DiffStates[]): DiffStates {
  return { kind: 'states', pairs: parts.reduce((n, p) => n + p.pairs, 0), hidden: parts[0].hidden, states: parts[0].states.map((_, k) => joinedFloats(parts, (p) => p.states[k])) };
}

/** Consecutive pieces of paired reductions, joined in order. */
export function joinReductions(r: DiffReductions[]): DiffReductions {
  return { kind: 'paired', pairs: r.reduce((n, p) => n + p.pairs, 0), l2: joinedFloats(r, (p) => p.l2), normA: joinedFloats(r, (p) => p.normA), normB: joinedFloats(r, (p) => p.normB), dot: joinedFloats(r, (p) => p.dot) };
}

function only<K extends DiffRunValues['kind']>(parts: DiffRunValues[], kind: K): Extract<DiffRunValues, { kind: K }>[] {
  if (parts.some((p) => p.kind !== kind)) throw new Error('unexpected distance values');
  return parts as Extract<DiffRunValues, { kind: K }>[];
}

/**
 * Paired mode: the two texts are the two rows of one batch and every output already holds their
 * pairs, so each row reads the same values. Row 0's flags mark A's positions, row 1's B's.
 */
export class DiffReadout implements Readout<DiffRunValues> {
  readonly fetches = [DIFF_IO.l2, DIFF_IO.normA, DIFF_IO.normB, DIFF_IO.dot];

  extract(out: ort.InferenceSession.ReturnType): DiffRunValues {
    const take = (name: string) => Float32Array.from(out[name].data as Float32Array);
    return { kind: 'paired', pairs: Number(out[DIFF_IO.l2].dims[0]), l2: take(DIFF_IO.l2), normA: take(DIFF_IO.normA), normB: take(DIFF_IO.normB), dot: take(DIFF_IO.dot) };
  }

  concat(parts: DiffRunValues[]): DiffRunValues {
    return joinReductions(only(parts, 'paired'));
  }

  extraFeeds(targets: number[][] | undefined): Record<string, ort.Tensor> {
    return { [DIFF_IO.indexA]: indexTensor(targets?.[0]), [DIFF_IO.indexB]: indexTensor(targets?.[1]), [DIFF_IO.rowIndexA]: none(), [DIFF_IO.rowIndexB]: none() };
  }
}

/** Paired graphs, windows of an LCS alignment: each row's flagged states, reduced outside. */
export class DiffRowStatesReadout implements Readout<DiffRunValues> {
  readonly fetches: string[];
  private readonly a: string[];
  private readonly b: string[];

  constructor(points: number) {
    this.a = Array.from({ length: points }, (_, k) => diffRowStateOutput('a', k));
    this.b = Array.from({ length: points }, (_, k) => diffRowStateOutput('b', k));
    this.fetches = [...this.a, ...this.b];
  }

  extract(out: ort.InferenceSession.ReturnType): DiffRunValues {
    return { kind: 'rows', a: statesOf(out, this.a), b: statesOf(out, this.b) };
  }

  concat(parts: DiffRunValues[]): DiffRunValues {
    const r = only(parts, 'rows');
    return { kind: 'rows', a: joinStates(r.map((p) => p.a)), b: joinStates(r.map((p) => p.b)) };
  }

  extraFeeds(targets: number[][] | undefined): Record<string, ort.Tensor> {
    return { [DIFF_IO.indexA]: none(), [DIFF_IO.indexB]: none(), [DIFF_IO.rowIndexA]: indexTensor(targets?.[0]), [DIFF_IO.rowIndexB]: indexTensor(targets?.[1]) };
  }
}

/** Separate mode: one text per run, its flags the first row of `targets`. */
export class DiffStatesReadout implements Readout<DiffRunValues> {
  readonly fetches: string[];

  constructor(points: number) {
    this.fetches = Array.from({ length: points }, (_, k) => diffStateOutput(k));
  }

  extract(out: ort.InferenceSession.ReturnType): DiffRunValues {
    return statesOf(out, this.fetches);
  }

  concat(parts: DiffRunValues[]): DiffRunValues {
    return joinStates(only(parts, 'states'));
  }

  extraFeeds(targets: number[][] | undefined): Record<string, ort.Tensor> {
    return { [DIFF_IO.indexA]: indexTensor(targets?.[0]) };
  }
}
