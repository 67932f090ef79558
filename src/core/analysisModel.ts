/**
 * A model opened for one analysis (profile, logit lens, …): what was found in its graph, its
 * tokenizer, how texts are cut into windows, and the session running the analysis's instrumented
 * graph. Every analysis opens its model through `openAnalysis` — find the spine, add the
 * analysis's nodes, prune, stage once — and runs it through a WindowRunner.
 */
import * as ort from 'onnxruntime-node';
import type { InspectResult, ModelSpec, ProfileOptions } from './api';
import { batchBudget, batchCapacity } from './batching';
import type { Spine } from './graph/spine';
import type { GraphEdit } from './graph/prune';
import type { ModelConfig, ResolvedModel } from './model/localModel';
import { loadTokenizer, TokenizerError, type TextTokenizer } from './model/tokenizer';
import { TokenizerThread, type IdsEncoder } from './model/tokenizerThread';
import { modelFacts, modelId, ortLoadError, readAndAnalyze, resolveModel, type ModelFacts, type OpenOptions } from './modelLoading';
import { readsPastInputs } from './onnx/modelFacts';
import { weightBytes, type OnnxModelFile } from './onnx/modelFile';
import type { ModelInfo, RuntimeInfo } from './results';
import { resolveThreads } from './runtime/cores';
import { prepacksWeights } from './runtime/prepack';
import { createOrtSession, stageModel } from './runtime/probedSession';
import { chooseDevice, cpuFreeBytes, estimateNeed, probeDevices, type DeviceChoice, type DeviceDecision } from './runtime/device';
import type { SessionSettings, WindowRunner } from './runtime/windowRunner';
import { TOOL_NAME, TOOL_VERSION } from './version';
import { effectiveWindowLength, type WindowPolicy } from './windows';

// ORT's own log lines (coloured, on stderr) would duplicate the errors it throws, which are reported
// in words; its environment is created with the first session, so this must be set before one.
ort.env.logLevel = 'fatal';

/** What an analysis does to a model: its graph edit, and the runner that reads its outputs. */
export interface AnalysisGraph<R> {
  edit: GraphEdit;
  runner: (session: ort.InferenceSession, settings: SessionSettings) => R;
}

export interface OpenedAnalysis<R> {
  spec: ModelSpec;
  resolved: ResolvedModel;
  facts: ModelFacts;
  spine: Spine;
  session: R;
  threads: number;
  graphOptimizationLevel: string;
  executionProvider: string;
  /** The tokenizer loading on a worker thread while the session was created (OpenOptions.tokenizeInWorker). */
  tokenizerThread?: TokenizerThread;
}

/** Loads and analyzes a model, instruments it for one analysis, stages it and opens its session. */
export async function openAnalysis<V, R extends WindowRunner<V>>(spec: ModelSpec, opts: OpenOptions, instrument: (model: OnnxModelFile, spine: Spine) => AnalysisGraph<R>): Promise<OpenedAnalysis<R>> {
  const resolved = await resolveModel(spec, opts);
  // From here on the main thread reads the graph, instruments it, stages it and creates the
  // session (ORT holds the thread the while); the tokenizer loads beside it.
  const tokenizerThread = opts.tokenizeInWorker ? new TokenizerThread(resolved.tokenizer ?? resolved.folder) : undefined;
  try {
    const { model, spine } = await readAndAnalyze(resolved, opts);
    return await instrumentAndOpen(spec, opts, instrument, { resolved, model, spine }, tokenizerThread);
  } catch (err) {
    await tokenizerThread?.close();
    throw err;
  }
}

