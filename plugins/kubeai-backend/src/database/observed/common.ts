/**
 * Shared pieces of the observed store (see ./ObservedStore.ts): the row shapes of
 * `kubeai_cluster_objects` and the lite rows of runs / deployments it reads, the ref of discovered
 * services, resourceVersion order and artifact → registered version lookups.
 */
import { Knex } from 'knex';
import { toLabelValue } from '../../manifests/labels';
import { chunks } from '../util';

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

export interface RunRowLite {
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
  parent_run_id?: string | null;
}

export interface DeploymentRowLite {
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

export const UUID =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const keyOf = (
  cluster: string,
  kind: string,
  ns: string,
  name: string,
) => `${cluster}\u0000${kind}\u0000${ns}\u0000${name}`;

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

export const asBool = (value: boolean | number | null | undefined) =>
  value === null || value === undefined ? undefined : Boolean(value);

/** The uri and its trailing-slash twin, so `s3://b/m` matches `s3://b/m/`. */
export function uriVariants(uri: string): string[] {
  const bare = uri.replace(/\/+$/, '');
  return bare === uri ? [uri, `${uri}/`] : [uri, bare];
}

export const bareUri = (uri: string) => uri.replace(/\/+$/, '');

/** Registered model versions whose artifact is one of `uris` (with or without a trailing slash). */
export async function versionsServing(
  db: Knex | Knex.Transaction,
  uris: string[],
): Promise<
  { model_ref: string; version: number; state: string; artifact_uri: string }[]
> {
  const variants = [...new Set(uris.flatMap(uriVariants))];
  const out = [];
  for (const chunk of chunks(variants, 500)) {
    out.push(
      ...(await db('kubeai_model_versions')
        .whereIn('artifact_uri', chunk)
        .select('model_ref', 'version', 'state', 'artifact_uri')),
    );
  }
  return out.map(r => ({ ...r, version: Number(r.version) }));
}

/** The models with a version whose artifact is one of `uris`. */
export async function modelsWithArtifacts(
  db: Knex | Knex.Transaction,
  uris: string[],
): Promise<string[]> {
  const versions = await versionsServing(db, uris);
  return [...new Set(versions.map(v => v.model_ref))];
}

/** Registered versions per (model, artifact uri): `model|uri` → versions. */
export async function versionsByArtifact(
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
