/**
 * One side of `npm run bench:prepack` (bench/prepack.ts), in a process of its own:
 * `tsx bench/prepackSide.ts MODEL_DIR prepacked|unpacked PASSES [THREADS]`. Opens the profiler with
 * the weights prepacked or not, runs PASSES passes of one 512-token window, and prints
 * `{ openMs, passMs: number[] }` as JSON.
 */
import { performance } from 'node:perf_hooks';
import { LayerProfiler } from '../src/core/profiler';

export type PrepackSide = 'prepacked' | 'unpacked';
export interface PrepackSideResult {
  openMs: number;
  passMs: number[];
}

async function main(): Promise<void> {
  const [dir, side, passesArg, threadsArg] = process.argv.slice(2);
  const t0 = performance.now();
  // Forced either way, quantized weights too (the rule would always prepack those).
  const profiler = await LayerProfiler.open({ kind: 'local', path: dir }, { threads: threadsArg ? Number(threadsArg) : undefined, prepackWeights: side === 'prepacked' });
  const openMs = performance.now() - t0;
  const tokenizer = await profiler.getTokenizer();
  const ids: number[] = [];
  // A window of ordinary ids (the tokenizer's range, no special tokens at the ends).
  for (let i = 0; ids.length < 512; i++) ids.push(1 + ((i * 7919) % (Math.min(tokenizer.vocabSize, 30000) - 1)));
  const passMs: number[] = [];
  for (let p = 0; p < Number(passesArg); p++) {
    const t = performance.now();
    await profiler.runWindows([ids], 1, tokenizer.padId);
    passMs.push(performance.now() - t);
  }
  await profiler.dispose();
  process.stdout.write(JSON.stringify({ openMs, passMs } satisfies PrepackSideResult) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`prepackSide failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