async function instrumentAndOpen<V, R extends WindowRunner<V>>(
  spec: ModelSpec,
  opts: OpenOptions,
  instrument: (model: OnnxModelFile, spine: Spine) => AnalysisGraph<R>,
  { resolved, model, spine }: { resolved: ResolvedModel; model: OnnxModelFile; spine: Spine },
  tokenizerThread: TokenizerThread | undefined,
): Promise<OpenedAnalysis<R>> {
  const graph = instrument(model, spine);
  const facts = modelFacts(spec, resolved, model, spine);
  const config = resolved.config;
  const device = await decideDevice(opts.device, model, config, graph.edit);
  if (device.provider !== 'cpu' || opts.device === 'auto') spine.notes.push(`runs on ${device.reason}`);
  // Resolved here, once: the session runs with it and runtimeInfo reports it.
  const threads = resolveThreads(opts.threads);
  const settings: SessionSettings = {
    executionProvider: device.provider,
    threads,
    graphOptimizationLevel: opts.graphOptimizationLevel,
    allowSpinning: opts.allowSpinning,
    incremental: opts.incremental,
    cache: { kvHeads: config?.kvHeads, headDim: config?.headDim },
    readsPast: readsPastInputs(model),
    prepackWeights: opts.prepackWeights ?? prepacksWeights(opts.expectedPasses, facts.weightStorage),
  };
  // The decoded model is not used after staging; only facts about it are kept.
  const staged = await stageModel(model, graph.edit);
  const ortSession = await createOrtSession(staged, settings).catch((err: unknown) => {
    throw ortLoadError(err, staged, model.path);
  });
  const session = graph.runner(ortSession, settings);
  // (facts.inspect.notes is this same array)
  if (session.decodesTokenByToken) spine.notes.push('texts are decoded token by token through the KV cache (the graph takes one token per run, or this was asked for)');
  spine.notes.push(
    session.carriesCache
      ? 'a text longer than one window continues through the KV cache, so its windows give the values of one pass'
      : 'the graph has no KV cache to carry: a text longer than one window is profiled as independent windows',
  );
  return { spec, resolved, facts, spine, session, threads, graphOptimizationLevel: opts.graphOptimizationLevel ?? 'all', executionProvider: device.provider, tokenizerThread };
}

/** The device a model runs on: the CPU unless asked otherwise, else decided from what this machine offers. */
async function decideDevice(choice: DeviceChoice | undefined, model: OnnxModelFile, config: ModelConfig | undefined, edit: GraphEdit): Promise<DeviceDecision> {
  if (!choice || choice === 'cpu') return { provider: 'cpu', reason: 'the CPU' };
  const hidden = config?.hiddenSize ?? 1024;
  // The lens keeps several heads' logits; a profile runs none (its head is pruned).
  const headRuns = edit.addedOutputs.some((o) => (o.name ?? '').includes('/lens/')) ? 2 : 0;
  const need = estimateNeed({ weightsBytes: await weightBytes(model), hidden, heads: config?.numHeads, vocab: config?.vocabSize, batch: 1, window: Math.min(512, config?.maxPositions ?? 512), headRuns });
  return chooseDevice(choice, await probeDevices(ort.listSupportedBackends()), need, cpuFreeBytes());
}

export class ModelAnalysis<V, R extends WindowRunner<V>> {
  readonly spec: ModelSpec;
  readonly resolved: ResolvedModel;
  readonly spine: Spine;
  readonly session: R;
  /** Facts kept instead of the model's bytes, which can be freed once the session holds the weights. */
  protected readonly facts: ModelFacts;
  private readonly threads: number;
  private readonly graphOptimizationLevel: string;
  private readonly executionProvider: string;
  private tokenizer: TextTokenizer | undefined;
  private readonly tokenizerThread: TokenizerThread | undefined;
  private encoder: IdsEncoder | undefined;
  private idsFromThread = false;

