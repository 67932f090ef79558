/**
 * The engine: opens a model (local or Hub), instruments it, and profiles texts and datasets into
 * per-layer statistics. The CLI calls it in-process; the VS Code extension calls it in a child process.
 */
import * as ort from 'onnxruntime-node';
import { access, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_MAX_FILE_BYTES, type DatasetInput, type InspectResult, type LoadOptions, type ModelSpec, type ProfileOptions, type ProfileProgress } from './api';
import { collectFiles, readTextFile, type ReadResult } from './dataset/collect';
import { analyzeModel, instrumentModel } from './graph/instrument';
import type { Spine } from './graph/spine';
import { isPostNormType, readModelConfig, resolveLocalModel, type ModelConfig, type ResolvedModel } from './model/localModel';
import { loadTokenizer, TokenizerError, type TextTokenizer } from './model/tokenizer';
import { tokenOffsets } from './model/tokenOffsets';
import { describeModelDtype, embeddingRows, positionTableRows, readsPastInputs } from './onnx/modelFacts';
import { liftMergedDecoder } from './onnx/mergedDecoder';
import { checkExternalData, readOnnxModel, type OnnxModelFile } from './onnx/modelFile';
import type { DatasetResult, ModelInfo, ProfileSettings, RuntimeInfo, SkippedFile, TextRecord, TokenProfile } from './results';
import { sha256Text, textRecord } from './stats/records';
import { ProbedSession, quantizesActivationsPerTensor, stageModel, type StagedModel, type WindowProbeValues } from './runtime/probedSession';
import { addText, emptyDatasetMoments, summarizeLayers } from './stats/datasetStats';
import { TextAccumulator, type TextStats } from './stats/textStats';
import { feedWindow } from './stats/feedWindow';
import { TOOL_NAME, TOOL_VERSION } from './version';
import { ProfileCancelledError } from './runtime/cancel';

export { ProfileCancelledError };
import { effectiveWindowLength, planTextWindows, type TextWindows, type WindowPolicy } from './windows';

// ORT's own log lines (coloured, on stderr) would duplicate the errors it throws, which are reported
// in words; its environment is created with the first session, so this must be set before one.
ort.env.logLevel = 'fatal';

export class LayerCountMismatchError extends Error {}

export interface OpenOptions extends LoadOptions {
  /** Also expose raw residuals (tests compute independent statistics from them). */
  raw?: boolean;
  /** Let ORT's worker threads spin between runs (its default; benchmarks turn it off). */
  allowSpinning?: boolean;
  /** Decode token by token through the KV cache (automatic where the graph takes one token per run). */
  incremental?: boolean;
}

export class LayerProfiler {
  private tokenizer: TextTokenizer | undefined;

  private constructor(
    readonly spec: ModelSpec,
    readonly resolved: ResolvedModel,
    /** Facts kept instead of the model's bytes, which can be freed once the session holds the weights. */
    private readonly facts: ModelFacts,
    readonly spine: Spine,
    readonly session: ProbedSession,
    private readonly threads: number,
    private readonly graphOptimizationLevel: string,
  ) {}

  static async open(spec: ModelSpec, opts: OpenOptions = {}): Promise<LayerProfiler> {
    const { resolved, model, spine } = await loadAndAnalyze(spec, opts);
    const instrumented = instrumentModel(model, spine, { raw: opts.raw });
    const layout = { numLayers: spine.layers.length, substepKinds: instrumented.probes.substepKinds, perTensorActivationScales: quantizesActivationsPerTensor(model) };
    const facts = modelFacts(spec, resolved, model, spine);
    const readsPast = readsPastInputs(model);
    // The decoded model is not used after staging; only facts about it are kept.
    const staged = await stageModel(model, instrumented);
    const config = resolved.config;
    const session = await ProbedSession.create(
      staged,
      layout,
      { threads: opts.threads, graphOptimizationLevel: opts.graphOptimizationLevel, allowSpinning: opts.allowSpinning, incremental: opts.incremental, cache: { kvHeads: config?.kvHeads, headDim: config?.headDim }, readsPast },
      opts.raw,
    ).catch((err: unknown) => {
      throw ortLoadError(err, staged, model.path);
    });
    // (facts.inspect.notes is this same array)
    if (session.decodesTokenByToken) spine.notes.push('texts are decoded token by token through the KV cache (the graph takes one token per run, or this was asked for)');
    spine.notes.push(
      session.carriesCache
        ? 'a text longer than one window continues through the KV cache, so its windows give the values of one pass'
        : 'the graph has no KV cache to carry: a text longer than one window is profiled as independent windows',
    );
    return new LayerProfiler(spec, resolved, facts, spine, session, opts.threads ?? 0, opts.graphOptimizationLevel ?? 'all');
  }

