/**
 * What patched runs read (the logits at the last position) and feed (each point's mask and value).
 * Each window of a run is one patch of the corrupted text; which point and positions it patches
 * travel as the window's `targets` row (see encodePatch), so batches split like any others.
 */
import * as ort from 'onnxruntime-node';
import { PATCH_IO } from '../graph/patchGraph';
import type { Readout } from '../runtime/windowRunner';

/** One row's patch: point index (into the graph's points) and the positions replaced. */
export interface PatchSpec {
  point: number;
  positions: number[];
}

/** A window's `targets` row: [] for no patch, else [point, ...positions]. */
export function encodePatch(spec: PatchSpec | undefined): number[] {
  return spec ? [spec.point, ...spec.positions] : [];
}

function decodePatch(row: number[] | undefined): PatchSpec | undefined {
  return row && row.length > 0 ? { point: row[0], positions: row.slice(1) } : undefined;
}

/** The clean run's value of every point: [tokens * hidden] each. */
export interface PointValues {
  tokens: number;
  hidden: number;
  values: Float32Array[];
}

export class PatchReadout implements Readout<Float32Array> {
  readonly fetches = [PATCH_IO.lastLogits];
  /** Set from the clean run before any patched run. */
  clean: PointValues | undefined;

  constructor(private readonly points: number) {}

  extract(out: ort.InferenceSession.ReturnType, _length: number, b: number): Float32Array {
    const logits = out[PATCH_IO.lastLogits];
    const V = Number(logits.dims[1]);
    return (logits.data as Float32Array).slice(b * V, (b + 1) * V);
  }

  concat(): Float32Array {
    throw new Error('Patched runs take whole windows; they are never decoded piece by piece.');
  }

  extraFeeds(targets: number[][] | undefined, length: number, batch: number): Record<string, ort.Tensor> {
    const specs = Array.from({ length: batch }, (_, r) => decodePatch(targets?.[r]));
    const feeds: Record<string, ort.Tensor> = {};
    for (let i = 0; i < this.points; i++) {
      const rows = specs.map((s, r) => (s?.point === i ? { r, positions: s.positions } : undefined)).filter((x) => x !== undefined);
      if (rows.length === 0) {
        feeds[PATCH_IO.mask(i)] = new ort.Tensor('bool', new Uint8Array(1), [1, 1, 1]);
        feeds[PATCH_IO.value(i)] = new ort.Tensor('float32', new Float32Array(1), [1, 1, 1]);
        continue;
      }
      const clean = this.clean;
      if (!clean) throw new Error('Patched runs need the clean run first.');
      const mask = new Uint8Array(batch * length);
      for (const { r, positions } of rows) for (const p of positions) mask[r * length + p] = 1;
      const H = clean.hidden;
      const value = new Float32Array(length * H);
      value.set(clean.values[i].subarray(0, Math.min(length, clean.tokens) * H));
      feeds[PATCH_IO.mask(i)] = new ort.Tensor('bool', mask, [batch, length, 1]);
      feeds[PATCH_IO.value(i)] = new ort.Tensor('float32', value, [1, length, H]);
    }
    return feeds;
  }
}

/** The clean run: every point's value and the last position's logits, nothing patched. */
export class CleanReadout implements Readout<{ logits: Float32Array; points: PointValues }> {
  readonly fetches: string[];

  constructor(
    private readonly points: number,
    private readonly patch: PatchReadout,
  ) {
    this.fetches = [PATCH_IO.lastLogits, ...Array.from({ length: points }, (_, i) => PATCH_IO.point(i))];
  }

  extract(out: ort.InferenceSession.ReturnType, length: number, b: number, n: number): { logits: Float32Array; points: PointValues } {
    const logits = this.patch.extract(out, length, b);
    const first = out[PATCH_IO.point(0)];
    const H = first ? Number(first.dims[2]) : 0;
    const values = Array.from({ length: this.points }, (_, i) => (out[PATCH_IO.point(i)].data as Float32Array).slice(b * length * H, (b * length + n) * H));
    return { logits, points: { tokens: n, hidden: H, values } };
  }

  concat(): { logits: Float32Array; points: PointValues } {
    throw new Error('The clean run takes one whole window.');
  }

  extraFeeds(_targets: number[][] | undefined, length: number, batch: number): Record<string, ort.Tensor> {
    return this.patch.extraFeeds(undefined, length, batch);
  }
}
