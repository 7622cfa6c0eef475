import type { LineageGraph, LineageNode } from '@kubeai/plugin-kubeai-common';
import { Knex } from 'knex';
import { normalizeRef } from '../refs';
import type { DeploymentObserved } from './drift';
import {
  GraphBuilder,
  runNodeId,
  versionId,
  VISITED_DOWNSTREAM,
  VISITED_UPSTREAM,
  type ModelVersionInfo,
  type RunInfo,
  type ServiceInfo,
} from './lineageGraph';
import { summarizeExecutions } from './lineageExecutions';
import { chunks, fromJson, selectColumns } from './util';
import { whereInValues, wherePairs } from './lineageSql';

export {
  GraphBuilder,
  runNodeId,
  versionId,
  type ModelVersionInfo,
  type ServiceInfo,
} from './lineageGraph';

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
 * Everything lands in one `GraphBuilder`, which the observed-state pass (observed/lineage.ts)
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
  ['id', 'name', 'phase', 'parent_run_id', 'child_count'] as const,
  (c, i): RunInfo => ({
    id: text(c.id, i),
    name: text(c.name, i),
    phase: text(c.phase, i),
    parent_run_id: textOrNull(c.parent_run_id, i),
    child_count: Number(c.child_count[i]),
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

  // run --produced--> modelVersion; a periodic task's executions produce for it (no depth)
  const produced = await readChunked(
    from.runs.map(i => g.at(i).runId!),
    chunk =>
      readModelVersions(
        db,
        whereInValues(db('kubeai_model_versions'), 'run_id', chunk),
      ),
  );
  for (const row of await producedByExecutions(db, g, load, from.runs)) {
    produced.push(row);
  }
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

  // execution --executionOf--> periodic task's run: no depth, the task's inputs are read too
  next.runs.push(...(await withParents(g, load, next.runs)));

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

/**
 * The periodic tasks' runs of the executions among `runs` (loaded, with their `executionOf`
 * edges): a child run's lineage goes through the task that started it.
 */
async function withParents(
  g: GraphBuilder,
  load: Loader,
  runs: number[],
): Promise<number[]> {
  const pairs: { child: number; parent: string }[] = [];
  for (const run of runs) {
    const parent = g.runInfo.get(g.at(run).runId!)?.parent_run_id;
    if (parent) pairs.push({ child: run, parent });
  }
  if (pairs.length === 0) return [];
  await load.runs(pairs.map(p => p.parent));
  const parents: number[] = [];
  for (const { child, parent } of pairs) {
    const node = g.runNode(parent);
    if (node === undefined) continue;
    g.edge(child, node, 'executionOf');
    parents.push(node);
  }
  return parents;
}

/**
 * The model versions the executions of the periodic tasks among `runs` produced, in one query
 * per chunk of tasks (executions by their parent, from the parent index): the executions are loaded as nodes of
 * their own (with their `executionOf` edge) only when they produced a version.
 */
async function producedByExecutions(
  db: Knex,
  g: GraphBuilder,
  load: Loader,
  runs: number[],
): Promise<ModelVersionInfo[]> {
  const parents: string[] = [];
  for (const run of runs) {
    const id = g.at(run).runId!;
    if ((g.runInfo.get(id)?.child_count ?? 0) > 0) parents.push(id);
  }
  const rows = await readChunked(parents, chunk =>
    readModelVersions(
      db,
      db('kubeai_model_versions').whereIn(
        'run_id',
        whereInValues(db('kubeai_runs').select('id'), 'parent_run_id', chunk),
      ),
    ),
  );
  await load.runs(rows.map(r => r.run_id!));
  for (const row of rows) {
    const child = g.runNode(row.run_id!);
    const parent = g.runInfo.get(row.run_id!)?.parent_run_id;
    const parentNode = parent ? g.runNode(parent) : undefined;
    if (child !== undefined && parentNode !== undefined) {
      g.edge(child, parentNode, 'executionOf');
    }
  }
  return rows;
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
      frontier.runs.push(run, ...(await withParents(g, load, [run])));
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
  // The two directions at once: on PostgreSQL the server answers one walk's query while this
  // process decodes the other's (each level waits for its own query only). The graph is the same
  // in any interleaving: nodes and edges are ordered by id at the end, and both walks add the same
  // node or edge from the same row.
  await Promise.all(
    walks.map(async ({ step, bit }) => {
      // the start has no repeats: marking it leaves it whole for the other direction
      let frontier = keepUnvisited(g, resolved.frontier, bit);
      for (let level = 0; level < options.depth; level++) {
        if (frontierSize(frontier) === 0) break;
        frontier = keepUnvisited(g, await step(db, g, load, frontier), bit);
      }
    }),
  );
  await summarizeExecutions(db, g);
  return resolved.roots;
}

/**
 * The nodes `ids` exactly as a walk builds them, for the kinds a write may change the details of
 * alone (database/changes.ts `touchNodes`): model versions (`<model ref>@<version>`) and runs
 * (`run:<id>`). Undefined when one is of another kind or no longer in the registry.
 */
export async function lineageNodes(
  db: Knex,
  ids: string[],
): Promise<Map<string, LineageNode> | undefined> {
  const g = new GraphBuilder();
  const load = new Loader(db, g);
  const runs: string[] = [];
  const versions: { ref: string; version: number }[] = [];
  for (const id of ids) {
    const at = id.lastIndexOf('@');
    if (id.startsWith('run:')) runs.push(id.slice('run:'.length));
    else if (id.startsWith('model:') && at > 0) {
      const version = Number(id.slice(at + 1));
      if (!Number.isSafeInteger(version)) return undefined;
      versions.push({ ref: id.slice(0, at), version });
    } else return undefined;
  }
  await load.runs(runs);
  await load.modelVersions(groupPairs(versions));
  const out = new Map<string, LineageNode>();
  for (const id of ids) {
    const node = g.get(id);
    if (!node) return undefined;
    out.set(id, node);
  }
  return out;
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
