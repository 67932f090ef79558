/**
 * Whether ONNX Runtime prepacks the MatMul weights when it creates a session: from the weights'
 * type and how many forward passes the session is expected to run.
 *
 * Prepacking copies every weight matrix once, at session creation, into the layout the CPU's GEMM
 * kernels read; without it each pass packs what it reads on the fly. For float weights the copy
 * is the whole model written to fresh memory, and costs far more than the packing it saves per
 * pass; quantized weights are small and their packing per pass is dear, so they are always
 * prepacked. Measured with `npm run bench:prepack` (open, then 512-token passes; a 2-core VM,
 * AMD EPYC, where a fresh page costs about 15 µs to fault in):
 * - fp32, 1.9 GB (Qwen2.5-0.5B's shape, torch.onnx.export): open 8.0-9.0 s prepacked against
 *   0.8-0.9 s; a pass 1.35 s against 1.50-1.64 s: prepacking pays after 25-50 passes;
 * - fp32, the same shape generated in onnxruntime-genai's style: open 6.4 s against 0.3 s, first
 *   pass 4.5 s against 4.1 s, later passes 2.92 s against 3.27 s: it pays after 20 passes;
 * - fp32, 242 MB (hidden 512, 8 layers, 32k vocabulary): open 0.82-0.88 s against 0.14-0.31 s; a
 *   pass 144-153 ms against 153-158 ms: it pays after 60 passes or more;
 * - fp16 (genai style, same shape; ORT casts the weights to fp32 as it creates the session): open
 *   15.2 s against 7.2 s, first pass 3.35 s against 4.60 s, later passes 2.76 s against 3.20 s: it
 *   pays after 16 passes;
 * - q8 (dynamic quantization), Qwen2.5-0.5B's shape: open 2.6 s against 1.1 s; a pass 1.77 s
 *   against 2.21 s: it pays after 3 passes.
 * On a machine where fresh memory is cheap the break-even for float weights comes sooner; waiting
 * for PREPACK_MIN_PASSES passes then costs at most that many on-the-fly packings, a few percent of
 * a job that long.
 */

/** Passes from which prepacking float weights pays for its copy. */
export const PREPACK_MIN_PASSES = 32;

/**
 * Whether to prepack for a session over weights of `dtype` (modelFacts' describeModelDtype)
 * expected to run `expectedPasses` forward passes; unknown workloads keep ONNX Runtime's default
 * (prepacked), which long-lived sessions want.
 */
export function prepacksWeights(expectedPasses: number | undefined, dtype: string): boolean {
  const floatWeights = dtype === 'fp32' || dtype === 'fp16';
  return !floatWeights || expectedPasses === undefined || expectedPasses >= PREPACK_MIN_PASSES;
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
