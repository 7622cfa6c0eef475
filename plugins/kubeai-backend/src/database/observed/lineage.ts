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
import type { LineageGraph, LineageNode } from '@kubeai/plugin-kubeai-common';
import { Knex } from 'knex';
import {
  GraphBuilder,
  Loader,
  groupPairs,
  versionId,
  walkInto,
  type LineageOptions,
} from '../lineage';
import { chunks, fromJson, selectPrepared } from '../util';
import { whereInValues } from '../lineageSql';
import { computeDrift, type DeploymentObserved } from '../drift';
import { bareUri, versionsServing, type ClusterObjectRow } from './common';

/** What a node shows of a deployment's observed state. */
export function serviceSummary(
  observed: DeploymentObserved,
): Record<string, unknown> {
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

/** Live InferenceServices the portal did not create, with a storageUri and an entity ref. */
async function discoveredServices(db: Knex): Promise<ClusterObjectRow[]> {
  return selectPrepared(
    db,
    db('kubeai_cluster_objects')
      .where({ kind: 'InferenceService', managed: false })
      .whereNull('deleted_at')
      .whereNull('service_ref')
      .whereNotNull('entity_ref')
      .whereNotNull('storage_uri'),
  );
}

/**
 * Adds the observed state (see the module comment) to the graph of a registry walk, in place.
 * Discovered services are looked up from the (few) unmanaged InferenceServices the informers saw,
 * not from the (many) model versions of the graph.
 */
export async function augmentLineage(
  db: Knex,
  g: GraphBuilder,
  options: LineageOptions,
): Promise<void> {
  const walked = new Set(g.modelVersions.keys());
  const load = new Loader(db, g);

  // discovered services of the model versions the walk reached
  if (options.direction !== 'upstream' && walked.size > 0) {
    const rows = await discoveredServices(db);
    if (rows.length > 0) {
      const byUri = new Map<string, string[]>();
      for (const v of await versionsServing(
        db,
        rows.map(r => r.storage_uri!),
      )) {
        const id = versionId(v.model_ref, v.version);
        if (!walked.has(id)) continue;
        const key = bareUri(v.artifact_uri);
        byUri.set(key, [...(byUri.get(key) ?? []), id]);
      }
      for (const row of rows) {
        const versions = byUri.get(bareUri(row.storage_uri!));
        if (!versions) continue;
        const service = g.add(discoveredNode(row));
        for (const id of versions) {
          g.edge(g.indexOf(id)!, service, 'servedBy');
        }
      }
    }
  }

  // services: observed, drift, and the versions really served
  const served: TrafficShare[] = [];
  for (const info of g.services.values()) {
    const observed = info.observed;
    const node = g.get(info.ref);
    if (!observed || !node) continue;
    node.observed = serviceSummary(observed);
    node.drift = computeDrift(fromJson(info.traffic, []), observed);
    for (const t of observed.traffic ?? []) {
      if (t.version === null || t.percent <= 0) continue;
      served.push({
        service: info.ref,
        ref: info.modelRef,
        version: t.version,
        percent: t.percent,
      });
    }
  }
  await load.modelVersions(groupPairs(served));
  for (const s of served) {
    const id = versionId(s.ref, s.version);
    g.link(id, s.service, 'servedBy', s.percent);
  }

  // datasets: the cache state of their Fluid Dataset objects
  const datasetRefs = g
    .allNodes()
    .filter(n => n.type === 'dataset')
    .map(n => n.id);
  for (const chunk of chunks(datasetRefs, 1000)) {
    const rows = await selectPrepared<ClusterObjectRow>(
      db,
      whereInValues(
        db('kubeai_cluster_objects')
          .where({ kind: 'Dataset' })
          .whereNull('deleted_at'),
        'entity_ref',
        chunk,
      ).orderBy('observed_at', 'desc'),
    );
    for (const row of rows) {
      const node = g.get(row.entity_ref!);
      if (!node || node.observed) continue;
      const obs = fromJson<{ details?: { cacheStates?: unknown } }>(
        row.observed,
        {},
      );
      node.observed = {
        phase: row.phase,
        ready: Boolean(row.ready),
        cluster: row.cluster,
        namespace: row.namespace,
        name: row.name,
        cacheStates: obs.details?.cacheStates ?? {},
      };
    }
  }
}

interface TrafficShare {
  service: string;
  ref: string;
  version: number;
  percent: number;
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
): Promise<LineageGraph | undefined> {
  const row: ClusterObjectRow | undefined = await db('kubeai_cluster_objects')
    .where({ kind: 'InferenceService', entity_ref: ref, managed: false })
    .whereNull('deleted_at')
    .orderBy('observed_at', 'desc')
    .first();
  if (!row?.storage_uri) return undefined;
  const versions = await versionsServing(db, [row.storage_uri]);
  if (versions.length === 0) return undefined;
  const g = new GraphBuilder();
  const node = discoveredNode(row);
  const service = g.add(node);
  if (options.depth > 0 && options.direction !== 'downstream') {
    for (const v of versions) {
      g.edge(g.modelVersion({ ...v, run_id: null }), service, 'servedBy');
      await walkInto(
        db,
        g,
        { type: 'model', ref: v.model_ref, version: v.version },
        { direction: 'upstream', depth: options.depth - 1 },
      );
    }
  }
  return g.graph([node.id]);
}
