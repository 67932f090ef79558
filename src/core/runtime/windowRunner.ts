/**
 * Runs token windows through an ONNX Runtime session for any analysis: feeds derived from the
 * session's input metadata, right-padded batches, windows that continue one another through the
 * KV cache, token-by-token decoding for graphs that take one token per run. What each run yields
 * is the analysis's `Readout`: the outputs it fetches and how it reads one window out of a batch.
 */
import * as ort from 'onnxruntime-node';
import { ANALYSIS_PREFIX } from '../graph/names';
import { resolveThreads } from './cores';
import { ProfileCancelledError } from './cancel';
import { GarbagePacer } from './garbage';
import { buildContinuationFeeds, buildFeeds, planFeeds, presentOutputs, type CacheDims, type FeedPlan } from './feeds';

export interface SessionSettings {
  /** ORT intra-op threads; unset or 0: one per physical core (cores.ts). */
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
  /** ONNX Runtime execution provider ('cpu' when not given). */
  executionProvider?: string;
  /** How ONNX Runtime holds a pass's CPU memory (default DEFAULT_CPU_MEMORY; see there). */
  cpuMemory?: CpuMemory;
  /** false: weights are not prepacked at session creation (see prepack.ts); ORT's default is to prepack. */
  prepackWeights?: boolean;
}

/** ORT's CPU memory arena (keeps freed blocks for later runs) and memory pattern (plans a shape's buffers as one block). */
export interface CpuMemory {
  arena: boolean;
  pattern: boolean;
}

/**
 * The arena without memory patterns. Measured on the bench's model (genai-gqa, hidden 512, 8
 * layers, 32k vocabulary; a 2-core VM). Peak RSS while profiling (after loading, the loaded model
 * included), with windows of varied length: at the default batch budget, arena and pattern 488 MB, arena only
 * 455, pattern only 484, neither 437; with 2048-token windows three to a batch, 724, 630, 615 and
 * 615. Each memory pattern is one block per input shape, and a folder's windows come in many
 * shapes: patterns cost the most. Peak RSS of the command line over folders of 10, 100 and 1,000
 * files (`npm run bench -- --only folders`): arena only 367, 379 and 390 MiB (1.06×, flat);
 * neither 358, 352 and 390 (1.11×); both 374, 369 and 421 (1.14×). The arena reaches its size
 * with the first full window and keeps it, so memory stays flat as the folder grows; without it,
 * the allocator's share grows with the passes. Time was the same within noise (interleaved
 * rounds: 1.03, 0.97 and 1.01 of arena and pattern's).
 */
export const DEFAULT_CPU_MEMORY: CpuMemory = { arena: true, pattern: false };
export function ortSessionOptions(settings: SessionSettings): ort.InferenceSession.SessionOptions {
  return {
    ...(settings.executionProvider && settings.executionProvider !== 'cpu' ? { executionProviders: [settings.executionProvider] } : {}),
    graphOptimizationLevel: settings.graphOptimizationLevel ?? 'all',
    // ORT's own log lines (coloured, on stderr) stay off: its errors reach the user as exceptions,
    // rephrased where they are caught.
    logSeverityLevel: 4,
    enableCpuMemArena: (settings.cpuMemory ?? DEFAULT_CPU_MEMORY).arena,
    enableMemPattern: (settings.cpuMemory ?? DEFAULT_CPU_MEMORY).pattern,
    // Always explicit: ORT's own default can undercount cores (see cores.ts).
    intraOpNumThreads: resolveThreads(settings.threads),
    extra: { session: sessionConfig(settings) },
  };
}

/** ORT's session configuration entries for these settings. */
function sessionConfig(settings: SessionSettings): Record<string, unknown> {
  return {
    ...(settings.prepackWeights === false ? { disable_prepacking: '1' } : {}),
    ...(settings.allowSpinning === false ? { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } : {}),
  };
}

/** How an analysis reads its values out of a run. */
export interface Readout<V> {
  /** Graph outputs to fetch. */
  readonly fetches: string[];
  /** Window `b`'s first `n` positions of a run whose outputs are [batch, length, ...]. */
  extract(out: ort.InferenceSession.ReturnType, length: number, b: number, n: number): V;
  /** Joins consecutive pieces of one window (token-by-token decoding). */
  concat(parts: V[]): V;
  /**
   * Inputs the analysis adds to the model's own, for windows padded to `length`; `targets` are
   * per-window values aligned with the ids (the logit lens's next tokens), when given.
   */
  extraFeeds?(targets: number[][] | undefined, length: number, batch: number): Record<string, ort.Tensor>;
}

export class WindowRunner<V> {
  readonly plan: FeedPlan;
  /** Cache input -> present output, when windows can continue one another through the KV cache. */
  private readonly cache: Map<string, string> | undefined;
  /** Each window is fed one token at a time through the cache (graphs that take one token per run). */
  readonly decodesTokenByToken: boolean;
  /** Windows after a text's first continue one token at a time (the graph refused several at once after a prompt). */
  private continuesTokenByToken = false;
  /** ORT prepacked the weights when it created the session (see prepack.ts). */
  readonly weightsPrepacked: boolean;
  /** Keeps a long run's memory flat: passes' spent output buffers are collected every few thousand tokens. */
  private readonly garbage = new GarbagePacer();

