/**
 * An ONNX Runtime session over the instrumented model that runs batches of token windows and
 * hands back per-token probe values, padding removed.
 */
import * as ort from 'onnxruntime-node';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { instrumentedBytes, type InstrumentedModel } from '../graph/instrument';
import { PROBE_OUTPUTS, rawMidOutput, rawResidualOutput, substepOutput } from '../graph/probes';
import type { OnnxModelFile } from '../onnx/modelFile';
import type { SubstepKind } from '../results';
import { ProfileCancelledError } from './cancel';
import { buildContinuationFeeds, buildFeeds, planFeeds, presentOutputs, type CacheDims, type FeedPlan } from './feeds';

export interface SessionSettings {
  threads?: number;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** ORT's worker threads spin after a run by default; side-by-side benchmarks turn that off. */
  allowSpinning?: boolean;
  /**
   * Decode token by token through the KV cache. Automatic for graphs that take one token per run
   * (old past-only exports); forcing it elsewhere checks that both ways give the same numbers.
   */
  incremental?: boolean;
  /** Sizes of the KV cache's symbolic dimensions, from the config. */
  cache?: CacheDims;
  /**
   * The graph reads its past key/value inputs (a lifted merged decoder's no-cache branch does
   * not), so a text's windows can continue one another through the cache.
   */
  readsPast?: boolean;
}

export function ortSessionOptions(settings: SessionSettings): ort.InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: settings.graphOptimizationLevel ?? 'all',
    // ORT's own log lines (coloured, on stderr) stay off: its errors reach the user as exceptions,
    // rephrased where they are caught.
    logSeverityLevel: 4,
    ...(settings.threads ? { intraOpNumThreads: settings.threads } : {}),
    ...(settings.allowSpinning === false ? { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } } : {}),
  };
}

/** Probe values of one window: `[token * numLayers + layer]`, only the window's real tokens. */
export interface WindowProbeValues {
  tokens: number;
  mean: Float32Array;
  absMean: Float32Array;
  l2: Float32Array;
  residL2: Float32Array;
  /** ‖resid_pre‖ of block 0 per token: `[token]`. */
  embedL2: Float32Array;
  substeps: { kind: SubstepKind; mean: Float32Array; absMean: Float32Array; l2: Float32Array }[];
  /** Raw mode only: residual points 0..L, each `[token * hidden + unit]`. */
  raw?: Float32Array[];
  /** Raw mode with sub-steps only: resid_mid of each layer, same layout. */
  rawMid?: Float32Array[];
}

/** The instrumented model, ready for ONNX Runtime: in a temporary file, or in memory. */
export type StagedModel = { file: string; dir: string } | { bytes: Uint8Array; externalData: { path: string; data: Uint8Array }[] };

/**
 * Stages the instrumented model so that ONNX Runtime can load it without JavaScript building a
 * second full copy (original bytes + patch): it is written to a temporary file that ORT reads.
 * (The decoded model's own buffer stays alive until it is collected.) Models with external data are handed over
 * from memory instead, with their data files as buffers, since ORT resolves external data only
 * inside the model's own folder (their graph file is small).
 */
export async function stageModel(model: OnnxModelFile, instrumented: InstrumentedModel): Promise<StagedModel> {
  if (model.externalDataFiles.length) {
    const externalData = await Promise.all(
      model.externalDataFiles.map(async (f) => ({ path: f, data: await readFile(path.join(path.dirname(model.path), f)) })),
    );
    return { bytes: instrumentedBytes(model, instrumented), externalData };
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'layer-profiler-'));
  const file = path.join(dir, 'model.onnx');
  await writeFile(file, model.bytes);
  await appendFile(file, instrumented.patch);
  return { file, dir };
}

async function createOrtSession(staged: StagedModel, settings: SessionSettings): Promise<ort.InferenceSession> {
  const options = ortSessionOptions(settings);
  if ('bytes' in staged) return ort.InferenceSession.create(staged.bytes, { ...options, externalData: staged.externalData });
  try {
    return await ort.InferenceSession.create(staged.file, options);
  } finally {
    await rm(staged.dir, { recursive: true, force: true });
  }
}

