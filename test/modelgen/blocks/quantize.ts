/**
 * Weight quantization in the two layouts transformers.js files use: QDQ-style 8-bit
 * (DequantizeLinear feeding MatMul) and onnxruntime's 4-bit MatMulNBits blocks.
 */

export interface Int8Quantized {
  data: Int8Array | Uint8Array;
  scale: Float32Array;
  zeroPoint: Int8Array | Uint8Array;
}

/**
 * Asymmetric 8-bit quantization of a row-major [rows, cols] matrix, per tensor or per column
 * (DequantizeLinear axis=1 on a MatMul weight [in, out] is per output channel).
 */
export function quantize8(w: Float32Array, rows: number, cols: number, signed: boolean, perColumn: boolean): Int8Quantized {
  const groups = perColumn ? cols : 1;
  const qmin = signed ? -128 : 0;
  const qmax = signed ? 127 : 255;
  const scale = new Float32Array(groups);
  const zp = signed ? new Int8Array(groups) : new Uint8Array(groups);
  for (let gi = 0; gi < groups; gi++) {
    let lo = 0;
    let hi = 0;
    for (let r = 0; r < rows; r++) {
      for (let c = perColumn ? gi : 0; c < (perColumn ? gi + 1 : cols); c++) {
        const v = w[r * cols + c];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    const s = (hi - lo) / (qmax - qmin) || 1;
    scale[gi] = s;
    zp[gi] = Math.min(qmax, Math.max(qmin, Math.round(qmin - lo / s)));
  }
  const data = signed ? new Int8Array(w.length) : new Uint8Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const gi = perColumn ? i % cols : 0;
    data[i] = Math.min(qmax, Math.max(qmin, Math.round(w[i] / scale[gi]) + zp[gi]));
  }
  return { data, scale, zeroPoint: zp };
}

export interface NBitsQuantized {
  /** uint8 [N, blocks, blockSize / 2]: two 4-bit values per byte, low nibble first. */
  packed: Uint8Array;
  /** [N * blocks]. */
  scales: Float32Array;
  /** uint8 [N * ceil(blocks / 2)], packed like the weights. */
  zeroPoints: Uint8Array;
  blocks: number;
}

/** 4-bit block quantization of a MatMul weight [K, N] along K, as MatMulNBits expects (B transposed). */
export function quantize4(w: Float32Array, k: number, n: number, blockSize: number): NBitsQuantized {
  const blocks = Math.ceil(k / blockSize);
  const blob = blockSize / 2;
  const packed = new Uint8Array(n * blocks * blob);
  const scales = new Float32Array(n * blocks);
  const zpBytes = Math.ceil(blocks / 2);
  const zeroPoints = new Uint8Array(n * zpBytes);
  for (let col = 0; col < n; col++) {
    for (let b = 0; b < blocks; b++) {
      let lo = 0;
      let hi = 0;
      for (let r = b * blockSize; r < Math.min(k, (b + 1) * blockSize); r++) {
        const v = w[r * n + col];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const s = (hi - lo) / 15 || 1;
      const zp = Math.min(15, Math.max(0, Math.round(-lo / s)));
      scales[col * blocks + b] = s;
      zeroPoints[col * zpBytes + (b >> 1)] |= zp << ((b & 1) * 4);
      for (let j = 0; j < blockSize; j++) {
        const r = b * blockSize + j;
        // Rows past K pad the last block; they quantize to the zero point and multiply nothing.
        const q = r < k ? Math.min(15, Math.max(0, Math.round(w[r * n + col] / s) + zp)) : zp;
        packed[(col * blocks + b) * blob + (j >> 1)] |= q << ((j & 1) * 4);
      }
    }
  }
  return { packed, scales, zeroPoints, blocks };
}
