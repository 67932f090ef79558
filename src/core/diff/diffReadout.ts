/** What the two-text distance graph yields per run, and the aligned positions it is fed. */
import * as ort from 'onnxruntime-node';
import { DIFF_IO, diffStateOutput } from '../graph/diffGraph';
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

/** Separate mode: one text's aligned states, per point `[pair * hidden + h]`. */
export interface DiffStates {
  kind: 'states';
  pairs: number;
  hidden: number;
  states: Float32Array[];
}

export type DiffRunValues = DiffReductions | DiffStates;

/** Aligned positions as an int64 index input. */
function indexTensor(row: number[] | undefined): ort.Tensor {
  const data = BigInt64Array.from(row ?? [], (v) => BigInt(v));
  return new ort.Tensor('int64', data, [data.length]);
}

/**
 * Paired mode: the two texts are the two rows of one batch and every output already holds their
 * pairs, so each row reads the same values. `targets` carries the aligned positions: row 0's in A,
 * row 1's in B.
 */
export class DiffReadout implements Readout<DiffRunValues> {
  readonly fetches = [DIFF_IO.l2, DIFF_IO.normA, DIFF_IO.normB, DIFF_IO.dot];

  extract(out: ort.InferenceSession.ReturnType): DiffRunValues {
    const take = (name: string) => Float32Array.from(out[name].data as Float32Array);
    return { kind: 'paired', pairs: Number(out[DIFF_IO.l2].dims[0]), l2: take(DIFF_IO.l2), normA: take(DIFF_IO.normA), normB: take(DIFF_IO.normB), dot: take(DIFF_IO.dot) };
  }

  concat(): DiffRunValues {
    throw new Error('Two-text distances run each text in one window; they are never decoded piece by piece.');
  }

  extraFeeds(targets: number[][] | undefined): Record<string, ort.Tensor> {
    return { [DIFF_IO.indexA]: indexTensor(targets?.[0]), [DIFF_IO.indexB]: indexTensor(targets?.[1]) };
  }
}

/** Separate mode: one text per run, `targets[0]` its aligned positions. */
export class DiffStatesReadout implements Readout<DiffRunValues> {
  readonly fetches: string[];

  constructor(points: number) {
    this.fetches = Array.from({ length: points }, (_, k) => diffStateOutput(k));
  }

  extract(out: ort.InferenceSession.ReturnType): DiffRunValues {
    const first = out[this.fetches[0]];
    return { kind: 'states', pairs: Number(first.dims[0]), hidden: Number(first.dims[1]), states: this.fetches.map((f) => Float32Array.from(out[f].data as Float32Array)) };
  }

  concat(): DiffRunValues {
    throw new Error('Two-text distances run each text in one window; they are never decoded piece by piece.');
  }

  extraFeeds(targets: number[][] | undefined): Record<string, ort.Tensor> {
    return { [DIFF_IO.indexA]: indexTensor(targets?.[0]) };
  }
}
