/**
 * `npm run bench:source [-- --json] [--texts N] [--rounds N] [--threads N] [--hidden N] [--layers N]
 * [--vocab-size N] [--python PATH]`: the CLI against the source experiments' method (see
 * sourceMethod.ts). Exits 0 with a message when PyTorch is not installed, 1 when the two sides'
 * values disagree.
 */
import { formatSourceComparison, runSourceMethodComparison } from './sourceMethod';

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const value = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const num = (name: string) => (value(name) === undefined ? undefined : Number(value(name)));

async function main(): Promise<void> {
  const result = await runSourceMethodComparison({
    python: value('python'),
    hidden: num('hidden'),
    layers: num('layers'),
    heads: num('heads'),
    kvHeads: num('kv-heads'),
    intermediate: num('intermediate'),
    vocabSize: num('vocab-size'),
    texts: num('texts'),
    rounds: num('rounds'),
    threads: num('threads'),
    log: json ? undefined : (s) => process.stderr.write(s + '\n'),
  });
  process.stdout.write(json ? JSON.stringify(result, null, 2) + '\n' : formatSourceComparison(result).join('\n') + '\n');
  if (!('skipped' in result) && !result.agreement.ok) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:source failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