/** What the session needs to know about the probes it reads. */
export interface ProbeLayout {
  numLayers: number;
  substepKinds: SubstepKind[];
  /** Activations are quantized with one scale per tensor (see ProbedSession.oneWindowAtATime). */
  perTensorActivationScales: boolean;
}

/** Whether activations are quantized at run time with one scale per tensor (onnxruntime's dynamic quantization). */
export function quantizesActivationsPerTensor(model: OnnxModelFile): boolean {
  return (model.graph.node ?? []).some((n) => n.opType === 'DynamicQuantizeLinear');
}

/** Joins per-token pieces (token-by-token decoding) into one window's values. */
function concatWindows(parts: WindowProbeValues[]): WindowProbeValues {
  const cat = (pick: (p: WindowProbeValues) => Float32Array) => {
    const out = new Float32Array(parts.reduce((n, p) => n + pick(p).length, 0));
    let at = 0;
    for (const p of parts) (out.set(pick(p), at), (at += pick(p).length));
    return out;
  };
  const first = parts[0];
  return {
    tokens: parts.reduce((n, p) => n + p.tokens, 0),
    mean: cat((p) => p.mean),
    absMean: cat((p) => p.absMean),
    l2: cat((p) => p.l2),
    residL2: cat((p) => p.residL2),
    embedL2: cat((p) => p.embedL2),
    substeps: first.substeps.map((s, i) => ({ kind: s.kind, mean: cat((p) => p.substeps[i].mean), absMean: cat((p) => p.substeps[i].absMean), l2: cat((p) => p.substeps[i].l2) })),
    ...(first.raw ? { raw: first.raw.map((_, k) => cat((p) => p.raw![k])) } : {}),
    ...(first.rawMid ? { rawMid: first.rawMid.map((_, k) => cat((p) => p.rawMid![k])) } : {}),
  };
}

export class ProbedSession {
  readonly plan: FeedPlan;
  private readonly fetches: string[];
  /** Cache input -> present output, when windows can continue one another through the KV cache. */
  private readonly cache: Map<string, string> | undefined;
  /** Each window is fed one token at a time through the cache (graphs that take one token per run). */
  readonly decodesTokenByToken: boolean;

  private constructor(
    readonly session: ort.InferenceSession,
    readonly numLayers: number,
    readonly substepKinds: SubstepKind[],
    private readonly raw: boolean,
    /**
     * Windows run one at a time: dynamically quantized activations take one scale per tensor, so
     * in a batch a text's numbers would depend on its companions and on the padding.
     */
    readonly oneWindowAtATime: boolean,
    settings: SessionSettings,
  ) {
    this.plan = planFeeds(session.inputMetadata, settings.cache);
    this.cache = settings.readsPast === false ? undefined : presentOutputs(this.plan, session.outputNames);
    this.decodesTokenByToken = this.cache !== undefined && (settings.incremental ?? this.plan.fixedSequenceLength === 1);
    this.fetches = [...Object.values(PROBE_OUTPUTS)];
    for (const kind of substepKinds) for (const stat of ['mean', 'absMean', 'l2'] as const) this.fetches.push(substepOutput(kind, stat));
    if (raw) for (let k = 0; k <= numLayers; k++) this.fetches.push(rawResidualOutput(k));
    if (raw && substepKinds.length > 1) for (let k = 0; k < numLayers; k++) this.fetches.push(rawMidOutput(k));
  }

  static async create(staged: StagedModel, layout: ProbeLayout, settings: SessionSettings, raw = false): Promise<ProbedSession> {
    const session = await createOrtSession(staged, settings);
    return new ProbedSession(session, layout.numLayers, layout.substepKinds, raw, layout.perTensorActivationScales, settings);
  }

  /** Longest window the graph accepts, if it fixes the sequence length (decoding token by token lifts the limit). */
  get fixedSequenceLength(): number | undefined {
    return this.decodesTokenByToken ? undefined : this.plan.fixedSequenceLength;
  }

