/**
 * Rewriting a graph's node list (and, optionally, its outputs and initializers) without
 * re-encoding the rest of the model: the serialized ModelProto is walked field by field, every
 * field that stays is copied byte for byte (initializers included, however large), and only the
 * new nodes and outputs are encoded. The result comes as chunks, mostly views into the original
 * bytes, so a caller writing them to a file never holds a second full copy of the model.
 */
import { onnx } from 'onnx-proto';
import { Reader, Writer } from 'protobufjs';

const MODEL_GRAPH_FIELD = 7;
const GRAPH_NODE_FIELD = 1;
const GRAPH_INITIALIZER_FIELD = 5;
const GRAPH_INPUT_FIELD = 11;
const GRAPH_OUTPUT_FIELD = 12;
const WIRE_LENGTH_DELIMITED = 2;

interface FieldSpan {
  field: number;
  start: number;
  end: number;
  /** For length-delimited fields: where the payload starts. */
  payloadStart: number;
}

function scanFields(bytes: Uint8Array): FieldSpan[] {
  const reader = Reader.create(bytes);
  const spans: FieldSpan[] = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    let payloadStart = reader.pos;
    if (wire === WIRE_LENGTH_DELIMITED) {
      const length = reader.uint32();
      payloadStart = reader.pos;
      reader.pos += length;
    } else {
      reader.skipType(wire);
    }
    spans.push({ field, start, end: reader.pos, payloadStart });
  }
  return spans;
}

/** A new graph for the model's main graph; what is not given stays as it is. */
export interface GraphSplice {
  /** The graph's complete new node list. */
  nodes: onnx.INodeProto[];
  /** Initializers to add (small: probe constants, lifted branches' own). */
  extraInitializers?: onnx.ITensorProto[];
  /** The complete new output list, as indices into the original `graph.output` followed by new outputs. */
  outputs?: { keep: (index: number) => boolean; add: onnx.IValueInfoProto[] };
  /**
   * Which original initializers stay, by index into `graph.initializer` (their order in the file).
   * Graph inputs of the same name (models before IR 4 list weights as inputs) go with them.
   */
  keepInitializer?: (index: number, name: string) => boolean;
  /** Names of the original initializers, in file order (needed with keepInitializer). */
  initializerNames?: string[];
  /** Graph inputs to add after the original ones. */
  extraInputs?: onnx.IValueInfoProto[];
}

/** The spliced model as chunks: their concatenation is the serialized ModelProto. */
export function spliceGraph(modelBytes: Uint8Array, splice: GraphSplice): Uint8Array[] {
  const modelFields = scanFields(modelBytes);
  const graphSpans = modelFields.filter((f) => f.field === MODEL_GRAPH_FIELD);
  if (graphSpans.length !== 1) throw new Error('Expected exactly one graph in the model.');
  const graphSpan = graphSpans[0];
  const graphBytes = modelBytes.subarray(graphSpan.payloadStart, graphSpan.end);

  const droppedInitializers = new Set<string>();
  let initializerIndex = 0;
  let outputIndex = 0;
  const graphFields = scanFields(graphBytes);
  const keptSpans = graphFields.filter((f) => {
    if (f.field === GRAPH_NODE_FIELD) return false;
    if (f.field === GRAPH_INITIALIZER_FIELD && splice.keepInitializer) {
      const i = initializerIndex++;
      const name = splice.initializerNames?.[i] ?? '';
      if (splice.keepInitializer(i, name)) return true;
      droppedInitializers.add(name);
      return false;
    }
    if (f.field === GRAPH_OUTPUT_FIELD && splice.outputs) return splice.outputs.keep(outputIndex++);
    return true;
  });
  if (splice.keepInitializer && splice.initializerNames && initializerIndex !== splice.initializerNames.length) {
    throw new Error(`The graph holds ${initializerIndex} initializers, but ${splice.initializerNames.length} were named.`);
  }
  const kept = droppedInitializers.size
    ? keptSpans.filter((f) => f.field !== GRAPH_INPUT_FIELD || !droppedInitializers.has(onnx.ValueInfoProto.decode(graphBytes.subarray(f.payloadStart, f.end)).name))
    : keptSpans;

  const added = new Writer();
  const field = (n: number, bytes: Uint8Array) => added.uint32((n << 3) | WIRE_LENGTH_DELIMITED).bytes(bytes);
  for (const n of splice.nodes) field(GRAPH_NODE_FIELD, onnx.NodeProto.encode(n).finish());
  for (const t of splice.extraInitializers ?? []) field(GRAPH_INITIALIZER_FIELD, onnx.TensorProto.encode(t).finish());
  for (const o of splice.outputs?.add ?? []) field(GRAPH_OUTPUT_FIELD, onnx.ValueInfoProto.encode(o).finish());
  for (const i of splice.extraInputs ?? []) field(GRAPH_INPUT_FIELD, onnx.ValueInfoProto.encode(i).finish());
  const addedBytes = added.finish();

  const newGraphLength = kept.reduce((s, f) => s + (f.end - f.start), 0) + addedBytes.length;
  const header = new Writer().uint32((MODEL_GRAPH_FIELD << 3) | WIRE_LENGTH_DELIMITED).uint32(newGraphLength).finish();
  const chunks: Uint8Array[] = [];
  for (const f of modelFields) if (f !== graphSpan) chunks.push(modelBytes.subarray(f.start, f.end));
  chunks.push(header);
  for (const f of kept) chunks.push(graphBytes.subarray(f.start, f.end));
  chunks.push(addedBytes);
  return mergeAdjacent(chunks);
}

/** Adjacent views of one buffer become one view (fewer, larger writes). */
function mergeAdjacent(chunks: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of chunks) {
    const last = out[out.length - 1];
    if (last && last.buffer === c.buffer && last.byteOffset + last.byteLength === c.byteOffset) {
      out[out.length - 1] = new Uint8Array(c.buffer, last.byteOffset, last.byteLength + c.byteLength);
    } else if (c.byteLength) out.push(c);
  }
  return out;
}

export function concatChunks(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** A copy of `modelBytes` whose main graph holds `nodes` (and `extraInitializers`) instead of its nodes. */
export function replaceGraphNodes(modelBytes: Uint8Array, nodes: onnx.INodeProto[], extraInitializers: onnx.ITensorProto[] = []): Uint8Array {
  return concatChunks(spliceGraph(modelBytes, { nodes, extraInitializers }));
}
