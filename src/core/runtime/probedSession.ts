/**
 * An ONNX Runtime session over the instrumented model that runs batches of token windows and
 * hands back per-token probe values, padding removed.
 */
import * as ort from 'onnxruntime-node';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { InstrumentedModel } from '../graph/instrument';
import { PROBE_OUTPUTS, rawMidOutput, rawResidualOutput, substepOutput } from '../graph/probes';
import type { OnnxModelFile } from '../onnx/modelFile';
import type { SubstepKind } from '../results';
import { buildFeeds, planFeeds, type FeedPlan } from './feeds';

export interface SessionSettings {
  threads?: number;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** ORT's worker threads spin after a run by default; side-by-side benchmarks turn that off. */
  allowSpinning?: boolean;
}

export function ortSessionOptions(settings: SessionSettings): ort.InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: settings.graphOptimizationLevel ?? 'all',
    // ORT warns about harmless quirks of old exporters (initializers listed as inputs); keep errors only.
    logSeverityLevel: 3,
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
  substeps: { kind: SubstepKind; mean: Float32Array; absMean: Float32Array; l2: Float32Array }[];
  /** Raw mode only: residual points 0..L, each `[token * hidden + unit]`. */
  raw?: Float32Array[];
  /** Raw mode with sub-steps only: resid_mid of each layer, same layout. */
  rawMid?: Float32Array[];
}

export async function createOrtSession(bytes: Uint8Array, model: OnnxModelFile, settings: SessionSettings): Promise<ort.InferenceSession> {
  // The instrumented bytes live in memory, so ORT cannot find external data beside a path: hand it the files.
  const externalData = await Promise.all(
    model.externalDataFiles.map(async (f) => ({ path: f, data: await readFile(path.join(path.dirname(model.path), f)) })),
  );
  const options: ort.InferenceSession.SessionOptions = { ...ortSessionOptions(settings), ...(externalData.length ? { externalData } : {}) };
  return ort.InferenceSession.create(bytes, options);
}

/** Whether activations are quantized at run time with one scale per tensor (onnxruntime's dynamic quantization). */
export function quantizesActivationsPerTensor(model: OnnxModelFile): boolean {
  return (model.graph.node ?? []).some((n) => n.opType === 'DynamicQuantizeLinear');
}

export class ProbedSession {
  readonly plan: FeedPlan;
  private readonly fetches: string[];

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
  ) {
    this.plan = planFeeds(session.inputMetadata);
    this.fetches = [...Object.values(PROBE_OUTPUTS)];
    for (const kind of substepKinds) for (const stat of ['mean', 'absMean', 'l2'] as const) this.fetches.push(substepOutput(kind, stat));
    if (raw) for (let k = 0; k <= numLayers; k++) this.fetches.push(rawResidualOutput(k));
    if (raw && substepKinds.length > 1) for (let k = 0; k < numLayers; k++) this.fetches.push(rawMidOutput(k));
  }

  static async create(model: OnnxModelFile, instrumented: InstrumentedModel, settings: SessionSettings, raw = false): Promise<ProbedSession> {
    const session = await createOrtSession(instrumented.bytes, model, settings);
    return new ProbedSession(session, instrumented.spine.layers.length, instrumented.probes.substepKinds, raw, quantizesActivationsPerTensor(model));
  }

  /** Longest window the graph accepts, if it fixes the sequence length. */
  get fixedSequenceLength(): number | undefined {
    return this.plan.fixedSequenceLength;
  }

  async run(windows: number[][], padId: number): Promise<WindowProbeValues[]> {
    if (this.oneWindowAtATime && windows.length > 1) {
      const out: WindowProbeValues[] = [];
      for (const w of windows) out.push(...(await this.runBatch([w], padId)));
      return out;
    }
    return this.runBatch(windows, padId);
  }

  private async runBatch(windows: number[][], padId: number): Promise<WindowProbeValues[]> {
    const longest = Math.max(...windows.map((w) => w.length));
    const length = this.plan.fixedSequenceLength ?? longest;
    const feeds = buildFeeds(this.plan, { ids: windows, length, padId });
    const out = await this.session.run(feeds, this.fetches);
    const L = this.numLayers;
    const take = (name: string, width: number) => (b: number, n: number) => {
      const data = out[name].data as Float32Array;
      return data.slice(b * length * width, (b * length + n) * width);
    };
    return windows.map((w, b) => {
      const n = w.length;
      const values: WindowProbeValues = {
        tokens: n,
        mean: take(PROBE_OUTPUTS.mean, L)(b, n),
        absMean: take(PROBE_OUTPUTS.absMean, L)(b, n),
        l2: take(PROBE_OUTPUTS.l2, L)(b, n),
        residL2: take(PROBE_OUTPUTS.residL2, L)(b, n),
        substeps: this.substepKinds.map((kind) => ({
          kind,
          mean: take(substepOutput(kind, 'mean'), L)(b, n),
          absMean: take(substepOutput(kind, 'absMean'), L)(b, n),
          l2: take(substepOutput(kind, 'l2'), L)(b, n),
        })),
      };
      if (this.raw) {
        values.raw = [];
        for (let k = 0; k <= L; k++) {
          const t = out[rawResidualOutput(k)];
          const hidden = t.dims[t.dims.length - 1];
          values.raw.push(take(rawResidualOutput(k), hidden)(b, n));
        }
        if (this.substepKinds.length > 1) {
          const hidden = out[rawMidOutput(0)].dims[out[rawMidOutput(0)].dims.length - 1];
          values.rawMid = Array.from({ length: L }, (_, k) => take(rawMidOutput(k), hidden)(b, n));
        }
      }
      return values;
    });
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
