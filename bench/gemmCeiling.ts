/**
 * How fast any exact float32 profiler could be on this machine: the matrix products a profile pass
 * of a Llama-shaped decoder must compute (every projection of every layer, and attention's scores
 * and weighted sum over full windows as the exported graph computes them; no LM head, which the
 * profile pass prunes), timed at the fastest float32 GEMM rate measured here on the model's own
 * projection shapes. Everything else (process start, loading, tokenization, norms, softmax) counted
 * as free, the time left is a floor no implementation doing this arithmetic in float32 goes under,
 * and the source method's time over it is the largest speed-up the machine allows.
 */
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { assembleModel } from '../test/modelgen/onnx/modelWriter';
import { rawTensor, tensorValueInfo } from '../test/modelgen/onnx/tensors';
import { mulberry32, fillNormal } from '../test/modelgen/random';

export interface DecoderShape {
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  intermediate: number;
}

/** One weight matrix's product: [m, k] x [k, n], `count` times per token per layer. */
export interface ProjectionShape {
  name: string;
  k: number;
  n: number;
  count: number;
}

/** The projections of one decoder layer (q, k, v, o; gate, up, down), by their weight shapes. */
export function projectionShapes(s: DecoderShape): ProjectionShape[] {
  const headDim = s.hidden / s.heads;
  const kv = s.kvHeads * headDim;
  return [
    { name: 'q, o', k: s.hidden, n: s.hidden, count: 2 },
    { name: 'k, v', k: s.hidden, n: kv, count: 2 },
    { name: 'gate, up', k: s.hidden, n: s.intermediate, count: 2 },
    { name: 'down', k: s.intermediate, n: s.hidden, count: 1 },
  ];
}

export interface PassFlops {
  /** Projection FLOPs per shape (same order as projectionShapes). */
  projections: number[];
  /** Attention's two products (scores and weighted values) over full n x n windows, all heads. */
  attention: number;
  total: number;
}

/**
 * FLOPs (a multiply-add counts 2) of the profile passes over texts of these lengths, one window
 * each: per layer, 2·n·k·n_out for each projection and 2·2·n²·hidden for attention.
 */
export function profilePassFlops(s: DecoderShape, lengths: readonly number[]): PassFlops {
  const tokens = lengths.reduce((a, n) => a + n, 0);
  const projections = projectionShapes(s).map((p) => 2 * tokens * p.k * p.n * p.count * s.layers);
  const attention = lengths.reduce((a, n) => a + 4 * n * n * s.hidden, 0) * s.layers;
  return { projections, attention, total: projections.reduce((a, b) => a + b, 0) + attention };
}

/** A one-node graph, x[m, k] · W[k, n], with seeded weights. */
function matmulModel(k: number, n: number): Uint8Array {
  const w = fillNormal(new Float32Array(k * n), mulberry32(k * 7919 + n), 0.02);
  const graph: onnx.IGraphProto = {
    name: 'gemm',
    node: [{ opType: 'MatMul', input: ['x', 'w'], output: ['y'], name: 'mm' }],
    initializer: [rawTensor('w', 'float32', [k, n], w)],
    input: [tensorValueInfo('x', 'float32', ['m', k])],
    output: [tensorValueInfo('y', 'float32', ['m', n])],
  };
  return onnx.ModelProto.encode(assembleModel({ graph, opsets: [{ domain: '', version: 14 }], producerName: 'layer-profiler-bench', producerVersion: '1' })).finish();
}

/**
 * ONNX Runtime's float32 MatMul rate (GFLOPS) for [m, k] x [k, n] on `threads` threads, from the
 * median of timed batches after a warm-up, each batch at least `minMs` long.
 */
export async function ortGemmGflops(m: number, k: number, n: number, threads: number, minMs = 150, batches = 5): Promise<number> {
  const session = await ort.InferenceSession.create(matmulModel(k, n), { intraOpNumThreads: threads, logSeverityLevel: 4 });
  try {
    const x = new ort.Tensor('float32', fillNormal(new Float32Array(m * k), mulberry32(m + k), 1), [m, k]);
    const flops = 2 * m * k * n;
    const rates: number[] = [];
    await session.run({ x });
    for (let b = 0; b < batches; b++) {
      const start = performance.now();
      let runs = 0;
      while (performance.now() - start < minMs) {
        await session.run({ x });
        runs++;
      }
      rates.push((flops * runs) / ((performance.now() - start) / 1000) / 1e9);
    }
    rates.sort((a, b) => a - b);
    return rates[Math.floor(rates.length / 2)];
  } finally {
    await session.release();
  }
}

export interface GemmRate {
  /** The shape's GEMM rate in GFLOPS, by library. */
  ort: number;
  torch?: number;
}

export interface Ceiling {
  /** Matrix-product FLOPs of the profile passes. */
  flops: number;
  /** Per projection shape, the fastest rates measured at these row counts. */
  rates: (ProjectionShape & GemmRate)[];
  rows: number[];
  /** The FLOPs at the fastest rate measured for each shape (attention at the fastest rate of all). */
  floorSeconds: number;
  /** The FLOPs at ONNX Runtime's rates: the CLI's own matrix-product time if it ran at them. */
  ortSeconds: number;
}

/**
 * The floor: each shape's FLOPs at the fastest rate measured for it by either library; attention's
 * products (many small matrices, slower in practice) at the fastest rate of any shape, so the
 * floor is, if anything, too low.
 */
export function ceilingFrom(flops: PassFlops, rates: (ProjectionShape & GemmRate)[], rows: number[]): Ceiling {
  const best = (r: GemmRate) => Math.max(r.ort, r.torch ?? 0);
  const fastest = Math.max(...rates.map(best));
  const fastestOrt = Math.max(...rates.map((r) => r.ort));
  const floorSeconds = rates.reduce((t, r, i) => t + flops.projections[i] / (best(r) * 1e9), 0) + flops.attention / (fastest * 1e9);
  const ortSeconds = rates.reduce((t, r, i) => t + flops.projections[i] / (r.ort * 1e9), 0) + flops.attention / (fastestOrt * 1e9);
  return { flops: flops.total, rates, rows, floorSeconds, ortSeconds };
}