  protected constructor(opened: OpenedAnalysis<R>) {
    this.tokenizerThread = opened.tokenizerThread;
    this.spec = opened.spec;
    this.resolved = opened.resolved;
    this.facts = opened.facts;
    this.spine = opened.spine;
    this.session = opened.session;
    this.threads = opened.threads;
    this.graphOptimizationLevel = opened.graphOptimizationLevel;
    this.executionProvider = opened.executionProvider;
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
    // Whichever tokenizer read the texts: both hash the same tokenizer.json.
    const tokenizer = this.tokenizer ?? this.encoder;
    return {
      id: modelId(this.spec),
      ...(this.spec.kind === 'hub' && this.spec.revision ? { revision: this.spec.revision } : {}),
      file: this.resolved.onnxFile,
      sha256: this.facts.sha256,
      ...(this.resolved.config?.architecture ? { architecture: this.resolved.config.architecture } : {}),
      numLayers: this.numLayers,
      ...(this.hiddenSize ? { hiddenSize: this.hiddenSize } : {}),
      dtype: this.dtype,
      ...(tokenizer ? { tokenizerSha256: tokenizer.sha256 } : {}),
      ...(this.resolved.config?.sha256 ? { configSha256: this.resolved.config.sha256 } : {}),
    };
  }

  /**
   * Whether a job of `passes` forward passes would be faster on this model reopened with its
   * weights prepacked (it was opened without: runtime/prepack.ts decides from the weights' storage).
   */
  prepackPaysFor(passes: number): boolean {
    return !this.session.weightsPrepacked && this.executionProvider === 'cpu' && prepacksWeights(passes, this.facts.weightStorage);
  }

  runtimeInfo(): RuntimeInfo {
    return {
      tool: `${TOOL_NAME} ${TOOL_VERSION}`,
      onnxruntime: ort.env.versions.node ?? ort.env.versions.common,
      executionProvider: this.executionProvider,
      threads: this.threads,
      graphOptimizationLevel: this.graphOptimizationLevel,
    };
  }

  async getTokenizer(): Promise<TextTokenizer> {
    if (!this.tokenizer) this.tokenizer = this.checkedTokenizer(await loadTokenizer(this.tokenizerLocation));
    return this.tokenizer;
  }

  /**
   * Ids for texts: from the tokenizer thread where the model was opened with one (it loaded while
   * the session was created), else from the main thread's tokenizer.
   */
  async getIdsEncoder(): Promise<IdsEncoder> {
    if (this.encoder) return this.encoder;
    if (this.tokenizerThread && !this.tokenizer) {
      try {
        this.encoder = this.checkedTokenizer(await this.tokenizerThread.ready);
        this.idsFromThread = true;
        return this.encoder;
      } catch (err) {
        // The tokenizer's own refusal is the user's to see; a thread that could not run is not.
        if (err instanceof TokenizerError) throw err;
        await this.tokenizerThread.close();
      }
    }
    const tokenizer = await this.getTokenizer();
    this.encoder = { vocabSize: tokenizer.vocabSize, padId: tokenizer.padId, sha256: tokenizer.sha256, ids: async (text) => tokenizer.encode(text).ids };
    return this.encoder;
  }

  /** Whether texts' ids come from the tokenizer thread (false: from the main thread's tokenizer). */
  get idsFromTokenizerThread(): boolean {
    return this.idsFromThread;
  }

  private get tokenizerLocation(): string {
    return this.resolved.tokenizer ?? this.resolved.folder;
  }

  /** The tokenizer, refused if it has more tokens than the model's embedding has rows. */
  private checkedTokenizer<T extends { vocabSize: number }>(tokenizer: T): T {
    const location = this.tokenizerLocation;
    const rows = this.facts.embeddingRows ?? this.resolved.config?.vocabSize;
    if (rows !== undefined && tokenizer.vocabSize > rows) {
      throw new TokenizerError(`The tokenizer ${this.resolved.tokenizer ? location : `in ${location}`} has ${tokenizer.vocabSize} tokens but the model's embedding has only ${rows} rows: the tokenizer does not belong to this model.`);
    }
    return tokenizer;
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

  /**
   * How many windows of a padded length one batch may hold under these options (see batching.ts):
   * every analysis's outputs grow with the batch's tokens, so all share the budget.
   */
  batchCapacity(opts: Pick<ProfileOptions, 'batchSize' | 'maxBatchTokens'>): (longest: number) => number {
    const budget = batchBudget(opts, this.resolved.config?.numHeads);
    return (longest) => batchCapacity(longest, budget);
  }

  async dispose(): Promise<void> {
    await this.tokenizerThread?.close();
    await this.session.release();
  }
}