  constructor(
    readonly session: ort.InferenceSession,
    private readonly readout: Readout<V>,
    /**
     * Windows run one at a time: dynamically quantized activations take one scale per tensor, so
     * in a batch a text's numbers would depend on its companions and on the padding.
     */
    readonly oneWindowAtATime: boolean,
    settings: SessionSettings,
  ) {
    // Inputs an analysis added (its own prefix) are the readout's to feed; the rest are the model's.
    this.plan = planFeeds(session.inputMetadata.filter((m) => !m.name.startsWith(ANALYSIS_PREFIX)), settings.cache);
    this.cache = settings.readsPast === false ? undefined : presentOutputs(this.plan, session.outputNames);
    this.decodesTokenByToken = this.cache !== undefined && (settings.incremental ?? this.plan.fixedSequenceLength === 1);
    this.weightsPrepacked = settings.prepackWeights !== false;
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
  async run(windows: number[][], padId: number, targets?: number[][]): Promise<V[]> {
    if (this.decodesTokenByToken) {
      const out: V[] = [];
      for (const [i, w] of windows.entries()) out.push(...(await this.runContinued([w], undefined, targets && [targets[i]])));
      return out;
    }
    if (this.oneWindowAtATime && windows.length > 1) {
      const out: V[] = [];
      for (const [i, w] of windows.entries()) out.push(...(await this.runBatch([w], padId, targets && [targets[i]])));
      return out;
    }
    return this.runBatch(windows, padId, targets);
  }

  /**
   * Consecutive windows of one text, each continuing the previous one through the KV cache, so
   * their values are those of one pass over all their tokens. Needs `carriesCache`.
   * `onWindow` hears each window as it finishes (progress inside a long text).
   */
  async runContinued(windows: number[][], signal?: AbortSignal, targets?: number[][], onWindow?: (values: V) => void): Promise<V[]> {
    const out: V[] = [];
    await this.runContinuedRows(
      windows.map((w) => [w]),
      signal,
      targets?.map((t) => [t]),
      (values) => {
        out.push(values[0]);
        onWindow?.(values[0]);
      },
    );
    return out;
  }

  /**
   * Several texts continued side by side, one per batch row: step s holds each row's next
   * window, all of one length, and row r of every step continues row r of the step before (the
   * cache's batch rows are the texts'). Values per step, per row; with `onStep` they are handed
   * over as each step finishes and not kept (a long text's values need not all be held at once).
   * Needs `carriesCache`.
   */
  async runContinuedRows(steps: number[][][], signal?: AbortSignal, targets?: number[][][], onStep?: (values: V[]) => void): Promise<V[][]> {
    const cache = this.cache;
    if (!cache) throw new Error('This model has no KV cache to carry between windows.');
    const fetches = [...this.readout.fetches, ...cache.values()];
    const out: V[][] = [];
    let past: Record<string, ort.Tensor> | undefined;
    let position = 0;
    const step = async (rows: number[][], target: number[][] | undefined): Promise<V[]> => {
      if (signal?.aborted) throw new ProfileCancelledError();
      const T = rows[0].length;
      const feeds = buildContinuationFeeds(this.plan, { ids: rows[0], rows, position, past });
      Object.assign(feeds, this.readout.extraFeeds?.(target, T, rows.length));
      const result = await this.session.run(feeds, fetches);
      this.garbage.ran(T * rows.length);
      past = Object.fromEntries([...cache].map(([input, output]) => [input, result[output]]));
      position += T;
      return rows.map((_, b) => this.readout.extract(result, T, b, T));
    };
    for (const [s, rows] of steps.entries()) {
      const target = targets?.[s];
      const tokenByToken = () => this.decodesTokenByToken || (position > 0 && this.continuesTokenByToken);
      let values: V[] | undefined;
      if (!tokenByToken()) {
        try {
          values = await step(rows, target);
        } catch (err) {
          // Some builds take several tokens only for the prompt and one at a time after it (the
          // old onnxruntime-genai attention-mask subgraph): continue those token by token.
          if (position === 0 || err instanceof ProfileCancelledError) throw err;
          this.continuesTokenByToken = true;
        }
      }
      if (values === undefined) {
        const parts: V[][] = [];
        for (let t = 0; t < rows[0].length; t++) parts.push(await step(rows.map((r) => r.slice(t, t + 1)), target?.map((r) => r.slice(t, t + 1))));
        values = rows.map((_, b) => (parts.length === 1 ? parts[0][b] : this.readout.concat(parts.map((p) => p[b]))));
      }
      if (onStep) onStep(values);
      else out.push(values);
    }
    return out;
  }

  private async runBatch(windows: number[][], padId: number, targets?: number[][]): Promise<V[]> {
    const longest = Math.max(...windows.map((w) => w.length));
    const length = this.plan.fixedSequenceLength ?? longest;
    const feeds = buildFeeds(this.plan, { ids: windows, length, padId });
    Object.assign(feeds, this.readout.extraFeeds?.(targets, length, windows.length));
    const out = await this.session.run(feeds, this.readout.fetches);
    this.garbage.ran(length * windows.length);
    return windows.map((w, b) => this.readout.extract(out, length, b, w.length));
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
