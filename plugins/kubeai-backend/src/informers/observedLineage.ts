/**
 * Observed state in the lineage graph, next to the declared one:
 *
 * - inference services get `observed` (what the cluster reports) and `drift` (declared vs served),
 *   once the informers observed them, and `servedBy` edges from the model versions the cluster
 *   really serves (declared ones are the `deployedTo` edges);
 * - InferenceServices the portal did not create whose storageUri is a registered artifact are
 *   attached to their model versions as `discovered` services (`servedBy` edges), when the walk
 *   goes downstream;
 * - datasets get the Fluid cache state of their Dataset objects as `observed`;
 * - a discovered service's entity ref is a start of its own (its model versions and upstream).
 *
 * Nodes and edges without observed data are left exactly as the walk made them.
 */
import type {
  LineageEdge,
  LineageGraph,
  LineageNode,
} from '@kubeai/plugin-kubeai-common';
import { Knex } from 'knex';
import { chunks, fromJson, wherePairs } from '../database/util';
import type { LineageOptions, LineageStart } from '../database/lineage';
import { computeDrift, type DeploymentObserved } from './drift';
import type { ClusterObjectRow } from './observedStore';

type Walk = (
  start: LineageStart,
  options: LineageOptions,
) => Promise<LineageGraph | undefined>;

const nameOf = (ref: string) => ref.slice(ref.indexOf('/') + 1);
const bareUri = (uri: string) => uri.replace(/\/+$/, '');
const uriVariants = (uri: string) => {
  const bare = bareUri(uri);
  return bare === uri ? [uri, `${uri}/`] : [uri, bare];
};

class Graph {
  readonly nodes = new Map<string, LineageNode>();
  readonly edges = new Map<string, LineageEdge>();

  constructor(graph?: LineageGraph) {
    for (const node of graph?.nodes ?? []) this.nodes.set(node.id, node);
    for (const edge of graph?.edges ?? []) {
      this.edges.set(`${edge.from}|${edge.to}|${edge.type}`, edge);
    }
  }

  merge(graph: LineageGraph) {
    for (const node of graph.nodes) {
      if (!this.nodes.has(node.id)) this.nodes.set(node.id, node);
    }
    for (const edge of graph.edges) {
      const key = `${edge.from}|${edge.to}|${edge.type}`;
      if (!this.edges.has(key)) this.edges.set(key, edge);
    }
  }

  edge(from: string, to: string, type: LineageEdge['type'], percent?: number) {
    const key = `${from}|${to}|${type}`;
    if (!this.edges.has(key)) {
      this.edges.set(
        key,
        percent === undefined
          ? { from, to, type }
          : { from, to, type, percent },
      );
    }
  }

  modelVersion(row: { model_ref: string; version: number; state: string }) {
    const id = `${row.model_ref}@${row.version}`;
    if (!this.nodes.has(id)) {
      this.nodes.set(id, {
        id,
        type: 'modelVersion',
        entityRef: row.model_ref,
        version: String(row.version),
        label: `${nameOf(row.model_ref)} v${row.version}`,
        status: row.state,
      });
      if (!this.nodes.has(row.model_ref)) {
        this.nodes.set(row.model_ref, {
          id: row.model_ref,
          type: 'model',
          entityRef: row.model_ref,
          label: nameOf(row.model_ref),
        });
      }
      this.edge(id, row.model_ref, 'versionOf');
    }
    return id;
  }

  result(roots: string[]): LineageGraph {
    const sorted = <T>(map: Map<string, T>) =>
      [...map.keys()].sort().map(key => map.get(key)!);
    return { roots, nodes: sorted(this.nodes), edges: sorted(this.edges) };
  }
}

/** What a node shows of a deployment's observed state. */
function serviceSummary(observed: DeploymentObserved): Record<string, unknown> {
  const out: Record<string, unknown> = {
    phase: observed.phase,
    ready: observed.ready,
  };
  for (const key of [
    'cluster',
    'namespace',
    'name',
    'url',
    'storageUri',
    'servedVersion',
    'traffic',
    'deleted',
    'deletedAt',
  ]) {
    if (observed[key] !== undefined) out[key] = observed[key];
  }
  return out;
}

