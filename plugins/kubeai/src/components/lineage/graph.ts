import type {
  LineageEdge,
  LineageGraph,
  LineageNode,
  LineageNodeType,
} from '@kubeai/plugin-kubeai-common';

/** Every node type, in the order of the layout's columns (data flows left to right). */
export const NODE_TYPES: LineageNodeType[] = [
  'dataset',
  'datasetVersion',
  'run',
  'modelVersion',
  'model',
  'inferenceService',
];

/** Plural, human titles of the node types. */
export const NODE_TYPE_TITLES: Record<LineageNodeType, string> = {
  dataset: 'Datasets',
  datasetVersion: 'Dataset versions',
  run: 'Runs',
  modelVersion: 'Model versions',
  model: 'Models',
  inferenceService: 'Inference services',
};

/** Singular titles. */
export const NODE_TYPE_TITLE: Record<LineageNodeType, string> = {
  dataset: 'Dataset',
  datasetVersion: 'Dataset version',
  run: 'Run',
  modelVersion: 'Model version',
  model: 'Model',
  inferenceService: 'Inference service',
};

/**
 * An edge in data-flow direction (`from` is upstream): dataset → datasetVersion → run →
 * modelVersion → (model, inferenceService); a periodic task's run → its executions. `versionOf`
 * edges of datasets and `executionOf` edges are turned around so that every edge points
 * downstream.
 */
export interface FlowEdge {
  from: number;
  to: number;
  type: LineageEdge['type'] | 'via';
  percent?: number;
}

/** A graph indexed for layout, filtering and path walks: nodes by index, adjacency lists. */
export interface IndexedGraph {
  nodes: LineageNode[];
  index: Map<string, number>;
  edges: FlowEdge[];
  /** Outgoing (downstream) edge indexes of each node. */
  out: number[][];
  /** Incoming (upstream) edge indexes of each node. */
  in: number[][];
  roots: number[];
}

/** Indexes a lineage graph; edges with unknown endpoints and duplicates are dropped. */
export function indexGraph(graph: LineageGraph): IndexedGraph {
  const nodes: LineageNode[] = [];
  const index = new Map<string, number>();
  for (const node of graph.nodes) {
    if (!index.has(node.id)) {
      index.set(node.id, nodes.length);
      nodes.push(node);
    }
  }
  const edges: FlowEdge[] = [];
  const seen = new Set<string>();
  for (const edge of graph.edges) {
    let from = index.get(edge.from);
    let to = index.get(edge.to);
    if (from === undefined || to === undefined || from === to) continue;
    // datasetVersion --versionOf--> dataset flows the other way round, and so does
    // execution --executionOf--> periodic task's run (the task starts its executions).
    if (
      (edge.type === 'versionOf' && nodes[to].type === 'dataset') ||
      edge.type === 'executionOf'
    ) {
      [from, to] = [to, from];
    }
    const key = `${from}>${to}`;
    if (seen.has(key)) continue;
    seen.add(key);
    edges.push({ from, to, type: edge.type, percent: edge.percent });
  }
  return withAdjacency(
    nodes,
    index,
    edges,
    graph.roots
      .map(r => index.get(r))
      .filter((r): r is number => r !== undefined),
  );
}

function withAdjacency(
  nodes: LineageNode[],
  index: Map<string, number>,
  edges: FlowEdge[],
  roots: number[],
): IndexedGraph {
  const out: number[][] = nodes.map(() => []);
  const inn: number[][] = nodes.map(() => []);
  edges.forEach((e, i) => {
    out[e.from].push(i);
    inn[e.to].push(i);
  });
  return { nodes, index, edges, out, in: inn, roots };
}

/**
 * The graph without the nodes of the hidden types. Paths through hidden nodes are kept as `via`
 * edges, so hiding runs still connects dataset versions to the model versions they produced.
 * O(n + e) per visible node that reaches hidden nodes (each hidden region is walked once per
 * visible node entering it).
 */
export function filterGraph(
  graph: IndexedGraph,
  hidden: ReadonlySet<LineageNodeType>,
): IndexedGraph {
  if (hidden.size === 0) return graph;
  const keep = graph.nodes.map(n => !hidden.has(n.type));
  const nodes: LineageNode[] = [];
  const newIndex = new Map<string, number>();
  const map = new Int32Array(graph.nodes.length).fill(-1);
  graph.nodes.forEach((n, i) => {
    if (keep[i]) {
      map[i] = nodes.length;
      newIndex.set(n.id, nodes.length);
      nodes.push(n);
    }
  });
  const edges: FlowEdge[] = [];
  const seen = new Set<string>();
  const add = (from: number, to: number, e: Omit<FlowEdge, 'from' | 'to'>) => {
    const key = `${from}>${to}`;
    if (from === to || seen.has(key)) return;
    seen.add(key);
    edges.push({ ...e, from, to });
  };
  const visited = new Int32Array(graph.nodes.length).fill(-1);
  for (let v = 0; v < graph.nodes.length; v++) {
    if (!keep[v]) continue;
    const stack: number[] = [];
    for (const ei of graph.out[v]) {
      const e = graph.edges[ei];
      if (keep[e.to]) add(map[v], map[e.to], e);
      else if (visited[e.to] !== v) {
        visited[e.to] = v;
        stack.push(e.to);
      }
    }
    while (stack.length) {
      const h = stack.pop()!;
      for (const ei of graph.out[h]) {
        const t = graph.edges[ei].to;
        if (keep[t]) add(map[v], map[t], { type: 'via' });
        else if (visited[t] !== v) {
          visited[t] = v;
          stack.push(t);
        }
      }
    }
  }
  return withAdjacency(
    nodes,
    newIndex,
    edges,
    graph.roots.filter(r => keep[r]).map(r => map[r]),
  );
}

/**
 * The nodes on a path through `start`: everything upstream of it and everything downstream.
 * A model or dataset node reaches through all its versions. O(n + e).
 */
export function pathThrough(graph: IndexedGraph, start: number): Set<number> {
  const seeds = [start];
  if (graph.nodes[start]?.type === 'model') {
    // A model is the sink of its versions' versionOf edges: start from every version.
    for (const ei of graph.in[start]) {
      if (graph.edges[ei].type === 'versionOf')
        seeds.push(graph.edges[ei].from);
    }
  }
  const result = new Set<number>(seeds);
  const walk = (dir: 'in' | 'out') => {
    const queue = [...seeds];
    const seen = new Set<number>(seeds);
    for (let head = 0; head < queue.length; head++) {
      const v = queue[head];
      for (const ei of graph[dir][v]) {
        const e = graph.edges[ei];
        const w = dir === 'out' ? e.to : e.from;
        if (!seen.has(w)) {
          seen.add(w);
          result.add(w);
          queue.push(w);
        }
      }
    }
  };
  walk('out');
  walk('in');
  return result;
}

/** Counts of nodes per type. */
export function countByType(
  nodes: LineageNode[],
): Record<LineageNodeType, number> {
  const counts = Object.fromEntries(NODE_TYPES.map(t => [t, 0])) as Record<
    LineageNodeType,
    number
  >;
  for (const n of nodes) counts[n.type] = (counts[n.type] ?? 0) + 1;
  return counts;
}
