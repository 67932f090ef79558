/**
 * Opening a model for any analysis: resolving it (local folder or Hub), reading and analyzing its
 * graph, the facts kept about it, and ONNX Runtime's refusals told about the user's file.
 */
import { access } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { InspectResult, LoadOptions, ModelSpec } from './api';
import { analyzeModel } from './graph/instrument';
import type { Spine } from './graph/spine';
import { isPostNormType, readModelConfig, resolveLocalModel, type ModelConfig, type ResolvedModel } from './model/localModel';
import { TokenizerError } from './model/tokenizer';
import { describeModelDtype, embeddingRows, positionTableRows, weightStorage, type WeightStorage } from './onnx/modelFacts';
import { liftMergedDecoder } from './onnx/mergedDecoder';
import { checkExternalData, readOnnxModel, type OnnxModelFile } from './onnx/modelFile';
import { quantizesActivationsPerTensor, type StagedModel } from './runtime/probedSession';

export class LayerCountMismatchError extends Error {}

export interface OpenOptions extends LoadOptions {
  /** Also expose raw residuals (tests compute independent statistics from them). */
  raw?: boolean;
  /** Let ORT's worker threads spin between runs (its default; benchmarks turn it off). */
  allowSpinning?: boolean;
  /** Decode token by token through the KV cache (automatic where the graph takes one token per run). */
  incremental?: boolean;
  /**
   * About how many forward passes the session will run (runtime/prepack.ts `expectedPasses`):
   * few passes leave the weights unpacked, which opens the session much faster. Not given: the
   * weights are prepacked, as for a session kept open for whatever comes.
   */
  expectedPasses?: number;
  /** Prepack or not whatever the rule decides from `expectedPasses` (bench:prepack measures both ways). */
  prepackWeights?: boolean;
  /**
   * Load the tokenizer on a worker thread while the session is created (a dataset run's ids then
   * come from it: ModelAnalysis.getIdsEncoder). Costs a thread, so only for runs that open a model
   * to profile a dataset and quit (the command line).
   */
  tokenizeInWorker?: boolean;
  /** false: run the whole exported graph, LM head included (tests and benchmarks compare). */
  prune?: boolean;
  /**
   * true: read the weights into memory and stage a full copy of the model, as the loader did
   * before it left them in the file (tests compare the two).
   */
  weightsInMemory?: boolean;
}

/** Resolves, reads and analyzes a model: everything but the session. */
export async function loadAndAnalyze(spec: ModelSpec, opts: LoadOptions & Pick<OpenOptions, 'weightsInMemory'>): Promise<{ resolved: ResolvedModel; model: OnnxModelFile; spine: Spine }> {
  const resolved = await resolveModel(spec, opts);
  return { resolved, ...(await readAndAnalyze(resolved, opts)) };
}

/** Reads and analyzes a resolved model's graph. */
export async function readAndAnalyze(resolved: ResolvedModel, opts: Pick<OpenOptions, 'weightsInMemory'>): Promise<{ model: OnnxModelFile; spine: Spine }> {
  const file = await readOnnxModel(path.join(resolved.folder, resolved.onnxFile), opts.weightsInMemory ? { threshold: Infinity } : {});
  await checkExternalData(file);
  const lifted = liftMergedDecoder(file);
  const model = lifted?.model ?? file;
  const spine = analyzeModel(model, { postNorm: isPostNormType(resolved.config?.modelType) });
  if (lifted) spine.notes.unshift(lifted.note);
  if (quantizesActivationsPerTensor(model)) spine.notes.push('activations are quantized per tensor at run time: windows run one at a time, so a text\'s numbers never depend on its batch');
  checkLayerCount(spine, resolved.config, model.path);
  return { model, spine };
}

export interface ModelFacts {
  sha256: string;
  /** How the MatMul weights are stored, which decides whether prepacking them pays (runtime/prepack.ts). */
  weightStorage: WeightStorage;
  embeddingRows?: number;
  /** Rows of the smallest position table, if the graph looks positions up. */
  positionRows?: number;
  inspect: InspectResult;
}

export function modelFacts(spec: ModelSpec, resolved: ResolvedModel, model: OnnxModelFile, spine: Spine): ModelFacts {
  const embedding = embeddingRows(model);
  return { sha256: model.sha256, weightStorage: weightStorage(model), embeddingRows: embedding?.rows, positionRows: positionTableRows(model), inspect: describeModel(spec, resolved, model, spine, embedding) };
}

export class ModelLoadError extends Error {}

/**
 * ONNX Runtime's refusal of the staged model, told about the user's file: the staged copy lives in
 * a temporary folder the user never sees (and which is gone by now).
 */
