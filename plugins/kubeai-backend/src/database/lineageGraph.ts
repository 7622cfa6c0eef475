/**
 * The graph a lineage walk builds (see ./lineage.ts): numbered nodes, edges as pairs of numbers,
 * and the node info loaded so far.
 */
import type {
  LineageEdge,
  LineageEdgeType,
  LineageGraph,
  LineageNode,
} from '@kubeai/plugin-kubeai-common';
import { nameOf } from '../refs';
import type { DeploymentObserved } from './drift';

export interface ModelVersionInfo {
  model_ref: string;
  version: number;
  state: string;
  run_id: string | null;
}

export interface RunInfo {
  id: string;
  name: string;
  phase: string;
  /** The periodic task's run this run is an execution of. */
  parent_run_id: string | null;
  /** Executions of this run (a periodic task's). */
  child_count: number;
}

/** A deployment as the walk loads it; `observed` / `traffic` are for the observed pass. */
export interface ServiceInfo {
  ref: string;
  modelRef: string;
  /** JSON: the declared traffic split. */
  traffic: string;
  /** What the informers observed, null before they did. */
  observed: DeploymentObserved | null;
}

export const versionId = (ref: string, version: string | number) =>
  `${ref}@${version}`;
export const runNodeId = (id: string) => `run:${id}`;

/** Edge types, in the order of edges between the same two nodes. */
const EDGE_TYPES: readonly LineageEdgeType[] = [
  'deployedTo',
  'executionOf',
  'inputTo',
  'produced',
  'servedBy',
  'versionOf',
];
const EDGE_TYPE_CODE = Object.fromEntries(
  EDGE_TYPES.map((type, code) => [type, code]),
) as Record<LineageEdgeType, number>;

/** Bits of {@link GraphBuilder.visits}: the walks that have visited a node. */
export const VISITED_UPSTREAM = 1;
export const VISITED_DOWNSTREAM = 2;

/**
 * Collects nodes and edges; adding a version also adds its dataset / model and the `versionOf`
 * edge. Nodes are numbered in the order added and edges are kept as pairs of those numbers, so
 * that the walk and the final ordering ({@link GraphBuilder.graph}) work on numbers rather than
 * on id strings.
 */
export class GraphBuilder {
  /** Node id → its index in `#nodes`. */
  readonly #index = new Map<string, number>();
  readonly #nodes: LineageNode[] = [];
  /** Per node index: `VISITED_*` bits. */
  readonly visits: number[] = [];
  /** Edges in the order found, repeats included (`graph()` drops them). */
  readonly #from: number[] = [];
  readonly #to: number[] = [];
  readonly #type: number[] = [];
  readonly #percent: (number | undefined)[] = [];
  /** Node info loaded so far, shared by both walks and the observed pass. */
  readonly runs = new Map<string, number>(); // run id → node index
  readonly runInfo = new Map<string, RunInfo>(); // run id → info
  readonly modelVersions = new Map<string, ModelVersionInfo>(); // node id → info
  readonly services = new Map<string, ServiceInfo>(); // entity ref (= node id) → info

  /** The node at `index`. */
  at(index: number): LineageNode {
    return this.#nodes[index];
  }

  get(id: string): LineageNode | undefined {
    const index = this.#index.get(id);
    return index === undefined ? undefined : this.#nodes[index];
  }

  indexOf(id: string): number | undefined {
    return this.#index.get(id);
  }

  /** The nodes in the order added. */
  allNodes(): readonly LineageNode[] {
    return this.#nodes;
  }

  /** Adds `node` unless the graph has a node with its id; the index of the one kept. */
  add(node: LineageNode): number {
    const known = this.#index.get(node.id);
    if (known !== undefined) return known;
    const index = this.#nodes.length;
    this.#nodes.push(node);
    this.#index.set(node.id, index);
    this.visits.push(0);
    return index;
  }

  edge(from: number, to: number, type: LineageEdgeType, percent?: number) {
    this.#from.push(from);
    this.#to.push(to);
    this.#type.push(EDGE_TYPE_CODE[type]);
    this.#percent.push(percent);
  }

  /** An edge between nodes given by id; none when either is not in the graph. */
  link(from: string, to: string, type: LineageEdgeType, percent?: number) {
    const a = this.#index.get(from);
    const b = this.#index.get(to);
    if (a !== undefined && b !== undefined) this.edge(a, b, type, percent);
  }