  get numLayers(): number {
    return this.spine.layers.length;
  }

  inspect(): InspectResult {
    return this.facts.inspect;
  }

  get dtype(): string {
    return this.facts.inspect.model.dtype;
  }

  get hiddenSize(): number | undefined {
    return this.facts.inspect.model.hiddenSize;
  }

  modelInfo(): ModelInfo {
    return {
      id: modelId(this.spec),
      ...(this.spec.kind === 'hub' && this.spec.revision ? { revision: this.spec.revision } : {}),
      file: this.resolved.onnxFile,
      sha256: this.facts.sha256,
      ...(this.resolved.config?.architecture ? { architecture: this.resolved.config.architecture } : {}),
      numLayers: this.numLayers,
      ...(this.hiddenSize ? { hiddenSize: this.hiddenSize } : {}),
      dtype: this.dtype,
      ...(this.tokenizer ? { tokenizerSha256: this.tokenizer.sha256 } : {}),
      ...(this.resolved.config?.sha256 ? { configSha256: this.resolved.config.sha256 } : {}),
    };
  }

  runtimeInfo(): RuntimeInfo {
    return {
      tool: `${TOOL_NAME} ${TOOL_VERSION}`,
      onnxruntime: ort.env.versions.node ?? ort.env.versions.common,
      executionProvider: 'cpu',
      threads: this.threads || os.availableParallelism(),
      graphOptimizationLevel: this.graphOptimizationLevel,
    };
  }

  async getTokenizer(): Promise<TextTokenizer> {
    if (!this.tokenizer) {
      const location = this.resolved.tokenizer ?? this.resolved.folder;
      const tokenizer = await loadTokenizer(location);
      const rows = this.facts.embeddingRows ?? this.resolved.config?.vocabSize;
      if (rows !== undefined && tokenizer.vocabSize > rows) {
        throw new TokenizerError(`The tokenizer ${this.resolved.tokenizer ? location : `in ${location}`} has ${tokenizer.vocabSize} tokens but the model's embedding has only ${rows} rows: the tokenizer does not belong to this model.`);
      }
      this.tokenizer = tokenizer;
    }
    return this.tokenizer;
  }

  /** Most positions one pass may hold: the position tables' rows and the config's positions. */
  get positionLimit(): number | undefined {
    const limit = Math.min(this.facts.positionRows ?? Infinity, this.resolved.config?.maxPositions ?? Infinity);
    return Number.isFinite(limit) ? limit : undefined;
  }

  /** How texts are cut into passes for a requested window length. */
  windowPolicy(opts: Pick<ProfileOptions, 'maxTokens'>): WindowPolicy {
    const positionLimit = this.positionLimit;
    return {
      windowLength: effectiveWindowLength(opts.maxTokens, { fixedSequenceLength: this.session.fixedSequenceLength, positionLimit }),
      carriesCache: this.session.carriesCache,
      ...(positionLimit !== undefined ? { positionLimit } : {}),
    };
  }

  /** Window length: the configured maximum, or less where the graph fixes its sequence length or its positions. */
  windowLength(opts: Pick<ProfileOptions, 'maxTokens'>): number {
    return this.windowPolicy(opts).windowLength;
  }

  /** Runs independent token windows in batches and returns each window's per-token probe values. */
  async runWindows(windows: number[][], batchSize: number, padId = 0): Promise<WindowProbeValues[]> {
    const out: WindowProbeValues[] = [];
    for (let i = 0; i < windows.length; i += batchSize) out.push(...(await this.session.run(windows.slice(i, i + batchSize), padId)));
    return out;
  }

