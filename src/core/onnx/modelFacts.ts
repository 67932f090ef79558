/** Facts read off a model's graph when no config states them: embedding size, weight precision. */
import { onnx } from 'onnx-proto';
import { indexGraph } from '../graph/graphIndex';
import type { OnnxModelFile } from './modelFile';

const TYPE = onnx.TensorProto.DataType;

/** Rows (vocabulary) and width (hidden size) of the token embedding table, when it is a plain initializer. */
export function embeddingRows(model: OnnxModelFile): { rows: number; hidden: number } | undefined {
  const g = indexGraph(model.graph);
  const ids = model.inputs.find((i) => /input_ids|ids/i.test(i.name))?.name ?? model.inputs[0]?.name;
  if (!ids) return undefined;
  // Follow the ids through casts and reshapes to the lookup that uses them as indices.
  const seen = new Set<string>();
  const queue = [ids];
  while (queue.length) {
    const t = queue.shift()!;
    if (seen.has(t)) continue;
    seen.add(t);
    for (const c of g.consumers.get(t) ?? []) {
      const n = g.nodes[c];
      const op = n.opType ?? '';
      const table = op === 'Gather' && n.input?.[1] === t ? n.input[0] : op === 'EmbedLayerNormalization' ? n.input?.[2] : undefined;
      const init = table ? model.initializers.get(table) : undefined;
      if (init?.dims?.length === 2) return { rows: Number(init.dims[0]), hidden: Number(init.dims[1]) };
      if (['Cast', 'Reshape', 'Unsqueeze', 'Squeeze', 'Identity', 'Flatten'].includes(op)) queue.push(...(n.output ?? []));
    }
  }
  return undefined;
}

/**
 * Rows of the tables the graph looks positions up in (learned position embeddings, rotary caches):
 * a pass over more positions than the smallest of them fails inside ONNX Runtime. A position table
 * is a 2-D initializer gathered with indices computed from the inputs, but not from the values of
 * the token ids or token types (positions come from position_ids, the mask, or the ids' shape).
 */
export function positionTableRows(model: OnnxModelFile): number | undefined {
  const g = indexGraph(model.graph);
  const ids = model.inputs.find((i) => /input_ids|ids/i.test(i.name))?.name ?? model.inputs[0]?.name;
  const fromInputs = new Set(model.inputs.map((i) => i.name).filter((n) => !g.constants.has(n)));
  const fromIdValues = new Set([...(ids ? [ids] : []), ...model.inputs.map((i) => i.name).filter((n) => /token_type|segment/i.test(n))]);
  const order = [...g.nodes.keys()].sort((a, b) => g.rank[a] - g.rank[b]);
  let rows: number | undefined;
  for (const i of order) {
    const n = g.nodes[i];
    const inputs = (n.input ?? []).filter(Boolean);
    const dynamic = inputs.some((t) => fromInputs.has(t));
    const valueOfIds = !['Shape', 'Size'].includes(n.opType ?? '') && inputs.some((t) => fromIdValues.has(t));
    for (const out of n.output ?? []) {
      if (dynamic) fromInputs.add(out);
      if (valueOfIds) fromIdValues.add(out);
    }
    if (n.opType !== 'Gather') continue;
    const [table, indices] = n.input ?? [];
    const init = table ? model.initializers.get(table) : undefined;
    if (init?.dims?.length !== 2 || Number(init.dims[1]) < 2 || !indices || !fromInputs.has(indices) || fromIdValues.has(indices)) continue;
    rows = Math.min(rows ?? Infinity, Number(init.dims[0]));
  }
  return rows;
}

/** The op types the graph's nodes use. */
function opTypes(model: OnnxModelFile): Set<string> {
  return new Set((model.graph.node ?? []).map((n) => n.opType ?? ''));
}

/** A short name for the model's weight precision, in the dtype vocabulary of transformers.js. */
export function describeModelDtype(model: OnnxModelFile, ops = opTypes(model)): string {
  if (ops.has('MatMulNBits') || ops.has('MatMulBnb4')) return ops.has('MatMulBnb4') ? 'bnb4' : 'q4';
  if (ops.has('MatMulInteger') || ops.has('DynamicQuantizeLinear') || ops.has('DequantizeLinear')) return 'q8';
  let f16 = 0;
  let f32 = 0;
  for (const init of model.initializers.values()) {
    if (init.dataType === TYPE.FLOAT16) f16++;
    else if (init.dataType === TYPE.FLOAT) f32++;
  }
  return f16 > f32 ? 'fp16' : 'fp32';
}

/**
 * How the model stores its MatMul weights, as far as prepacking them is concerned (see
 * runtime/prepack.ts): float (fp32, fp16); int8 with dynamically quantized activations
 * (MatMulInteger after DynamicQuantizeLinear, as Optimum's and transformers.js's `model_quantized`);
 * or another quantized form (QDQ, 4-bit blocks), whose kernels want their packed layout.
 */
export type WeightStorage = 'float' | 'int8-dynamic' | 'quantized';

export function weightStorage(model: OnnxModelFile): WeightStorage {
  const ops = opTypes(model);
  const dtype = describeModelDtype(model, ops);
  if (dtype === 'fp32' || dtype === 'fp16') return 'float';
  // Static int8 (QDQ) quantizes activations with QuantizeLinear, and ORT fuses it into kernels that
  // want packed weights; a lone DequantizeLinear (transformers.js's quantized embedding table, read
  // by Gather and a tied head) does not make a model static.
  const otherQuantized = ['QuantizeLinear', 'QLinearMatMul', 'MatMulNBits', 'MatMulBnb4'].some((op) => ops.has(op));
  return ops.has('MatMulInteger') && !otherQuantized ? 'int8-dynamic' : 'quantized';
}

/** Whether every past key/value input is read by the graph (a lifted merged decoder's no-cache branch reads none). */
export function readsPastInputs(model: OnnxModelFile): boolean {
  const past = model.inputs.filter((i) => /past|cache/i.test(i.name) && !/use_cache_branch/i.test(i.name));
  if (!past.length) return false;
  const read = new Set((model.graph.node ?? []).flatMap((n) => n.input ?? []));
  return past.every((i) => read.has(i.name));
}