  /** The node of a loaded run. */
  runNode(runId: string): number | undefined {
    return this.runs.get(runId);
  }

  model(ref: string): number {
    return this.#entity(ref, 'model');
  }

  dataset(ref: string): number {
    return this.#entity(ref, 'dataset');
  }

  /** The node of a catalog entity (its id is the entity ref). */
  #entity(ref: string, type: 'model' | 'dataset'): number {
    const known = this.#index.get(ref);
    if (known !== undefined) return known;
    return this.add({ id: ref, type, entityRef: ref, label: nameOf(ref) });
  }

  modelVersion(info: ModelVersionInfo): number {
    const id = versionId(info.model_ref, info.version);
    const known = this.#index.get(id);
    if (known !== undefined) return known;
    this.modelVersions.set(id, info);
    const index = this.add({
      id,
      type: 'modelVersion',
      entityRef: info.model_ref,
      version: String(info.version),
      label: `${nameOf(info.model_ref)} v${info.version}`,
      status: info.state,
    });
    this.edge(index, this.model(info.model_ref), 'versionOf');
    return index;
  }

  datasetVersion(ref: string, version: string): number {
    const id = versionId(ref, version);
    const known = this.#index.get(id);
    if (known !== undefined) return known;
    const index = this.add({
      id,
      type: 'datasetVersion',
      entityRef: ref,
      version,
      label: `${nameOf(ref)}@${version}`,
    });
    this.edge(index, this.dataset(ref), 'versionOf');
    return index;
  }

  run(info: RunInfo): number {
    const known = this.runs.get(info.id);
    if (known !== undefined) return known;
    const index = this.add({
      id: runNodeId(info.id),
      type: 'run',
      runId: info.id,
      label: info.name,
      status: info.phase,
    });
    this.runs.set(info.id, index);
    this.runInfo.set(info.id, info);
    return index;
  }

  service(info: ServiceInfo): number {
    const known = this.#index.get(info.ref);
    if (known !== undefined && this.services.has(info.ref)) return known;
    this.services.set(info.ref, info);
    const node: LineageNode = {
      id: info.ref,
      type: 'inferenceService',
      entityRef: info.ref,
      label: nameOf(info.ref),
    };
    const phase = info.observed?.phase;
    if (typeof phase === 'string' && phase) node.status = phase;
    return this.add(node);
  }

  /**
   * The answer: nodes by id; edges by `from`, then `to` (in node order), then type — stable
   * whatever order the database returned rows in. Repeated edges are dropped (an edge carries
   * the `percent` it was first found with).
   */
  graph(roots: string[]): LineageGraph {
    const nodes = this.#nodes;
    const n = nodes.length;
    // only the ids are compared as strings (native sort); edges get a number from their ranks
    const ids = [...this.#index.keys()].sort();
    const rank = new Int32Array(n);
    const ordered = new Array<LineageNode>(n);
    for (let r = 0; r < n; r++) {
      const index = this.#index.get(ids[r])!;
      rank[index] = r;
      ordered[r] = nodes[index];
    }
    const from = this.#from;
    const to = this.#to;
    const m = from.length;
    const types = EDGE_TYPES.length;
    const keys = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      keys[i] = (rank[from[i]] * n + rank[to[i]]) * types + this.#type[i];
    }
    let order: ArrayLike<number>;
    if (n * n * types * m < Number.MAX_SAFE_INTEGER) {
      // key · m + index in one exact number: a typed-array sort, no comparator calls
      const packed = new Float64Array(m);
      for (let i = 0; i < m; i++) packed[i] = keys[i] * m + i;
      packed.sort();
      for (let j = 0; j < m; j++) packed[j] %= m;
      order = packed;
    } else {
      order = Array.from(keys.keys()).sort(
        (a, b) => keys[a] - keys[b] || a - b,
      );
    }
    const edges: LineageEdge[] = [];
    let last = -1;
    for (let j = 0; j < m; j++) {
      const i = order[j];
      if (keys[i] === last) continue; // the first found of repeated edges
      last = keys[i];
      const edge: LineageEdge = {
        from: nodes[from[i]].id,
        to: nodes[to[i]].id,
        type: EDGE_TYPES[this.#type[i]],
      };
      if (this.#percent[i] !== undefined) edge.percent = this.#percent[i];
      edges.push(edge);
    }
    return { roots, nodes: ordered, edges };
  }
}