  /**
   * Runs one text's windows: segments continue through the KV cache where the model has one,
   * else its windows run in batches. Yields each window's values in order; cancellable between windows.
   */
  async *runText(planned: TextWindows, batchSize: number, padId: number, signal?: AbortSignal): AsyncGenerator<WindowProbeValues> {
    for (const segment of planned.segments) {
      if (this.session.carriesCache && segment.length > 1) {
        // Each window as it finishes, so progress moves inside a long text.
        yield* streamed<WindowProbeValues>((onWindow) => this.session.runContinued(segment, signal, onWindow));
        continue;
      }
      for (let i = 0; i < segment.length; i += batchSize) {
        if (signal?.aborted) throw new ProfileCancelledError();
        for (const values of await this.session.run(segment.slice(i, i + batchSize), padId)) yield values;
      }
    }
  }

  /**
   * Profiles one text (an editor selection) and keeps per-token values for the heatmap and the
   * editor: for its first MAX_TOKEN_VIEW tokens, so a huge selection cannot bloat stored state
   * (its statistics still pool every token). Cancellable between batches.
   */
  async profileText(text: string, opts: ProfileOptions, signal?: AbortSignal): Promise<{ stats: TextStats; tokens: TokenProfile }> {
    const tokenizer = await this.getTokenizer();
    const { ids, tokens } = tokenizer.encode(text);
    if (ids.length === 0) throw new EmptyTextError('The text has no tokens to profile.');
    if (opts.skipFirstToken && ids.length < 2) throw new EmptyTextError('The text has one token, and the first token is left out of the statistics (skip first token).');
    const planned = planTextWindows(ids, this.windowPolicy(opts));
    const acc = new TextAccumulator(this.numLayers, this.session.substepKinds);
    const L = this.numLayers;
    const kept = Math.min(ids.length, MAX_TOKEN_VIEW);
    const absMean: number[][] = Array.from({ length: L }, () => []);
    const l2: number[][] = Array.from({ length: L }, () => []);
    let seen = 0;
    for await (const v of this.runText(planned, opts.batchSize, tokenizer.padId, signal)) {
      feedWindow(acc, v, L, seen === 0 && opts.skipFirstToken ? 1 : 0);
      for (let t = 0; t < v.tokens && seen + t < kept; t++) {
        for (let l = 0; l < L; l++) {
          absMean[l].push(v.absMean[t * L + l]);
          l2[l].push(v.l2[t * L + l]);
        }
      }
      seen += v.tokens;
    }
    const offsets = tokenOffsets(tokenizer.decode, ids.slice(0, kept), text);
    const stats = acc.finish(planned);
    const bad = nonFiniteValues(stats);
    if (bad) throw new NonFiniteValuesError(`The model's values are not finite for this text: ${bad}.`);
    return { stats, tokens: { tokens: tokens.slice(0, kept), offsets, absMean, l2, ...(kept < ids.length ? { totalTokens: ids.length } : {}) } };
  }

