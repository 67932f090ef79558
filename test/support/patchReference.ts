/**
 * An independent activation-patching reference: it shares nothing with the product's patch graph
 * (no Where, no mask inputs, no rewiring of the product's). For each point the model file is
 * rewritten here with onnx-proto so that the point's tensor is a graph input: the node that
 * produced it emits a renamed copy instead (a graph output, so its values can be read). A residual
 * sum that only exists inside a fused Skip*LayerNormalization node is made explicit by replacing
 * that node with an Add and the norm written out of plain ONNX arithmetic (MatMul by a 1/H column
 * for the means), so feeding the sum reaches both the stream and the next block's input. The
 * corrupted ids then run once per position p, batch 1, with the input set to the corrupted run's
 * values and position p's replaced by the clean run's; the metric and the normalised effect are
 * computed in float64 from the logits.
 */
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { buildFeeds, planFeeds, type CacheDims } from '../../src/core/runtime/feeds';

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;
const SKIP = new Set(['SkipLayerNormalization', 'SkipSimplifiedLayerNormalization']);
const ORIG = '/patch_reference/original';

export interface ReferencePoint {
  kind: string;
  layer: number;
  /** The point's tensor (from the spine), or one of `added`'s outputs where the model never materialises it. */
  tensor: string;
}

export interface ReferenceModel {
  /** The model file (its external data files lie beside it). */
  file: string;
  externalDataFiles: string[];
  /** Nodes the spine adds (residual sums of fused norms that do not emit them). */
  added: onnx.INodeProto[];
  cache: CacheDims;
  graphOptimizationLevel?: 'disabled' | 'all';
}

export interface ReferenceGrid {
  /** Whether the pair had to be chosen (both runs' top next token is the same) rather than the two top tokens. */
  named: boolean;
  target: number;
  foil: number;
  clean: number;
  corrupted: number;
  /** Per point (in the order given), per position. */
  effects: number[][];
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function argmax(v: Float64Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

/** The Skip node whose sum `tensor` is: output 3, or (for sums the spine adds) the node adding the same two inputs. */
function fusedNormOf(nodes: onnx.INodeProto[], added: onnx.INodeProto[], tensor: string): onnx.INodeProto | undefined {
  const producer = nodes.find((n) => (n.output ?? []).includes(tensor));
  if (producer) return SKIP.has(producer.opType ?? '') && producer.output?.[3] === tensor ? producer : undefined;
  if (!added.some((n) => (n.output ?? []).includes(tensor))) throw new Error(`no node produces ${tensor}`);
  const addedInputs = new Set(added.flatMap((n) => n.input ?? []));
  const found = nodes.filter((n) => SKIP.has(n.opType ?? '') && !n.output?.[3] && addedInputs.has(n.input![0]) && addedInputs.has(n.input![1]));
  if (found.length !== 1) throw new Error(`cannot tell which fused norm computes ${tensor}`);
  return found[0];
}

class Editor {
  private counter = 0;
  constructor(
    readonly graph: onnx.IGraphProto,
    readonly activation: number,
  ) {}

  node(opType: string, input: string[], attribute: onnx.IAttributeProto[] = [], output?: string): string {
    const name = output ?? `/patch_reference/${opType}_${this.counter++}`;
    this.graph.node!.push({ opType, name: `${name}/node`, input, output: [name], attribute });
    return name;
  }

  floats(values: number[], dims: number[]): string {
    const name = `/patch_reference/const_${this.counter++}`;
    this.graph.initializer!.push({ name, dataType: FLOAT, dims, floatData: values });
    return name;
  }

  toFloat(t: string): string {
    return this.node('Cast', [t], [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT }]);
  }

  output(name: string): void {
    this.graph.output!.push({ name, type: { tensorType: { elemType: this.activation } } });
  }

  /** The residual sum a fused norm computes, from its own inputs. */
  sum(skip: onnx.INodeProto, output: string): void {
    const [input, branch, , , bias] = skip.input ?? [];
    if (skip.opType === 'SkipLayerNormalization' && bias) this.node('Add', [this.node('Add', [input, branch]), bias], [], output);
    else this.node('Add', [input, branch], [], output);
  }

  /** The norm half of a fused Skip*LayerNormalization, on `x`, into `output`, in float32 arithmetic. */
  norm(skip: onnx.INodeProto, x: string, output: string): void {
    const [, , gammaName, beta] = skip.input ?? [];
    const gamma = this.graph.initializer!.find((t) => t.name === gammaName);
    if (!gamma) throw new Error(`the norm weight ${gammaName} is not an initializer`);
    const H = Number(gamma.dims![0]);
    const eps = (skip.attribute ?? []).find((a) => a.name === 'epsilon')?.f;
    if (eps === undefined || eps === null) throw new Error('the fused norm has no epsilon');
    const mean = this.floats(Array.from({ length: H }, () => 1 / H), [H, 1]);
    const xf = this.toFloat(x);
    const g = this.toFloat(gammaName);
    let y: string;
    if (skip.opType === 'SkipSimplifiedLayerNormalization') {
      const ms = this.node('MatMul', [this.node('Mul', [xf, xf]), mean]);
      y = this.node('Mul', [this.node('Div', [xf, this.node('Sqrt', [this.node('Add', [ms, this.floats([eps], [1])])])]), g]);
    } else {
      const centred = this.node('Sub', [xf, this.node('MatMul', [xf, mean])]);
      const variance = this.node('MatMul', [this.node('Mul', [centred, centred]), mean]);
      y = this.node('Mul', [this.node('Div', [centred, this.node('Sqrt', [this.node('Add', [variance, this.floats([eps], [1])])])]), g]);
      if (beta) y = this.node('Add', [y, this.toFloat(beta)]);
    }
    this.node('Cast', [y], [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: this.activation }], output);
  }
}

