/**
 * Two-text distances for texts longer than one window: windows continued through the KV cache,
 * so every state is that of one pass over the whole text. Each text is cut after its last paired
 * position (causal models: later tokens change nothing before them).
 *
 * - Pairs at the same positions of both texts (position alignment, or an LCS alignment that never
 *   shifts): A and B run side by side as the two rows of each window, and the graph reduces the
 *   window's pairs, so only [pairs, points] values leave ONNX Runtime.
 * - Pairs at different positions (LCS across insertions): a pair's two states may fall in
 *   different windows, so each row's aligned states leave ONNX Runtime as the window finishes and
 *   are reduced here in float64 as soon as both sides of a pair are known (only the states of
 *   pairs still waiting for their other side are held).
 * - Separate mode (dynamically quantized activations): each text runs alone through its windows
 *   (each window then takes its own activation scales, so windows differ from one pass by
 *   quantization noise).
 */
import type { WindowRunner } from '../runtime/windowRunner';
import { joinReductions, joinStates, pairFlags, type DiffReductions, type DiffRunValues, type DiffStates } from './diffReadout';
import type { DiffPoint } from './diffResults';
import { distancesFromPairNumbers, distancesFromReductions, distancesFromStates, pairNumbers, type PairNumbers } from './distances';

type Runner = WindowRunner<DiffRunValues>;

function chunks<T>(xs: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/** The text cut to `length` tokens (padded with `padId` if shorter) and its paired positions' flags. */
function rowOf(ids: number[], positions: number[], length: number, padId: number): { ids: number[]; flags: number[] } {
  const cut = ids.slice(0, length);
  while (cut.length < length) cut.push(padId);
  return { ids: cut, flags: pairFlags(length, positions) };
}

/** Both texts' first `n` tokens side by side, window by window: ids and flags of rows [A, B] per step. */
function sideBySide(w: WindowedPair, n: number): { ids: number[][][]; flags: number[][][] } {
  const a = rowOf(w.a, w.pairs.map((p) => p[0]), n, w.padId);
  const b = rowOf(w.b, w.pairs.map((p) => p[1]), n, w.padId);
  const [idsB, flagsB] = [chunks(b.ids, w.window), chunks(b.flags, w.window)];
  return { ids: chunks(a.ids, w.window).map((chunk, s) => [chunk, idsB[s]]), flags: chunks(a.flags, w.window).map((chunk, s) => [chunk, flagsB[s]]) };
}

export interface WindowedPair {
  a: number[];
  b: number[];
  pairs: [number, number][];
  window: number;
  padId: number;
  layers: number[];
}

/** Pairs at the same positions of both texts: both rows through each window, reduced in the graph. */
export async function samePositionWindows(runner: Runner, w: WindowedPair): Promise<DiffPoint[]> {
  const { ids, flags } = sideBySide(w, w.pairs[w.pairs.length - 1][0] + 1);
  const parts: DiffReductions[] = [];
  await runner.runContinuedRows(ids, undefined, flags, (values) => {
    const v = values[0];
    if (v.kind !== 'paired') throw new Error('unexpected distance values');
    parts.push(v);
  });
  return distancesFromReductions(joinReductions(parts), w.layers);
}

/**
 * Pairs at shifting positions: both rows through each window (the shorter padded), each row's
 * aligned states reduced here as soon as their pair is complete.
 */
export async function shiftedWindows(runner: Runner, w: WindowedPair): Promise<DiffPoint[]> {
  const last = w.pairs[w.pairs.length - 1];
  const { ids, flags } = sideBySide(w, Math.max(last[0], last[1]) + 1);
  const perPoint: PairNumbers[][] = w.layers.map(() => []);
  // Each side's gathered states in pair order ([states, row]); pairs before `done` are reduced and
  // their entries dropped, so only states still waiting for their other side are held.
  const gatheredA: ([DiffStates, number] | undefined)[] = [];
  const gatheredB: ([DiffStates, number] | undefined)[] = [];
  let done = 0;
  await runner.runContinuedRows(ids, undefined, flags, (values) => {
    const v = values[0];
    if (v.kind !== 'rows') throw new Error('unexpected distance values');
    for (let i = 0; i < v.a.pairs; i++) gatheredA.push([v.a, i]);
    for (let j = 0; j < v.b.pairs; j++) gatheredB.push([v.b, j]);
    for (; done < Math.min(gatheredA.length, gatheredB.length); done++) {
      const [sa, i] = gatheredA[done]!;
      const [sb, j] = gatheredB[done]!;
      w.layers.forEach((_, k) => perPoint[k].push(pairNumbers(sa.states[k], i, sb.states[k], j, sa.hidden)));
      gatheredA[done] = gatheredB[done] = undefined;
    }
  });
  if (gatheredA.length !== w.pairs.length || gatheredB.length !== w.pairs.length || done !== w.pairs.length) throw new Error('the windows gathered a different number of states for the two texts');
  return distancesFromPairNumbers(perPoint, w.layers);
}

/** Separate mode: each text alone through its windows, its aligned states joined, reduced in float64. */
export async function separateWindows(runner: Runner, w: WindowedPair): Promise<DiffPoint[]> {
  const statesOf = async (ids: number[], positions: number[]): Promise<DiffStates> => {
    const row = rowOf(ids, positions, positions[positions.length - 1] + 1, w.padId);
    const parts: DiffStates[] = [];
    await runner.runContinuedRows(chunks(row.ids, w.window).map((c) => [c]), undefined, chunks(row.flags, w.window).map((c) => [c]), (values) => {
      const v = values[0];
      if (v.kind !== 'states') throw new Error('unexpected distance values');
      parts.push(v);
    });
    return joinStates(parts);
  };
  const a = await statesOf(w.a, w.pairs.map((p) => p[0]));
  const b = await statesOf(w.b, w.pairs.map((p) => p[1]));
  return distancesFromStates(a, b, w.layers);
}
