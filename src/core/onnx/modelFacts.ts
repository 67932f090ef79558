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

/** A short name for the model's weight precision, in the dtype vocabulary of transformers.js. */
export function describeModelDtype(model: OnnxModelFile): string {
  const ops = new Set((model.graph.node ?? []).map((n) => n.opType ?? ''));
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
