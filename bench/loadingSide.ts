/**
 * One side of `npm run bench:loading`, in its own process so that its peak RSS is its own: opens a
 * profile session over a model step by step, as openAnalysis does, timing each step, and prints
 * one JSON line: the steps' seconds, the peak RSS of the whole process, the file's size.
 *
 * Sides:
 * - streamed: the loader as it runs: one pass over the file hashing it, the weights left in the
 *   file; the staged graph refers to them through a hard link;
 * - streamed-known-hash: the same after the record cache hashed the file in this process (its
 *   hash is reused, so the loader reads no weights); the cache's hashing is timed on its own;
 * - streamed-whole-graph: streamed, but the graph is not pruned, so ONNX Runtime loads every
 *   weight, the LM head included (what the logit lens loads);
 * - whole-file: the loader as it was: the whole file read into memory, hashed, decoded, and
 *   written out again as a full temporary copy that ONNX Runtime loads.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { analyzeModel } from '../src/core/graph/instrument';
import { fileSha256 } from '../src/core/onnx/fileHash';
import { liftMergedDecoder } from '../src/core/onnx/mergedDecoder';
import { parseOnnxModel, type OnnxModelFile } from '../src/core/onnx/modelFile';
import { readModelSkeleton } from '../src/core/onnx/modelReader';
import { instrumentForProfile } from '../src/core/profileGraph';
import { createOrtSession, stageModel } from '../src/core/runtime/probedSession';

export type LoadingSide = 'streamed' | 'streamed-known-hash' | 'streamed-whole-graph' | 'whole-file';

export interface LoadingSideResult {
  side: LoadingSide;
  fileBytes: number;
  /** Seconds per step, in order. */
  steps: Record<string, number>;
  totalSeconds: number;
  peakRssBytes: number;
  /** Bytes of the staged graph file ONNX Runtime loaded (0 when handed over in memory). */
  stagedBytes: number;
}

/**
 * The peak resident set of the whole process, ONNX Runtime's memory included. On Linux from
 * /proc (VmHWM): getrusage's maxRSS keeps the parent's resident set at fork across exec, so a
 * side started by a big parent would report the parent's size.
 */
function peakRss(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

async function main(): Promise<void> {
  const [side, file, threads] = process.argv.slice(2) as [LoadingSide, string, string | undefined];
  const steps: Record<string, number> = {};
  let last = performance.now();
  const start = last;
  const step = (name: string) => {
    const now = performance.now();
    steps[name] = (now - last) / 1000;
    last = now;
  };
  let model: OnnxModelFile;
  if (side === 'whole-file') {
    const bytes = await readFile(file);
    step('read');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    step('hash');
    model = parseOnnxModel(file, bytes, { sha256, fileBytes: bytes.length });
  } else {
    let known: string | undefined;
    if (side === 'streamed-known-hash') {
      known = await fileSha256(file);
      step('record cache hash');
    }
    const skeleton = await readModelSkeleton(file, { sha256: known });
    step(known ? 'read (no hash)' : 'read + hash');
    model = parseOnnxModel(file, skeleton.bytes, { sha256: skeleton.sha256, fileBytes: skeleton.fileBytes });
  }
  model = liftMergedDecoder(model)?.model ?? model;
  step('decode');
  const spine = analyzeModel(model);
  const { edit } = instrumentForProfile(model, spine, { prune: side !== 'streamed-whole-graph' });
  step('instrument');
  const staged = await stageModel(model, edit);
  const { stat } = await import('node:fs/promises');
  const stagedBytes = 'file' in staged ? (await stat(staged.file)).size : 0;
  step('stage');
  const session = await createOrtSession(staged, { threads: threads ? Number(threads) : undefined, graphOptimizationLevel: 'all', allowSpinning: false });
  step('session create');
  const result: LoadingSideResult = {
    side,
    fileBytes: model.fileBytes,
    steps,
    totalSeconds: (performance.now() - start) / 1000,
    peakRssBytes: peakRss(),
    stagedBytes,
  };
  await session.release();
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
