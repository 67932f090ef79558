/**
 * The profile analysis's session: an ONNX Runtime session over the instrumented model whose runs
 * (see WindowRunner) hand back per-token probe values, padding removed; and how a model is staged
 * for ONNX Runtime.
 */
import * as ort from 'onnxruntime-node';
import { link, mkdir, mkdtemp, open, readFile, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { editedModelChunks, type GraphEdit } from '../graph/prune';
import { concatChunks } from '../onnx/spliceNodes';
import { PROBE_OUTPUTS, rawMidOutput, rawResidualOutput, substepOutput } from '../graph/probes';
import { keepFileSha256sAcross } from '../onnx/fileHash';
import type { OnnxModelFile } from '../onnx/modelFile';
import type { SubstepKind } from '../results';
import { joinedFloats } from './joined';
import { ortSessionOptions, WindowRunner, type Readout, type SessionSettings } from './windowRunner';

export { ortSessionOptions, type SessionSettings };

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
export type StagedModel = { file: string; dir: string; /** The user's files hard-linked into `dir`. */ linked: string[] } | { bytes: Uint8Array; externalData: { path: string; data: Uint8Array }[] };

/**
 * Stages the edited model so that ONNX Runtime loads it without a second copy of the weights, in
 * memory or on disk: the edited graph (small: the large initializers refer to their bytes in the
 * user's file, see onnx/modelReader.ts) is written to a temporary folder, and the files holding
 * the weights (the model's own file, its external data files) are hard-linked beside it, since ORT
 * resolves external data only inside the model's own folder and refuses symbolic links out of it.
 * ORT then reads the weights from the user's files. The folder is made in the system's temporary
 * folder, else (a link cannot cross file systems) beside the model; where no link can be made
 * (a file the user does not own, a read-only folder), the weights are handed over from memory.
 */
export async function stageModel(model: OnnxModelFile, edit: GraphEdit): Promise<StagedModel> {
  const chunks = editedModelChunks(model, edit);
  const graphName = stagedGraphName(model.externalDataFiles);
  const linked = model.externalDataFiles.map((f) => path.resolve(path.dirname(model.path), f));
  for (const parent of [os.tmpdir(), path.dirname(model.path)]) {
    const dir = await mkdtemp(path.join(parent, parent === os.tmpdir() ? 'layer-profiler-' : '.layer-profiler-')).catch(() => undefined);
    if (!dir) continue;
    try {
      if (!(await keepFileSha256sAcross(linked, () => linkExternalData(model, dir)))) {
        await removeStaging({ dir, linked });
        continue;
      }
      const file = path.join(dir, graphName);
      await writeChunks(file, chunks);
      return { file, dir, linked };
    } catch (err) {
      await removeStaging({ dir, linked });
      throw err;
    }
  }
  const externalData = await Promise.all(model.externalDataFiles.map(async (f) => ({ path: f, data: await readFile(path.join(path.dirname(model.path), f)) })));
  return { bytes: concatChunks(chunks), externalData };
}

/** A name for the staged graph that no weights file linked beside it has. */
function stagedGraphName(externalDataFiles: string[]): string {
  let name = 'model.onnx';
  while (externalDataFiles.includes(name)) name = `staged-${name}`;
  return name;
}

async function writeChunks(file: string, chunks: Uint8Array[]): Promise<void> {
  const handle = await open(file, 'w');
  try {
    // At most 1 GiB per call (one write takes under 2 GiB), looping over partial writes.
    for (const c of chunks) for (let at = 0; at < c.byteLength; ) at += (await handle.write(c, at, Math.min(c.byteLength - at, 2 ** 30))).bytesWritten;
  } finally {
    await handle.close();
  }
}

/** Hard links in `dir` to the model's weights files; false where the system refuses them. */
async function linkExternalData(model: OnnxModelFile, dir: string): Promise<boolean> {
  try {
    for (const f of model.externalDataFiles) {
      // The file itself, not a symbolic link to it (the Hub cache's snapshots link to blobs):
      // a hard link to a relative symbolic link would dangle in the staging folder.
      const target = await realpath(path.resolve(path.dirname(model.path), f));
      const linkPath = path.resolve(dir, f);
      // A location outside the model's folder is ORT's to refuse, as it would the original.
      if (!linkPath.startsWith(dir + path.sep)) return false;
      await mkdir(path.dirname(linkPath), { recursive: true });
      await link(target, linkPath);
    }
    return true;
  } catch {
    return false;
  }
}

/** An ONNX Runtime session over a staged model (its temporary file is removed once loaded). */
export async function createOrtSession(staged: StagedModel, settings: SessionSettings): Promise<ort.InferenceSession> {
  const options = ortSessionOptions(settings);
  if ('bytes' in staged) return ort.InferenceSession.create(staged.bytes, { ...options, externalData: staged.externalData });
  try {
    return await ort.InferenceSession.create(staged.file, options);
  } finally {
    await removeStaging(staged);
  }
}

/**
 * Removes a staging folder. Linking and unlinking move the linked files' change time, which the
 * persisted file hashes check (onnx/fileHash.ts): their hashes are carried over, else every run
 * that opens a session would make the next one read the whole model again to hash it.
 */
async function removeStaging(staged: { dir: string; linked: string[] }): Promise<void> {
  await keepFileSha256sAcross(staged.linked, () => rm(staged.dir, { recursive: true, force: true }));
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
  const cat = (pick: (p: WindowProbeValues) => Float32Array) => joinedFloats(parts, pick);
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

/** What the profile analysis reads from each run: the probes' per-token values. */
class ProbeReadout implements Readout<WindowProbeValues> {
  readonly fetches: string[];

  constructor(
    private readonly numLayers: number,
    private readonly substepKinds: SubstepKind[],
    private readonly raw: boolean,
  ) {
    this.fetches = [...Object.values(PROBE_OUTPUTS)];
    for (const kind of substepKinds) for (const stat of ['mean', 'absMean', 'l2'] as const) this.fetches.push(substepOutput(kind, stat));
    if (raw) for (let k = 0; k <= numLayers; k++) this.fetches.push(rawResidualOutput(k));
    if (raw && substepKinds.length > 1) for (let k = 0; k < numLayers; k++) this.fetches.push(rawMidOutput(k));
  }

  extract(out: ort.InferenceSession.ReturnType, length: number, b: number, n: number): WindowProbeValues {
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

  concat(parts: WindowProbeValues[]): WindowProbeValues {
    return concatWindows(parts);
  }
}

/** The profile analysis's session: windows in, per-token probe values out. */
export class ProbedSession extends WindowRunner<WindowProbeValues> {
  readonly numLayers: number;
  readonly substepKinds: SubstepKind[];

  constructor(session: ort.InferenceSession, layout: ProbeLayout, settings: SessionSettings, raw = false) {
    super(session, new ProbeReadout(layout.numLayers, layout.substepKinds, raw), layout.perTensorActivationScales, settings);
    this.numLayers = layout.numLayers;
    this.substepKinds = layout.substepKinds;
  }

  static async create(staged: StagedModel, layout: ProbeLayout, settings: SessionSettings, raw = false): Promise<ProbedSession> {
    return new ProbedSession(await createOrtSession(staged, settings), layout, settings, raw);
  }
}