function logitsName(graph: onnx.IGraphProto): string {
  const outputs = (graph.output ?? []).map((o) => o.name ?? '');
  return outputs.find((n) => /logits/.test(n)) ?? outputs[0];
}

/**
 * The model rewritten: every point exposed as an output (`exposeAll`), or one point cut out of
 * the graph and fed as the input of its own name (`cut`).
 */
function rewrite(bytes: Buffer, ref: ReferenceModel, points: ReferencePoint[], cut?: ReferencePoint): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph!;
  graph.node = [...(graph.node ?? [])];
  graph.initializer = [...(graph.initializer ?? [])];
  graph.output = [...(graph.output ?? [])];
  graph.input = [...(graph.input ?? [])];
  const logits = logitsName(graph);
  const activation = graph.output.find((o) => o.name === logits)!.type!.tensorType!.elemType!;
  const e = new Editor(graph, activation);
  const original = [...graph.node];
  if (!cut) {
    for (const p of points) {
      const fused = fusedNormOf(original, ref.added, p.tensor);
      if (fused && !fused.output?.[3]) e.sum(fused, p.tensor);
      e.output(p.tensor);
    }
  } else {
    const skip = fusedNormOf(original, ref.added, cut.tensor);
    if (skip) {
      if ((skip.output ?? []).slice(1, 3).some((o) => o && original.some((n) => (n.input ?? []).includes(o)))) throw new Error('the fused norm\'s mean or inverse deviation is read elsewhere');
      graph.node = graph.node.filter((n) => n !== skip);
      e.sum(skip, ORIG);
      e.norm(skip, cut.tensor, skip.output![0]);
    } else {
      const producer = graph.node.findIndex((n) => (n.output ?? []).includes(cut.tensor));
      if (producer < 0) throw new Error(`no node produces ${cut.tensor}`);
      const n = graph.node[producer];
      graph.node[producer] = { ...n, output: (n.output ?? []).map((o) => (o === cut.tensor ? ORIG : o)) };
    }
    e.output(ORIG);
    graph.input.push({ name: cut.tensor, type: { tensorType: { elemType: activation } } });
  }
  // Added nodes read what earlier nodes produce; ORT sorts the graph itself.
  return onnx.ModelProto.encode(model).finish();
}

type Values = { data: Float32Array | Uint16Array; dims: readonly number[] };

