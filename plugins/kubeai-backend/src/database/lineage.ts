import type {
  LineageEdge,
  LineageEdgeType,
  LineageGraph,
  LineageNode,
} from '@kubeai/plugin-kubeai-common';
import { Knex } from 'knex';
import { nameOf, normalizeRef } from '../refs';
import type { DeploymentObserved } from '../informers/drift';
import {
  chunks,
  fromJson,
  selectColumns,
  whereInValues,
  wherePairs,
} from './util';

/*
 * The lineage walk. Data flows
 *
 *   dataset(Version) --inputTo--> run --produced--> modelVersion --deployedTo--> inferenceService
 *
 * and `versionOf` edges tie versions to their dataset / model (they cost no depth). The walk is a
 * breadth-first search over *sets*: each level costs a handful of queries whatever the number of
 * nodes in the frontier (`… where run_id in (…)`, `… where model_ref = ? and version in (…)`), not
 * one query per node. `both` is the union of an upstream and a downstream walk from the start.
 *
 * Everything lands in one `GraphBuilder`, which the observed-state pass (informers/observedLineage)
 * then decorates in place: the graph is built, and sorted, once.
 */

/** Where a lineage walk starts. Refs are lower-cased here. */
export type LineageStart =
  | { type: 'model'; ref: string; version?: number }
  | { type: 'dataset'; ref: string; version?: string }
  | { type: 'inferenceService'; ref: string }
  | { type: 'run'; id: string };

export interface LineageOptions {
  direction: 'upstream' | 'downstream' | 'both';
  depth: number;
}

export interface ModelVersionInfo {
  model_ref: string;
  version: number;
  state: string;
  run_id: string | null;
}

interface RunInfo {
  id: string;
  name: string;
  phase: string;
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

/**
 * The nodes one level of the walk starts from, as node indices of the {@link GraphBuilder}
 * (repeats allowed: {@link keepUnvisited} drops them).
 */
interface Frontier {
  datasets: number[];
  datasetVersions: number[];
  runs: number[];
  modelVersions: number[];
  services: number[];
}

const emptyFrontier = (): Frontier => ({
  datasets: [],
  datasetVersions: [],
  runs: [],
  modelVersions: [],
  services: [],
});

const frontierSize = (f: Frontier) =>
  f.datasets.length +
  f.datasetVersions.length +
  f.runs.length +
  f.modelVersions.length +
  f.services.length;

export const versionId = (ref: string, version: string | number) =>
  `${ref}@${version}`;
export const runNodeId = (id: string) => `run:${id}`;

/** Edge types, in the order of edges between the same two nodes. */
const EDGE_TYPES: readonly LineageEdgeType[] = [
  'deployedTo',
  'inputTo',
  'produced',
  'servedBy',
  'versionOf',
];
const EDGE_TYPE_CODE = Object.fromEntries(
  EDGE_TYPES.map((type, code) => [type, code]),
) as Record<LineageEdgeType, number>;

/** Bits of {@link GraphBuilder.visits}: the walks that have visited a node. */
const VISITED_UPSTREAM = 1;
const VISITED_DOWNSTREAM = 2;

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

/*
 * The walk's queries, read column by column (see `selectColumns`): the frontiers of a hot model
 * are thousands of rows, and row objects were the walk's largest cost on SQLite.
 */
type Columns<C extends string> = Record<C, unknown[]>;

function reader<C extends string, R>(
  columns: readonly C[],
  toRow: (values: Columns<C>, i: number) => R,
): (db: Knex, query: Knex.QueryBuilder) => Promise<R[]> {
  return async (db, query) => {
    const { rows, values } = await selectColumns(
      db,
      query.select(columns),
      columns,
    );
    const out = new Array<R>(rows);
    for (let i = 0; i < rows; i++) out[i] = toRow(values, i);
    return out;
  };
}

const text = (values: unknown[], i: number) => values[i] as string;
const textOrNull = (values: unknown[], i: number) => values[i] as string | null;

const readModelVersions = reader(
  ['model_ref', 'version', 'state', 'run_id'] as const,
  (c, i): ModelVersionInfo => ({
    model_ref: text(c.model_ref, i),
    version: Number(c.version[i]),
    state: text(c.state, i),
    run_id: textOrNull(c.run_id, i),
  }),
);

const readRuns = reader(
  ['id', 'name', 'phase'] as const,
  (c, i): RunInfo => ({
    id: text(c.id, i),
    name: text(c.name, i),
    phase: text(c.phase, i),
  }),
);

const readInputs = reader(
  ['run_id', 'dataset_ref', 'dataset_version'] as const,
  (c, i): InputRow => ({
    run_id: text(c.run_id, i),
    dataset_ref: text(c.dataset_ref, i),
    dataset_version: textOrNull(c.dataset_version, i),
  }),
);

const readTraffic = reader(
  ['service_ref', 'model_ref', 'version', 'percent'] as const,
  (c, i): TrafficRow => ({
    service_ref: text(c.service_ref, i),
    model_ref: text(c.model_ref, i),
    version: Number(c.version[i]),
    percent: Number(c.percent[i]),
  }),
);

const readServices = reader(
  ['service_ref', 'model_ref', 'traffic', 'observed'] as const,
  (c, i): ServiceInfo => ({
    ref: text(c.service_ref, i),
    modelRef: text(c.model_ref, i),
    traffic: text(c.traffic, i),
    observed: fromJson<DeploymentObserved | null>(
      textOrNull(c.observed, i),
      null,
    ),
  }),
);

/** Loads what the graph does not know yet about runs / services / model versions. */
export class Loader {
  constructor(private readonly db: Knex, private readonly g: GraphBuilder) {}

