/**
 * Replacing a graph's node list without re-encoding the rest of the model: the serialized
 * ModelProto is walked field by field, every field but the graph's nodes is copied byte for byte
 * (initializers included, however large), and only the new nodes are encoded.
 */
import { onnx } from 'onnx-proto';
import { Reader, Writer } from 'protobufjs';

const MODEL_GRAPH_FIELD = 7;
const GRAPH_NODE_FIELD = 1;
const GRAPH_INITIALIZER_FIELD = 5;
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

/** A copy of `modelBytes` whose main graph holds `nodes` (and `extraInitializers`) instead of its nodes. */
export function replaceGraphNodes(modelBytes: Uint8Array, nodes: onnx.INodeProto[], extraInitializers: onnx.ITensorProto[] = []): Uint8Array {
  const modelFields = scanFields(modelBytes);
  const graphSpans = modelFields.filter((f) => f.field === MODEL_GRAPH_FIELD);
  if (graphSpans.length !== 1) throw new Error('Expected exactly one graph in the model.');
  const graphSpan = graphSpans[0];
  const graphBytes = modelBytes.subarray(graphSpan.payloadStart, graphSpan.end);

  const kept = scanFields(graphBytes).filter((f) => f.field !== GRAPH_NODE_FIELD);
  const added = new Writer();
  for (const n of nodes) added.uint32((GRAPH_NODE_FIELD << 3) | WIRE_LENGTH_DELIMITED).bytes(onnx.NodeProto.encode(n).finish());
  for (const t of extraInitializers) added.uint32((GRAPH_INITIALIZER_FIELD << 3) | WIRE_LENGTH_DELIMITED).bytes(onnx.TensorProto.encode(t).finish());
  const addedBytes = added.finish();

  const newGraphLength = kept.reduce((s, f) => s + (f.end - f.start), 0) + addedBytes.length;
  const header = new Writer().uint32((MODEL_GRAPH_FIELD << 3) | WIRE_LENGTH_DELIMITED).uint32(newGraphLength).finish();
  const otherModelFields = modelFields.filter((f) => f !== graphSpan);
  const total = otherModelFields.reduce((s, f) => s + (f.end - f.start), 0) + header.length + newGraphLength;

  const out = new Uint8Array(total);
  let at = 0;
  const copy = (b: Uint8Array) => {
    out.set(b, at);
    at += b.length;
  };
  for (const f of otherModelFields) copy(modelBytes.subarray(f.start, f.end));
  copy(header);
  for (const f of kept) copy(graphBytes.subarray(f.start, f.end));
  copy(addedBytes);
  return out;
}
