/**
 * `npm run bench:loading [-- --model <file.onnx>] [--rounds 3] [--json]`: what loading a model
 * for a profile costs in memory and time, the loader as it runs against the loader as it was
 * (sides in loadingSide.ts: streamed, streamed-known-hash, streamed-whole-graph, whole-file), each
 * load in its own process (so that each peak RSS is its own), the sides alternating round by round.
 *
 * The default model is generated once into the temporary folder (not the repository): an
 * optimum-llama of hidden 2048, 4 layers and a 32k vocabulary, 1.2 GB of fp32 weights inside the
 * .onnx file. Reported per side: peak RSS of the whole process over the file's size (median over
 * the rounds, with min and max), and the median seconds of each step (read + hash, decode,
 * instrument, stage, session create), so that the share of ONNX Runtime's own session creation
 * shows. The file stays in the page cache between loads (every side reads it warm).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { LoadingSide, LoadingSideResult } from './loadingSide';
import { median, range } from './summary';

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const option = (name: string) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : undefined);
const ROUNDS = Number(option('rounds') ?? 3);
const THREADS = option('threads');
const SIDES: LoadingSide[] = ['streamed', 'streamed-known-hash', 'streamed-whole-graph', 'whole-file'];
const log = (s: string) => !json && process.stderr.write(s + '\n');

async function benchModel(): Promise<string> {
  const given = option('model');
  if (given) return path.resolve(given);
  const dir = path.join(os.tmpdir(), 'layer-profiler-bench-loading', 'optimum-llama-h2048-l4-v32000');
  const file = path.join(dir, 'onnx', 'model.onnx');
  if (!existsSync(file)) {
    log(`generating the bench model into ${dir} (about a minute) ...`);
    // In a process of its own: the generator holds the model twice, and this one should stay small.
    await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'test', 'modelgen', 'cli.ts'), 'optimum-llama', dir, '--hidden', '2048', '--layers', '4', '--vocab-size', '32000']);
  }
  return file;
}

async function runSide(side: LoadingSide, file: string): Promise<LoadingSideResult> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(__dirname, 'loadingSide.ts'), side, file, ...(THREADS ? [THREADS] : [])], {
    maxBuffer: 2 ** 20,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as LoadingSideResult;
}

async function main(): Promise<void> {
  const file = await benchModel();
  const results = new Map<LoadingSide, LoadingSideResult[]>(SIDES.map((s) => [s, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of SIDES) {
      const r = await runSide(side, file);
      results.get(side)!.push(r);
      log(`round ${round + 1}/${ROUNDS} ${side}: peak RSS ${(r.peakRssBytes / r.fileBytes).toFixed(2)}x the file, ${r.totalSeconds.toFixed(1)} s`);
    }
  }
  const summary = SIDES.map((side) => {
    const rs = results.get(side)!;
    const ratios = rs.map((r) => r.peakRssBytes / r.fileBytes);
    const stepNames = Object.keys(rs[0].steps);
    const steps = Object.fromEntries(stepNames.map((n) => [n, median(rs.map((r) => r.steps[n]))]));
    const total = median(rs.map((r) => r.totalSeconds));
    return {
      side,
      fileBytes: rs[0].fileBytes,
      peakRssBytes: median(rs.map((r) => r.peakRssBytes)),
      peakRssOverFile: range(ratios),
      stepsSeconds: steps,
      totalSeconds: total,
      sessionCreateShare: steps['session create'] / total,
      stagedBytes: rs[0].stagedBytes,
    };
  });
  const out = { model: file, fileBytes: summary[0].fileBytes, rounds: ROUNDS, cpus: os.cpus().length, sides: summary };
  if (json) {
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return;
  }
  const gb = (b: number) => `${(b / 1e9).toFixed(2)} GB`;
  console.log(`model ${file} (${gb(out.fileBytes)}), ${ROUNDS} rounds, ${out.cpus} CPUs, medians`);
  for (const s of summary) {
    const steps = Object.entries(s.stepsSeconds).map(([n, v]) => `${n} ${v.toFixed(2)} s`).join(', ');
    console.log(
      `${s.side.padEnd(21)} peak RSS ${gb(s.peakRssBytes)} = ${s.peakRssOverFile.median.toFixed(2)}x the file (${s.peakRssOverFile.min.toFixed(2)}-${s.peakRssOverFile.max.toFixed(2)}); ` +
        `total ${s.totalSeconds.toFixed(2)} s, session create ${(100 * s.sessionCreateShare).toFixed(0)}%; staged graph ${(s.stagedBytes / 1e6).toFixed(2)} MB\n${' '.repeat(22)}${steps}`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
