/**
 * Repairs of the observed state after full lists: objects deleted while nobody watched,
 * deployments whose InferenceService is missing, and deployments recorded (or versions registered)
 * after their InferenceService was observed.
 */
import { Knex } from 'knex';
import { chunks, fromJson, nowIso, toJson } from '../util';
import { touchScopes } from '../changes';
import type { DeploymentObserved } from '../drift';
import {
  modelsWithArtifacts,
  versionsByArtifact,
  type ClusterObjectRow,
  type DeploymentRowLite,
} from './common';
import { deploymentObserved } from './deploymentObserved';
import type { Observation } from './observation';

/**
 * After a full list of (cluster, kind): the deletion observations of the stored objects the list
 * no longer has (deleted while nobody watched). `present` holds `namespace/name` keys.
 */
export async function missingObjects(
  db: Knex,
  cluster: string,
  kind: string,
  present: Set<string>,
): Promise<Observation[]> {
  // keys first (a large cluster has many objects), the stored observation only of the missing
  const keys: { id: number; namespace: string; name: string }[] = await db(
    'kubeai_cluster_objects',
  )
    .where({ cluster, kind })
    .whereNull('deleted_at')
    .select('id', 'namespace', 'name');
  const missing = keys
    .filter(row => !present.has(`${row.namespace}/${row.name}`))
    .map(row => row.id);
  const out: Observation[] = [];
  for (const chunk of chunks(missing, 500)) {
    const rows: { observed: string }[] = await db('kubeai_cluster_objects')
      .whereIn('id', chunk)
      .select('observed');
    for (const row of rows) {
      out.push({
        ...fromJson<Observation>(row.observed, {} as Observation),
        deleted: true,
      });
    }
  }
  return out;
}

/**
 * Deployments of a cluster whose InferenceService is not in it (after a full list of the
 * cluster's InferenceServices, `present` holding `namespace/name`): observed `NotFound`, unless
 * already `Deleted` / `NotFound`. Returns how many changed.
 */
export async function markMissingDeployments(
  db: Knex,
  cluster: string,
  present: Set<string>,
): Promise<number> {
  const rows: DeploymentRowLite[] = await db('kubeai_deployments')
    .where({ cluster })
    .select(
      'service_ref',
      'cluster',
      'namespace',
      'name',
      'model_ref',
      'traffic',
      'observed',
    );
  const linked = new Set(
    (
      await db('kubeai_cluster_objects')
        .where({ cluster, kind: 'InferenceService' })
        .whereNull('deleted_at')
        .whereNotNull('service_ref')
        .select('service_ref')
    ).map((r: { service_ref: string }) => r.service_ref),
  );
  let changed = 0;
  const now = nowIso();
  for (const row of rows) {
    if (
      present.has(`${row.namespace}/${row.name}`) ||
      linked.has(row.service_ref)
    )
      continue;
    const observed = fromJson<DeploymentObserved | null>(row.observed, null);
    if (
      observed &&
      (observed.phase === 'Deleted' || observed.phase === 'NotFound')
    )
      continue;
    const next: DeploymentObserved = {
      phase: 'NotFound',
      ready: false,
      cluster: row.cluster,
      namespace: row.namespace,
      name: row.name,
      traffic: [],
    };
    await writeObserved(db, row.service_ref, next, now);
    changed++;
  }
  return changed;
}

/**
 * Writes a deployment's observed state (and links its InferenceService's row to it), declaring
 * what that changes (database/changes.ts): the answers showing the service and — when a service
 * seen as discovered becomes the deployment's — those showing the versions it served as such.
 */
async function writeObserved(
  db: Knex,
  serviceRef: string,
  observed: DeploymentObserved,
  now: string,
  link?: ClusterObjectRow,
): Promise<void> {
  await db.transaction(async tx => {
    touchScopes(serviceRef);
    if (link) {
      touchScopes(
        link.entity_ref,
        ...(link.storage_uri && !link.managed
          ? await modelsWithArtifacts(tx, [link.storage_uri])
          : []),
      );
      await tx('kubeai_cluster_objects')
        .where({ id: link.id })
        .update({ service_ref: serviceRef });
    }
    await tx('kubeai_deployments')
      .where({ service_ref: serviceRef })
      .update({ observed: toJson(observed), observed_at: now });
  });
}

/**
 * Fills in deployments recorded after their InferenceService was observed (observed still null),
 * and re-resolves served versions that were unknown (a version registered later) or belong to
 * another model now. `clusters`: the clusters whose InferenceServices are fully listed.
 */
export async function reconcileDeployments(
  db: Knex,
  clusters: string[],
): Promise<number> {
  if (clusters.length === 0) return 0;
  const rows: DeploymentRowLite[] = await db('kubeai_deployments')
    .whereIn('cluster', clusters)
    .where(q =>
      q
        .whereNull('observed')
        .orWhere('observed', 'like', '%"servedVersion":null%')
        .orWhere('observed', 'like', '%"version":null%'),
    )
    .select(
      'service_ref',
      'cluster',
      'namespace',
      'name',
      'model_ref',
      'traffic',
      'observed',
    );
  let changed = 0;
  const now = nowIso();
  for (const deployment of rows) {
    const object: ClusterObjectRow | undefined = await db(
      'kubeai_cluster_objects',
    )
      .where({ cluster: deployment.cluster, kind: 'InferenceService' })
      .where(q =>
        q
          .where({ namespace: deployment.namespace, name: deployment.name })
          .orWhere({ entity_ref: deployment.service_ref }),
      )
      .orderBy('observed_at', 'desc')
      .first();
    let next: DeploymentObserved;
    if (!object) {
      if (deployment.observed !== null) continue;
      next = {
        phase: 'NotFound',
        ready: false,
        cluster: deployment.cluster,
        namespace: deployment.namespace,
        name: deployment.name,
        traffic: [],
      };
    } else {
      const obs = {
        ...fromJson<Observation>(object.observed, {} as Observation),
        deleted: Boolean(object.deleted_at),
      };
      const uris = [
        obs.storageUri,
        (obs.details as any)?.stable?.storageUri,
      ].filter((u): u is string => !!u);
      const versions = await versionsByArtifact(
        db,
        uris.map(uri => ({ modelRef: deployment.model_ref, uri })),
      );
      next = deploymentObserved(
        obs,
        deployment,
        versions,
        now,
        fromJson<DeploymentObserved | null>(deployment.observed, null),
      );
      const previous = fromJson<DeploymentObserved | null>(
        deployment.observed,
        null,
      );
      if (
        previous &&
        JSON.stringify({ ...previous, deletedAt: undefined }) ===
          JSON.stringify({ ...next, deletedAt: undefined })
      ) {
        continue;
      }
    }
    await writeObserved(
      db,
      deployment.service_ref,
      next,
      now,
      object && !object.service_ref ? object : undefined,
    );
    changed++;
  }
  return changed;
}
