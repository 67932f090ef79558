/**
 * Instrumentation without re-encoding the model: an analysis adds its nodes (probes, a cloned
 * head) and declares the graph outputs it keeps; the graph is pruned to those outputs and its
 * node, output and initializer lists are spliced into the serialized model, every other byte
 * (the possibly gigabyte-sized initializers) copied as it is (see prune.ts, spliceNodes.ts).
 */
import { onnx } from 'onnx-proto';
import type { OnnxModelFile } from '../onnx/modelFile';
import { concatChunks } from '../onnx/spliceNodes';
import { indexGraph } from './graphIndex';
import { buildProbes, type ProbeGraph } from './probes';
import { editedModelChunks, pruneToOutputs, type GraphAddition, type GraphEdit, type PruneOptions } from './prune';
import { findSpine, type Spine } from './spine';

export interface InstrumentedModel {
  spine: Spine;
  probes: ProbeGraph;
  /** The graph ONNX Runtime runs: the original plus the probes, pruned to the kept outputs. */
  edit: GraphEdit;
}

/**
 * What an analysis reads from the graph. Every output an analysis adds is kept; of the original
 * graph's outputs only those named here stay (`present.*` when a session carries the KV cache
 * from window to window). Everything else, with every node that feeds only it, is pruned.
 */
export interface KeptOutputs extends PruneOptions {
  /** Outputs of the original graph the analysis also reads. */
  original?: string[];
}

export function analyzeModel(model: OnnxModelFile, hints: { postNorm?: boolean } = {}): Spine {
  return findSpine(indexGraph(model.graph), hints);
}

/** An analysis's additions to the graph, pruned to what it keeps: the one way every analysis edits a model. */
export function editForAnalysis(model: OnnxModelFile, added: GraphAddition, keep: KeptOutputs = {}): GraphEdit {
  return pruneToOutputs(model.graph, added, [...added.outputs.map((o) => o.name ?? ''), ...(keep.original ?? [])], keep);
}

/** The profile analysis: delta probes on every layer (and raw residuals in raw mode). */
export function instrumentModel(model: OnnxModelFile, spine: Spine, opts: { raw?: boolean; keep?: KeptOutputs } = {}): InstrumentedModel {
  const probes = buildProbes(spine.layers, { opset: model.opset, raw: opts.raw });
  const edit = editForAnalysis(model, { nodes: [...spine.addedNodes, ...probes.nodes], initializers: probes.initializers, outputs: probes.outputs }, opts.keep);
  return { spine, probes, edit };
}

/**
 * The floor a profile pass is measured against: the same graph cut after the last residual point,
 * without probes (it outputs the final residual stream, before the final norm).
 */
export function floorEdit(model: OnnxModelFile, spine: Spine): GraphEdit {
  const last = spine.layers[spine.layers.length - 1].residual;
  const output = `layer_profiler/floor/resid_post`;
  return editForAnalysis(model, {
    nodes: [...spine.addedNodes, { opType: 'Cast', name: output, input: [last], output: [output], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: onnx.TensorProto.DataType.FLOAT }] }],
    initializers: [],
    outputs: [{ name: output, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } }],
  });
}

/** The instrumented model as one buffer (small models, tests); staging writes the chunks instead. */
export function editedModelBytes(model: OnnxModelFile, edit: GraphEdit): Uint8Array {
  return concatChunks(editedModelChunks(model, edit));
}