export function ortLoadError(err: unknown, staged: StagedModel, userFile: string): Error {
  let reason = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
  if ('file' in staged) reason = reason.split(staged.file).join(userFile).split(staged.dir).join(path.dirname(userFile));
  // "Load model from <file> failed:" repeats what the message already says.
  reason = reason.replace(/^(\[ONNXRuntimeError\] : \d+ : \w+ : )?Load model from .*? failed: ?/, '');
  // So does the C++ source location ORT puts before some reasons.
  reason = reason.replace(/^\S+\.(?:cc|h):\d+ [\w:~]+\(.*?\) /, '');
  return new ModelLoadError(`ONNX Runtime cannot load ${userFile}: ${reason}`);
}

/** `embedding` may be passed when already known: finding it indexes the whole graph. */
function describeModel(spec: ModelSpec, resolved: ResolvedModel, model: OnnxModelFile, spine: Spine, embedding = embeddingRows(model)): InspectResult {
  return {
    model: {
      id: modelId(spec),
      file: resolved.onnxFile,
      dtype: modelDtype(spec, resolved, model),
      architecture: resolved.config?.architecture,
      numLayers: spine.layers.length,
      hiddenSize: resolved.config?.hiddenSize ?? embedding?.hidden,
      style: `${spine.norm}-norm${spine.layers.some((l) => l.substeps.some((s) => s.kind === 'parallel')) ? ', parallel blocks' : ''}`,
      opset: model.opset,
    },
    layers: spine.layers.map((l) => ({
      layer: l.layer,
      residualIn: l.residualIn,
      residual: l.residual,
      substeps: l.substeps,
      ...(l.residual.startsWith('layer_profiler/') ? { added: 'residual sum computed by an added Add (the fused norm does not emit it)' } : {}),
    })),
    notes: spine.notes,
  };
}

function modelDtype(spec: ModelSpec, resolved: ResolvedModel, model: OnnxModelFile): string {
  return spec.kind === 'hub' ? spec.dtype : (resolved.dtype ?? describeModelDtype(model));
}



export function modelId(spec: ModelSpec): string {
  return spec.kind === 'hub' ? spec.id : spec.path;
}

export async function resolveModel(spec: ModelSpec, opts: LoadOptions): Promise<ResolvedModel> {
  const tokenizer = opts.tokenizer === undefined ? undefined : await tokenizerOverride(opts.tokenizer);
  const resolved = await resolveModelFiles(spec, opts);
  return tokenizer ? { ...resolved, tokenizer } : resolved;
}

/** A tokenizer given instead of the model's: checked before the model loads, so a typo fails at once. */
async function tokenizerOverride(location: string): Promise<string> {
  const full = path.resolve(location);
  try {
    await access(full);
  } catch {
    throw new TokenizerError(`No tokenizer at ${full}: give a tokenizer.json file or a folder holding tokenizer.json and tokenizer_config.json.`);
  }
  return full;
}

async function resolveModelFiles(spec: ModelSpec, opts: LoadOptions): Promise<ResolvedModel> {
  if (spec.kind === 'local') return resolveLocalModel(spec.path, spec.dtype);
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  // Loaded on demand: local models never need the Hub client.
  const { downloadHubModel } = await import('./model/hub');
  const downloaded = await downloadHubModel(
    { id: spec.id, dtype: spec.dtype, revision: spec.revision },
    { cacheDir, hubUrl: opts.hubUrl, onProgress: opts.onDownloadProgress, signal: opts.signal, accessToken: process.env.HF_TOKEN },
  );
  return { folder: downloaded.folder, onnxFile: downloaded.onnxFile, config: await readModelConfig(downloaded.folder) };
}

export function defaultCacheDir(): string {
  return process.env.LAYER_PROFILER_CACHE ?? path.join(os.homedir(), '.cache', 'layer-profiler', 'hub');
}

function checkLayerCount(spine: Spine, config: ModelConfig | undefined, file: string): void {
  const found = spine.layers.length;
  if (config?.numLayers !== undefined && config.numLayers !== found) {
    // Name what was found, block by block, so the mismatch can be read without another tool.
    const blocks = spine.layers.map((l) => `${l.layer}: ${l.substeps.map((s) => s.kind).join(' + ')} ending at ${l.residual}`);
    const shown = blocks.length > 8 ? [...blocks.slice(0, 8), `… ${blocks.length - 8} more`] : blocks;
    throw new LayerCountMismatchError(
      `Found ${found} transformer blocks in ${file}, but its config says ${config.numLayers}. The graph's structure is not one the profiler reads correctly. Found: ${shown.join('; ')}.`,
    );
  }
}
