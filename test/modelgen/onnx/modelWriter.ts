/** Assembling the ModelProto and writing it, optionally moving large initializers to an external data file. */
import { onnx } from 'onnx-proto';
import { open, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface OpsetSpec {
  domain: string;
  version: number;
}

export interface ModelAssembly {
  graph: onnx.IGraphProto;
  opsets: readonly OpsetSpec[];
  producerName: string;
  producerVersion: string;
  /** IR 8 reads in every onnxruntime the profiler supports and allows the opsets used here (<= 18). */
  irVersion?: number;
}

export function assembleModel(a: ModelAssembly): onnx.ModelProto {
  return onnx.ModelProto.create({
    irVersion: a.irVersion ?? 8,
    producerName: a.producerName,
    producerVersion: a.producerVersion,
    opsetImport: a.opsets.map((o) => ({ domain: o.domain, version: o.version })),
    graph: a.graph,
  });
}

export interface ExternalDataOptions {
  /** File name beside the model, e.g. `model.onnx.data`. */
  fileName: string;
  /** Initializers at least this large go external (onnx's save_model uses 1024). */
  minBytes: number;
}

/** Offsets aligned like onnx's external-data writer can, so runtimes may map tensors directly. */
const ALIGN = 64;

export async function writeModelFile(model: onnx.ModelProto, file: string, external?: ExternalDataOptions): Promise<void> {
  if (external) await moveToExternalData(model, path.join(path.dirname(file), external.fileName), external);
  await writeFile(file, onnx.ModelProto.encode(model).finish());
}

async function moveToExternalData(model: onnx.ModelProto, dataFile: string, opts: ExternalDataOptions): Promise<void> {
  const handle = await open(dataFile, 'w');
  try {
    let offset = 0;
    for (const t of model.graph?.initializer ?? []) {
      const raw = t.rawData;
      if (!raw || raw.length < opts.minBytes) continue;
      const pad = (ALIGN - (offset % ALIGN)) % ALIGN;
      if (pad) await handle.write(new Uint8Array(pad));
      offset += pad;
      await handle.write(raw);
      t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      t.externalData = [
        { key: 'location', value: opts.fileName },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(raw.length) },
      ];
      t.rawData = new Uint8Array(0);
      offset += raw.length;
    }
  } finally {
    await handle.close();
  }
}