export class PatchReference {
  private readonly dir: string;
  private constructor(
    private readonly ref: ReferenceModel,
    private readonly bytes: Buffer,
  ) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'lp-patch-ref-'));
    // Copied, not linked: ONNX Runtime refuses external data whose real path leaves the model's folder.
    for (const f of ref.externalDataFiles) copyFileSync(path.join(path.dirname(ref.file), f), path.join(this.dir, f));
  }

  static async open(ref: ReferenceModel): Promise<PatchReference> {
    const { readFile } = await import('node:fs/promises');
    return new PatchReference(ref, await readFile(ref.file));
  }

  private async session(bytes: Uint8Array, name: string): Promise<ort.InferenceSession> {
    const file = path.join(this.dir, `${name}.onnx`);
    writeFileSync(file, bytes);
    return ort.InferenceSession.create(file, { logSeverityLevel: 4, graphOptimizationLevel: this.ref.graphOptimizationLevel ?? 'all', intraOpNumThreads: 1 });
  }

  private async run(session: ort.InferenceSession, ids: number[], fetches: string[], extra: Record<string, ort.Tensor> = {}): Promise<ort.InferenceSession.ReturnType> {
    const plan = planFeeds(session.inputMetadata.filter((m) => !(m.name in extra)), this.ref.cache);
    return session.run({ ...buildFeeds(plan, { ids: [ids], length: ids.length, padId: 0 }), ...extra }, fetches);
  }

  /** The last position's logits in float64. */
  private static lastLogits(t: ort.Tensor): Float64Array {
    const V = Number(t.dims[t.dims.length - 1]);
    const start = t.data.length - V;
    const data = t.data as Float32Array | Uint16Array;
    return Float64Array.from({ length: V }, (_, v) => (t.type === 'float16' ? halfToFloat(data[start + v]) : data[start + v]));
  }

  async grid(points: ReferencePoint[], clean: number[], corrupted: number[]): Promise<ReferenceGrid> {
    const n = clean.length;
    if (corrupted.length !== n) throw new Error('the texts differ in length');
    const logits = logitsName(onnx.ModelProto.decode(this.bytes).graph!);
    const exposed = await this.session(rewrite(this.bytes, this.ref, points), 'exposed');
    const values = async (ids: number[]) => {
      const out = await this.run(exposed, ids, [logits, ...points.map((p) => p.tensor)]);
      return { logits: PatchReference.lastLogits(out[logits]), points: points.map((p): Values => ({ data: out[p.tensor].data as Float32Array | Uint16Array, dims: out[p.tensor].dims })) };
    };
    const a = await values(clean);
    const b = await values(corrupted);
    await exposed.release();
    const target = argmax(a.logits);
    let foil = argmax(b.logits);
    const named = foil === target;
    // Both runs predict the same token: the foil is then the token whose logit moves most against
    // the target's between the runs, so the metric's two ends lie well apart.
    if (named) foil = argmax(Float64Array.from(a.logits, (x, v) => (v === target ? -Infinity : Math.abs(a.logits[target] - b.logits[target] - (x - b.logits[v])))));
    const metric = (l: Float64Array) => l[target] - l[foil];
    const mA = metric(a.logits);
    const mB = metric(b.logits);
    const effects: number[][] = [];
    for (const [k, point] of points.entries()) {
      const session = await this.session(rewrite(this.bytes, this.ref, points, point), `cut_${k}`);
      const { data, dims } = b.points[k];
      const perPosition = data.length / n;
      const row: number[] = [];
      for (let p = 0; p < n; p++) {
        const fed = data.slice();
        fed.set(a.points[k].data.subarray(p * perPosition, (p + 1) * perPosition), p * perPosition);
        const tensor = new ort.Tensor(data instanceof Uint16Array ? 'float16' : 'float32', fed, dims);
        const out = await this.run(session, corrupted, [logits], { [point.tensor]: tensor });
        row.push((metric(PatchReference.lastLogits(out[logits])) - mB) / (mA - mB));
      }
      effects.push(row);
      await session.release();
    }
    return { named, target, foil, clean: mA, corrupted: mB, effects };
  }
}
