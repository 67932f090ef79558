/**
 * Rotary position embedding from primitive ops, driven by the position_ids input, so position
 * matters to the output (a model that ignored positions could not catch a feed bug in tests).
 */
import { attr, type Scope } from '../onnx/graphBuilder';
import type { FloatType, Weights } from '../weights';

export interface RotaryTables {
  /** [batch, 1, seq, rotaryDim], broadcast over heads. */
  cos: string;
  sin: string;
  rotaryDim: number;
}

/** cos/sin of pos * theta^(-2i/d), halves repeated as HF's `torch.cat((freqs, freqs), -1)`. */
export function rotaryCache(maxPositions: number, rotaryDim: number, base = 10000): { cos: Float32Array; sin: Float32Array } {
  const half = rotaryDim / 2;
  const cos = new Float32Array(maxPositions * rotaryDim);
  const sin = new Float32Array(maxPositions * rotaryDim);
  for (let p = 0; p < maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p / base ** ((2 * i) / rotaryDim);
      for (const j of [i, i + half]) {
        cos[p * rotaryDim + j] = Math.cos(angle);
        sin[p * rotaryDim + j] = Math.sin(angle);
      }
    }
  }
  return { cos, sin };
}

export function rotaryTables(s: Scope, w: Weights, positionIds: string, maxPositions: number, rotaryDim: number, dtype: FloatType, paramPrefix: string): RotaryTables {
  const cache = rotaryCache(maxPositions, rotaryDim);
  const cosTable = w.fixed(`${paramPrefix}.cos_cached`, cache.cos, [maxPositions, rotaryDim], dtype);
  const sinTable = w.fixed(`${paramPrefix}.sin_cached`, cache.sin, [maxPositions, rotaryDim], dtype);
  const heads = s.g.constI64([1]);
  const cos = s.op('Unsqueeze', [s.op('Gather', [cosTable, positionIds], { attrs: [attr.int('axis', 0)] }), heads]);
  const sin = s.op('Unsqueeze', [s.op('Gather', [sinTable, positionIds], { attrs: [attr.int('axis', 0)] }), heads]);
  return { cos, sin, rotaryDim };
}

/** Slice clamps an end past the dimension, so this means "to the end", as torch exports write INT64_MAX. */
const TO_END = Number.MAX_SAFE_INTEGER;

function sliceLast(s: Scope, x: string, start: number, end: number): string {
  return s.op('Slice', [x, s.g.constI64([start]), s.g.constI64([end]), s.g.constI64([-1])]);
}

/** x * cos + rotate_half(x) * sin on the first rotaryDim channels of [batch, heads, seq, headDim]. */
export function applyRotary(s: Scope, x: string, t: RotaryTables, headDim: number): string {
  const partial = t.rotaryDim < headDim;
  const rot = partial ? sliceLast(s, x, 0, t.rotaryDim) : x;
  const half = t.rotaryDim / 2;
  const x1 = sliceLast(s, rot, 0, half);
  const x2 = sliceLast(s, rot, half, TO_END);
  const rotated = s.op('Concat', [s.op('Neg', [x2]), x1], { attrs: [attr.int('axis', -1)] });
  const embedded = s.op('Add', [s.op('Mul', [rot, t.cos]), s.op('Mul', [rotated, t.sin])]);
  if (!partial) return embedded;
  return s.op('Concat', [embedded, sliceLast(s, x, t.rotaryDim, TO_END)], { attrs: [attr.int('axis', -1)] });
}
