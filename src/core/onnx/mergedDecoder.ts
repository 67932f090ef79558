/**
 * Optimum's merged decoders wrap the whole network in an `If` on `use_cache_branch`, with the
 * decoder in both branches. ONNX Runtime returns only top-level outputs, so the no-cache branch is
 * lifted into the main graph (the profiler always feeds an empty cache): its nodes replace the
 * `If`, Identity nodes give the branch outputs the If's output names, and the initializers the
 * branches share stay where they are, untouched.
 */
import type { onnx } from 'onnx-proto';
import { parseOnnxModel, type OnnxModelFile } from './modelFile';
import { replaceGraphNodes } from './spliceNodes';

export interface LiftedDecoder {
  model: OnnxModelFile;
  note: string;
}

export function liftMergedDecoder(model: OnnxModelFile): LiftedDecoder | undefined {
  const nodes = model.graph.node ?? [];
  const cacheInput = model.inputs.find((i) => /use_cache_branch/i.test(i.name))?.name;
  const ifNode = nodes.find((n) => n.opType === 'If' && cacheInput !== undefined && n.input?.[0] === cacheInput);
  if (!ifNode) return undefined;
  // use_cache_branch = false selects else_branch: the pass without past key/values.
  const branch = ifNode.attribute?.find((a) => a.name === 'else_branch')?.g;
  if (!branch?.node?.length) return undefined;
  const outputs = ifNode.output ?? [];
  const branchOutputs = branch.output ?? [];
  const renames: onnx.INodeProto[] = outputs.map((name, i) => ({ opType: 'Identity', name: `layer_profiler/lifted/${name}`, input: [branchOutputs[i].name ?? ''], output: [name] }));
  const lifted = [...nodes.filter((n) => n !== ifNode), ...branch.node, ...renames];
  const bytes = replaceGraphNodes(model.bytes, lifted, branch.initializer ?? []);
  // Keep the identity of the file on disk (results name the file the user has).
  const reparsed = parseOnnxModel(model.path, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { sha256: model.sha256, fileBytes: model.fileBytes });
  return { model: reparsed, note: `lifted the no-cache branch of the merged decoder's If (${ifNode.name || 'unnamed'}) into the main graph` };
}