function discoveredNode(row: ClusterObjectRow): LineageNode {
  const obs = fromJson<{ reason?: string }>(row.observed, {});
  const observed: Record<string, unknown> = {
    phase: row.phase,
    ready: Boolean(row.ready),
    cluster: row.cluster,
    namespace: row.namespace,
    name: row.name,
  };
  if (row.url) observed.url = row.url;
  if (row.storage_uri) observed.storageUri = row.storage_uri;
  if (obs.reason) observed.reason = obs.reason;
  return {
    id: row.entity_ref!,
    type: 'inferenceService',
    entityRef: row.entity_ref!,
    label: row.name,
    status: row.phase,
    discovered: true,
    observed,
  } as LineageNode;
}

async function loadModelVersions(
  db: Knex,
  pairs: Map<string, number[]>,
): Promise<
  { model_ref: string; version: number; state: string; artifact_uri: string }[]
> {
  if (pairs.size === 0) return [];
  const out = [];
  // keep each query small
  const entries = [...pairs.entries()].flatMap(([ref, versions]) =>
    chunks(versions, 500).map(v => [ref, v] as const),
  );
  for (const group of chunks(entries, 20)) {
    out.push(
      ...(await wherePairs(
        db('kubeai_model_versions').select(
          'model_ref',
          'version',
          'state',
          'artifact_uri',
        ),
        'model_ref',
        'version',
        new Map(group.map(([ref, v]) => [ref, [...v]])),
      )),
    );
  }
  return out.map(r => ({ ...r, version: Number(r.version) }));
}

/** Unmanaged, live InferenceServices (not a portal deployment) serving one of `uris`. */
async function discoveredServices(
  db: Knex,
  uris: string[],
): Promise<ClusterObjectRow[]> {
  const out: ClusterObjectRow[] = [];
  const variants = [...new Set(uris.flatMap(uriVariants))];
  for (const chunk of chunks(variants, 500)) {
    out.push(
      ...(await db('kubeai_cluster_objects')
        .where({ kind: 'InferenceService', managed: false })
        .whereNull('deleted_at')
        .whereNull('service_ref')
        .whereNotNull('entity_ref')
        .whereIn('storage_uri', chunk)),
    );
  }
  return out;
}

