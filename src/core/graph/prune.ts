/**
 * Pruning an instrumented graph to what an analysis reads. ONNX Runtime runs every node of a
 * graph whether or not its output is fetched, so a profile pass that leaves `logits` unfetched
 * still pays for the LM head (and the final norm, and the `present.*` KV outputs). Each analysis
 * therefore declares the graph outputs it keeps; every other output is dropped from the graph, and
 * with it every node whose outputs reach no kept output, and every initializer only such nodes
 * read. The model is never re-encoded: the node, output and initializer lists are spliced (see
 * spliceNodes.ts), every kept initializer copied byte for byte.
 */
import type { onnx } from 'onnx-proto';
import type { OnnxModelFile } from '../onnx/modelFile';
import { spliceGraph } from '../onnx/spliceNodes';
import { indexGraph } from './graphIndex';

/** What an analysis adds to the graph: nodes, their small constants, the outputs it declares. */
export interface GraphAddition {
  nodes: onnx.INodeProto[];
  initializers: onnx.ITensorProto[];
  outputs: onnx.IValueInfoProto[];
  /** Graph inputs the analysis feeds itself (the logit lens's next-token ids). */
  inputs?: onnx.IValueInfoProto[];
  /**
   * Tensors spliced out of the stream: every node of the original graph that reads a key reads
   * the value instead (a tensor the additions compute, e.g. activation patching's `Where`). The
   * node list is then put in topological order, since original nodes now read added ones.
   */
  rewire?: ReadonlyMap<string, string>;
}

/**
 * The graph an analysis runs: the original graph with its additions, cut down to `keep`. Outputs
 * of the original graph that are not kept are gone from it.
 */
export interface GraphEdit {
  /** Every node of the edited graph, in an order that keeps the original's (then the added ones). */
  nodes: onnx.INodeProto[];
  addedInitializers: onnx.ITensorProto[];
  /** Which outputs of the original graph stay (by index into graph.output). */
  keepOriginalOutput: boolean[];
  addedOutputs: onnx.IValueInfoProto[];
  addedInputs?: onnx.IValueInfoProto[];
  /** Which original initializers stay (by index into graph.initializer); undefined keeps all. */
  keepInitializer?: boolean[];
  /** Counts, for notes and tests. */
  removedNodes: number;
  removedInitializers: number;
  removedOutputs: string[];
}

export class UnknownKeptOutputError extends Error {}

export interface PruneOptions {
  /**
   * false: keep every node and every original output (the graph as exported, plus the additions):
   * what tests compare the pruned graph with.
   */
  prune?: boolean;
  /** Also drop initializers that only removed nodes read (default true; ORT then never loads them). */
  dropInitializers?: boolean;
}

/**
 * The graph `graph` plus `added`, keeping exactly the outputs named in `keep` (each must be an
 * output of the original graph or one of `added.outputs`) and the nodes they depend on.
 */
export function pruneToOutputs(graph: onnx.IGraphProto, added: GraphAddition, keep: Iterable<string>, opts: PruneOptions = {}): GraphEdit {
  const originalOutputs = (graph.output ?? []).map((o) => o.name ?? '');
  const allNodes = added.rewire?.size ? rewired(graph.node ?? [], added.nodes, added.rewire) : [...(graph.node ?? []), ...added.nodes];
  if (opts.prune === false) {
    return { nodes: allNodes, addedInitializers: added.initializers, keepOriginalOutput: originalOutputs.map(() => true), addedOutputs: added.outputs, addedInputs: added.inputs, removedNodes: 0, removedInitializers: 0, removedOutputs: [] };
  }
  const kept = new Set(keep);
  const addedNames = new Set(added.outputs.map((o) => o.name ?? ''));
  const unknown = [...kept].filter((k) => !addedNames.has(k) && !originalOutputs.includes(k));
  if (unknown.length) throw new UnknownKeptOutputError(`Cannot keep ${unknown.join(', ')}: not an output of the graph or of its additions.`);

  const live = liveNodes(allNodes, kept);
  const nodes = allNodes.filter((_, i) => live[i]);
  const read = new Set<string>(kept);
  for (const n of nodes) for (const t of tensorsRead(n)) read.add(t);
  const initializers = graph.initializer ?? [];
  const keepInitializer = opts.dropInitializers === false ? undefined : initializers.map((t) => read.has(t.name ?? ''));
  const keepOriginalOutput = originalOutputs.map((name) => kept.has(name));
  return {
    nodes,
    addedInitializers: added.initializers.filter((t) => read.has(t.name ?? '')),
    keepOriginalOutput,
    addedOutputs: added.outputs.filter((o) => kept.has(o.name ?? '')),
    addedInputs: added.inputs,
    keepInitializer,
    removedNodes: allNodes.length - nodes.length,
    removedInitializers: keepInitializer ? keepInitializer.filter((k) => !k).length : 0,
    removedOutputs: originalOutputs.filter((_, i) => !keepOriginalOutput[i]),
  };
}

