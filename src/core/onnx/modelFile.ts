/**
 * Reading an ONNX model file: decode the ModelProto once (initializer bytes stay views into the
 * file buffer, nothing is copied) and describe its graph for the spine finder.
 */
import { onnx } from 'onnx-proto';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export interface TensorValueInfo {
  name: string;
  /** ONNX TensorProto.DataType; 0 when unknown. */
  elemType: number;
  /** Dimension values or symbolic names; undefined when the rank is unknown. */
  dims?: (number | string)[];
}

export interface OnnxModelFile {
  path: string;
  bytes: Buffer;
  sha256: string;
  model: onnx.ModelProto;
  graph: onnx.IGraphProto;
  /** Opset version of the default (ai.onnx) domain. */
  opset: number;
  /** Graph inputs that are fed at run time (initializers excluded, for old IR versions). */
  inputs: TensorValueInfo[];
  outputs: TensorValueInfo[];
  initializers: Map<string, onnx.ITensorProto>;
  /** External data files the initializers refer to, relative to the model's folder. */
  externalDataFiles: string[];
}

export class ModelFileError extends Error {}

export async function readOnnxModel(file: string): Promise<OnnxModelFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new ModelFileError(`Cannot read the ONNX model ${file}: ${(err as Error).message}`);
  }
  return parseOnnxModel(file, bytes);
}

/** `sha256`: the file's hash when already known (a rewritten model keeps its file's identity). */
export function parseOnnxModel(file: string, bytes: Buffer, sha256?: string): OnnxModelFile {
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
  const externalDataFiles = new Set<string>();
  for (const init of graph.initializer ?? []) {
    initializers.set(init.name ?? '', init);
    if (init.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      const location = (init.externalData ?? []).find((e) => e.key === 'location')?.value;
      if (location) externalDataFiles.add(location);
    }
  }
  const defaultOpset = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  return {
    path: file,
    bytes,
    sha256: sha256 ?? createHash('sha256').update(bytes).digest('hex'),
    model,
    graph,
    opset: defaultOpset ? Number(defaultOpset.version) : 1,
    inputs: (graph.input ?? []).filter((i) => !initializers.has(i.name ?? '')).map(valueInfo),
    outputs: (graph.output ?? []).map(valueInfo),
    initializers,
    externalDataFiles: [...externalDataFiles],
  };
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
