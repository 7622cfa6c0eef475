/**
 * Writes observations into `kubeai_cluster_objects`, the runs (`kubeai_runs`) and the
 * deployments' observed state (`kubeai_deployments.observed`).
 *
 * Writes are idempotent: an object is keyed by (cluster, kind, namespace, name) and its uid, a run
 * by (cluster, uid) — a relist after a backend restart or a reconnect writes nothing new, and an
 * event older than what is stored (by resourceVersion) is skipped, so a late event never
 * overwrites a final phase.
 */
import { Knex } from 'knex';
import {
  chunks,
  fromJson,
  groupBy,
  isUniqueViolation,
  nowIso,
  toJson,
} from '../util';
import { touchScopes } from '../changes';
import type { DeploymentObserved } from '../drift';
import { applyAdmissions } from './admission';
import { applyRuns, type Work } from './applyRuns';
import {
  compareResourceVersions,
  discoveredEntityRef,
  keyOf,
  versionsByArtifact,
  type ApplyStats,
  type ClusterObjectRow,
  modelsWithArtifacts,
  type DeploymentRowLite,
} from './common';
import { deploymentObserved } from './deploymentObserved';
import { kindSpec, type KindSpec } from './kinds';
import type { Observation } from './observation';

const QUEUE_KINDS = new Set<string>(['Workload', 'ClusterQueue']);

/** What the batch's observations were linked to: their runs, their deployments' services. */
interface ObjectLinks {
  runIds: Map<Observation, string>;
  serviceRefs: Map<Observation, string>;
}

/**
 * Writes a batch of observations in one transaction (retried when a concurrent writer — e.g. the
 * portal recording the same object's run — wins a unique key first).
 */
export async function applyObservations(
  db: Knex,
  batch: Observation[],
): Promise<ApplyStats> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(tx => applyInTransaction(tx, batch));
    } catch (error) {
      if (!isUniqueViolation(error) || attempt >= 5) throw error;
      await new Promise(r => setTimeout(r, Math.random() * 20 * attempt));
    }
  }
}

async function applyInTransaction(
  tx: Knex.Transaction,
  input: Observation[],
): Promise<ApplyStats> {
  const now = nowIso();
  const stats: ApplyStats = {
    objects: 0,
    skipped: 0,
    runsCreated: 0,
    runsUpdated: 0,
    deploymentsUpdated: 0,
  };
  // declared below per object; a batch of unchanged objects changes no answer
  touchScopes();
  const batch = latestPerObject(input);
  const existing = await loadStoredObjects(tx, batch);
  const work = newObservations(batch, existing, stats);
  if (work.length === 0) return stats;
  const runIds = await applyRuns(tx, work, now, stats);
  // Kueue's Workloads: their runs' admission (adds the linked Workloads to runIds)
  await applyAdmissions(tx, work, runIds);
  const serviceRefs = await applyDeployments(tx, work, now, stats);
  await declareScopes(tx, work, { runIds, serviceRefs });
  await writeObjects(tx, work, { runIds, serviceRefs }, now, stats);
  return stats;
}

/**
 * What the batch changes for lineage answers (database/changes.ts). An answer shows the objects
 * of runs only as their runs, and applyRuns declared what changed of those (a new run, new links,
 * or only its node's name and phase: `touchNodes`, which lets held answers be patched); besides,
 * it reads the observed state of its services, the Fluid cache of its datasets and the discovered
 * services of its model versions (observed/lineage.ts) — so an object of no run raises the entity
 * refs it had and has, the deployment it is the service of, and, for a service the portal did not
 * create, the models whose versions have its old or new storage URI (an answer showing that
 * version shows the service). Kueue's objects are in no answer (their admission is no node's).
 */
async function declareScopes(
  tx: Knex.Transaction,
  work: Work[],
  links: ObjectLinks,
): Promise<void> {
  const discoveredUris = new Set<string>();
  for (const { obs, spec, row } of work) {
    if (links.runIds.has(obs) || QUEUE_KINDS.has(obs.kind)) continue;
    touchScopes(
      row?.entity_ref,
      entityRefOf(obs, spec),
      row?.service_ref,
      links.serviceRefs.get(obs),
    );
    if (spec.role === 'service' && (!obs.managed || (row && !row.managed))) {
      for (const uri of [row?.storage_uri, obs.storageUri]) {
        if (uri) discoveredUris.add(uri);
      }
    }
  }
  touchScopes(...(await modelsWithArtifacts(tx, [...discoveredUris])));
}

