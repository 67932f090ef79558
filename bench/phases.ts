/**
 * `npx tsx bench/phases.ts [--style quantized-dynamic] [--hidden 896 --layers 24 --heads 14
 * --intermediate 4864 --vocab-size 151936] [--texts 24] [--threads N]`: where the CLI's end-to-end
 * time goes, phase by phase, on a generated model (default: Qwen2.5-0.5B's shape, q8 as the
 * default Hub model runs): process start, model decode and analysis (read, hash, find the spine),
 * instrumentation, staging, ONNX Runtime session creation, tokenizer load, tokenization,
 * inference, statistics. The phases run as `profile` runs them, one after another, so their sum
 * can be set beside the CLI's whole-process time on the same model and texts (also measured).
 * `--model DIR` profiles a model folder instead (e.g. bench:source's export under test-output/).
 * The session is prepacked or not as the CLI would decide; the tokenizer loads on the main thread
 * here, where the CLI loads it on a worker thread beside the model's loading and session creation.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadAndAnalyze } from '../src/core/modelLoading';
import { loadTokenizer } from '../src/core/model/tokenizer';
import { instrumentForProfile } from '../src/core/profileGraph';
import { createOrtSession, ProbedSession, quantizesActivationsPerTensor, stageModel } from '../src/core/runtime/probedSession';
import { readModelConfig } from '../src/core/model/localModel';
import { readsPastInputs, weightStorage } from '../src/core/onnx/modelFacts';
import { DEFAULT_PROFILE_OPTIONS } from '../src/core/api';
import { prepacksWeights } from '../src/core/runtime/prepack';
import { datasetPasses } from '../src/core/workload';
import { feedWindow } from '../src/core/stats/feedWindow';
import { TextAccumulator } from '../src/core/stats/textStats';
import { planTextWindows } from '../src/core/windows';
import { ensureModel, type ModelStyle } from '../test/modelgen';
import { writeBenchTexts } from './sourceTexts';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const STYLE = (argv.includes('--style') ? argv[argv.indexOf('--style') + 1] : 'quantized-dynamic') as ModelStyle;
const HIDDEN = arg('hidden', 896);
const shape = { hidden: HIDDEN, layers: arg('layers', 24), heads: arg('heads', 14), intermediate: arg('intermediate', 4864), vocabSize: arg('vocab-size', 151936), maxPositions: 1024, seed: 1 };
const TEXTS = arg('texts', 24);
const THREADS = arg('threads', 0) || undefined;
const ROOT = path.resolve(__dirname, '..');
const MODEL_DIR = argv.includes('--model') ? path.resolve(argv[argv.indexOf('--model') + 1]) : undefined;

const times: [string, number][] = [];
async function phase<T>(name: string, f: () => Promise<T> | T): Promise<T> {
  const t0 = performance.now();
  const out = await f();
  times.push([name, performance.now() - t0]);
  return out;
}

async function main(): Promise<void> {
  if (!MODEL_DIR) process.stderr.write(`generating ${STYLE} ${JSON.stringify(shape)}\n`);
  const dir = MODEL_DIR ?? (await ensureModel(STYLE, shape)).dir;
  const tokenizerForTexts = await loadTokenizer(dir);
  const textDir = path.join(ROOT, 'test-output', 'phases', `texts-${TEXTS}`);
  await writeBenchTexts(textDir, TEXTS, tokenizerForTexts, 512);

  const cliArgs = [path.join(ROOT, 'bin', 'layer-profiler.js'), 'profile', '--model', dir, '--dataset', `t=${textDir}`, '--json', path.join(ROOT, 'test-output', 'phases', 'out.json'), '--no-cache', ...(THREADS ? ['--threads', String(THREADS)] : [])];
  spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')]);
  const startOnly = performance.now();
  spawnSync(process.execPath, [path.join(ROOT, 'bin', 'layer-profiler.js'), '--version']);
  const startMs = performance.now() - startOnly;
  const cliStart = performance.now();
  const cli = spawnSync(process.execPath, cliArgs, { encoding: 'utf8' });
  const cliMs = performance.now() - cliStart;
  if (cli.status !== 0) throw new Error(`the CLI failed: ${cli.stderr}`);

  const spec = { kind: 'local' as const, path: dir };
  const { model, spine } = await phase('model decode + analysis (read, hash, spine)', () => loadAndAnalyze(spec, {}));
  const instrumented = await phase('instrumentation (probes, pruning)', () => instrumentForProfile(model, spine));
  const config = await readModelConfig(dir);
  // Prepacked or not as the CLI decides it for this dataset (runtime/prepack.ts).
  const passes = await datasetPasses([{ name: 't', paths: [textDir] }], DEFAULT_PROFILE_OPTIONS);
  const settings = { threads: THREADS, cache: { kvHeads: config?.kvHeads, headDim: config?.headDim }, readsPast: readsPastInputs(model), prepackWeights: prepacksWeights(passes, weightStorage(model)) };
  const staged = await phase('staging (the edited model written for ORT)', () => stageModel(model, instrumented.edit));
  const ortSession = await phase('ORT session creation', () => createOrtSession(staged, settings));
  const layout = { numLayers: spine.layers.length, substepKinds: instrumented.probes.substepKinds, perTensorActivationScales: quantizesActivationsPerTensor(model) };
  const session = new ProbedSession(ortSession, layout, settings);
  const tokenizer = await phase('tokenizer load', () => loadTokenizer(dir));
  const { readdir, readFile } = await import('node:fs/promises');
  const files = (await readdir(textDir)).sort();
  const L = spine.layers.length;
  let tokenizeMs = 0;
  let inferMs = 0;
  let statsMs = 0;
  let readMs = 0;
  let tokens = 0;
  for (const f of files) {
    let t = performance.now();
    const text = await readFile(path.join(textDir, f), 'utf8');
    readMs += performance.now() - t;
    t = performance.now();
    const ids = tokenizer.encode(text).ids;
    tokenizeMs += performance.now() - t;
    tokens += ids.length;
    const planned = planTextWindows(ids, { windowLength: 512, carriesCache: session.carriesCache });
    t = performance.now();
    const values = await session.run(planned.segments.flat(), tokenizer.padId);
    inferMs += performance.now() - t;
    t = performance.now();
    const acc = new TextAccumulator(L, session.substepKinds);
    for (const v of values) feedWindow(acc, v, L);
    acc.finish(planned);
    statsMs += performance.now() - t;
  }
  times.push(['reading texts', readMs], ['tokenization', tokenizeMs], ['inference (ORT runs)', inferMs], ['statistics', statsMs]);
  const sum = times.reduce((n, [, ms]) => n + ms, 0) + startMs;
  const lines = [
    `model: ${MODEL_DIR ?? `generated ${STYLE}, hidden ${shape.hidden}, ${shape.layers} layers, ${shape.heads} heads, MLP ${shape.intermediate}, vocabulary ${shape.vocabSize}`} (${(model.bytes.byteLength / 2 ** 20).toFixed(0)} MiB); ${files.length} texts, ${tokens} tokens`,
    `CLI whole process (profile --no-cache): ${(cliMs / 1000).toFixed(2)} s; phases below sum to ${(sum / 1000).toFixed(2)} s`,
    `  ${'process start (node, CLI bundle, ORT addon)'.padEnd(48)} ${(startMs / 1000).toFixed(2).padStart(7)} s  ${((startMs / sum) * 100).toFixed(1).padStart(5)}%`,
    ...times.map(([name, ms]) => `  ${name.padEnd(48)} ${(ms / 1000).toFixed(2).padStart(7)} s  ${((ms / sum) * 100).toFixed(1).padStart(5)}%`),
    `tokenization: ${((tokenizeMs * 1000) / tokens).toFixed(1)} µs per token; inference: ${(inferMs / tokens).toFixed(2)} ms per token`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  await session.release();
}

main().catch((err: unknown) => {
  process.stderr.write(`phases failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
