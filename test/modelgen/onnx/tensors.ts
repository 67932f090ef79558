/**
 * TensorProto and AttributeProto construction. Initializers always carry raw_data built from typed
 * array buffers: the repeated float_data/int64_data fields would make protobufjs encode element by
 * element, which is what turns generation of a bench-size model from seconds into minutes.
 */
import { onnx } from 'onnx-proto';
import { toHalfArray } from './float16';

export type ElemType = 'float32' | 'float16' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

const CODES: Record<ElemType, onnx.TensorProto.DataType> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  int8: onnx.TensorProto.DataType.INT8,
  uint8: onnx.TensorProto.DataType.UINT8,
  bool: onnx.TensorProto.DataType.BOOL,
};

export function elemTypeCode(t: ElemType): onnx.TensorProto.DataType {
  return CODES[t];
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

export function rawTensor(name: string, type: ElemType, dims: readonly number[], data: ArrayBufferView): onnx.TensorProto {
  return onnx.TensorProto.create({ name, dims: [...dims], dataType: CODES[type], rawData: bytesOf(data) });
}

/** A float tensor stored as float32 or converted to half precision. */
export function floatTensor(name: string, data: Float32Array, dims: readonly number[], type: 'float32' | 'float16'): onnx.TensorProto {
  return rawTensor(name, type, dims, type === 'float16' ? toHalfArray(data) : data);
}

export function int64Tensor(name: string, values: readonly number[], dims: readonly number[] = [values.length]): onnx.TensorProto {
  return rawTensor(name, 'int64', dims, BigInt64Array.from(values, (v) => BigInt(v)));
}

const A = onnx.AttributeProto.AttributeType;

/** Attribute constructors; names follow the ONNX field they fill. */
export const attr = {
  int: (name: string, i: number): onnx.IAttributeProto => ({ name, type: A.INT, i }),
  float: (name: string, f: number): onnx.IAttributeProto => ({ name, type: A.FLOAT, f }),
  ints: (name: string, ints: readonly number[]): onnx.IAttributeProto => ({ name, type: A.INTS, ints: [...ints] }),
  string: (name: string, s: string): onnx.IAttributeProto => ({ name, type: A.STRING, s: Buffer.from(s, 'utf8') }),
  graph: (name: string, g: onnx.IGraphProto): onnx.IAttributeProto => ({ name, type: A.GRAPH, g }),
  tensor: (name: string, t: onnx.ITensorProto): onnx.IAttributeProto => ({ name, type: A.TENSOR, t }),
};

/** A ValueInfoProto for a tensor; string dims are symbolic (batch_size, sequence_length, ...). */
export function tensorValueInfo(name: string, type: ElemType, dims: readonly (number | string)[] | undefined): onnx.IValueInfoProto {
  const shape = dims
    ? { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) }
    : undefined;
  return { name, type: { tensorType: { elemType: CODES[type], shape } } };
}
