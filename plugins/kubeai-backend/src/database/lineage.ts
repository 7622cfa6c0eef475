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

/** The nodes one level of the walk starts from (ids are node ids). */
interface Frontier {
  datasets: Set<string>;
  datasetVersions: Map<string, { ref: string; version: string }>;
  runs: Set<string>;
  modelVersions: Map<string, ModelVersionInfo>;
  services: Set<string>;
}

const emptyFrontier = (): Frontier => ({
  datasets: new Set(),
  datasetVersions: new Map(),
  runs: new Set(),
  modelVersions: new Map(),
  services: new Set(),
});

const frontierSize = (f: Frontier) =>
  f.datasets.size +
  f.datasetVersions.size +
  f.runs.size +
  f.modelVersions.size +
  f.services.size;

export const versionId = (ref: string, version: string | number) =>
  `${ref}@${version}`;
export const runNodeId = (id: string) => `run:${id}`;

const EDGE_TYPE_ORDER: Record<LineageEdgeType, number> = {
  deployedTo: 0,
  inputTo: 1,
  produced: 2,
  servedBy: 3,
  versionOf: 4,
};

/**
 * The order of an answer: nodes by id; edges by `from`, then `to` (in node order), then type — so
 * that answers are stable whatever order the database returns rows in. Only the node ids are
 * compared as strings (native `sort()`); edges are sorted by a number made of their nodes' ranks,
 * much cheaper than comparing long `from|to|type` keys, and repeated edges are dropped on the way
 * (an edge carries its first `percent`). Edges to nodes outside the graph are dropped too.
 */
export function orderedGraph(
  roots: string[],
  nodes: Map<string, LineageNode>,
  edges: LineageEdge[],
): LineageGraph {
  const ids = [...nodes.keys()].sort();
  const rank = new Map<string, number>();
  for (let i = 0; i < ids.length; i++) rank.set(ids[i], i);
  const n = ids.length;
  const m = edges.length;
  const keys = new Float64Array(m);
  const kept: number[] = [];
  for (let i = 0; i < m; i++) {
    const from = rank.get(edges[i].from);
    const to = rank.get(edges[i].to);
    if (from === undefined || to === undefined) continue;
    keys[i] = (from * n + to) * 8 + EDGE_TYPE_ORDER[edges[i].type];
    kept.push(i);
  }
  let order: ArrayLike<number>;
  if (n * n * 8 * m < Number.MAX_SAFE_INTEGER) {
    // key · m + index in one exact number: a typed-array sort, no comparator calls
    const packed = new Float64Array(kept.length);
    for (let j = 0; j < kept.length; j++)
      packed[j] = keys[kept[j]] * m + kept[j];
    packed.sort();
    order = packed.map(value => value % m);
  } else {
    order = kept.sort((a, b) => keys[a] - keys[b] || a - b);
  }
  const ordered: LineageEdge[] = [];
  let last = -1;
  for (let j = 0; j < order.length; j++) {
    const i = order[j];
    // the first found of repeated edges
    if (keys[i] !== last) ordered.push(edges[i]);
    last = keys[i];
  }
  return { roots, nodes: ids.map(id => nodes.get(id)!), edges: ordered };
}

/** Collects nodes and edges; adding a version also adds its dataset / model and the `versionOf` edge. */
export class GraphBuilder {
  readonly nodes = new Map<string, LineageNode>();
  /** In the order found, repeats included: {@link orderedGraph} sorts them and drops repeats. */
  readonly edges: LineageEdge[] = [];
  /** Node info loaded so far, shared by both walks and the observed pass. */
  readonly runs = new Map<string, RunInfo>();
  readonly modelVersions = new Map<string, ModelVersionInfo>();
  readonly services = new Map<string, ServiceInfo>();
  /** Run id → its node id. */
  readonly #runNodes = new Map<string, string>();

  /** The node id of a run (the graph's own string when it holds the run). */
  runNode(runId: string): string {
    return this.#runNodes.get(runId) ?? runNodeId(runId);
  }

  edge(from: string, to: string, type: LineageEdgeType, percent?: number) {
    this.edges.push(
      percent === undefined ? { from, to, type } : { from, to, type, percent },
    );
  }

  model(ref: string): string {
    return this.#entity(ref, 'model');
  }

  dataset(ref: string): string {
    return this.#entity(ref, 'dataset');
  }

  /*
   * The node adders return the id string the graph holds, not an equal new one: edges made of
   * those strings are looked up by {@link orderedGraph} with their hash already computed.
   */

