/**
 * Instrumentation without re-encoding the model: protobuf merges a repeated occurrence of a
 * message field into the first, so appending a serialized `ModelProto { graph: patch }` to the
 * original bytes adds the patch's nodes, initializers and outputs to the graph. The (possibly
 * gigabyte-sized) original is never decoded-and-re-encoded.
 */
import { onnx } from 'onnx-proto';
import type { OnnxModelFile } from '../onnx/modelFile';
import { indexGraph } from './graphIndex';
import { buildProbes, type ProbeGraph } from './probes';
import { findSpine, type Spine } from './spine';

export interface InstrumentedModel {
  spine: Spine;
  probes: ProbeGraph;
  /** Serialized `ModelProto { graph: patch }`, to follow the original bytes. */
  patch: Uint8Array;
}

export function analyzeModel(model: OnnxModelFile, hints: { postNorm?: boolean } = {}): Spine {
  return findSpine(indexGraph(model.graph), hints);
}

export function instrumentModel(model: OnnxModelFile, spine: Spine, opts: { raw?: boolean } = {}): InstrumentedModel {
  const probes = buildProbes(spine.layers, { opset: model.opset, raw: opts.raw });
  const patch = onnx.ModelProto.encode({
    graph: {
      node: [...spine.addedNodes, ...probes.nodes],
      initializer: probes.initializers,
      output: probes.outputs,
    },
  }).finish();
  return { spine, probes, patch };
}

/** The instrumented model as one buffer: the original bytes followed by the patch. */
export function instrumentedBytes(model: OnnxModelFile, instrumented: InstrumentedModel): Uint8Array {
  const bytes = new Uint8Array(model.bytes.length + instrumented.patch.length);
  bytes.set(model.bytes, 0);
  bytes.set(instrumented.patch, model.bytes.length);
  return bytes;
}
