/**
 * Producer/consumer look-ups and a topological order over a decoded ONNX graph, the base of every
 * structural question the spine finder asks.
 */
import type { onnx } from 'onnx-proto';

export interface GraphIndex {
  nodes: onnx.INodeProto[];
  /** Topological position of each node (index into `nodes` → rank). */
  rank: Int32Array;
  producer: Map<string, number>;
  consumers: Map<string, number[]>;
  /** Tensors that are constant: initializers and Constant-node outputs. */
  constants: Set<string>;
  graphInputs: Set<string>;
  graphOutputs: Set<string>;
}

export function indexGraph(graph: onnx.IGraphProto): GraphIndex {
  const nodes = graph.node ?? [];
  const producer = new Map<string, number>();
  const consumers = new Map<string, number[]>();
  const constants = new Set<string>((graph.initializer ?? []).map((t) => t.name ?? ''));
  nodes.forEach((node, i) => {
    for (const out of node.output ?? []) if (out) producer.set(out, i);
    if (node.opType === 'Constant' && node.output?.[0]) constants.add(node.output[0]);
    for (const input of node.input ?? []) {
      if (!input) continue;
      const list = consumers.get(input);
      if (list) {
        if (list[list.length - 1] !== i) list.push(i);
      } else consumers.set(input, [i]);
    }
  });
  return {
    nodes,
    rank: topologicalRank(nodes, producer),
    producer,
    consumers,
    constants,
    graphInputs: new Set((graph.input ?? []).map((v) => v.name ?? '')),
    graphOutputs: new Set((graph.output ?? []).map((v) => v.name ?? '')),
  };
}

/** Kahn's algorithm; exporters usually emit nodes in order, but the format does not promise it to us. */
function topologicalRank(nodes: onnx.INodeProto[], producer: Map<string, number>): Int32Array {
  const indegree = new Int32Array(nodes.length);
  const dependents: number[][] = nodes.map(() => []);
  nodes.forEach((node, i) => {
    const deps = new Set<number>();
    for (const input of node.input ?? []) {
      const p = input ? producer.get(input) : undefined;
      if (p !== undefined && p !== i) deps.add(p);
    }
    indegree[i] = deps.size;
    for (const d of deps) dependents[d].push(i);
  });
  const rank = new Int32Array(nodes.length).fill(-1);
  const queue: number[] = [];
  indegree.forEach((d, i) => d === 0 && queue.push(i));
  let next = 0;
  for (let head = 0; head < queue.length; head++) {
    const i = queue[head];
    rank[i] = next++;
    for (const d of dependents[i]) if (--indegree[d] === 0) queue.push(d);
  }
  // Nodes on a cycle (invalid graphs) keep file order after everything else.
  rank.forEach((r, i) => {
    if (r < 0) rank[i] = next++;
  });
  return rank;
}

export function producerOf(g: GraphIndex, tensor: string): onnx.INodeProto | undefined {
  const i = g.producer.get(tensor);
  return i === undefined ? undefined : g.nodes[i];
}

export function consumersOf(g: GraphIndex, tensor: string): number[] {
  return g.consumers.get(tensor) ?? [];
}
