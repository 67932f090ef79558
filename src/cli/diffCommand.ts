/** `layer-profiler diff`: where the hidden states of two texts part, at every residual point. */
import { Option, type Command } from 'commander';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_PROFILE_OPTIONS } from '../core/api';
import type { AlignMode } from '../core/diff/align';
import { diffToCsv, resultsToJson } from '../core/diff/diffExport';
import { DIFF_SCHEMA, SINGLE_PAIR_NOTE, type DiffResults } from '../core/diff/diffResults';
import { DIFF_PAIRS_SCHEMA, matchFiles, pairMeans, poolPairs, type PairPointMeans } from '../core/diff/pairPool';
import { TextDiff, type TextPair } from '../core/diff/textDiff';
import { textPasses } from '../core/workload';
import type { AnalysisCommandDeps } from './commandDeps';
import { formatDiff } from './formatDiff';
import { parseModelArg, UsageError } from './modelArg';
import { positiveInt } from './optionParsers';

interface DiffOptions {
  model?: string;
  dtype?: string;
  revision?: string;
  a?: string;
  b?: string;
  aFile?: string;
  bFile?: string;
  git?: string;
  file?: string;
  align?: AlignMode;
  maxTokens: number;
  pairs?: string[];
  json?: string;
  csv?: string;
  quiet?: boolean;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`Cannot read ${file}: ${(err as Error).message}`);
  }
}