  /**
   * Profiles a dataset, yielding progress about once a second (also inside a long text) and
   * returning its result. When `signal` aborts, it stops between windows and returns what it has,
   * marked partial: only whole texts count. `live.snapshot`, set while it runs, gives the texts
   * finished so far (for a caller that must save them at once, on a second interrupt).
   */
  async *profileDataset(input: DatasetInput, opts: ProfileOptions, signal?: AbortSignal, live?: { snapshot?: () => DatasetResult }): AsyncGenerator<ProfileProgress, DatasetResult> {
    const started = Date.now();
    const tokenizer = await this.getTokenizer();
    const policy = this.windowPolicy(opts);
    const session = this.session;
    const numLayers = this.numLayers;
    const moments = emptyDatasetMoments(numLayers, session.substepKinds);
    const skipped: SkippedFile[] = [];
    const sources = await this.datasetSources(input, skipped);
    const progress: ProfileProgress = { dataset: input.name, textsDone: 0, textsTotal: sources.length, tokensDone: 0, elapsedMs: 0 };
    let lastReport = 0;
    let partial = false;
    /** Tokens of the texts that made it into the statistics (a cancelled run drops unfinished ones). */
    let datasetTokens = 0;
    const records: TextRecord[] = [];
    // Time left comes from tokens: those of the texts tokenized so far, and the rest estimated from
    // their bytes at the tokens-per-byte seen so far.
    let bytesLeft = sources.reduce((n, s) => n + s.bytes, 0);
    let bytesSeen = 0;
    let tokensSeen = 0;

    const snapshot = (): DatasetResult => ({
      name: input.name,
      ...(input.paths?.length ? { source: input.paths.join(', ') } : {}),
      texts: moments.layers[0]?.mean.n ?? 0,
      tokens: datasetTokens,
      skipped: [...skipped],
      records: [...records],
      moments: structuredClone(moments),
      layers: summarizeLayers(moments),
      ...(partial ? { partial: true } : {}),
    });
    if (live) live.snapshot = () => ({ ...snapshot(), partial: true });

    /** When the first window started: the rate leaves out loading and the first tokenization. */
    let runStarted: number | undefined;
    /** Time since then spent reading and tokenizing rather than running passes. */
    let preparingMs = 0;
    const report = (): ProfileProgress => {
      const elapsedMs = Date.now() - started;
      const tokensExpected = Math.round(tokensSeen + (bytesSeen > 0 ? (bytesLeft * tokensSeen) / bytesSeen : 0));
      const runMs = runStarted === undefined ? 0 : Date.now() - runStarted - preparingMs;
      // A rate over less than a second of passes says little.
      const secondsLeft = progress.tokensDone > 0 && runMs >= 1000 && tokensExpected >= progress.tokensDone ? Math.round(((tokensExpected - progress.tokensDone) * runMs) / progress.tokensDone / 1000) : undefined;
      return { ...progress, elapsedMs, ...(tokensExpected > 0 ? { tokensExpected } : {}), ...(secondsLeft !== undefined ? { secondsLeft } : {}) };
    };
    const due = () => {
      if (Date.now() - lastReport < 1000) return false;
      lastReport = Date.now();
      return true;
    };

    interface Pending {
      label: string;
      sha256: string;
      acc: TextAccumulator;
      planned: TextWindows;
      remaining: number;
    }
    const feed = (text: Pending, values: WindowProbeValues) => {
      const first = text.remaining === text.planned.windows;
      feedWindow(text.acc, values, numLayers, first && opts.skipFirstToken ? 1 : 0);
      progress.tokensDone += values.tokens;
      if (--text.remaining === 0) {
        const stats = text.acc.finish(text.planned);
        const bad = nonFiniteValues(stats);
        if (bad) {
          // One text's NaN would make every statistic of the dataset NaN.
          skipped.push({ path: text.label, reason: `the model's values are not finite: ${bad}` });
          progress.textsTotal -= 1;
          return;
        }
        addText(moments, stats);
        records.push(textRecord(text.label, text.sha256, stats));
        datasetTokens += text.acc.tokenCount;
        progress.textsDone += 1;
        progress.current = text.label;
      }
    };
    // Independent windows of different texts share batches.
    const queue: { text: Pending; window: number[] }[] = [];
    async function* flush(all: boolean): AsyncGenerator<ProfileProgress> {
      while (queue.length >= opts.batchSize || (all && queue.length > 0)) {
        if (signal?.aborted) {
          partial = true;
          return;
        }
        const batch = queue.splice(0, opts.batchSize);
        const values = await session.run(batch.map((b) => b.window), tokenizer.padId);
        batch.forEach((item, i) => feed(item.text, values[i]));
        if (due()) yield report();
      }
    }

    for (const source of sources) {
      if (signal?.aborted) {
        partial = true;
        break;
      }
      bytesLeft -= source.bytes;
      const preparing = Date.now();
      const text = await source.read();
      if (!text.ok) {
        skipped.push({ path: source.label, reason: text.reason });
        progress.textsTotal -= 1;
        continue;
      }
      let ids: number[];
      try {
        ids = tokenizer.encode(text.text).ids;
      } catch (err) {
        skipped.push({ path: source.label, reason: `the tokenizer failed on it: ${(err as Error).message}` });
        progress.textsTotal -= 1;
        continue;
      }
      if (ids.length === 0 || (opts.skipFirstToken && ids.length < 2)) {
        skipped.push({ path: source.label, reason: ids.length === 0 ? 'no tokens' : 'one token, and the first token is left out (skip first token)' });
        progress.textsTotal -= 1;
        continue;
      }
      bytesSeen += source.bytes;
      tokensSeen += ids.length;
      progress.current = source.label;
      const planned = planTextWindows(ids, policy);
      if (runStarted === undefined) runStarted = Date.now();
      else preparingMs += Date.now() - preparing;
      const pending: Pending = { label: source.label, sha256: sha256Text(text.text), acc: new TextAccumulator(numLayers, session.substepKinds), planned, remaining: planned.windows };
      if (policy.carriesCache && planned.windows > 1) {
        // Its windows continue one another through the cache: run them in order, alone.
        try {
          for await (const values of this.runText(planned, opts.batchSize, tokenizer.padId, signal)) {
            feed(pending, values);
            if (due()) yield report();
          }
        } catch (err) {
          if (!(err instanceof ProfileCancelledError)) throw err;
          partial = true;
          break;
        }
      } else {
        for (const window of planned.segments.flat()) queue.push({ text: pending, window });
        yield* flush(false);
        if (partial) break;
      }
      if (due()) yield report();
    }
    if (!partial) yield* flush(true);
    if (signal?.aborted && progress.textsDone < progress.textsTotal) partial = true;
    // A cancelled run keeps only whole texts: a text's statistic needs all of its tokens.
    yield report();
    if (live) live.snapshot = undefined;
    return snapshot();
  }

