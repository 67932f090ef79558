/**
 * Whether ONNX Runtime prepacks the MatMul weights when it creates a session: from the weights'
 * type and how many forward passes the session is expected to run.
 *
 * Prepacking copies every weight matrix once, at session creation, into the layout the CPU's GEMM
 * kernels read; without it each pass packs what it reads on the fly. For float weights the copy
 * is the whole model written to fresh memory, and costs far more than the packing it saves per
 * pass unless the job is long; dynamic int8 weights are a quarter the size, but unpacked they are
 * repacked every pass; 4-bit blocks are dearest to repack. Measured with `npm run bench:prepack`
 * (open, then 512-token passes; a 2-core VM, AMD EPYC, where a fresh page costs about 15 µs to
 * fault in), ORT on 2 threads (its default here since cores.ts names the count):
 * - fp32, Qwen2.5-0.5B's shape in onnxruntime-genai's style: open 6.05 s prepacked against
 *   0.26 s, first pass 2.65 against 2.60 s, later passes 1.226 against 1.308 s: prepacking pays
 *   after 73 passes;
 * - fp32, the same shape from torch.onnx.export (1.9 GB, one file per tensor): open 7.29 against
 *   1.12 s, passes 1.154 against 1.223 s: it pays after 91 passes;
 * - fp16 (genai style, same shape; ORT casts the weights to fp32 as it creates the session): open
 *   9.90 against 5.06 s, passes 1.249 against 1.342 s: it pays after 48 passes.
 * On one thread (ORT's own default on that VM, before cores.ts) the same models broke even after
 * 20, 25-50 and 16 passes: the packing a pass does on the fly, spread over two threads now, cost
 * about twice as much there (0.15-0.35 s a pass against 0.07-0.09 s).
 * Quantized weights (ORT on 2 threads, same shape): int8 with dynamically quantized activations
 * (MatMulInteger) opens in 2.53 s prepacked against 0.88 s, passes 0.921 against 0.985 s, paying
 * after 22 passes (3 on one thread); 4-bit blocks (MatMulNBits) pay after 2 passes (passes 1.33
 * against 1.99 s), so they are always prepacked, and so is static QDQ int8 (not measured), whose
 * fused kernels read packed weights too.
 * On a machine where fresh memory is cheap the break-even for float weights comes sooner; waiting
 * for PREPACK_MIN_PASSES passes then costs at most that many on-the-fly packings, a few percent of
 * a job that long.
 */

import type { WeightStorage } from '../onnx/modelFacts';

/** Passes from which prepacking float weights pays for its copy. */
export const PREPACK_MIN_PASSES = 64;
/** The same for int8 weights with dynamically quantized activations. */
export const PREPACK_MIN_PASSES_INT8_DYNAMIC = 24;

/**
 * Whether to prepack for a session over weights stored as `storage` (modelFacts' weightStorage)
 * expected to run `expectedPasses` forward passes; unknown workloads keep ONNX Runtime's default
 * (prepacked), which long-lived sessions want.
 */
export function prepacksWeights(expectedPasses: number | undefined, storage: WeightStorage): boolean {
  const from = storage === 'float' ? PREPACK_MIN_PASSES : storage === 'int8-dynamic' ? PREPACK_MIN_PASSES_INT8_DYNAMIC : 0;
  return expectedPasses === undefined || expectedPasses >= from;
}

/**
 * Bytes of text per token, on the low side (code and English prose with byte-level BPE run 3-4),
 * so that a workload is not underestimated.
 */
const BYTES_PER_TOKEN = 3;

/** The work ahead of a session: texts and their total size in bytes. */
export interface Workload {
  texts: number;
  bytes: number;
}

/**
 * Forward passes a workload takes at most: its tokens in batches of `maxBatchTokens`, or its
 * texts `batchSize` to a pass, whichever needs more (a batch holds windows of one text or of
 * texts of similar length, see batching.ts); never more than its windows of `maxTokens`.
 */
export function expectedPasses(work: Workload, batch: { maxBatchTokens: number; batchSize: number; maxTokens: number }): number {
  if (work.texts === 0) return 0;
  const tokens = Math.ceil(work.bytes / BYTES_PER_TOKEN);
  const windows = work.texts + Math.ceil(tokens / batch.maxTokens);
  return Math.min(windows, Math.max(Math.ceil(tokens / batch.maxBatchTokens), Math.ceil(work.texts / batch.batchSize)));
}
