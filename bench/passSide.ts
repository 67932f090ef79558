/**
 * One configuration of the bench's batch section, in its own process so that its memory is its
 * own: `tsx bench/passSide.ts '<PassArgs JSON>'` opens the profiler, resets the peak RSS after
 * loading (see peakRss.ts), profiles texts that each fill one window (lengths between 3/4 of the
 * window and the window, so batches pad little) at the given batch size and token budget, and
 * prints a PassResult as JSON on stdout.
 */
import { performance } from 'node:perf_hooks';
import { LayerProfiler } from '../src/core/profiler';
import { peakRssBytes, resetPeakRss } from './peakRss';
import { codeText, makeTexts } from './texts';

export interface PassArgs {
  modelDir: string;
  window: number;
  batchSize: number;
  maxBatchTokens: number;
  texts: number;
  /** Texts of varied length (log-normal around this many characters, as makeTexts draws them) instead of window-filling ones. */
  variedMedianChars?: number;
  threads?: number;
}

export interface PassResult {
  tokens: number;
  seconds: number;
  tokensPerSecond: number;
  /** Passes run and the most windows in one. */
  passes: number;
  largestBatch: number;
  loadPeakRssBytes: number;
  /** Peak RSS while profiling, apart from loading (the process's peak where it cannot be reset). */
  runPeakRssBytes: number;
  peakResetAfterLoad: boolean;
}

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2]) as PassArgs;
  const profiler = await LayerProfiler.open({ kind: 'local', path: a.modelDir }, { allowSpinning: false, threads: a.threads });
  const tokenizer = await profiler.getTokenizer();
  // One long text cut into window-filling pieces by token, decoded back to text.
  const ids = tokenizer.encode(codeText(0, a.window * a.texts * 6)).ids;
  const texts = a.variedMedianChars ? makeTexts(a.texts, a.variedMedianChars) : [];
  let at = 0;
  for (let k = 0; k < a.texts && !a.variedMedianChars; k++) {
    const n = Math.round(a.window * (0.75 + (0.25 * ((k * 37) % a.texts)) / a.texts));
    texts.push({ label: `t${k}`, text: tokenizer.decode(ids.slice(at, at + n)) });
    at += n;
  }
  const loadPeakRssBytes = peakRssBytes();
  const peakResetAfterLoad = resetPeakRss();
  let passes = 0;
  let largestBatch = 0;
  const session = profiler.session;
  const run = session.run.bind(session);
  session.run = (windows, padId, targets) => {
    passes += 1;
    largestBatch = Math.max(largestBatch, windows.length);
    return run(windows, padId, targets);
  };
  const t0 = performance.now();
  const steps = profiler.profileDataset({ name: 'bench', texts }, { maxTokens: a.window, batchSize: a.batchSize, maxBatchTokens: a.maxBatchTokens });
  let step = await steps.next();
  while (!step.done) step = await steps.next();
  const seconds = (performance.now() - t0) / 1000;
  const result: PassResult = { tokens: step.value.tokens, seconds, tokensPerSecond: step.value.tokens / seconds, passes, largestBatch, loadPeakRssBytes, runPeakRssBytes: peakRssBytes(), peakResetAfterLoad };
  await profiler.dispose();
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
