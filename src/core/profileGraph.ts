/**
 * The graph the profile analysis runs: probes on every layer, pruned to what profiling reads.
 * It keeps its probe outputs, and the `present.*` outputs when a text's windows continue one
 * another through the KV cache; the LM head, the final norm and unread cache outputs go.
 */
import { instrumentModel, type InstrumentedModel, type KeptOutputs } from './graph/instrument';
import type { Spine } from './graph/spine';
import { readsPastInputs } from './onnx/modelFacts';
import type { OnnxModelFile } from './onnx/modelFile';
import { pairCacheOutputs } from './runtime/feeds';

export interface ProfileGraphOptions {
  raw?: boolean;
  /** false: keep the whole exported graph (tests compare pruned and unpruned values). */
  prune?: boolean;
}

/** What the profile analysis keeps of the original graph's outputs. */
export function profileKeeps(model: OnnxModelFile, opts: ProfileGraphOptions = {}): KeptOutputs {
  // The session carries the cache exactly where the graph reads its past inputs and returns them.
  const carried = readsPastInputs(model) ? pairCacheOutputs(model.inputs.map((i) => i.name), model.outputs.map((o) => o.name)) : undefined;
  return { original: carried ? [...carried.values()] : [], prune: opts.prune };
}

export function instrumentForProfile(model: OnnxModelFile, spine: Spine, opts: ProfileGraphOptions = {}): InstrumentedModel {
  const instrumented = instrumentModel(model, spine, { raw: opts.raw, keep: profileKeeps(model, opts) });
  const { edit } = instrumented;
  if (edit.removedNodes || edit.removedOutputs.length) {
    const outputs = edit.removedOutputs.length ? `the unread outputs ${summarizeNames(edit.removedOutputs)} and ` : '';
    spine.notes.push(`${outputs}${edit.removedNodes} nodes that feed nothing the profile reads (LM head, final norm) are not run${edit.removedInitializers ? `; ${edit.removedInitializers} weights only they read are not loaded` : ''}`);
  }
  return instrumented;
}

function summarizeNames(names: string[]): string {
  return names.length <= 3 ? names.join(', ') : `${names.slice(0, 2).join(', ')} and ${names.length - 2} more`;
}