  /** Whether a text's windows continue one another through the KV cache (exactly one pass). */
  get carriesCache(): boolean {
    return this.cache !== undefined;
  }

  /** Independent windows (each starts from an empty cache), batched where that is exact. */
  async run(windows: number[][], padId: number): Promise<WindowProbeValues[]> {
    if (this.decodesTokenByToken) {
      const out: WindowProbeValues[] = [];
      for (const w of windows) out.push(...(await this.runContinued([w])));
      return out;
    }
    if (this.oneWindowAtATime && windows.length > 1) {
      const out: WindowProbeValues[] = [];
      for (const w of windows) out.push(...(await this.runBatch([w], padId)));
      return out;
    }
    return this.runBatch(windows, padId);
  }

  /**
   * Consecutive windows of one text, each continuing the previous one through the KV cache, so
   * their values are those of one pass over all their tokens. Needs `carriesCache`.
   * `onWindow` hears each window as it finishes (progress inside a long text).
   */
  async runContinued(windows: number[][], signal?: AbortSignal, onWindow?: (values: WindowProbeValues) => void): Promise<WindowProbeValues[]> {
    const cache = this.cache;
    if (!cache) throw new Error('This model has no KV cache to carry between windows.');
    const fetches = [...this.fetches, ...cache.values()];
    const out: WindowProbeValues[] = [];
    let past: Record<string, ort.Tensor> | undefined;
    let position = 0;
    for (const window of windows) {
      const pieces = this.decodesTokenByToken ? window.map((id) => [id]) : [window];
      const parts: WindowProbeValues[] = [];
      for (const ids of pieces) {
        if (signal?.aborted) throw new ProfileCancelledError();
        const result = await this.session.run(buildContinuationFeeds(this.plan, { ids, position, past }), fetches);
        parts.push(this.extract(result, ids.length, 0, ids.length));
        past = Object.fromEntries([...cache].map(([input, output]) => [input, result[output]]));
        position += ids.length;
      }
      out.push(parts.length === 1 ? parts[0] : concatWindows(parts));
      onWindow?.(out[out.length - 1]);
    }
    return out;
  }

  private async runBatch(windows: number[][], padId: number): Promise<WindowProbeValues[]> {
    const longest = Math.max(...windows.map((w) => w.length));
    const length = this.plan.fixedSequenceLength ?? longest;
    const feeds = buildFeeds(this.plan, { ids: windows, length, padId });
    const out = await this.session.run(feeds, this.fetches);
    return windows.map((w, b) => this.extract(out, length, b, w.length));
  }

  /** Window `b`'s first `n` tokens of a run whose outputs are [batch, length, ...]. */
  private extract(out: ort.InferenceSession.ReturnType, length: number, b: number, n: number): WindowProbeValues {
    const L = this.numLayers;
    const take = (name: string, width = L) => (out[name].data as Float32Array).slice(b * length * width, (b * length + n) * width);
    const hidden = (name: string) => out[name].dims[out[name].dims.length - 1];
    return {
      tokens: n,
      mean: take(PROBE_OUTPUTS.mean),
      absMean: take(PROBE_OUTPUTS.absMean),
      l2: take(PROBE_OUTPUTS.l2),
      residL2: take(PROBE_OUTPUTS.residL2),
      embedL2: take(PROBE_OUTPUTS.embedL2, 1),
      substeps: this.substepKinds.map((kind) => ({ kind, mean: take(substepOutput(kind, 'mean')), absMean: take(substepOutput(kind, 'absMean')), l2: take(substepOutput(kind, 'l2')) })),
      ...(this.raw ? { raw: Array.from({ length: L + 1 }, (_, k) => take(rawResidualOutput(k), hidden(rawResidualOutput(k)))) } : {}),
      ...(this.raw && this.substepKinds.length > 1 ? { rawMid: Array.from({ length: L }, (_, k) => take(rawMidOutput(k), hidden(rawMidOutput(k)))) } : {}),
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
