/**
 * Building a `GraphAddition` node by node: unique names under one prefix, small int64 constants,
 * reductions over the hidden axis in whichever form the opset wants, and float32
 * [batch, tokens, hidden] views of residual points (the two-text distances and activation patching
 * share it).
 */
import { onnx } from 'onnx-proto';
import type { GraphAddition } from './prune';

const INT = onnx.AttributeProto.AttributeType.INT;
export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const INT64 = onnx.TensorProto.DataType.INT64;
export const BOOL = onnx.TensorProto.DataType.BOOL;

export class AdditionBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  readonly outputs: onnx.IValueInfoProto[] = [];
  readonly inputs: onnx.IValueInfoProto[] = [];
  private counter = 0;
  private referenceShape: string | undefined;

  /** `reference`: the residual entering block 0, whose [batch, tokens, hidden] shape every point takes. */
  constructor(
    readonly prefix: string,
    readonly opset: number,
    private readonly reference: string,
  ) {}

  node(opType: string, input: string[], label: string, attribute: onnx.IAttributeProto[] = []): string {
    const output = `${this.prefix}${label}/${opType}_${this.counter++}`;
    this.nodes.push({ opType, name: output, input, output: [output], attribute });
    return output;
  }

  int(name: string, i: number): onnx.IAttributeProto {
    return { name, type: INT, i };
  }

  constant(label: string, dims: number[], int64Data: number[]): string {
    const name = `${this.prefix}${label}`;
    if (!this.initializers.some((t) => t.name === name)) this.initializers.push({ name, dataType: INT64, dims, int64Data });
    return name;
  }

  /** Shape of the reference point: [batch, tokens, hidden]. */
  streamShape(): string {
    if (!this.referenceShape) this.referenceShape = this.node('Shape', [this.reference], 'stream/shape');
    return this.referenceShape;
  }

  /**
   * `t` viewed as [batch, tokens, hidden] in its own type: some exporters run a sublayer and its
   * residual Add on a flattened [batch·tokens, hidden] view (OPT's MLP). A Reshape copies nothing.
   */
  asStream(t: string, label: string): string {
    return t === this.reference ? t : this.node('Reshape', [t, this.streamShape()], `${label}/as_stream`);
  }

  asFloat(t: string, label: string): string {
    return this.node('Cast', [t], `${label}/float`, [this.int('to', FLOAT)]);
  }

  /** Reduce over the last axis; `keepdims` 1 so per-point results concatenate along it. */
  reduceLast(op: 'ReduceL2' | 'ReduceSum', input: string, label: string): string {
    const keepdims = this.int('keepdims', 1);
    const axesAsInput = op === 'ReduceSum' ? this.opset >= 13 : this.opset >= 18;
    if (axesAsInput) return this.node(op, [input, this.constant('axes_last', [1], [-1])], label, [keepdims]);
    return this.node(op, [input], label, [keepdims, { name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [-1] }]);
  }

  input(name: string, elemType: number, dims: (string | number)[]): string {
    this.inputs.push({ name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } });
    return name;
  }

  output(name: string, from: string, elemType: number = FLOAT, opType = 'Identity', extra: string[] = [], attribute: onnx.IAttributeProto[] = []): void {
    this.nodes.push({ opType, name: `${name}/${opType}`, input: [from, ...extra], output: [name], attribute });
    this.outputs.push({ name, type: { tensorType: { elemType } } });
  }

  concatOutput(parts: string[], name: string, axis = -1): void {
    this.nodes.push({ opType: 'Concat', name: `${name}/Concat`, input: parts, output: [name], attribute: [this.int('axis', axis)] });
    this.outputs.push({ name, type: { tensorType: { elemType: FLOAT } } });
  }

  addition(extra: onnx.INodeProto[] = [], rewire?: ReadonlyMap<string, string>): GraphAddition {
    return { nodes: [...extra, ...this.nodes], initializers: this.initializers, outputs: this.outputs, inputs: this.inputs, ...(rewire ? { rewire } : {}) };
  }
}
