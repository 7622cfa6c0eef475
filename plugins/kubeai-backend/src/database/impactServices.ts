/**
 * The services serving model versions, for the impact of retiring something (./impact.ts) and
 * the archive of a model version (./ModelVersionStore.ts, refused while anything serves it):
 * recorded deployments, what the cluster informers observe them serving, and InferenceServices no
 * deployment records (discovered) whose storageUri is such a version's artifact or whose labels
 * name it.
 */
import type {
  ImpactService,
  ImpactServiceSource,
} from '@kubeai/plugin-kubeai-common';
import { Knex } from 'knex';
import { normalizeRef } from '../refs';
import type { DeploymentObserved } from './drift';
import { bareUri, uriVariants } from './observed/common';
import { chunks, fromJson } from './util';

/** The id of a model version, as in the lineage graph: `model:<ns>/<name>@<version>`. */
export const versionKey = (ref: string, version: number) => `${ref}@${version}`;

/**
 * The model versions whose services are in the impact: the versions `readers` (runs) produced,
 * one `version`, and every version of `models`.
 */
export interface Scope {
  /** Ids of the runs that read the dataset (a subquery). */
  readers?: (db: Knex) => Knex.QueryBuilder;
  version?: { ref: string; version: number };
  models: string[];
}

/** Restricts `query` to the model versions of `scope`; `alias` is the model versions table. */
export function whereReached(
  db: Knex,
  query: Knex.QueryBuilder,
  alias: string,
  scope: Scope,
): Knex.QueryBuilder {
  return query.where(w => {
    if (scope.readers) w.orWhereIn(`${alias}.run_id`, scope.readers(db));
    if (scope.version) {
      w.orWhere(v =>
        v
          .where(`${alias}.model_ref`, scope.version!.ref)
          .andWhere(`${alias}.version`, scope.version!.version),
      );
    }
    if (scope.models.length) w.orWhereIn(`${alias}.model_ref`, scope.models);
    if (!scope.readers && !scope.version && !scope.models.length) {
      w.whereRaw('1 = 0');
    }
  });
}

/** Which of the (model, version) `pairs` are in `scope`: `model@version` keys. */
async function reachedOf(
  db: Knex,
  pairs: { ref: string; version: number }[],
  scope: Scope,
): Promise<Set<string>> {
  const out = new Set<string>();
  const unique = [
    ...new Map(pairs.map(p => [versionKey(p.ref, p.version), p])).values(),
  ];
  for (const chunk of chunks(unique, 200)) {
    const query = db('kubeai_model_versions as mv')
      .where(w => {
        for (const p of chunk) {
          w.orWhere(v =>
            v.where('mv.model_ref', p.ref).andWhere('mv.version', p.version),
          );
        }
      })
      .select('mv.model_ref', 'mv.version');
    const rows: { model_ref: string; version: number }[] = await whereReached(
      db,
      query,
      'mv',
      scope,
    );
    for (const r of rows) out.add(versionKey(r.model_ref, Number(r.version)));
  }
  return out;
}

/** Collects services: one item per (service, model), its versions and sources. */
export class ServiceList {
  readonly #items = new Map<string, ImpactService>();

  add(
    base: Omit<ImpactService, 'versions' | 'sources' | 'via'>,
    source: ImpactServiceSource,
    via: string,
    served?: { version: number; percent: number },
  ) {
    const key = `${base.serviceRef}|${base.modelRef}`;
    let item = this.#items.get(key);
    if (!item) {
      item = { ...base, versions: [], sources: [], via };
      this.#items.set(key, item);
    }
    for (const field of ['cluster', 'namespace', 'name', 'phase'] as const) {
      if (item[field] === undefined && base[field] !== undefined) {
        item[field] = base[field];
      }
    }
    if (!item.sources.includes(source)) item.sources.push(source);
    if (served) item.versions.push({ ...served, source });
  }

  items(): ImpactService[] {
    return [...this.#items.values()].sort(
      (a, b) =>
        a.serviceRef.localeCompare(b.serviceRef) ||
        a.modelRef.localeCompare(b.modelRef),
    );
  }
}

/** A deployment as the cluster serves it: undefined when it is gone from the cluster. */
function liveObserved(text: string | null): DeploymentObserved | undefined {
  const observed = fromJson<DeploymentObserved | null>(text, null);
  if (!observed || observed.deleted) return undefined;
  if (observed.phase === 'Deleted' || observed.phase === 'NotFound') {
    return undefined;
  }
  return observed;
}

/**
 * The services serving the model versions of `scope`: recorded deployments (their traffic),
 * what the informers observe deployments serving, and InferenceServices without a recorded
 * deployment (discovered) whose storageUri is such a version's artifact or whose labels name it.
 */