  /** A node of a catalog entity (its id is the entity ref). */
  #entity(ref: string, type: 'model' | 'dataset'): string {
    const known = this.nodes.get(ref);
    if (known) return known.id;
    this.nodes.set(ref, { id: ref, type, entityRef: ref, label: nameOf(ref) });
    return ref;
  }

  modelVersion(info: ModelVersionInfo): string {
    const id = versionId(info.model_ref, info.version);
    const known = this.nodes.get(id);
    if (known) return known.id;
    this.modelVersions.set(id, info);
    this.nodes.set(id, {
      id,
      type: 'modelVersion',
      entityRef: info.model_ref,
      version: String(info.version),
      label: `${nameOf(info.model_ref)} v${info.version}`,
      status: info.state,
    });
    this.edge(id, this.model(info.model_ref), 'versionOf');
    return id;
  }

  datasetVersion(ref: string, version: string): string {
    const id = versionId(ref, version);
    const known = this.nodes.get(id);
    if (known) return known.id;
    this.nodes.set(id, {
      id,
      type: 'datasetVersion',
      entityRef: ref,
      version,
      label: `${nameOf(ref)}@${version}`,
    });
    this.edge(id, this.dataset(ref), 'versionOf');
    return id;
  }

  run(info: RunInfo): string {
    const known = this.#runNodes.get(info.id);
    if (known) return known;
    const id = runNodeId(info.id);
    this.runs.set(info.id, info);
    this.#runNodes.set(info.id, id);
    this.nodes.set(id, {
      id,
      type: 'run',
      runId: info.id,
      label: info.name,
      status: info.phase,
    });
    return id;
  }

  service(info: ServiceInfo): string {
    const known = this.services.get(info.ref);
    if (known) return known.ref;
    const ref = info.ref;
    {
      this.services.set(ref, info);
      const node: LineageNode = {
        id: ref,
        type: 'inferenceService',
        entityRef: ref,
        label: nameOf(ref),
      };
      const phase = info.observed?.phase;
      if (typeof phase === 'string' && phase) node.status = phase;
      this.nodes.set(ref, node);
    }
    return ref;
  }

  /** The graph in the order of {@link orderedGraph}. */
  graph(roots: string[]): LineageGraph {
    return orderedGraph(roots, this.nodes, this.edges);
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
    const missing = [...new Set(ids)].filter(id => !this.g.runs.has(id));
    for (const chunk of chunks(missing)) {
      const rows = await readRuns(
        this.db,
        whereInValues(this.db('kubeai_runs'), 'id', chunk),
      );
      for (const row of rows) this.g.run(row);
    }
  }

  async services(refs: Iterable<string>): Promise<void> {
    const missing = [...new Set(refs)].filter(r => !this.g.services.has(r));
    for (const chunk of chunks(missing)) {
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

/** One level downstream: datasets → runs → model versions → services. */
async function stepDownstream(
  db: Knex,
  g: GraphBuilder,
  load: Loader,
  from: Frontier,
): Promise<Frontier> {
  const next = emptyFrontier();

  // dataset(Version) --inputTo--> run
  let inputRows: InputRow[] = [];
  for (const chunk of chunks([...from.datasets])) {
    inputRows = inputRows.concat(
      await readInputs(
        db,
        whereInValues(db('kubeai_run_inputs'), 'dataset_ref', chunk).whereNull(
          'dataset_version',
        ),
      ),
    );
  }
  for (const group of pairChunks(groupPairs(from.datasetVersions.values()))) {
    inputRows = inputRows.concat(
      await readInputs(
        db,
        wherePairs(
          db('kubeai_run_inputs'),
          'dataset_ref',
          'dataset_version',
          group,
        ),
      ),
    );
  }
  await load.runs(inputRows.map(r => r.run_id));
  for (const row of inputRows) {
    const source =
      row.dataset_version === null
        ? g.dataset(row.dataset_ref)
        : g.datasetVersion(row.dataset_ref, row.dataset_version);
    g.edge(source, g.runNode(row.run_id), 'inputTo');
    next.runs.add(row.run_id);
  }

  // run --produced--> modelVersion
  for (const chunk of chunks([...from.runs])) {
    const rows = await readModelVersions(
      db,
      whereInValues(db('kubeai_model_versions'), 'run_id', chunk),
    );
    for (const row of rows) {
      const id = g.modelVersion(row);
      g.edge(g.runNode(row.run_id!), id, 'produced');
      next.modelVersions.set(id, row);
    }
  }

  // modelVersion --deployedTo--> inferenceService
  let traffic: TrafficRow[] = [];
  for (const group of pairChunks(
    groupPairs(
      [...from.modelVersions.values()].map(mv => ({
        ref: mv.model_ref,
        version: mv.version,
      })),
    ),
  )) {
    traffic = traffic.concat(
      await readTraffic(
        db,
        wherePairs(
          db('kubeai_deployment_traffic'),
          'model_ref',
          'version',
          group,
        ),
      ),
    );
  }
  await load.services(traffic.map(t => t.service_ref));
  for (const t of traffic) {
    g.edge(
      versionId(t.model_ref, t.version),
      t.service_ref,
      'deployedTo',
      t.percent,
    );
    next.services.add(t.service_ref);
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
  let traffic: TrafficRow[] = [];
  for (const chunk of chunks([...from.services])) {
    traffic = traffic.concat(
      await readTraffic(
        db,
        whereInValues(db('kubeai_deployment_traffic'), 'service_ref', chunk),
      ),
    );
  }
  await load.modelVersions(
    groupPairs(traffic.map(t => ({ ref: t.model_ref, version: t.version }))),
  );
  for (const t of traffic) {
    const id = versionId(t.model_ref, t.version);
    const info = g.modelVersions.get(id);
    if (!info) continue;
    g.edge(id, t.service_ref, 'deployedTo', t.percent);
    next.modelVersions.set(id, info);
  }

  // modelVersion <--produced-- run
  const producers = [...from.modelVersions].filter(([, mv]) => mv.run_id);
  await load.runs(producers.map(([, mv]) => mv.run_id!));
  for (const [id, mv] of producers) {
    if (!g.runs.has(mv.run_id!)) continue;
    g.edge(g.runNode(mv.run_id!), id, 'produced');
    next.runs.add(mv.run_id!);
  }

  // run <--inputTo-- dataset(Version)
  for (const chunk of chunks([...from.runs])) {
    const rows = await readInputs(
      db,
      whereInValues(db('kubeai_run_inputs'), 'run_id', chunk),
    );
    for (const row of rows) {
      if (row.dataset_version === null) {
        g.edge(g.dataset(row.dataset_ref), g.runNode(row.run_id), 'inputTo');
        next.datasets.add(row.dataset_ref);
      } else {
        const id = g.datasetVersion(row.dataset_ref, row.dataset_version);
        g.edge(id, g.runNode(row.run_id), 'inputTo');
        next.datasetVersions.set(id, {
          ref: row.dataset_ref,
          version: row.dataset_version,
        });
      }
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
      for (const row of rows) {
        frontier.modelVersions.set(g.modelVersion(row), row);
      }
      const roots =
        start.version === undefined
          ? [g.model(ref)]
          : [versionId(ref, start.version)];
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
        frontier.datasetVersions.set(g.datasetVersion(ref, row.version), {
          ref,
          version: row.version,
        });
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
      frontier.datasets.add(g.dataset(ref));
      return { frontier, roots: [ref] };
    }
    case 'inferenceService': {
      const ref = normalizeRef(start.ref);
      await load.services([ref]);
      if (!g.services.has(ref)) return undefined;
      frontier.services.add(ref);
      return { frontier, roots: [ref] };
    }
    case 'run': {
      await load.runs([start.id]);
      if (!g.runs.has(start.id)) return undefined;
      frontier.runs.add(start.id);
      return { frontier, roots: [runNodeId(start.id)] };
    }
    default:
      return undefined;
  }
}

/**
 * Drops from `frontier` (in place) the nodes this walk has visited and marks the rest visited.
 * Run ids (no `kind:` prefix) never equal another node's id, so they are kept as they are.
 */
function keepUnvisited(frontier: Frontier, visited: Set<string>): Frontier {
  const sets = [frontier.datasets, frontier.runs, frontier.services];
  const maps = [frontier.datasetVersions, frontier.modelVersions];
  for (const ids of [...sets, ...maps]) {
    for (const id of ids.keys()) {
      if (visited.has(id)) ids.delete(id);
      else visited.add(id);
    }
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

  const directions: ('upstream' | 'downstream')[] =
    options.direction === 'both'
      ? ['upstream', 'downstream']
      : [options.direction];
  for (const direction of directions) {
    const step = direction === 'upstream' ? stepUpstream : stepDownstream;
    const visited = new Set<string>();
    // nothing visited yet: the start frontier is marked, not changed (each direction reads it)
    let frontier = keepUnvisited(resolved.frontier, visited);
    for (let level = 0; level < options.depth; level++) {
      if (frontierSize(frontier) === 0) break;
      frontier = keepUnvisited(await step(db, g, load, frontier), visited);
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
