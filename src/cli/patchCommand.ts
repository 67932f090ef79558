/** `layer-profiler patch`: activation patching, which layers carry the difference between a clean and a corrupted text. */
import { Option, type Command } from 'commander';
import { resultsToJson } from '../core/diff/diffExport';
import type { PatchPointKind } from '../core/graph/patchGraph';
import { ActivationPatching } from '../core/patch/activationPatching';
import { PATCH_SCHEMA, type PatchResults } from '../core/patch/patchResults';
import type { AnalysisCommandDeps } from './commandDeps';
import { formatPatch } from './formatDiff';
import { parseModelArg, UsageError } from './modelArg';
import { positiveInt } from './optionParsers';

interface PatchOptions {
  model?: string;
  dtype?: string;
  revision?: string;
  clean: string;
  corrupted: string;
  metric?: 'logit-diff' | 'target';
  target?: string;
  foil?: string;
  points: string[];
  batchSize: number;
  json?: string;
  quiet?: boolean;
}

const POINTS: Record<string, PatchPointKind> = { resid: 'resid_post', attn: 'attn_out', mlp: 'mlp_out' };
const collect = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

/** `command` already carries the model options every subcommand shares. */
export function registerPatchCommand<O extends object>(command: Command, deps: AnalysisCommandDeps<O>): Command {
  return command
    .description("activation patching: run the corrupted text with one layer's state at one position taken from the clean run, for every layer and position, and report how far the output moves towards the clean one")
    .requiredOption('--clean <text>', 'the clean text (A)')
    .requiredOption('--corrupted <text>', 'the corrupted text (B), with as many tokens as the clean one')
    .addOption(new Option('--metric <kind>', "logit-diff: the clean run's top next token against the corrupted run's; target: --target against --foil").choices(['logit-diff', 'target']))
    .option('--target <token>', 'the token the metric favours (with --foil)')
    .option('--foil <token>', 'the token the metric counts against (with --target)')
    .option('--points <kinds>', 'what to patch: resid, attn, mlp (comma-separated or repeated; default all the model has)', collect)
    .option('--batch-size <n>', 'patches per forward pass (one per batch row)', positiveInt, 8)
    .option('--json <file>', 'write the grids as JSON (layer-profiler/patch@1)')
    .option('--quiet', 'no progress on stderr')
    .action(async (o: PatchOptions & O) => {
      const named = o.target !== undefined || o.foil !== undefined;
      if (o.metric === 'target' && !named) throw new UsageError('--metric target needs --target TOKEN and --foil TOKEN.');
      if (named && (o.target === undefined || o.foil === undefined)) throw new UsageError('Give both --target and --foil.');
      if (o.metric === 'logit-diff' && named) throw new UsageError('--metric logit-diff uses the two runs\' top tokens; leave out --target/--foil or use --metric target.');
      const kinds = (o.points ?? ['resid', 'attn', 'mlp']).map((p) => {
        const kind = POINTS[p];
        if (!kind) throw new UsageError(`Unknown point '${p}'; use resid, attn or mlp.`);
        return kind;
      });
      const log = (line: string) => !o.quiet && process.stderr.write(line + '\n');
      const spec = parseModelArg(o.model, o.dtype, o.revision);
      log(`loading ${spec.kind === 'hub' ? `${spec.id} (${spec.dtype})` : spec.path}`);
      const patching = await ActivationPatching.open(spec, { ...deps.loadOptions(o, !!o.quiet), points: [...new Set(kinds)] });
      try {
        const outcome = await patching.patch({ clean: { label: 'clean', text: o.clean }, corrupted: { label: 'corrupted', text: o.corrupted }, target: o.target, foil: o.foil, batchSize: o.batchSize });
        const results: PatchResults = {
          schema: PATCH_SCHEMA,
          model: patching.modelInfo(),
          runtime: patching.runtimeInfo(),
          settings: { points: [...new Set(patching.points.map((p) => p.kind))], batchSize: o.batchSize },
          provenance: { createdAt: new Date().toISOString(), commandLine: ['layer-profiler', ...deps.commandArgs] },
          notes: patching.notes,
          ...outcome,
        };
        if (o.json) await deps.writeOutput(o.json, resultsToJson(results));
        process.stdout.write(formatPatch(results));
      } finally {
        await patching.dispose();
      }
    });
}