export async function servicesOf(
  db: Knex,
  scope: Scope,
  list = new ServiceList(),
): Promise<ServiceList> {
  // recorded: the declared traffic
  const recorded: {
    service_ref: string;
    cluster: string;
    namespace: string;
    name: string;
    model_ref: string;
    version: number;
    percent: number;
  }[] = await whereReached(
    db,
    db('kubeai_deployment_traffic as t')
      .join('kubeai_deployments as d', 'd.service_ref', 't.service_ref')
      .join('kubeai_model_versions as mv', join =>
        join
          .on('mv.model_ref', '=', 't.model_ref')
          .andOn('mv.version', '=', 't.version'),
      )
      .select(
        'd.service_ref',
        'd.cluster',
        'd.namespace',
        'd.name',
        't.model_ref',
        't.version',
        't.percent',
      ),
    'mv',
    scope,
  );
  for (const r of recorded) {
    const version = Number(r.version);
    list.add(
      {
        serviceRef: r.service_ref,
        cluster: r.cluster,
        namespace: r.namespace,
        name: r.name,
        modelRef: r.model_ref,
      },
      'recorded',
      versionKey(r.model_ref, version),
      { version, percent: Number(r.percent) },
    );
  }

  // observed: what the cluster serves for the deployments of the models reached
  const models = whereReached(
    db,
    db('kubeai_model_versions as mv').distinct('mv.model_ref'),
    'mv',
    scope,
  );
  const deployments: {
    service_ref: string;
    cluster: string;
    namespace: string;
    name: string;
    model_ref: string;
    observed: string | null;
  }[] = await db('kubeai_deployments')
    .whereIn('model_ref', models)
    .whereNotNull('observed')
    .select(
      'service_ref',
      'cluster',
      'namespace',
      'name',
      'model_ref',
      'observed',
    );
  const served: {
    base: Omit<ImpactService, 'versions' | 'sources' | 'via'>;
    version: number;
    percent: number;
  }[] = [];
  for (const d of deployments) {
    const observed = liveObserved(d.observed);
    if (!observed) continue;
    for (const t of observed.traffic ?? []) {
      if (t.version === null || t.percent <= 0) continue;
      served.push({
        base: {
          serviceRef: d.service_ref,
          cluster: d.cluster,
          namespace: d.namespace,
          name: d.name,
          modelRef: d.model_ref,
          phase: observed.phase,
        },
        version: Number(t.version),
        percent: t.percent,
      });
    }
  }

  // discovered: live InferenceServices no deployment records (few), matched by artifact or labels
  const objects: {
    cluster: string;
    namespace: string;
    name: string;
    entity_ref: string | null;
    model_ref: string | null;
    model_version: string | null;
    storage_uri: string | null;
    phase: string;
  }[] = await db('kubeai_cluster_objects')
    .where({ kind: 'InferenceService' })
    .whereNull('deleted_at')
    .whereNull('service_ref')
    .where(w => w.whereNotNull('storage_uri').orWhereNotNull('model_ref'))
    .select(
      'cluster',
      'namespace',
      'name',
      'entity_ref',
      'model_ref',
      'model_version',
      'storage_uri',
      'phase',
    );
  const byUri = new Map<string, { ref: string; version: number }[]>();
  const uris = objects.flatMap(o =>
    o.storage_uri ? uriVariants(o.storage_uri) : [],
  );
  for (const chunk of chunks([...new Set(uris)], 500)) {
    const rows: { model_ref: string; version: number; artifact_uri: string }[] =
      await db('kubeai_model_versions')
        .whereIn('artifact_uri', chunk)
        .select('model_ref', 'version', 'artifact_uri');
    for (const r of rows) {
      const key = bareUri(r.artifact_uri);
      byUri.set(key, [
        ...(byUri.get(key) ?? []),
        { ref: r.model_ref, version: Number(r.version) },
      ]);
    }
  }
  const discovered: {
    object: (typeof objects)[number];
    ref: string;
    version: number;
  }[] = [];
  for (const o of objects) {
    const versions = o.storage_uri
      ? byUri.get(bareUri(o.storage_uri)) ?? []
      : [];
    const labelled = Number(o.model_version);
    if (o.model_ref && Number.isInteger(labelled) && labelled > 0) {
      versions.push({ ref: normalizeRef(o.model_ref), version: labelled });
    }
    for (const v of versions) discovered.push({ object: o, ...v });
  }

  const reached = await reachedOf(
    db,
    [
      ...served.map(s => ({ ref: s.base.modelRef, version: s.version })),
      ...discovered,
    ],
    scope,
  );
  for (const s of served) {
    const key = versionKey(s.base.modelRef, s.version);
    if (reached.has(key)) {
      list.add(s.base, 'observed', key, {
        version: s.version,
        percent: s.percent,
      });
    }
  }
  const seen = new Set<string>();
  for (const { object: o, ref, version } of discovered) {
    const key = versionKey(ref, version);
    const once = `${o.cluster}|${o.namespace}|${o.name}|${key}`;
    if (!reached.has(key) || seen.has(once)) continue;
    seen.add(once);
    list.add(
      {
        serviceRef:
          o.entity_ref ??
          `inferenceservice:default/${o.cluster}.${o.namespace}.${o.name}`,
        cluster: o.cluster,
        namespace: o.namespace,
        name: o.name,
        modelRef: ref,
        phase: o.phase,
      },
      'discovered',
      key,
      // an InferenceService without a recorded split serves its storageUri only
      { version, percent: 100 },
    );
  }
  return list;
}

/**
 * The services that serve one model version (recorded, observed or discovered): what an archive
 * of the version must wait for. Reads through `db` (a transaction in the archive).
 */
export async function servicesServingVersion(
  db: Knex,
  modelRef: string,
  version: number,
): Promise<ImpactService[]> {
  const ref = normalizeRef(modelRef);
  return (
    await servicesOf(db, { version: { ref, version }, models: [] })
  ).items();
}

/** `ns/name in cluster c (ref, 90%)` for each service of {@link servicesServingVersion}. */
export function describeServing(
  services: ImpactService[],
  version: number,
): string {
  return services
    .map(s => {
      const recorded = s.versions.find(
        v => v.version === version && v.source === 'recorded',
      );
      const other = s.versions.find(v => v.version === version);
      const share = recorded
        ? `${recorded.percent}%`
        : `${other?.percent ?? 0}% ${
            other?.source === 'discovered'
              ? 'as observed, not deployed through the portal'
              : 'as observed in the cluster'
          }`;
      return `${s.namespace}/${s.name} in cluster ${s.cluster} (${s.serviceRef}, ${share})`;
    })
    .join(', ');
}