/** The entity ref an object is stored under: its own, or a discovered service's. */
function entityRefOf(obs: Observation, spec: KindSpec): string | undefined {
  return (
    obs.entityRef ??
    (spec.role === 'service' && !obs.managed
      ? discoveredEntityRef(obs.cluster, obs.namespace, obs.name)
      : undefined)
  );
}

/** The last observation per object wins. */
function latestPerObject(input: Observation[]): Observation[] {
  const byKey = new Map<string, Observation>();
  for (const obs of input) {
    byKey.set(keyOf(obs.cluster, obs.kind, obs.namespace, obs.name), obs);
  }
  return [...byKey.values()];
}

/** The stored rows of the batch's objects, by {@link keyOf}. */
async function loadStoredObjects(
  tx: Knex.Transaction,
  batch: Observation[],
): Promise<Map<string, ClusterObjectRow>> {
  const existing = new Map<string, ClusterObjectRow>();
  // by (cluster, kind, namespace): the unique key's prefix, so each lookup reads only its rows
  // (without the namespace PostgreSQL scanned every object of the kind — 20 ms a batch at 100,000)
  for (const group of groupBy(
    batch,
    o => `${o.cluster}\u0000${o.kind}\u0000${o.namespace}`,
  ).values()) {
    const { cluster, kind, namespace } = group[0];
    for (const names of chunks([...new Set(group.map(o => o.name))], 500)) {
      const rows: ClusterObjectRow[] = await tx('kubeai_cluster_objects')
        .where({ cluster, kind, namespace })
        .whereIn('name', names);
      for (const row of rows) {
        existing.set(
          keyOf(row.cluster, row.kind, row.namespace, row.name),
          row,
        );
      }
    }
  }
  return existing;
}

/**
 * The observations that say something new: not older than the stored object (by
 * resourceVersion), not a relist of it, not the deletion of an older incarnation.
 */
function newObservations(
  batch: Observation[],
  existing: Map<string, ClusterObjectRow>,
  stats: ApplyStats,
): Work[] {
  const work: Work[] = [];
  for (const obs of batch) {
    const spec = kindSpec(obs.kind);
    if (!spec) continue;
    const row = existing.get(
      keyOf(obs.cluster, obs.kind, obs.namespace, obs.name),
    );
    if (row && isStale(row, obs)) {
      stats.skipped++;
      continue;
    }
    work.push({ obs, spec, row });
  }
  return work;
}

function isStale(row: ClusterObjectRow, obs: Observation): boolean {
  if (row.uid !== obs.uid) {
    return obs.deleted; // the deletion of an older incarnation
  }
  const cmp = compareResourceVersions(
    row.resource_version,
    obs.resourceVersion,
  );
  if (cmp !== undefined && cmp > 0) {
    return true; // older than what is stored
  }
  if (
    (cmp === 0 || row.resource_version === obs.resourceVersion) &&
    Boolean(row.deleted_at) === obs.deleted
  ) {
    return true; // nothing new (a relist)
  }
  // opaque versions: a deleted object does not come back with the same uid
  return Boolean(row.deleted_at && !obs.deleted && cmp === undefined);
}

const DEPLOYMENT_COLUMNS = [
  'service_ref',
  'cluster',
  'namespace',
  'name',
  'model_ref',
  'traffic',
  'observed',
];

/** The deployments of the observed InferenceServices: by entity ref, else by location. */
async function matchDeployments(
  tx: Knex.Transaction,
  serviceWork: Work[],
): Promise<{ obs: Observation; deployment: DeploymentRowLite }[]> {
  const deployments = new Map<string, DeploymentRowLite>();
  const refs = serviceWork
    .map(w => w.obs.entityRef)
    .filter((r): r is string => !!r && r.startsWith('inferenceservice:'));
  for (const chunk of chunks([...new Set(refs)], 500)) {
    const rows: DeploymentRowLite[] = await tx('kubeai_deployments')
      .whereIn('service_ref', chunk)
      .select(DEPLOYMENT_COLUMNS);
    for (const row of rows) deployments.set(row.service_ref, row);
  }
  const byLocation = new Map<string, DeploymentRowLite>();
  for (const group of groupBy(serviceWork, w => w.obs.cluster).values()) {
    const cluster = group[0].obs.cluster;
    for (const chunk of chunks([...new Set(group.map(w => w.obs.name))], 500)) {
      const rows: DeploymentRowLite[] = await tx('kubeai_deployments')
        .where({ cluster })
        .whereIn('name', chunk)
        .select(DEPLOYMENT_COLUMNS);
      for (const row of rows) {
        byLocation.set(`${row.cluster}|${row.namespace}|${row.name}`, row);
      }
    }
  }
  const matches: { obs: Observation; deployment: DeploymentRowLite }[] = [];
  for (const { obs } of serviceWork) {
    const deployment =
      (obs.entityRef ? deployments.get(obs.entityRef) : undefined) ??
      byLocation.get(`${obs.cluster}|${obs.namespace}|${obs.name}`);
    if (deployment) matches.push({ obs, deployment });
  }
  return matches;
}

