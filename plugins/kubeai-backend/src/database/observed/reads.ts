/** Reads of the observed cluster objects (`kubeai_cluster_objects`) for the API. */
import type { ObservedObject } from '@kubeai/plugin-kubeai-common';
import { Knex } from 'knex';
import { chunks, fromJson } from '../util';
import { asBool, bareUri, uriVariants, type ClusterObjectRow } from './common';
import type { Observation } from './observation';

/** An observed object as the API shows it. */
export type { ObservedObject };

export function observedObjectFromRow(
  row: ClusterObjectRow,
  discovered?: { modelRef: string; version: number },
): ObservedObject {
  const obs = fromJson<Partial<Observation>>(row.observed, {});
  const out: ObservedObject = {
    cluster: row.cluster,
    kind: row.kind,
    apiVersion: row.api_version,
    namespace: row.namespace,
    name: row.name,
    uid: row.uid,
    resourceVersion: row.resource_version,
    managed: Boolean(row.managed),
    phase: row.phase,
    details: (obs.details as Record<string, unknown>) ?? {},
    observedAt: row.observed_at,
  };
  const optional: Partial<ObservedObject> = {
    entityRef: row.entity_ref ?? undefined,
    modelRef: row.model_ref ?? undefined,
    modelVersion: row.model_version ?? undefined,
    runId: row.run_id ?? undefined,
    serviceRef: row.service_ref ?? undefined,
    schedule:
      row.schedule_kind && row.schedule_name
        ? { kind: row.schedule_kind, name: row.schedule_name }
        : undefined,
    reason: obs.reason,
    message: obs.message,
    startedAt: obs.startedAt,
    finishedAt: obs.finishedAt,
    ready: asBool(row.ready),
    url: row.url ?? undefined,
    storageUri: row.storage_uri ?? undefined,
    createdAt: row.created_at ?? undefined,
    deletedAt: row.deleted_at ?? undefined,
    discovered,
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (out as any)[key] = value;
  }
  return out;
}

/** Filters of {@link listObservedObjects}. */
export interface ObservedObjectQuery {
  cluster?: string;
  kind?: string;
  namespace?: string;
  entityRef?: string;
  runId?: string;
  /** Only InferenceServices not created by the portal that serve a registered artifact. */
  discovered?: boolean;
  /** Also objects deleted in the cluster (default false). */
  includeDeleted?: boolean;
  limit?: number;
  offset?: number;
}

/** The discovered match of unmanaged InferenceService rows (by storageUri). */
async function discoveredMatches(
  db: Knex,
  rows: ClusterObjectRow[],
): Promise<Map<number, { modelRef: string; version: number }>> {
  const out = new Map<number, { modelRef: string; version: number }>();
  const candidates = rows.filter(
    r =>
      r.kind === 'InferenceService' &&
      !r.managed &&
      !r.service_ref &&
      r.storage_uri,
  );
  if (candidates.length === 0) return out;
  const uris = [
    ...new Set(candidates.flatMap(r => uriVariants(r.storage_uri!))),
  ];
  const byUri = new Map<string, { modelRef: string; version: number }>();
  for (const chunk of chunks(uris, 500)) {
    const versions: {
      model_ref: string;
      version: number;
      artifact_uri: string;
    }[] = await db('kubeai_model_versions')
      .whereIn('artifact_uri', chunk)
      .select('model_ref', 'version', 'artifact_uri')
      .orderBy([
        { column: 'model_ref', order: 'asc' },
        { column: 'version', order: 'asc' },
      ]);
    for (const v of versions) {
      // the newest version with that artifact wins
      byUri.set(bareUri(v.artifact_uri), {
        modelRef: v.model_ref,
        version: Number(v.version),
      });
    }
  }
  for (const row of candidates) {
    const match = byUri.get(bareUri(row.storage_uri!));
    if (match) out.set(row.id, match);
  }
  return out;
}

export async function listObservedObjects(
  db: Knex,
  query: ObservedObjectQuery,
): Promise<{ items: ObservedObject[]; totalItems: number }> {
  const base = db('kubeai_cluster_objects');
  if (query.cluster) base.where({ cluster: query.cluster });
  if (query.kind) base.where({ kind: query.kind });
  if (query.namespace) base.where({ namespace: query.namespace });
  if (query.entityRef)
    base.where({ entity_ref: query.entityRef.toLocaleLowerCase('en-US') });
  if (query.runId) base.where({ run_id: query.runId });
  if (!query.includeDeleted) base.whereNull('deleted_at');
  const limit = query.limit ?? 100;
  const offset = query.offset ?? 0;
  const order = [
    { column: 'cluster', order: 'asc' as const },
    { column: 'kind', order: 'asc' as const },
    { column: 'namespace', order: 'asc' as const },
    { column: 'name', order: 'asc' as const },
  ];
  if (query.discovered) {
    base
      .where({ kind: 'InferenceService', managed: false })
      .whereNull('service_ref');
    const rows: ClusterObjectRow[] = await base.clone().select().orderBy(order);
    const matches = await discoveredMatches(db, rows);
    const found = rows.filter(r => matches.has(r.id));
    return {
      items: found
        .slice(offset, offset + limit)
        .map(r => observedObjectFromRow(r, matches.get(r.id))),
      totalItems: found.length,
    };
  }
  const [{ count }] = await base.clone().count({ count: '*' });
  const rows: ClusterObjectRow[] = await base
    .clone()
    .select()
    .orderBy(order)
    .limit(limit)
    .offset(offset);
  const matches = await discoveredMatches(db, rows);
  return {
    items: rows.map(r => observedObjectFromRow(r, matches.get(r.id))),
    totalItems: Number(count),
  };
}

/** Object counts per (cluster, kind), deleted ones excluded. */
export async function countObservedObjects(
  db: Knex,
): Promise<Map<string, number>> {
  const rows: { cluster: string; kind: string; count: string | number }[] =
    await db('kubeai_cluster_objects')
      .whereNull('deleted_at')
      .groupBy('cluster', 'kind')
      .select('cluster', 'kind')
      .count({ count: '*' });
  return new Map(rows.map(r => [`${r.cluster}|${r.kind}`, Number(r.count)]));
}

/** The cluster objects of a run (its workload; for logs), newest first. */
export async function objectsOfRun(
  db: Knex,
  runId: string,
): Promise<ClusterObjectRow[]> {
  return db('kubeai_cluster_objects')
    .where({ run_id: runId })
    .orderBy('observed_at', 'desc');
}