/** The file's content at `rev` (through `git show`), against the working copy. */
async function gitPair(rev: string, file: string): Promise<TextPair> {
  const dir = path.dirname(path.resolve(file));
  let old: string;
  try {
    old = (await promisify(execFile)('git', ['show', `${rev}:./${path.basename(file)}`], { cwd: dir, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' })).stdout;
  } catch (err) {
    throw new UsageError(`git show ${rev}:${file} failed: ${((err as { stderr?: string }).stderr ?? (err as Error).message).trim().split('\n')[0]}`);
  }
  return { a: { label: `${file}@${rev}`, text: old, path: file }, b: { label: file, text: await readText(file), path: file } };
}

async function textPair(o: DiffOptions): Promise<TextPair> {
  if (o.git !== undefined || o.file !== undefined) {
    if (o.git === undefined || o.file === undefined) throw new UsageError('--git REV and --file F go together.');
    if (o.a !== undefined || o.b !== undefined || o.aFile || o.bFile) throw new UsageError('Give either --git REV --file F, or the two texts (--a/--a-file and --b/--b-file).');
    return gitPair(o.git, o.file);
  }
  const side = (text: string | undefined, file: string | undefined, name: 'a' | 'b') => {
    if ((text === undefined) === (file === undefined)) throw new UsageError(`Give text ${name.toUpperCase()} once: --${name} "..." or --${name}-file FILE.`);
    return file !== undefined ? readText(file).then((t) => ({ label: file, text: t, path: file })) : Promise.resolve({ label: name.toUpperCase(), text: text! });
  };
  return { a: await side(o.a, o.aFile, 'a'), b: await side(o.b, o.bFile, 'b') };
}

/** `command` already carries the model options every subcommand shares. */
export function registerDiffCommand<O extends object>(command: Command, deps: AnalysisCommandDeps<O>): Command {
  return command
    .description('two texts side by side: the L2 distance, cosine and relative L2 of their hidden states at every residual point, per aligned token pair')
    .option('--a <text>', 'text A')
    .option('--a-file <file>', 'text A from a file')
    .option('--b <text>', 'text B')
    .option('--b-file <file>', 'text B from a file')
    .option('--git <rev>', 'with --file: compare the file at this git revision (A) with the working copy (B)')
    .option('--file <file>', 'with --git: the file to compare')
    .option('--pairs <dirs...>', 'A_DIR B_DIR: every file in both folders (matched by relative path) as a pair; distances pooled per point across pairs')
    .addOption(new Option('--align <mode>', 'position by position, or by the longest common subsequence of token ids (default: position when the lengths match, else lcs)').choices(['position', 'lcs']))
    .option('--max-tokens <n>', 'tokens per pass; longer texts run as windows continued through the KV cache', positiveInt, DEFAULT_PROFILE_OPTIONS.maxTokens)
    .option('--json <file>', 'write the distances as JSON (layer-profiler/diff@1)')
    .option('--csv <file>', 'write one CSV row per point and aligned pair')
    .option('--quiet', 'no progress on stderr')
    .action(async (o: DiffOptions & O) => {
      if (o.json && o.csv && path.resolve(o.json) === path.resolve(o.csv)) throw new UsageError('--json and --csv must name different files.');
      if (o.pairs) {
        await diffPairs(o, deps);
        return;
      }
      const pair = await textPair(o);
      const log = (line: string) => !o.quiet && process.stderr.write(line + '\n');
      const spec = parseModelArg(o.model, o.dtype, o.revision);
      log(`loading ${spec.kind === 'hub' ? `${spec.id} (${spec.dtype})` : spec.path}`);
      // One window of each text per pass at most.
      const expectedPasses = textPasses([pair.a.text, pair.b.text], { batchSize: 1, maxBatchTokens: o.maxTokens, maxTokens: o.maxTokens });
      const diff = await TextDiff.open(spec, { ...deps.loadOptions(o, !!o.quiet), expectedPasses });
      try {
        const opts = { maxTokens: o.maxTokens };
        const outcome = await diff.compareTexts(pair, opts, o.align);
        const results: DiffResults = {
          schema: DIFF_SCHEMA,
          model: diff.modelInfo(),
          runtime: diff.runtimeInfo(),
          settings: {
            align: outcome.alignment.mode,
            windowTokens: diff.windowLength(opts),
            ...(outcome.windows > 1 ? { windows: outcome.windows } : {}),
            computedIn: outcome.mode === 'separate' ? 'separate-runs' : outcome.reducedIn === 'graph' ? 'graph' : 'gathered-states',
          },
          provenance: { createdAt: new Date().toISOString(), commandLine: ['layer-profiler', ...deps.commandArgs] },
          note: SINGLE_PAIR_NOTE,
          a: outcome.a,
          b: outcome.b,
          alignment: outcome.alignment.mode,
          pairs: outcome.alignment.pairs,
          onlyA: outcome.alignment.onlyA,
          onlyB: outcome.alignment.onlyB,
          points: outcome.points,
        };
        if (o.json) await deps.writeOutput(o.json, resultsToJson(results));
        if (o.csv) await deps.writeOutput(o.csv, diffToCsv(results));
        process.stdout.write(formatDiff(results));
      } finally {
        await diff.dispose();
      }
    });
}

/** `diff --pairs A_DIR B_DIR`: the files of both folders paired by relative path, pooled per point. */
async function diffPairs<O extends object>(o: DiffOptions & O, deps: AnalysisCommandDeps<O>): Promise<void> {
  if (o.pairs!.length !== 2) throw new UsageError('--pairs takes two folders: --pairs A_DIR B_DIR (files are paired by their path inside each).');
  if (o.a !== undefined || o.b !== undefined || o.aFile || o.bFile || o.git !== undefined) throw new UsageError('Give either --pairs A_DIR B_DIR, or one pair of texts.');
  const [aDir, bDir] = o.pairs!;
  let files: Awaited<ReturnType<typeof matchFiles>>;
  try {
    files = await matchFiles(aDir, bDir);
  } catch (err) {
    throw new UsageError(`Cannot list --pairs folders: ${(err as Error).message}`);
  }
  if (files.matched.length === 0) throw new UsageError(`No file is in both ${aDir} and ${bDir} (pairs are matched by their path inside each folder).`);
  const log = (line: string) => !o.quiet && process.stderr.write(line + '\n');
  const spec = parseModelArg(o.model, o.dtype, o.revision);
  // Two texts per pair, a pass each at least.
  const diff = await TextDiff.open(spec, { ...deps.loadOptions(o, !!o.quiet), expectedPasses: 2 * files.matched.length });
  try {
    const opts = { maxTokens: o.maxTokens };
    const records: { a: string; b: string; points: PairPointMeans[] }[] = [];
    const skipped: { path: string; reason: string }[] = [];
    for (const [i, rel] of files.matched.entries()) {
      const a = path.join(aDir, rel);
      const b = path.join(bDir, rel);
      try {
        const outcome = await diff.compareTexts({ a: { label: a, text: await readText(a), path: a }, b: { label: b, text: await readText(b), path: b } }, opts, o.align);
        records.push({ a, b, points: pairMeans(outcome.points) });
      } catch (err) {
        skipped.push({ path: rel, reason: (err as Error).message });
      }
      log(`[pairs] ${i + 1}/${files.matched.length} ${rel}`);
    }
    const pooled = poolPairs(records.map((r) => r.points));
    const results = {
      schema: DIFF_PAIRS_SCHEMA,
      model: diff.modelInfo(),
      runtime: diff.runtimeInfo(),
      settings: { windowTokens: diff.windowLength(opts), ...(o.align ? { align: o.align } : {}) },
      provenance: { createdAt: new Date().toISOString(), commandLine: ['layer-profiler', ...deps.commandArgs] },
      pairs: records.length,
      unmatched: { onlyA: files.onlyA, onlyB: files.onlyB },
      skipped,
      points: pooled,
      records,
    };
    if (o.json) await deps.writeOutput(o.json, resultsToJson(results));
    const fmt = (s: { mean: number; std: number | null }) => `${s.mean.toFixed(4)} ± ${s.std === null ? '—' : s.std.toFixed(4)}`;
    const lines = [`${records.length} pairs (${files.onlyA.length} only in A, ${files.onlyB.length} only in B${skipped.length ? `, ${skipped.length} skipped` : ''}); per point, the mean over pairs of each pair's mean over its aligned tokens`, `  ${'point'.padStart(5)}  ${'L2'.padStart(20)}  ${'cosine'.padStart(20)}  ${'rel L2'.padStart(20)}`];
    for (const p of pooled) lines.push(`  ${(p.layer < 0 ? 'embed' : String(p.layer)).padStart(5)}  ${fmt(p.l2).padStart(20)}  ${fmt(p.cosine).padStart(20)}  ${fmt(p.relL2).padStart(20)}`);
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await diff.dispose();
  }
}