/** Adds the observed state to a graph of the registry walk (see the module comment). */
export async function augmentLineage(
  db: Knex,
  graph: LineageGraph,
  options: LineageOptions,
): Promise<LineageGraph> {
  const g = new Graph(graph);

  // services: observed, drift, and the versions really served
  const serviceRefs = graph.nodes
    .filter(n => n.type === 'inferenceService')
    .map(n => n.id);
  const servedPairs = new Map<string, number[]>();
  const served: {
    service: string;
    model: string;
    version: number;
    percent: number;
  }[] = [];
  for (const chunk of chunks(serviceRefs, 1000)) {
    const rows: {
      service_ref: string;
      model_ref: string;
      traffic: string;
      observed: string | null;
    }[] = await db('kubeai_deployments')
      .whereIn('service_ref', chunk)
      .whereNotNull('observed')
      .select('service_ref', 'model_ref', 'traffic', 'observed');
    for (const row of rows) {
      const observed = fromJson<DeploymentObserved | null>(row.observed, null);
      const node = g.nodes.get(row.service_ref);
      if (!observed || !node) continue;
      g.nodes.set(row.service_ref, {
        ...node,
        observed: serviceSummary(observed),
        drift: computeDrift(fromJson(row.traffic, []), observed),
      } as LineageNode);
      for (const t of observed.traffic ?? []) {
        if (t.version === null || t.percent <= 0) continue;
        served.push({
          service: row.service_ref,
          model: row.model_ref,
          version: t.version,
          percent: t.percent,
        });
        const list = servedPairs.get(row.model_ref) ?? [];
        if (!list.includes(t.version)) list.push(t.version);
        servedPairs.set(row.model_ref, list);
      }
    }
  }
  if (served.length > 0) {
    const missing = new Map<string, number[]>();
    for (const [ref, versions] of servedPairs) {
      const absent = versions.filter(v => !g.nodes.has(`${ref}@${v}`));
      if (absent.length) missing.set(ref, absent);
    }
    for (const row of await loadModelVersions(db, missing)) g.modelVersion(row);
    for (const s of served) {
      const id = `${s.model}@${s.version}`;
      if (g.nodes.has(id)) g.edge(id, s.service, 'servedBy', s.percent);
    }
  }

  // discovered services of the model versions in the graph
  if (options.direction !== 'upstream') {
    const pairs = new Map<string, number[]>();
    for (const node of graph.nodes) {
      if (node.type !== 'modelVersion' || !node.entityRef || !node.version)
        continue;
      const list = pairs.get(node.entityRef) ?? [];
      list.push(Number(node.version));
      pairs.set(node.entityRef, list);
    }
    const versions = await loadModelVersions(db, pairs);
    const byUri = new Map<string, string[]>();
    for (const v of versions) {
      const key = bareUri(v.artifact_uri);
      byUri.set(key, [
        ...(byUri.get(key) ?? []),
        `${v.model_ref}@${v.version}`,
      ]);
    }
    if (byUri.size > 0) {
      for (const row of await discoveredServices(
        db,
        versions.map(v => v.artifact_uri),
      )) {
        const node = discoveredNode(row);
        if (!g.nodes.has(node.id)) g.nodes.set(node.id, node);
        for (const mv of byUri.get(bareUri(row.storage_uri!)) ?? []) {
          g.edge(mv, node.id, 'servedBy');
        }
      }
    }
  }

  // datasets: the cache state of their Fluid Dataset objects
  const datasetRefs = graph.nodes
    .filter(n => n.type === 'dataset')
    .map(n => n.id);
  for (const chunk of chunks(datasetRefs, 1000)) {
    const rows: ClusterObjectRow[] = await db('kubeai_cluster_objects')
      .where({ kind: 'Dataset' })
      .whereNull('deleted_at')
      .whereIn('entity_ref', chunk)
      .orderBy('observed_at', 'desc');
    for (const row of rows) {
      const node = g.nodes.get(row.entity_ref!);
      if (!node || (node as { observed?: unknown }).observed) continue;
      const obs = fromJson<{ details?: { cacheStates?: unknown } }>(
        row.observed,
        {},
      );
      g.nodes.set(node.id, {
        ...node,
        observed: {
          phase: row.phase,
          ready: Boolean(row.ready),
          cluster: row.cluster,
          namespace: row.namespace,
          name: row.name,
          cacheStates: obs.details?.cacheStates ?? {},
        },
      } as LineageNode);
    }
  }
  return g.result(graph.roots);
}

/**
 * The lineage of a discovered InferenceService (its entity ref as published by the entity
 * provider): the service, the registered versions it serves and, upstream, their lineage.
 * Undefined when the ref is no discovered service.
 */
export async function discoveredLineage(
  db: Knex,
  ref: string,
  options: LineageOptions,
  walk: Walk,
): Promise<LineageGraph | undefined> {
  const row: ClusterObjectRow | undefined = await db('kubeai_cluster_objects')
    .where({ kind: 'InferenceService', entity_ref: ref, managed: false })
    .whereNull('deleted_at')
    .orderBy('observed_at', 'desc')
    .first();
  if (!row?.storage_uri) return undefined;
  const versions: { model_ref: string; version: number; state: string }[] =
    await db('kubeai_model_versions')
      .whereIn('artifact_uri', uriVariants(row.storage_uri))
      .select('model_ref', 'version', 'state');
  if (versions.length === 0) return undefined;
  const g = new Graph();
  const node = discoveredNode(row);
  g.nodes.set(node.id, node);
  if (options.depth > 0 && options.direction !== 'downstream') {
    for (const v of versions) {
      const id = g.modelVersion({ ...v, version: Number(v.version) });
      g.edge(id, node.id, 'servedBy');
      const upstream = await walk(
        { type: 'model', ref: v.model_ref, version: Number(v.version) },
        { direction: 'upstream', depth: options.depth - 1 },
      );
      if (upstream) g.merge(upstream);
    }
  }
  return g.result([node.id]);
}
