/**
 * Runs the command line in this process and reports its peak memory, for the bench's memory
 * sections: `tsx bench/cliPeak.ts OUT.json -- profile ...`. OUT.json gets the process's peak RSS
 * (getrusage), its RSS when the command finished, the exit code and the wall time, so the parent
 * measures the command exactly as a user runs it (loading, every file, writing results).
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { main } from '../src/cli/main';

export interface CliPeak {
  exitCode: number;
  peakRssBytes: number;
  endRssBytes: number;
  seconds: number;
}

async function run(): Promise<void> {
  const [out, dashes, ...args] = process.argv.slice(2);
  if (!out || dashes !== '--') throw new Error('usage: cliPeak.ts OUT.json -- <command line arguments>');
  const t0 = performance.now();
  const exitCode = await main(['node', 'layer-profiler', ...args]);
  const result: CliPeak = { exitCode, peakRssBytes: process.resourceUsage().maxRSS * 1024, endRssBytes: process.memoryUsage.rss(), seconds: (performance.now() - t0) / 1000 };
  writeFileSync(out, JSON.stringify(result));
  process.exit(exitCode);
}

run().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
