/**
 * A small graph builder that names nodes and tensors the way a given exporter does, because the
 * profiler's messages (and a few of its hints) read those names, and tests compare them.
 */
import { onnx } from 'onnx-proto';
import { attr, floatTensor, int64Tensor, tensorValueInfo, type ElemType } from './tensors';

/** How an exporter names the i-th output of a node. */
export type OutputNaming = (nodeName: string, index: number) => string;
/** torch.onnx (and so Optimum): `/model/layers.0/Add_output_0`. */
export const torchOutputs: OutputNaming = (n, i) => `${n}_output_${i}`;
/** onnxruntime-genai model builder: `/model/layers.0/attn/o_proj/MatMul/output_0`. */
export const genaiOutputs: OutputNaming = (n, i) => `${n}/output_${i}`;
/**
 * Older torch exports (the GPT-2 graphs ORT's transformer optimizer is usually run on) name
 * tensors by a running number; the optimizer keeps those names on the fused nodes.
 */
export function numberedOutputs(start = 100): OutputNaming {
  let next = start;
  return () => String(next++);
}

export interface NodeOptions {
  domain?: string;
  attrs?: onnx.IAttributeProto[];
  /** Output count (named by the graph's rule) or explicit names; '' leaves an optional output absent. */
  outputs?: number | readonly string[];
}

export class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly inputs: onnx.IValueInfoProto[] = [];
  readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly initializerNames = new Set<string>();
  private readonly nodeNames = new Set<string>();
  private readonly constants = new Map<string, string>();

  /** A builder with a parent builds a subgraph (an If branch); its initializers live in the root. */
  constructor(
    readonly naming: OutputNaming = torchOutputs,
    private readonly parent?: GraphBuilder,
  ) {}

  get root(): GraphBuilder {
    return this.parent ? this.parent.root : this;
  }

  /** Adds a node; a name already used gets `_1`, `_2`, ... appended, as torch.onnx does. */
  node(opType: string, name: string, inputs: readonly string[], opts: NodeOptions = {}): string[] {
    const unique = this.uniqueNodeName(name);
    const outputs =
      typeof opts.outputs === 'object'
        ? [...opts.outputs]
        : Array.from({ length: opts.outputs ?? 1 }, (_, i) => this.naming(unique, i));
    this.nodes.push({
      name: unique,
      opType,
      domain: opts.domain ?? '',
      input: [...inputs],
      output: outputs,
      attribute: opts.attrs ?? [],
    });
    return outputs;
  }

  /** Single-output convenience over `node`. */
  op(opType: string, name: string, inputs: readonly string[], opts: NodeOptions = {}): string {
    return this.node(opType, name, inputs, opts)[0];
  }

  scope(prefix: string): Scope {
    return new Scope(this, prefix);
  }

  /** Name the next node given `name` would get. */
  peekNodeName(name: string): string {
    if (!this.nodeNames.has(name)) return name;
    let i = 1;
    while (this.nodeNames.has(`${name}_${i}`)) i++;
    return `${name}_${i}`;
  }

  private uniqueNodeName(name: string): string {
    const unique = this.peekNodeName(name);
    this.nodeNames.add(unique);
    return unique;
  }

  input(name: string, type: ElemType, dims: readonly (number | string)[]): string {
    this.inputs.push(tensorValueInfo(name, type, dims));
    return name;
  }

  output(name: string, type: ElemType, dims?: readonly (number | string)[]): string {
    this.outputs.push(tensorValueInfo(name, type, dims));
    return name;
  }

  /** Adds an initializer to the root graph once; later calls with the same name reuse it. */
  initializer(t: onnx.ITensorProto): string {
    const root = this.root;
    const name = t.name ?? '';
    if (!root.initializerNames.has(name)) {
      root.initializerNames.add(name);
      root.initializers.push(t);
    }
    return name;
  }

  hasInitializer(name: string): boolean {
    return this.root.initializerNames.has(name);
  }

  /** int64 constant, shared by value, as constant folding leaves shape constants in exports. */
  constI64(values: readonly number[], scalar = false): string {
    const key = `i64:${scalar ? 's' : 'v'}:${values.join(',')}`;
    return this.shared(key, () => int64Tensor(`onnx::Const_${key}`, values, scalar ? [] : [values.length]));
  }

  /** float / half scalar constant shared by value. */
  constFloat(value: number, type: 'float32' | 'float16', dims: readonly number[] = []): string {
    const key = `${type}:${dims.join('x')}:${value}`;
    const size = dims.reduce((a, b) => a * b, 1);
    return this.shared(key, () => floatTensor(`onnx::Const_${key}`, new Float32Array(size).fill(value), dims, type));
  }

  private shared(key: string, make: () => onnx.TensorProto): string {
    const root = this.root;
    const found = root.constants.get(key);
    if (found) return found;
    const name = this.initializer(make());
    root.constants.set(key, name);
    return name;
  }

  toGraphProto(name: string): onnx.GraphProto {
    return onnx.GraphProto.create({
      name,
      node: this.nodes,
      input: this.inputs,
      output: this.outputs,
      initializer: this.initializers,
    });
  }
}

/** Nodes under one module path, e.g. `/model/layers.0/self_attn`. */
export class Scope {
  constructor(
    readonly g: GraphBuilder,
    readonly prefix: string,
  ) {}

  /** Node named `<prefix>/<name ?? opType>`. */
  op(opType: string, inputs: readonly string[], opts: NodeOptions & { name?: string } = {}): string {
    return this.g.op(opType, `${this.prefix}/${opts.name ?? opType}`, inputs, opts);
  }

  node(opType: string, inputs: readonly string[], opts: NodeOptions & { name?: string } = {}): string[] {
    return this.g.node(opType, `${this.prefix}/${opts.name ?? opType}`, inputs, opts);
  }

  sub(name: string): Scope {
    return new Scope(this.g, `${this.prefix}/${name}`);
  }
}

export { attr };
