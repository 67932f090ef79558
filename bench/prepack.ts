/**
 * `npm run bench:prepack [-- --model DIR] [--style S --hidden N --layers N --heads N
 * --intermediate N --vocab-size N] [--rounds 3] [--passes 6] [--threads N] [--json]`: what
 * prepacking the weights at session creation costs and saves (runtime/prepack.ts decides it from
 * the passes a job expects). Each side opens the profiler in a process of its own, prepacked or
 * unpacked, the order alternating round by round, and runs `--passes` passes of one 512-token
 * window. Reported: the open time (decode, staging and session creation), the first pass (it
 * touches every weight for the first time) and the median later pass, and the break-even: after
 * how many passes prepacking has paid for its longer open.
 *
 * Default model: a generated fp32 decoder of Qwen2.5-0.5B's shape (genai-gqa, hidden 896, 24
 * layers, 151,936-token vocabulary), made once under test-output/.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureModel, type ModelStyle } from '../test/modelgen';
import { PREPACK_MIN_PASSES } from '../src/core/runtime/prepack';
import type { PrepackSide, PrepackSideResult } from './prepackSide';
import { median } from './summary';

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const option = (name: string) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : undefined);
const num = (name: string, fallback: number) => Number(option(name) ?? fallback);
const ROUNDS = num('rounds', 3);
const PASSES = num('passes', 6);
const THREADS = option('threads');
const log = (s: string) => !json && process.stderr.write(s + '\n');

async function benchModel(): Promise<{ dir: string; described: string }> {
  const given = option('model');
  if (given) return { dir: path.resolve(given), described: given };
  const style = (option('style') ?? 'genai-gqa') as ModelStyle;
  const shape = { hidden: num('hidden', 896), layers: num('layers', 24), heads: num('heads', 14), intermediate: num('intermediate', 4864), vocabSize: num('vocab-size', 151936), maxPositions: 1024, seed: 1 };
  log(`model: generated ${style} ${JSON.stringify(shape)} (made once, under test-output/models)`);
  return { dir: (await ensureModel(style, shape)).dir, described: `generated ${style}, hidden ${shape.hidden}, ${shape.layers} layers, vocabulary ${shape.vocabSize}` };
}

async function runSide(dir: string, side: PrepackSide): Promise<PrepackSideResult> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(__dirname, 'prepackSide.ts'), dir, side, String(PASSES), ...(THREADS ? [THREADS] : [])], { maxBuffer: 2 ** 20 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as PrepackSideResult;
}

interface SideSummary {
  openMs: number;
  firstPassMs: number;
  laterPassMs: number;
}

async function main(): Promise<void> {
  const { dir, described } = await benchModel();
  const sides: PrepackSide[] = ['prepacked', 'unpacked'];
  const runs = new Map<PrepackSide, PrepackSideResult[]>(sides.map((s) => [s, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 ? [...sides].reverse() : sides) runs.get(side)!.push(await runSide(dir, side));
    log(`round ${round + 1}/${ROUNDS}`);
  }
  const summary = (side: PrepackSide): SideSummary => {
    const rs = runs.get(side)!;
    return { openMs: median(rs.map((r) => r.openMs)), firstPassMs: median(rs.map((r) => r.passMs[0])), laterPassMs: median(rs.flatMap((r) => r.passMs.slice(1))) };
  };
  const packed = summary('prepacked');
  const unpacked = summary('unpacked');
  const savedPerPass = unpacked.laterPassMs - packed.laterPassMs;
  const extraOpen = packed.openMs + packed.firstPassMs - (unpacked.openMs + unpacked.firstPassMs);
  const breakEvenPasses = savedPerPass > 0 ? 1 + extraOpen / savedPerPass : Infinity;
  const result = { model: described, rounds: ROUNDS, passes: PASSES, cpus: os.availableParallelism(), prepacked: packed, unpacked, breakEvenPasses, threshold: PREPACK_MIN_PASSES };
  if (json) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return;
  }
  const f = (s: SideSummary) => `open ${(s.openMs / 1000).toFixed(2)} s, first pass ${(s.firstPassMs / 1000).toFixed(2)} s, later passes ${(s.laterPassMs / 1000).toFixed(3)} s`;
  process.stdout.write(
    [
      `model: ${described}; ${ROUNDS} rounds of ${PASSES} passes (one 512-token window each); ${result.cpus} CPUs (${os.cpus()[0]?.model ?? 'unknown'})`,
      `prepacked: ${f(packed)}`,
      `unpacked:  ${f(unpacked)}`,
      `prepacking pays after ${Number.isFinite(breakEvenPasses) ? breakEvenPasses.toFixed(0) : 'no number of'} passes; the profiler prepacks from ${PREPACK_MIN_PASSES} expected passes`,
    ].join('\n') + '\n',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:prepack failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
