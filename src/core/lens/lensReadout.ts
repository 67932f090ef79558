/** What the logit lens reads out of each run, and the next-token ids it feeds. */
import * as ort from 'onnxruntime-node';
import { LENS_IO } from '../graph/lens';
import { joined, joinedFloats } from '../runtime/joined';
import type { Readout } from '../runtime/windowRunner';

/** One window's lens values, position-major: `[t * points + p]` (top-k: `[(t * points + p) * k + j]`). */
export interface LensWindowValues {
  tokens: number;
  entropy: Float32Array;
  nextLogProb: Float32Array;
  klToFinal: Float32Array;
  topIds: Int32Array;
  topProbs: Float32Array;
}

export class LensReadout implements Readout<LensWindowValues> {
  readonly fetches = [LENS_IO.entropy, LENS_IO.nextLogProb, LENS_IO.klToFinal, LENS_IO.topIds, LENS_IO.topProbs];

  constructor(
    private readonly points: number,
    private readonly k: number,
  ) {}

  extract(out: ort.InferenceSession.ReturnType, length: number, b: number, n: number): LensWindowValues {
    const P = this.points;
    const take = (name: string, width: number) => (out[name].data as Float32Array).slice(b * length * width, (b * length + n) * width);
    const ids = (out[LENS_IO.topIds].data as BigInt64Array).subarray(b * length * P * this.k, (b * length + n) * P * this.k);
    return {
      tokens: n,
      entropy: take(LENS_IO.entropy, P),
      nextLogProb: take(LENS_IO.nextLogProb, P),
      klToFinal: take(LENS_IO.klToFinal, P),
      topIds: Int32Array.from(ids, (v) => Number(v)),
      topProbs: take(LENS_IO.topProbs, P * this.k),
    };
  }

  concat(parts: LensWindowValues[]): LensWindowValues {
    return concatLensValues(parts);
  }

  /** Next-token ids, [batch, length, 1]; positions without one (a text's last, padding) read id 0 and are ignored. */
  extraFeeds(targets: number[][] | undefined, length: number, batch: number): Record<string, ort.Tensor> {
    const data = new BigInt64Array(batch * length);
    targets?.forEach((row, b) => row.forEach((id, t) => (data[b * length + t] = BigInt(id >= 0 ? id : 0))));
    return { [LENS_IO.nextIds]: new ort.Tensor('int64', data, [batch, length, 1]) };
  }
}

/** Consecutive pieces of one window's lens values, joined in order. */
export function concatLensValues(parts: LensWindowValues[]): LensWindowValues {
  const floats = (pick: (p: LensWindowValues) => Float32Array) => joinedFloats(parts, pick);
  return {
    tokens: parts.reduce((n, p) => n + p.tokens, 0),
    entropy: floats((p) => p.entropy),
    nextLogProb: floats((p) => p.nextLogProb),
    klToFinal: floats((p) => p.klToFinal),
    topIds: joined(parts, (p) => p.topIds, (n) => new Int32Array(n)),
    topProbs: floats((p) => p.topProbs),
  };
}
