/**
 * The database side of the cluster informers: writes observations into `kubeai_cluster_objects`,
 * the runs (`kubeai_runs`) and the deployments' observed state (`kubeai_deployments.observed`),
 * and reads them back for the API. Called through {@link RegistryStore} (its `#db`), never with
 * request input that was not validated.
 *
 * Writes are idempotent: an object is keyed by (cluster, kind, namespace, name) and its uid, a run
 * by (cluster, uid) — a relist after a backend restart or a reconnect writes nothing new, and an
 * event older than what is stored (by resourceVersion) is skipped, so a late event never
 * overwrites a final phase.
 */
import { Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import { toLabelValue } from '../manifests/labels';
import {
  chunks,
  fromJson,
  isUniqueViolation,
  nowIso,
  toJson,
} from '../database/util';
import { observedTraffic, type DeploymentObserved } from './drift';
import { kindSpec, type KindSpec } from './kinds';
import {
  isFinalPhase,
  isRun,
  RUN_DELETED_FROM_PORTAL,
  type Observation,
} from './observe';

/** `createdBy` of runs the informers record. */
export const INFORMER_ACTOR = 'kubeai-informer';

/** Catalog namespace of discovered InferenceService entities. */
export const DISCOVERED_NAMESPACE = 'default';

/**
 * The catalog entity ref a discovered InferenceService gets (`inferenceservice:default/<cluster>.<namespace>.<name>`,
 * made a valid entity name); the same in lineage and in the entity provider.
 */
export function discoveredEntityRef(
  cluster: string,
  namespace: string,
  name: string,
): string {
  return `inferenceservice:${DISCOVERED_NAMESPACE}/${toLabelValue(
    `${cluster}.${namespace}.${name}`,
  )}`.toLocaleLowerCase('en-US');
}

export interface ClusterObjectRow {
  id: number;
  cluster: string;
  kind: string;
  api_version: string;
  namespace: string;
  name: string;
  uid: string;
  resource_version: string;
  managed: boolean | number;
  entity_ref: string | null;
  model_ref: string | null;
  model_version: string | null;
  run_id: string | null;
  service_ref: string | null;
  schedule_kind: string | null;
  schedule_name: string | null;
  phase: string;
  ready: boolean | number | null;
  url: string | null;
  storage_uri: string | null;
  observed: string;
  created_at: string | null;
  observed_at: string;
  deleted_at: string | null;
}

interface RunRowLite {
  id: string;
  kind: string;
  cluster: string;
  namespace: string;
  name: string;
  uid: string | null;
  model_ref: string | null;
  phase: string;
  message: string | null;
  reason: string | null;
  started_at: string | null;
  finished_at: string | null;
  schedule: string | null;
  observed: string | null;
}

interface DeploymentRowLite {
  service_ref: string;
  cluster: string;
  namespace: string;
  name: string;
  model_ref: string;
  traffic: string;
  observed: string | null;
}

/** What one {@link applyObservations} did. */
export interface ApplyStats {
  objects: number;
  skipped: number;
  runsCreated: number;
  runsUpdated: number;
  deploymentsUpdated: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const keyOf = (cluster: string, kind: string, ns: string, name: string) =>
  `${cluster}\u0000${kind}\u0000${ns}\u0000${name}`;

/** Compares numeric resourceVersions (etcd revisions); undefined when either is opaque. */
export function compareResourceVersions(
  a: string,
  b: string,
): number | undefined {
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return undefined;
  if (a.length !== b.length) return a.length - b.length;
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

const asBool = (value: boolean | number | null | undefined) =>
  value === null || value === undefined ? undefined : Boolean(value);

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/** The uri and its trailing-slash twin, so `s3://b/m` matches `s3://b/m/`. */
function uriVariants(uri: string): string[] {
  const bare = uri.replace(/\/+$/, '');
  return bare === uri ? [uri, `${uri}/`] : [uri, bare];
}

const bareUri = (uri: string) => uri.replace(/\/+$/, '');

/** Registered versions per (model, artifact uri): `model|uri` → versions. */
async function versionsByArtifact(
  db: Knex | Knex.Transaction,
  pairs: { modelRef?: string; uri: string }[],
): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  const uris = [...new Set(pairs.flatMap(p => uriVariants(p.uri)))];
  const refs = [
    ...new Set(pairs.map(p => p.modelRef).filter((r): r is string => !!r)),
  ];
  if (uris.length === 0) return out;
  for (const chunk of chunks(uris, 500)) {
    const query = db('kubeai_model_versions')
      .whereIn('artifact_uri', chunk)
      .select('model_ref', 'version', 'artifact_uri');
    if (refs.length > 0 && refs.length === pairs.length) {
      query.whereIn('model_ref', refs);
    }
    const rows: { model_ref: string; version: number; artifact_uri: string }[] =
      await query;
    for (const row of rows) {
      for (const key of [
        `${row.model_ref}|${bareUri(row.artifact_uri)}`,
        `*|${bareUri(row.artifact_uri)}`,
      ]) {
        const list = out.get(key) ?? [];
        list.push(Number(row.version));
        out.set(key, list);
      }
    }
  }
  return out;
}

/** The version to report among several with the same artifact: a declared one, else the newest. */
function pickVersion(
  candidates: number[] | undefined,
  declared: number[],
): number | null {
  if (!candidates || candidates.length === 0) return null;
  const preferred = candidates.filter(v => declared.includes(v));
  return Math.max(...(preferred.length ? preferred : candidates));
}

/** The observed state of a deployment from its InferenceService's observation. */
export function deploymentObserved(
  obs: Observation,
  deployment: { model_ref: string; traffic: string },
  versions: Map<string, number[]>,
  now: string,
  previous?: DeploymentObserved | null,
): DeploymentObserved {
  const declared = fromJson<{ version: number }[]>(deployment.traffic, []).map(
    t => t.version,
  );
  const lookup = (uri: string) =>
    pickVersion(
      versions.get(`${deployment.model_ref}|${bareUri(uri)}`),
      declared,
    );
  const labelVersion =
    obs.modelVersion && /^[1-9][0-9]*$/.test(obs.modelVersion)
      ? Number(obs.modelVersion)
      : null;
  const servedVersion = obs.storageUri ? lookup(obs.storageUri) : labelVersion;
  const details = obs.details as {
    stable?: { version?: string; storageUri?: string };
    canaryTrafficPercent?: number;
    statusTraffic?: [];
    conditions?: unknown[];
    revisions?: Record<string, unknown>;
  };
  const stable = details.stable?.storageUri
    ? {
        storageUri: details.stable.storageUri,
        version: lookup(details.stable.storageUri),
      }
    : undefined;
  const out: DeploymentObserved = {
    phase: obs.deleted ? 'Deleted' : obs.phase,
    ready: !obs.deleted && Boolean(obs.ready),
    cluster: obs.cluster,
    namespace: obs.namespace,
    name: obs.name,
    uid: obs.uid,
    resourceVersion: obs.resourceVersion,
    managed: obs.managed,
    modelRef: deployment.model_ref,
    servedVersion,
    traffic: obs.deleted
      ? []
      : observedTraffic(
          { storageUri: obs.storageUri, version: servedVersion },
          stable,
          details,
        ),
  };
  if (obs.url) out.url = obs.url;
  if (obs.storageUri) out.storageUri = obs.storageUri;
  if (obs.reason) out.reason = obs.reason;
  if (obs.message) out.message = obs.message;
  if (details.revisions) out.revisions = details.revisions;
  if (details.conditions) out.conditions = details.conditions;
  if (obs.deleted) {
    out.deleted = true;
    out.deletedAt =
      previous?.deleted && previous.deletedAt ? previous.deletedAt : now;
  }
  return out;
}

/** The JSON kept on a run: what its object looks like (no resourceVersion: it changes each event). */
function runObserved(obs: Observation, now: string, previous: any) {
  const out: Record<string, unknown> = {
    kind: obs.kind,
    apiVersion: obs.apiVersion,
    uid: obs.uid,
  };
  if (obs.ready !== undefined) out.ready = obs.ready;
  if (obs.url) out.url = obs.url;
  const conditions = (obs.details as { conditions?: unknown[] }).conditions;
  if (conditions && conditions.length) out.conditions = conditions;
  if (obs.deleted) {
    out.deleted = true;
    out.deletedAt = previous?.deletedAt ?? now;
  }
  return out;
}

interface RunFields {
  phase: string;
  reason: string | null;
  message: string | null;
  started_at: string | null;
  finished_at: string | null;
  schedule: string | null;
  observed: string;
}

function runFields(
  spec: KindSpec,
  obs: Observation,
  current: RunRowLite | undefined,
  scheduleRunId: string | undefined,
  now: string,
): RunFields {
  let phase = obs.phase;
  let reason = obs.reason;
  let message = obs.message;
  let finishedAt = obs.finishedAt;
  if (spec.role === 'schedule') {
    // a schedule is "running" while it may spawn runs
    phase = obs.phase === 'Suspended' ? 'Stopped' : 'Running';
    reason = obs.phase;
    message = undefined;
    finishedAt = undefined;
  }
  if (current?.reason === RUN_DELETED_FROM_PORTAL) {
    // stopped by whoever deleted it through the portal: its last events change nothing of that
    phase = current.phase;
    reason = current.reason;
    message = current.message ?? undefined;
    finishedAt = current.finished_at ?? undefined;
  } else if (obs.deleted && !isFinalPhase(phase)) {
    phase = 'Stopped';
    reason = 'Deleted';
    message = `${obs.kind} ${obs.namespace}/${obs.name} was deleted from cluster ${obs.cluster}`;
    finishedAt = current?.finished_at ?? now;
  }
  const previous = fromJson<any>(current?.observed, null);
  return {
    phase,
    reason: reason ?? null,
    message: message ?? null,
    started_at: obs.startedAt ?? current?.started_at ?? null,
    finished_at: finishedAt ?? null,
    schedule: obs.schedule
      ? toJson({
          kind: obs.schedule.kind,
          name: obs.schedule.name,
          ...(scheduleRunId ? { runId: scheduleRunId } : {}),
        })
      : null,
    observed: toJson(runObserved(obs, now, previous)),
  };
}

function sameRunFields(current: RunRowLite, next: RunFields): boolean {
  return (
    current.phase === next.phase &&
    (current.reason ?? null) === next.reason &&
    (current.message ?? null) === next.message &&
    (current.started_at ?? null) === next.started_at &&
    (current.finished_at ?? null) === next.finished_at &&
    (current.schedule ?? null) === next.schedule &&
    (current.observed ?? null) === next.observed
  );
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
  // the last observation per object wins
  const byKey = new Map<string, Observation>();
  for (const obs of input) {
    byKey.set(keyOf(obs.cluster, obs.kind, obs.namespace, obs.name), obs);
  }
  const batch = [...byKey.values()];

  // ---- the stored objects
  const existing = new Map<string, ClusterObjectRow>();
  for (const group of groupBy(
    batch,
    o => `${o.cluster}\u0000${o.kind}`,
  ).values()) {
    const { cluster, kind } = group[0];
    for (const names of chunks([...new Set(group.map(o => o.name))], 500)) {
      const rows: ClusterObjectRow[] = await tx('kubeai_cluster_objects')
        .where({ cluster, kind })
        .whereIn('name', names);
      for (const row of rows) {
        existing.set(
          keyOf(row.cluster, row.kind, row.namespace, row.name),
          row,
        );
      }
    }
  }
  const work: { obs: Observation; spec: KindSpec; row?: ClusterObjectRow }[] =
    [];
  for (const obs of batch) {
    const spec = kindSpec(obs.kind);
    if (!spec) continue;
    const row = existing.get(
      keyOf(obs.cluster, obs.kind, obs.namespace, obs.name),
    );
    if (row) {
      if (row.uid === obs.uid) {
        const cmp = compareResourceVersions(
          row.resource_version,
          obs.resourceVersion,
        );
        if (cmp !== undefined && cmp > 0) {
          stats.skipped++; // older than what is stored
          continue;
        }
        if (
          (cmp === 0 || row.resource_version === obs.resourceVersion) &&
          Boolean(row.deleted_at) === obs.deleted
        ) {
          stats.skipped++; // nothing new (a relist)
          continue;
        }
        if (row.deleted_at && !obs.deleted && cmp === undefined) {
          // opaque versions: a deleted object does not come back with the same uid
          stats.skipped++;
          continue;
        }
      } else if (obs.deleted) {
        stats.skipped++; // the deletion of an older incarnation
        continue;
      }
    }
    work.push({ obs, spec, row });
  }
  if (work.length === 0) return stats;

  // ---- runs
  const runIds = new Map<Observation, string>();
  const runWork = work.filter(
    w => isRun(w.spec, w.obs) || w.spec.role === 'schedule',
  );
  const runsByUid = new Map<string, RunRowLite>();
  const runsByLabel = new Map<string, RunRowLite>();
  const runsByName = new Map<string, RunRowLite[]>();
  const columns = [
    'id',
    'kind',
    'cluster',
    'namespace',
    'name',
    'uid',
    'model_ref',
    'phase',
    'message',
    'reason',
    'started_at',
    'finished_at',
    'schedule',
    'observed',
  ];
  if (runWork.length > 0) {
    for (const group of groupBy(runWork, w => w.obs.cluster).values()) {
      const cluster = group[0].obs.cluster;
      const uids = new Set<string>();
      for (const w of group) {
        uids.add(w.obs.uid);
        if (w.obs.schedule && w.obs.owner?.uid) uids.add(w.obs.owner.uid);
      }
      for (const chunk of chunks([...uids], 500)) {
        const rows: RunRowLite[] = await tx('kubeai_runs')
          .where({ cluster })
          .whereIn('uid', chunk)
          .select(columns);
        for (const row of rows) runsByUid.set(`${cluster}|${row.uid}`, row);
      }
      const unlinked = group.filter(
        w =>
          !runsByUid.has(`${cluster}|${w.obs.uid}`) &&
          !(w.row?.uid === w.obs.uid && w.row.run_id),
      );
      const labels = unlinked
        .filter(
          w => !w.obs.schedule && w.obs.runLabel && UUID.test(w.obs.runLabel),
        )
        .map(w => w.obs.runLabel!);
      for (const chunk of chunks([...new Set(labels)], 500)) {
        const rows: RunRowLite[] = await tx('kubeai_runs')
          .whereIn('id', chunk)
          .select(columns);
        for (const row of rows) runsByLabel.set(row.id, row);
      }
      const names = unlinked.map(w => w.obs.name);
      for (const chunk of chunks([...new Set(names)], 500)) {
        const rows: RunRowLite[] = await tx('kubeai_runs')
          .where({ cluster })
          .whereNull('uid')
          .whereIn('name', chunk)
          .select(columns);
        for (const row of rows) {
          const list =
            runsByName.get(`${cluster}|${row.namespace}|${row.name}`) ?? [];
          list.push(row);
          runsByName.set(`${cluster}|${row.namespace}|${row.name}`, list);
        }
      }
    }
    // runs already linked through the object row
    const linkedIds = runWork
      .filter(w => w.row?.uid === w.obs.uid && w.row.run_id)
      .map(w => w.row!.run_id!);
    const linked = new Map<string, RunRowLite>();
    for (const chunk of chunks([...new Set(linkedIds)], 500)) {
      const rows: RunRowLite[] = await tx('kubeai_runs')
        .whereIn('id', chunk)
        .select(columns);
      for (const row of rows) linked.set(row.id, row);
    }

    const claimed = new Set<string>();
    const inserts: Record<string, unknown>[] = [];
    for (const w of runWork) {
      const { obs, spec } = w;
      let run: RunRowLite | undefined;
      if (w.row?.uid === obs.uid && w.row.run_id)
        run = linked.get(w.row.run_id);
      run ??= runsByUid.get(`${obs.cluster}|${obs.uid}`);
      if (!run && !obs.schedule && obs.runLabel) {
        const byLabel = runsByLabel.get(obs.runLabel);
        if (
          byLabel &&
          byLabel.cluster === obs.cluster &&
          (byLabel.uid === null || byLabel.uid === obs.uid) &&
          !claimed.has(byLabel.id)
        ) {
          run = byLabel;
        }
      }
      if (!run) {
        run = (
          runsByName.get(`${obs.cluster}|${obs.namespace}|${obs.name}`) ?? []
        ).find(
          r => !claimed.has(r.id) && (!spec.runKind || r.kind === spec.runKind),
        );
      }
      const scheduleRun =
        obs.schedule && obs.owner?.uid
          ? runsByUid.get(`${obs.cluster}|${obs.owner.uid}`)?.id
          : undefined;
      if (run) {
        claimed.add(run.id);
        runIds.set(obs, run.id);
        const fields = runFields(spec, obs, run, scheduleRun, now);
        const uidUpdate = run.uid === null ? { uid: obs.uid } : {};
        const modelUpdate =
          run.model_ref === null && obs.modelRef
            ? { model_ref: obs.modelRef }
            : {};
        if (
          !sameRunFields(run, fields) ||
          Object.keys(uidUpdate).length ||
          Object.keys(modelUpdate).length
        ) {
          await tx('kubeai_runs')
            .where({ id: run.id })
            .update({
              ...fields,
              ...uidUpdate,
              ...modelUpdate,
              observed_at: now,
              updated_at: now,
            });
          stats.runsUpdated++;
        }
        continue;
      }
      if (spec.role === 'schedule' || obs.deleted) {
        continue; // schedules are runs only when the portal recorded them; never create a run for a deletion
      }
      const label = obs.runLabel;
      const id =
        !obs.schedule &&
        label &&
        UUID.test(label) &&
        !runsByLabel.has(label) &&
        !claimed.has(label)
          ? label
          : randomUUID();
      claimed.add(id);
      runIds.set(obs, id);
      const fields = runFields(spec, obs, undefined, scheduleRun, now);
      inserts.push({
        id,
        kind: spec.runKind ?? 'training',
        cluster: obs.cluster,
        namespace: obs.namespace,
        name: obs.name,
        uid: obs.uid,
        model_ref: obs.modelRef ?? null,
        params: '{}',
        created_by: INFORMER_ACTOR,
        created_at: obs.createdAt ?? now,
        updated_at: now,
        observed_at: now,
        ...fields,
      });
    }
    for (const chunk of chunks(inserts, 40)) {
      await tx('kubeai_runs').insert(chunk);
      stats.runsCreated += chunk.length;
    }
  }

  // ---- deployments (observed state of InferenceServices)
  const serviceRefs = new Map<Observation, string>();
  const serviceWork = work.filter(w => w.spec.role === 'service');
  if (serviceWork.length > 0) {
    const deployments = new Map<string, DeploymentRowLite>();
    const refs = serviceWork
      .map(w => w.obs.entityRef)
      .filter((r): r is string => !!r && r.startsWith('inferenceservice:'));
    const depColumns = [
      'service_ref',
      'cluster',
      'namespace',
      'name',
      'model_ref',
      'traffic',
      'observed',
    ];
    for (const chunk of chunks([...new Set(refs)], 500)) {
      const rows: DeploymentRowLite[] = await tx('kubeai_deployments')
        .whereIn('service_ref', chunk)
        .select(depColumns);
      for (const row of rows) deployments.set(row.service_ref, row);
    }
    const byLocation = new Map<string, DeploymentRowLite>();
    for (const group of groupBy(serviceWork, w => w.obs.cluster).values()) {
      const cluster = group[0].obs.cluster;
      for (const chunk of chunks(
        [...new Set(group.map(w => w.obs.name))],
        500,
      )) {
        const rows: DeploymentRowLite[] = await tx('kubeai_deployments')
          .where({ cluster })
          .whereIn('name', chunk)
          .select(depColumns);
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
    if (matches.length > 0) {
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
    }
  }

  // ---- the objects themselves
  const inserts: Record<string, unknown>[] = [];
  for (const { obs, spec, row } of work) {
    const sameIncarnation = row?.uid === obs.uid;
    const entityRef =
      obs.entityRef ??
      (spec.role === 'service' && !obs.managed
        ? discoveredEntityRef(obs.cluster, obs.namespace, obs.name)
        : undefined);
    const values = {
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
      run_id: runIds.get(obs) ?? (sameIncarnation ? row?.run_id ?? null : null),
      service_ref:
        serviceRefs.get(obs) ??
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
    stats.objects++;
    if (row) {
      await tx('kubeai_cluster_objects').where({ id: row.id }).update(values);
    } else {
      inserts.push(values);
    }
  }
  for (const chunk of chunks(inserts, 40)) {
    await tx('kubeai_cluster_objects').insert(chunk);
  }
  return stats;
}

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
    await db('kubeai_deployments')
      .where({ service_ref: row.service_ref })
      .update({ observed: toJson(next), observed_at: now });
    changed++;
  }
  return changed;
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
      if (!object.service_ref) {
        await db('kubeai_cluster_objects')
          .where({ id: object.id })
          .update({ service_ref: deployment.service_ref });
      }
    }
    await db('kubeai_deployments')
      .where({ service_ref: deployment.service_ref })
      .update({ observed: toJson(next), observed_at: now });
    changed++;
  }
  return changed;
}

// ---------------------------------------------------------------------------------- reads

/** An observed object as the API shows it. */
export interface ObservedObject {
  cluster: string;
  kind: string;
  apiVersion: string;
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
  managed: boolean;
  entityRef?: string;
  modelRef?: string;
  modelVersion?: string;
  runId?: string;
  serviceRef?: string;
  schedule?: { kind: string; name: string };
  phase: string;
  reason?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  ready?: boolean;
  url?: string;
  storageUri?: string;
  details: Record<string, unknown>;
  createdAt?: string;
  observedAt: string;
  deletedAt?: string;
  /** InferenceServices not created by the portal whose storageUri is a registered artifact. */
  discovered?: { modelRef: string; version: number };
}

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