/** The original nodes reading each rewired tensor's replacement, with the additions, in topological order. */
function rewired(original: onnx.INodeProto[], added: onnx.INodeProto[], rewire: ReadonlyMap<string, string>): onnx.INodeProto[] {
  const nodes = [...original.map((n) => ((n.input ?? []).some((t) => rewire.has(t)) ? { ...n, input: (n.input ?? []).map((t) => rewire.get(t) ?? t) } : n)), ...added];
  const { rank } = indexGraph({ node: nodes });
  return nodes.map((n, i) => ({ n, r: rank[i] })).sort((x, y) => x.r - y.r).map((x) => x.n);
}

/** Which nodes produce something a kept output depends on: a walk back from the kept outputs. */
export function liveNodes(nodes: onnx.INodeProto[], kept: ReadonlySet<string>): boolean[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const out of n.output ?? []) if (out) producer.set(out, i);
  });
  const live = nodes.map(() => false);
  const stack = [...kept];
  const seen = new Set<string>();
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const p = producer.get(t);
    if (p === undefined || live[p]) continue;
    live[p] = true;
    for (const input of tensorsRead(nodes[p])) stack.push(input);
  }
  return live;
}

/**
 * Tensors a node reads: its inputs and, for nodes with subgraphs (If, Loop, Scan), every name the
 * subgraphs read that they do not produce themselves (outer-scope values, initializers included).
 */
export function tensorsRead(node: onnx.INodeProto): string[] {
  const names = (node.input ?? []).filter(Boolean);
  for (const a of node.attribute ?? []) for (const g of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) names.push(...outerScopeReads(g));
  return names;
}

function outerScopeReads(g: onnx.IGraphProto): string[] {
  const local = new Set<string>([...(g.input ?? []).map((v) => v.name ?? ''), ...(g.initializer ?? []).map((t) => t.name ?? '')]);
  for (const n of g.node ?? []) for (const o of n.output ?? []) local.add(o);
  const reads = new Set<string>();
  for (const n of g.node ?? []) for (const t of tensorsRead(n)) if (!local.has(t)) reads.add(t);
  for (const o of g.output ?? []) if (o.name && !local.has(o.name)) reads.add(o.name);
  return [...reads];
}

/** The edited model as chunks, mostly views into the original bytes (see spliceGraph). */
export function editedModelChunks(model: OnnxModelFile, edit: GraphEdit): Uint8Array[] {
  const keepInit = edit.keepInitializer;
  return spliceGraph(model.bytes, {
    nodes: edit.nodes,
    extraInitializers: edit.addedInitializers,
    outputs: { keep: (i) => edit.keepOriginalOutput[i], add: edit.addedOutputs },
    extraInputs: edit.addedInputs,
    ...(keepInit ? { keepInitializer: (i: number) => keepInit[i], initializerNames: (model.graph.initializer ?? []).map((t) => t.name ?? '') } : {}),
  });
}