/**
 * The observed state of the deployments of the batch's InferenceServices. Returns the service ref
 * of each observation matched to a deployment.
 */
async function applyDeployments(
  tx: Knex.Transaction,
  work: Work[],
  now: string,
  stats: ApplyStats,
): Promise<Map<Observation, string>> {
  const serviceRefs = new Map<Observation, string>();
  const serviceWork = work.filter(w => w.spec.role === 'service');
  if (serviceWork.length === 0) return serviceRefs;
  const matches = await matchDeployments(tx, serviceWork);
  if (matches.length === 0) return serviceRefs;
  const versions = await versionsByArtifact(
    tx,
    matches.flatMap(({ obs, deployment }) => {
      const stable = (obs.details as any).stable?.storageUri;
      return [obs.storageUri, stable]
        .filter((u): u is string => !!u)
        .map(uri => ({ modelRef: deployment.model_ref, uri }));
    }),
  );
  for (const { obs, deployment } of matches) {
    serviceRefs.set(obs, deployment.service_ref);
    const observed = deploymentObserved(
      obs,
      deployment,
      versions,
      now,
      fromJson<DeploymentObserved | null>(deployment.observed, null),
    );
    await tx('kubeai_deployments')
      .where({ service_ref: deployment.service_ref })
      .update({ observed: toJson(observed), observed_at: now });
    stats.deploymentsUpdated++;
  }
  return serviceRefs;
}

/** The `kubeai_cluster_objects` row of an observation. */
function objectValues(
  { obs, spec, row }: Work,
  links: ObjectLinks,
  now: string,
): Record<string, unknown> {
  const sameIncarnation = row?.uid === obs.uid;
  const entityRef = entityRefOf(obs, spec);
  return {
    cluster: obs.cluster,
    kind: obs.kind,
    api_version: obs.apiVersion,
    namespace: obs.namespace,
    name: obs.name,
    uid: obs.uid,
    resource_version: obs.resourceVersion,
    managed: obs.managed,
    entity_ref: entityRef ?? null,
    model_ref: obs.modelRef ?? null,
    model_version: obs.modelVersion ?? null,
    run_id:
      links.runIds.get(obs) ?? (sameIncarnation ? row?.run_id ?? null : null),
    service_ref:
      links.serviceRefs.get(obs) ??
      (sameIncarnation ? row?.service_ref ?? null : null),
    schedule_kind: obs.schedule?.kind ?? null,
    schedule_name: obs.schedule?.name ?? null,
    phase: obs.phase,
    ready: obs.ready ?? null,
    url: obs.url ?? null,
    storage_uri: obs.storageUri ?? null,
    observed: toJson(obs),
    created_at: obs.createdAt ?? null,
    observed_at: now,
    deleted_at: obs.deleted
      ? (sameIncarnation && row?.deleted_at) || now
      : null,
  };
}

/** The objects themselves: updates of stored rows, inserts of new ones. */
async function writeObjects(
  tx: Knex.Transaction,
  work: Work[],
  links: ObjectLinks,
  now: string,
  stats: ApplyStats,
): Promise<void> {
  const inserts: Record<string, unknown>[] = [];
  for (const w of work) {
    const values = objectValues(w, links, now);
    stats.objects++;
    if (w.row) {
      await tx('kubeai_cluster_objects').where({ id: w.row.id }).update(values);
    } else {
      inserts.push(values);
    }
  }
  for (const chunk of chunks(inserts, 40)) {
    await tx('kubeai_cluster_objects').insert(chunk);
  }
}
