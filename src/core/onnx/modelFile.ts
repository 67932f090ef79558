/**
 * Reading an ONNX model file: read it once without its weights (see modelReader.ts), decode the
 * rest, and describe its graph for the spine finder.
 */
import { onnx } from 'onnx-proto';
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileIdentity, knownFileSha256, rememberFileSha256 } from './fileHash';
import { readModelSkeleton, type ModelReadOptions } from './modelReader';

export interface TensorValueInfo {
  name: string;
  /** ONNX TensorProto.DataType; 0 when unknown. */
  elemType: number;
  /** Dimension values or symbolic names; undefined when the rank is unknown. */
  dims?: (number | string)[];
}

export interface OnnxModelFile {
  path: string;
  /**
   * The encoded ModelProto as staged: its large initializers refer to their bytes in the file at
   * `path` (an external-data location naming the file itself), so these bytes hold no weights.
   */
  bytes: Buffer;
  /** sha256 and size of the file on disk (not of `bytes`). */
  sha256: string;
  fileBytes: number;
  model: onnx.ModelProto;
  graph: onnx.IGraphProto;
  /** Opset version of the default (ai.onnx) domain. */
  opset: number;
  /** Graph inputs that are fed at run time (initializers excluded, for old IR versions). */
  inputs: TensorValueInfo[];
  outputs: TensorValueInfo[];
  initializers: Map<string, onnx.ITensorProto>;
  /**
   * External data files the initializers refer to, relative to the model's folder; the model's own
   * file among them when its large initializers were left in it.
   */
  externalDataFiles: string[];
}

export class ModelFileError extends Error {}

/**
 * Reads and decodes a model file. `threshold`: initializers of at least this many bytes stay in
 * the file (Infinity keeps every one in memory). The file is hashed while it is read, unless this
 * process hashed the same file (same inode, size and modification time) before.
 */
export async function readOnnxModel(file: string, opts: Pick<ModelReadOptions, 'threshold'> = {}): Promise<OnnxModelFile> {
  let skeleton;
  try {
    const before = await fileIdentity(file);
    const known = await knownFileSha256(file);
    skeleton = await readModelSkeleton(file, { ...opts, sha256: known });
    if (!known) await rememberFileSha256(file, skeleton.sha256, before);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ? `Cannot read the ONNX model ${file}` : `${file} is not a valid ONNX model`;
    throw new ModelFileError(`${reason}: ${(err as Error).message}`);
  }
  return parseOnnxModel(file, skeleton.bytes, { sha256: skeleton.sha256, fileBytes: skeleton.fileBytes });
}

/**
 * Decodes an encoded model read from `file`. `known`: the file's hash and size when already known
 * (a rewritten model keeps its file's identity); else `bytes` are taken to be the whole file.
 */
export function parseOnnxModel(file: string, bytes: Buffer, known?: { sha256: string; fileBytes: number }): OnnxModelFile {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new ModelFileError(`${file} is not a valid ONNX model (${(err as Error).message}).`);
  }
  const graph = model.graph;
  if (!graph || !graph.node || graph.node.length === 0) {
    throw new ModelFileError(`${file} is not a valid ONNX model: it has no graph nodes.`);
  }
  const initializers = new Map<string, onnx.ITensorProto>();
  for (const init of graph.initializer ?? []) initializers.set(init.name ?? '', init);
  const externalDataFiles = new Set<string>();
  collectExternalData(graph, externalDataFiles);
  const defaultOpset = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  return {
    path: file,
    bytes,
    sha256: known?.sha256 ?? createHash('sha256').update(bytes).digest('hex'),
    fileBytes: known?.fileBytes ?? bytes.length,
    model,
    graph,
    opset: defaultOpset ? Number(defaultOpset.version) : 1,
    inputs: (graph.input ?? []).filter((i) => !initializers.has(i.name ?? '')).map(valueInfo),
    outputs: (graph.output ?? []).map(valueInfo),
    initializers,
    externalDataFiles: [...externalDataFiles],
  };
}

/**
 * Every external-data file the graph refers to: initializers', and tensors held by nodes (a
 * Constant's value: PyTorch's exporter writes one file per large tensor, Constants included, for
 * models over 2 GB) and by subgraphs (an If's branches).
 */
function collectExternalData(graph: onnx.IGraphProto, into: Set<string>): void {
  const tensor = (t: onnx.ITensorProto | null | undefined) => {
    if (t?.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) return;
    const location = (t.externalData ?? []).find((e) => e.key === 'location')?.value;
    if (location) into.add(location);
  };
  for (const init of graph.initializer ?? []) tensor(init);
  for (const node of graph.node ?? []) {
    for (const a of node.attribute ?? []) {
      tensor(a.t);
      for (const t of a.tensors ?? []) tensor(t);
      if (a.g) collectExternalData(a.g, into);
      for (const g of a.graphs ?? []) collectExternalData(g, into);
    }
  }
}

/** Whether an external-data location names the model's own file (its weights left in it). */
export function isOwnFile(model: Pick<OnnxModelFile, 'path'>, location: string): boolean {
  return path.resolve(path.dirname(model.path), location) === path.resolve(model.path);
}

/** Bytes of weights the model's session will hold: the file and its external data files. */
export async function weightBytes(model: OnnxModelFile): Promise<number> {
  const sizes = await Promise.all(
    model.externalDataFiles.filter((f) => !isOwnFile(model, f)).map((f) => stat(path.join(path.dirname(model.path), f)).then((s) => s.size, () => 0)),
  );
  return sizes.reduce((a, b) => a + b, model.fileBytes);
}

function valueInfo(v: onnx.IValueInfoProto): TensorValueInfo {
  const tensorType = v.type?.tensorType;
  const shape = tensorType?.shape;
  return {
    name: v.name ?? '',
    elemType: tensorType?.elemType ?? 0,
    dims: shape?.dim ? shape.dim.map((d) => (d.dimParam ? d.dimParam : d.dimValue != null && Number(d.dimValue) > 0 ? Number(d.dimValue) : '?')) : undefined,
  };
}

/** Checks that every external data file exists beside the model, naming any that are missing. */
export async function checkExternalData(m: OnnxModelFile): Promise<void> {
  const { access } = await import('node:fs/promises');
  for (const f of m.externalDataFiles) {
    const full = path.join(path.dirname(m.path), f);
    try {
      await access(full);
    } catch {
      throw new ModelFileError(`The model ${m.path} keeps its weights in ${f}, which is missing from ${path.dirname(m.path)}.`);
    }
  }
}

export const ElemType = onnx.TensorProto.DataType;