  /**
   * The settings a run with `opts` actually uses: the window after the graph's caps, whether long
   * texts are exact, the first-token choice.
   */
  effectiveSettings(opts: ProfileOptions): Pick<ProfileSettings, 'maxTokens' | 'positionLimit' | 'batchSize'> & Required<Pick<ProfileSettings, 'windowTokens' | 'windowsContinueThroughCache' | 'skipFirstToken'>> {
    const policy = this.windowPolicy(opts);
    return {
      maxTokens: opts.maxTokens,
      windowTokens: policy.windowLength,
      windowsContinueThroughCache: policy.carriesCache,
      ...(policy.positionLimit !== undefined ? { positionLimit: policy.positionLimit } : {}),
      batchSize: opts.batchSize,
      skipFirstToken: !!opts.skipFirstToken,
    };
  }

  /** The texts of a dataset, each with its size in bytes (for the time-left estimate). */
  private async datasetSources(input: DatasetInput, skipped: SkippedFile[]): Promise<{ label: string; bytes: number; read: () => Promise<ReadResult> }[]> {
    const sources: { label: string; bytes: number; read: () => Promise<ReadResult> }[] = [];
    for (const t of input.texts ?? []) sources.push({ label: t.label, bytes: Buffer.byteLength(t.text), read: async () => (t.text.trim() ? { ok: true, text: t.text } : { ok: false, reason: 'empty text' }) });
    if (input.paths?.length) {
      const maxFileBytes = input.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
      const { files, skipped: walkSkipped } = await collectFiles(input.paths, { include: input.include, exclude: input.exclude, maxFileBytes });
      skipped.push(...walkSkipped);
      for (const f of files) {
        const bytes = await stat(f.path).then((s) => (s.size <= maxFileBytes ? s.size : 0), () => 0);
        sources.push({ label: f.path, bytes, read: () => readTextFile(f.path, maxFileBytes) });
      }
    }
    return sources;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

export class EmptyTextError extends Error {}

export class NonFiniteValuesError extends Error {}

/** Where a text's values first stop being finite numbers ("layer 1 (absMean)"), or undefined. */
export function nonFiniteValues(stats: TextStats): string | undefined {
  for (let l = 0; l < stats.layers.length; l++) {
    const layer = stats.layers[l];
    const bad = (['mean', 'absMean', 'l2', 'residL2', 'relChange', 'cosine', 'normGrowth'] as const).filter((k) => !Number.isFinite(layer[k]));
    for (const s of layer.substeps) for (const k of ['mean', 'absMean', 'l2'] as const) if (!Number.isFinite(s[k])) bad.push(`${s.kind} ${k}` as never);
    if (bad.length) return `NaN or infinite at layer ${l} (${bad.join(', ')})`;
  }
  return undefined;
}

/** The values a callback-reporting run hears, as an async iterable (errors and all). */
async function* streamed<T>(start: (push: (value: T) => void) => Promise<unknown>): AsyncGenerator<T> {
  const queue: T[] = [];
  let wake: (() => void) | undefined;
  let done = false;
  let failure: { error: unknown } | undefined;
  void start((v) => {
    queue.push(v);
    wake?.();
  }).then(
    () => {
      done = true;
      wake?.();
    },
    (error: unknown) => {
      failure = { error };
      done = true;
      wake?.();
    },
  );
  for (;;) {
    while (queue.length) yield queue.shift()!;
    if (done) break;
    await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
  }
  if (failure) throw failure.error;
}


/** Tokens of a profiled selection kept per token (heatmap, editor shading). */
export const MAX_TOKEN_VIEW = 4096;

/** Resolves, reads and analyzes a model: everything but the session. */
async function loadAndAnalyze(spec: ModelSpec, opts: LoadOptions): Promise<{ resolved: ResolvedModel; model: OnnxModelFile; spine: Spine }> {
  const resolved = await resolveModel(spec, opts);
  const file = await readOnnxModel(path.join(resolved.folder, resolved.onnxFile));
  await checkExternalData(file);
  const lifted = liftMergedDecoder(file);
  const model = lifted?.model ?? file;
  const spine = analyzeModel(model, { postNorm: isPostNormType(resolved.config?.modelType) });
  if (lifted) spine.notes.unshift(lifted.note);
  if (quantizesActivationsPerTensor(model)) spine.notes.push('activations are quantized per tensor at run time: windows run one at a time, so a text\'s numbers never depend on its batch');
  checkLayerCount(spine.layers.length, resolved.config, model.path);
  return { resolved, model, spine };
}

interface ModelFacts {
  sha256: string;
  embeddingRows?: number;
  /** Rows of the smallest position table, if the graph looks positions up. */
  positionRows?: number;
  inspect: InspectResult;
}

function modelFacts(spec: ModelSpec, resolved: ResolvedModel, model: OnnxModelFile, spine: Spine): ModelFacts {
  const embedding = embeddingRows(model);
  return { sha256: model.sha256, embeddingRows: embedding?.rows, positionRows: positionTableRows(model), inspect: describeModel(spec, resolved, model, spine, embedding) };
}

/**
 * The layers found in a model (`layer-profiler inspect`). The instrumented model is opened in
 * ONNX Runtime as profiling opens it, so what inspect accepts is known to load.
 */
export async function inspectModel(spec: ModelSpec, opts: LoadOptions = {}): Promise<InspectResult> {
  const profiler = await LayerProfiler.open(spec, opts);
  try {
    return profiler.inspect();
  } finally {
    await profiler.dispose();
  }
}

export class ModelLoadError extends Error {}

/**
 * ONNX Runtime's refusal of the staged model, told about the user's file: the staged copy lives in
 * a temporary folder the user never sees (and which is gone by now).
 */
function ortLoadError(err: unknown, staged: StagedModel, userFile: string): Error {
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



function modelId(spec: ModelSpec): string {
  return spec.kind === 'hub' ? spec.id : spec.path;
}

async function resolveModel(spec: ModelSpec, opts: LoadOptions): Promise<ResolvedModel> {
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

function checkLayerCount(found: number, config: ModelConfig | undefined, file: string): void {
  if (config?.numLayers !== undefined && config.numLayers !== found) {
    throw new LayerCountMismatchError(`Found ${found} transformer blocks in ${file}, but its config says ${config.numLayers}. The graph's structure is not one the profiler reads correctly; run 'layer-profiler inspect' to see what it found.`);
  }
}