  async runs(ids: Iterable<string>): Promise<void> {
    const missing = new Set<string>();
    for (const id of ids) if (!this.g.runs.has(id)) missing.add(id);
    for (const chunk of chunks([...missing])) {
      const rows = await readRuns(
        this.db,
        whereInValues(this.db('kubeai_runs'), 'id', chunk),
      );
      for (const row of rows) this.g.run(row);
    }
  }

  async services(refs: Iterable<string>): Promise<void> {
    const missing = new Set<string>();
    for (const ref of refs) if (!this.g.services.has(ref)) missing.add(ref);
    for (const chunk of chunks([...missing])) {
      const rows = await readServices(
        this.db,
        whereInValues(this.db('kubeai_deployments'), 'service_ref', chunk),
      );
      for (const row of rows) this.g.service(row);
    }
  }

  async modelVersions(keys: Map<string, number[]>): Promise<void> {
    const pending = new Map<string, number[]>();
    for (const [ref, versions] of keys) {
      const missing = versions.filter(
        v => !this.g.modelVersions.has(versionId(ref, v)),
      );
      if (missing.length) pending.set(ref, missing);
    }
    for (const group of pairChunks(pending)) {
      const rows = await readModelVersions(
        this.db,
        wherePairs(
          this.db('kubeai_model_versions'),
          'model_ref',
          'version',
          group,
        ),
      );
      for (const row of rows) this.g.modelVersion(row);
    }
  }
}

/** Splits (ref → versions) so that no query has more than `size` versions. */
function pairChunks<V>(
  pairs: Map<string, V[]>,
  size = 5000,
): Map<string, V[]>[] {
  const out: Map<string, V[]>[] = [];
  let current = new Map<string, V[]>();
  let count = 0;
  for (const [ref, values] of pairs) {
    for (const chunk of chunks(values, size)) {
      if (count + chunk.length > size && count > 0) {
        out.push(current);
        current = new Map();
        count = 0;
      }
      current.set(ref, [...(current.get(ref) ?? []), ...chunk]);
      count += chunk.length;
    }
  }
  if (count > 0) out.push(current);
  return out;
}

export function groupPairs<V>(
  items: Iterable<{ ref: string; version: V }>,
): Map<string, V[]> {
  const out = new Map<string, V[]>();
  for (const { ref, version } of items) {
    const list = out.get(ref);
    if (list) list.push(version);
    else out.set(ref, [version]);
  }
  return out;
}

interface InputRow {
  run_id: string;
  dataset_ref: string;
  dataset_version: string | null;
}

interface TrafficRow {
  service_ref: string;
  model_ref: string;
  version: number;
  percent: number;
}

/** The rows of `read` over `values` in chunks (below every database's bind-parameter limit). */
async function readChunked<T, R>(
  values: T[],
  read: (chunk: T[]) => Promise<R[]>,
): Promise<R[]> {
  if (values.length === 0) return [];
  const parts = [];
  for (const chunk of chunks(values)) parts.push(await read(chunk));
  return parts.length === 1 ? parts[0] : parts.flat();
}

/** The versions of the version nodes `indices` (model or dataset), grouped by entity ref. */
function versionsByRef<V>(
  g: GraphBuilder,
  indices: number[],
  toVersion: (version: string) => V,
): Map<string, V[]> {
  const pairs = new Map<string, V[]>();
  for (const index of indices) {
    const node = g.at(index);
    const version = toVersion(node.version!);
    const list = pairs.get(node.entityRef!);
    if (list) list.push(version);
    else pairs.set(node.entityRef!, [version]);
  }
  return pairs;
}

/** One level downstream: datasets → runs → model versions → services. */
async function stepDownstream(
  db: Knex,
  g: GraphBuilder,
  load: Loader,
  from: Frontier,
): Promise<Frontier> {
  const next = emptyFrontier();

  // dataset(Version) --inputTo--> run
  const inputRows = await readChunked(
    from.datasets.map(i => g.at(i).entityRef!),
    chunk =>
      readInputs(
        db,
        whereInValues(db('kubeai_run_inputs'), 'dataset_ref', chunk).whereNull(
          'dataset_version',
        ),
      ),
  );
  for (const group of pairChunks(
    versionsByRef(g, from.datasetVersions, String),
  )) {
    const rows = await readInputs(
      db,
      wherePairs(
        db('kubeai_run_inputs'),
        'dataset_ref',
        'dataset_version',
        group,
      ),
    );
    for (const row of rows) inputRows.push(row);
  }
  await load.runs(inputRows.map(r => r.run_id));
  for (const row of inputRows) {
    const run = g.runNode(row.run_id);
    if (run === undefined) continue;
    const source =
      row.dataset_version === null
        ? g.dataset(row.dataset_ref)
        : g.datasetVersion(row.dataset_ref, row.dataset_version);
    g.edge(source, run, 'inputTo');
    next.runs.push(run);
  }

  // run --produced--> modelVersion
  const produced = await readChunked(
    from.runs.map(i => g.at(i).runId!),
    chunk =>
      readModelVersions(
        db,
        whereInValues(db('kubeai_model_versions'), 'run_id', chunk),
      ),
  );
  for (const row of produced) {
    const version = g.modelVersion(row);
    g.edge(g.runNode(row.run_id!)!, version, 'produced');
    next.modelVersions.push(version);
  }

  // modelVersion --deployedTo--> inferenceService
  const traffic: TrafficRow[] = [];
  for (const group of pairChunks(
    versionsByRef(g, from.modelVersions, Number),
  )) {
    const rows = await readTraffic(
      db,
      wherePairs(
        db('kubeai_deployment_traffic'),
        'model_ref',
        'version',
        group,
      ),
    );
    for (const row of rows) traffic.push(row);
  }
  await load.services(traffic.map(t => t.service_ref));
  for (const t of traffic) {
    const service = g.indexOf(t.service_ref);
    const version = g.indexOf(versionId(t.model_ref, t.version));
    if (service === undefined || version === undefined) continue;
    g.edge(version, service, 'deployedTo', t.percent);
    next.services.push(service);
  }
  return next;
}

/** One level upstream: services → model versions → runs → datasets. */
async function stepUpstream(
  db: Knex,
  g: GraphBuilder,
  load: Loader,
  from: Frontier,
): Promise<Frontier> {
  const next = emptyFrontier();

  // inferenceService <--deployedTo-- modelVersion
  const traffic = await readChunked(
    from.services.map(i => g.at(i).id),
    chunk =>
      readTraffic(
        db,
        whereInValues(db('kubeai_deployment_traffic'), 'service_ref', chunk),
      ),
  );
  await load.modelVersions(
    groupPairs(traffic.map(t => ({ ref: t.model_ref, version: t.version }))),
  );
  for (const t of traffic) {
    const version = g.indexOf(versionId(t.model_ref, t.version));
    const service = g.indexOf(t.service_ref);
    if (version === undefined || service === undefined) continue;
    g.edge(version, service, 'deployedTo', t.percent);
    next.modelVersions.push(version);
  }

  // modelVersion <--produced-- run
  const producers: { version: number; runId: string }[] = [];
  for (const version of from.modelVersions) {
    const runId = g.modelVersions.get(g.at(version).id)?.run_id;
    if (runId) producers.push({ version, runId });
  }
  await load.runs(producers.map(p => p.runId));
  for (const { version, runId } of producers) {
    const run = g.runNode(runId);
    if (run === undefined) continue;
    g.edge(run, version, 'produced');
    next.runs.push(run);
  }

  // run <--inputTo-- dataset(Version)
  const inputs = await readChunked(
    from.runs.map(i => g.at(i).runId!),
    chunk =>
      readInputs(db, whereInValues(db('kubeai_run_inputs'), 'run_id', chunk)),
  );
  for (const row of inputs) {
    const run = g.runNode(row.run_id)!;
    if (row.dataset_version === null) {
      const dataset = g.dataset(row.dataset_ref);
      g.edge(dataset, run, 'inputTo');
      next.datasets.push(dataset);
    } else {
      const version = g.datasetVersion(row.dataset_ref, row.dataset_version);
      g.edge(version, run, 'inputTo');
      next.datasetVersions.push(version);
    }
  }
  return next;
}

/** Resolves the start; undefined when the registry has nothing about it. */
async function startFrontier(
  db: Knex,
  g: GraphBuilder,
  load: Loader,
  start: LineageStart,
): Promise<{ frontier: Frontier; roots: string[] } | undefined> {
  const frontier = emptyFrontier();
  switch (start.type) {
    case 'model': {
      const ref = normalizeRef(start.ref);
      const query = db('kubeai_model_versions').where({ model_ref: ref });
      if (start.version !== undefined) query.where({ version: start.version });
      const rows = await readModelVersions(db, query);
      if (rows.length === 0) return undefined;
      for (const row of rows) frontier.modelVersions.push(g.modelVersion(row));
      const roots =
        start.version === undefined ? [ref] : [versionId(ref, start.version)];
      return { frontier, roots };
    }
    case 'dataset': {
      const ref = normalizeRef(start.ref);
      const query = db('kubeai_dataset_versions')
        .where({ dataset_ref: ref })
        .select('version');
      if (start.version !== undefined) query.where({ version: start.version });
      const rows: { version: string }[] = await query;
      for (const row of rows) {
        frontier.datasetVersions.push(g.datasetVersion(ref, row.version));
      }
      if (start.version !== undefined) {
        return rows.length
          ? { frontier, roots: [versionId(ref, start.version)] }
          : undefined;
      }
      const unversioned = await db('kubeai_run_inputs')
        .where({ dataset_ref: ref })
        .whereNull('dataset_version')
        .first('id');
      if (rows.length === 0 && !unversioned) return undefined;
      frontier.datasets.push(g.dataset(ref));
      return { frontier, roots: [ref] };
    }
    case 'inferenceService': {
      const ref = normalizeRef(start.ref);
      await load.services([ref]);
      if (!g.services.has(ref)) return undefined;
      frontier.services.push(g.indexOf(ref)!);
      return { frontier, roots: [ref] };
    }
    case 'run': {
      await load.runs([start.id]);
      const run = g.runNode(start.id);
      if (run === undefined) return undefined;
      frontier.runs.push(run);
      return { frontier, roots: [runNodeId(start.id)] };
    }
    default:
      return undefined;
  }
}

/**
 * Drops from `frontier` (in place) the nodes the walk of direction `visited` (a `VISITED_*` bit)
 * has visited, repeats included, and marks the rest visited.
 */
function keepUnvisited(
  g: GraphBuilder,
  frontier: Frontier,
  visited: number,
): Frontier {
  const visits = g.visits;
  for (const list of Object.values(frontier) as number[][]) {
    let kept = 0;
    for (const index of list) {
      if (visits[index] & visited) continue;
      visits[index] |= visited;
      list[kept++] = index;
    }
    list.length = kept;
  }
  return frontier;
}

/**
 * Walks the lineage graph from `start` into `g`. Returns the roots, or undefined when the registry
 * has nothing about the start.
 */
export async function walkInto(
  db: Knex,
  g: GraphBuilder,
  start: LineageStart,
  options: LineageOptions,
): Promise<string[] | undefined> {
  const load = new Loader(db, g);
  const resolved = await startFrontier(db, g, load, start);
  if (!resolved) return undefined;

  const walks = [
    { direction: 'upstream', step: stepUpstream, bit: VISITED_UPSTREAM },
    { direction: 'downstream', step: stepDownstream, bit: VISITED_DOWNSTREAM },
  ].filter(
    walk =>
      options.direction === 'both' || options.direction === walk.direction,
  );
  for (const { step, bit } of walks) {
    // the start has no repeats: marking it leaves it whole for the other direction
    let frontier = keepUnvisited(g, resolved.frontier, bit);
    for (let level = 0; level < options.depth; level++) {
      if (frontierSize(frontier) === 0) break;
      frontier = keepUnvisited(g, await step(db, g, load, frontier), bit);
    }
  }
  return resolved.roots;
}

/**
 * The registry's lineage graph around `start` (no observed state). Undefined when the registry has
 * nothing about the start (the caller decides between 404 and a lone catalog node).
 */
export async function walkLineage(
  db: Knex,
  start: LineageStart,
  options: LineageOptions,
): Promise<LineageGraph | undefined> {
  const g = new GraphBuilder();
  const roots = await walkInto(db, g, start, options);
  return roots && g.graph(roots);
}
