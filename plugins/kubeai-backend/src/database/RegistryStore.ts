import {
  DatabaseService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import type {
  CreateDatasetVersionRequest,
  CreateDeploymentRequest,
  CreateModelVersionRequest,
  CreateRunRequest,
  DatasetVersion,
  DatasetVersionList,
  Deployment,
  DeploymentList,
  DeploymentRevisionList,
  LineageGraph,
  ListDeploymentsQuery,
  ListModelVersionsQuery,
  ListRunsQuery,
  ModelVersion,
  ModelVersionList,
  Run,
  RunInput,
  RunList,
  TrafficTarget,
  UpdateDeploymentRequest,
  UpdateModelVersionRequest,
  UpdateRunRequest,
} from '@kubeai/plugin-kubeai-common';
import { randomUUID } from 'node:crypto';
import { Knex } from 'knex';
import { UnprocessableEntityError } from '../errors';
import { normalizeRef } from '../refs';
import { RegistryChanges } from './changes';
import { GraphBuilder, LineageStart, walkInto, walkLineage } from './lineage';
import { computeDrift, type DeploymentObserved } from '../informers/drift';
import {
  augmentLineage,
  discoveredLineage,
} from '../informers/observedLineage';
import {
  applyObservations,
  countObservedObjects,
  listObservedObjects,
  markMissingDeployments,
  missingObjects,
  objectsOfRun,
  observedObjectFromRow,
  reconcileDeployments,
  type ApplyStats,
  type ObservedObject,
  type ObservedObjectQuery,
} from '../informers/observedStore';
import type { Observation } from '../informers/observe';
import {
  chunks,
  compact,
  fromJson,
  KeyedMutex,
  nowIso,
  retryOnUniqueViolation,
  toIso,
  toJson,
  toNumber,
  wherePairs,
} from './util';

const migrationsDir = resolvePackagePath(
  '@kubeai/plugin-kubeai-backend',
  'migrations',
);

/** Alias that always means the newest live version; it cannot be assigned. */
export const LATEST_ALIAS = 'latest';

const DEFAULT_LIMIT = 100;

/** Paging of list reads. */
export interface Page {
  limit?: number;
  offset?: number;
}

/** Row shapes of the tables (see migrations/). */
export interface ModelVersionRow {
  id: number;
  model_ref: string;
  version: number;
  artifact_uri: string;
  artifact_format: string;
  artifact_digest: string | null;
  artifact_size: string | number | null;
  framework: string | null;
  description: string | null;
  metrics: string;
  curves: string | null;
  params: string;
  tags: string;
  state: string;
  run_id: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface RunRow {
  /** Observed by the cluster informers (migration 20261220000000_observed). */
  reason?: string | null;
  schedule?: string | null;
  observed?: string | null;
  observed_at?: string | null;
  id: string;
  kind: string;
  cluster: string;
  namespace: string;
  name: string;
  uid: string | null;
  model_ref: string | null;
  phase: string;
  message: string | null;
  started_at: string | null;
  finished_at: string | null;
  params: string;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface DatasetVersionRow {
  id: number;
  dataset_ref: string;
  version: string;
  uri: string;
  digest: string | null;
  size: string | number | null;
  description: string | null;
  created_by: string;
  created_at: string;
}

export interface DeploymentRow {
  service_ref: string;
  cluster: string;
  namespace: string;
  name: string;
  model_ref: string;
  revision: number;
  traffic: string;
  desired: string;
  observed: string | null;
  observed_at: string | null;
  created_at: string;
  updated_at: string;
  updated_by: string;
}

/**
 * The KubeAI registry: owns every `kubeai_*` table. All writes are single transactions, so a failed
 * request writes nothing. Refs given to it are normalized to lower case.
 *
 * @public
 */
export class RegistryStore {
  readonly #db: Knex;
  readonly #changes: RegistryChanges;
  readonly #versionLocks = new KeyedMutex();

  /** Applies the migrations (unless `skipMigrations`) and returns the store. */
  static async create(options: {
    database: DatabaseService;
    skipMigrations?: boolean;
  }): Promise<RegistryStore> {
    const client = await options.database.getClient();
    if (!options.database.migrations?.skip && !options.skipMigrations) {
      await RegistryStore.migrate(client);
    }
    return new RegistryStore(client);
  }

  static async migrate(knex: Knex): Promise<void> {
    await knex.migrate.latest({
      directory: migrationsDir,
      tableName: 'kubeai__knex_migrations',
    });
  }

  constructor(knex: Knex) {
    this.#changes = RegistryChanges.of(knex);
    this.#db = this.#changes.trackWrites();
  }

  /**
   * A token that changes with every committed registry write (of any replica, on PostgreSQL):
   * answers computed under one token stay valid while it does not change.
   */
  async changeToken(): Promise<string> {
    return this.#changes.token();
  }

  // ------------------------------------------------------------------ model versions

  /**
   * Registers the next version of a model: `max(version) + 1` inside a transaction; the unique index
   * (model_ref, version) rejects a concurrent duplicate, and the whole transaction is retried.
   */
  async createModelVersion(
    modelRef: string,
    request: CreateModelVersionRequest,
    actor: string,
  ): Promise<ModelVersion> {
    const ref = normalizeRef(modelRef);
    const aliases = request.aliases ?? [];
    assertAssignableAliases(aliases, 'request/body/aliases');
    return this.#versionLocks.run(ref, () =>
      retryOnUniqueViolation(() =>
        this.#db.transaction(async tx => {
          if (request.runId) {
            const run = await tx('kubeai_runs')
              .where({ id: request.runId })
              .first('id');
            if (!run) {
              throw new UnprocessableEntityError(
                `request/body/runId: run ${request.runId} not found`,
              );
            }
          }
          const max = await tx('kubeai_model_versions')
            .where({ model_ref: ref })
            .max({ max: 'version' })
            .first();
          const version = (toNumber(max?.max) ?? 0) + 1;
          const now = nowIso();
          await tx('kubeai_model_versions').insert({
            model_ref: ref,
            version,
            artifact_uri: request.artifact.uri,
            artifact_format: request.artifact.format,
            artifact_digest: request.artifact.digest ?? null,
            artifact_size: request.artifact.size ?? null,
            framework: request.framework ?? null,
            description: request.description ?? null,
            metrics: toJson(request.metrics ?? {}),
            curves: request.curves ? toJson(request.curves) : null,
            params: toJson(request.params ?? {}),
            tags: toJson(request.tags ?? []),
            state: 'live',
            run_id: request.runId ?? null,
            created_by: actor,
            created_at: now,
            updated_at: now,
          });
          await moveAliases(tx, ref, version, aliases, actor, now);
          return (await readModelVersions(tx, ref, [version]))[0];
        }),
      ),
    );
  }

  async getModelVersion(
    modelRef: string,
    version: number,
  ): Promise<ModelVersion | undefined> {
    const [item] = await readModelVersions(this.#db, normalizeRef(modelRef), [
      version,
    ]);
    return item;
  }

  /** The version an alias points to; `latest` is the newest live version. */
  async getModelVersionByAlias(
    modelRef: string,
    alias: string,
  ): Promise<ModelVersion | undefined> {
    const ref = normalizeRef(modelRef);
    let version: number | undefined;
    if (alias === LATEST_ALIAS) {
      const row = await this.#db('kubeai_model_versions')
        .where({ model_ref: ref, state: 'live' })
        .max({ max: 'version' })
        .first();
      version = toNumber(row?.max);
    } else {
      const row = await this.#db('kubeai_model_aliases')
        .where({ model_ref: ref, alias })
        .first('version');
      version = toNumber(row?.version);
    }
    if (version === undefined) {
      return undefined;
    }
    return this.getModelVersion(ref, version);
  }

  async listModelVersions(
    modelRef: string,
    filter: ListModelVersionsQuery = {},
  ): Promise<ModelVersionList> {
    const ref = normalizeRef(modelRef);
    const base = this.#db('kubeai_model_versions').where({ model_ref: ref });
    if (filter.state) {
      base.where({ state: filter.state });
    }
    if (filter.tag) {
      base.whereRaw(`tags like ? escape '\\'`, [
        `%${likeEscape(JSON.stringify(filter.tag))}%`,
      ]);
    }
    const [{ count }] = await base.clone().count({ count: '*' });
    const rows: { version: number }[] = await base
      .clone()
      .select('version')
      .orderBy('version', 'desc')
      .limit(filter.limit ?? DEFAULT_LIMIT)
      .offset(filter.offset ?? 0);
    const items = await readModelVersions(
      this.#db,
      ref,
      rows.map(r => r.version),
    );
    return { items, totalItems: Number(count) };
  }

  /**
   * Moves aliases (the version holds exactly `aliases` afterwards), archives / restores it, replaces
   * tags or description — in one transaction.
   */
  async updateModelVersion(
    modelRef: string,
    version: number,
    patch: UpdateModelVersionRequest,
    actor: string,
  ): Promise<ModelVersion> {
    const ref = normalizeRef(modelRef);
    if (patch.aliases) {
      assertAssignableAliases(patch.aliases, 'request/body/aliases');
    }
    return retryOnUniqueViolation(() =>
      this.#db.transaction(async tx => {
        const row = await tx('kubeai_model_versions')
          .where({ model_ref: ref, version })
          .first('state');
        if (!row) {
          throw new NotFoundError(`${ref} has no version ${version}`);
        }
        const state = patch.state ?? row.state;
        const now = nowIso();
        if (patch.state === 'archived') {
          // a version a deployment's traffic includes is served: move the traffic first
          const serving: {
            service_ref: string;
            cluster: string;
            namespace: string;
            name: string;
            percent: number;
          }[] = await tx('kubeai_deployment_traffic as t')
            .join('kubeai_deployments as d', 'd.service_ref', 't.service_ref')
            .where({ 't.model_ref': ref, 't.version': version })
            .select(
              'd.service_ref',
              'd.cluster',
              'd.namespace',
              'd.name',
              't.percent',
            )
            .orderBy('d.service_ref');
          if (serving.length > 0) {
            throw new ConflictError(
              `request/body/state: version ${version} of ${ref} cannot be archived while it serves traffic: ${serving
                .map(
                  d =>
                    `${d.namespace}/${d.name} in cluster ${d.cluster} (${d.service_ref}, ${d.percent}%)`,
                )
                .join(
                  ', ',
                )}; move the traffic to another version first (deploy, promote or roll back)`,
            );
          }
        }
        if (state === 'archived') {
          const held: { alias: string }[] =
            patch.aliases !== undefined
              ? patch.aliases.map(alias => ({ alias }))
              : await tx('kubeai_model_aliases')
                  .where({ model_ref: ref, version })
                  .select('alias');
          if (held.length > 0) {
            throw new ConflictError(
              `request/body/state: version ${version} of ${ref} cannot be archived while it holds the aliases ${held
                .map(h => h.alias)
                .join(', ')}; move them first or send "aliases": []`,
            );
          }
        }
        const update: Record<string, unknown> = { updated_at: now };
        if (patch.state) update.state = patch.state;
        if (patch.tags) update.tags = toJson(patch.tags);
        if (patch.description !== undefined) {
          update.description = patch.description;
        }
        await tx('kubeai_model_versions')
          .where({ model_ref: ref, version })
          .update(update);
        if (patch.aliases) {
          const dropped = tx('kubeai_model_aliases').where({
            model_ref: ref,
            version,
          });
          if (patch.aliases.length > 0) {
            dropped.whereNotIn('alias', patch.aliases);
          }
          await dropped.delete();
          await moveAliases(tx, ref, version, patch.aliases, actor, now);
        }
        return (await readModelVersions(tx, ref, [version]))[0];
      }),
    );
  }

  // ------------------------------------------------------------------ runs

  async createRun(request: CreateRunRequest, actor: string): Promise<Run> {
    const id = randomUUID();
    const now = nowIso();
    const inputs = dedupeInputs(request.inputs ?? []);
    return this.#db.transaction(async tx => {
      await assertDatasetVersionsExist(tx, inputs);
      if (request.uid) {
        const existing = await tx('kubeai_runs')
          .where({ cluster: request.cluster, uid: request.uid })
          .first('id');
        if (existing) {
          throw new ConflictError(
            `request/body/uid: run ${existing.id} already records uid ${request.uid} in cluster ${request.cluster}`,
          );
        }
      }
      await tx('kubeai_runs').insert({
        id,
        kind: request.kind,
        cluster: request.cluster,
        namespace: request.namespace,
        name: request.name,
        uid: request.uid ?? null,
        model_ref: request.modelRef ? normalizeRef(request.modelRef) : null,
        phase: request.phase ?? 'Pending',
        message: request.message ?? null,
        started_at: toIso(request.startedAt) ?? null,
        finished_at: toIso(request.finishedAt) ?? null,
        params: toJson(request.params ?? {}),
        created_by: actor,
        created_at: now,
        updated_at: now,
      });
      await insertInputs(tx, id, inputs);
      return (await readRuns(tx, [id]))[0];
    });
  }

  async getRun(id: string): Promise<Run | undefined> {
    const [run] = await readRuns(this.#db, [id]);
    return run;
  }

  async listRuns(filter: ListRunsQuery = {}): Promise<RunList> {
    const base = this.#db('kubeai_runs');
    if (filter.model) base.where({ model_ref: normalizeRef(filter.model) });
    if (filter.kind) base.where({ kind: filter.kind });
    if (filter.phase) base.where({ phase: filter.phase });
    if (filter.dataset) {
      const dataset = normalizeRef(filter.dataset);
      base.whereIn(
        'id',
        this.#db('kubeai_run_inputs')
          .where({ dataset_ref: dataset })
          .select('run_id'),
      );
    }
    const [{ count }] = await base.clone().count({ count: '*' });
    const rows: { id: string }[] = await base
      .clone()
      .select('id')
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'asc' },
      ])
      .limit(filter.limit ?? DEFAULT_LIMIT)
      .offset(filter.offset ?? 0);
    const items = await readRuns(
      this.#db,
      rows.map(r => r.id),
    );
    return { items, totalItems: Number(count) };
  }

  /** Updates a run; `params` is merged, `inputs` replaced. */
  /**
   * Updates a run. `reason` (not part of the API's request) is a machine-readable cause the
   * backend itself records, e.g. {@link RUN_DELETED_FROM_PORTAL}.
   */
  async updateRun(
    id: string,
    patch: UpdateRunRequest & { reason?: string },
  ): Promise<Run> {
    return this.#db.transaction(async tx => {
      const row: RunRow | undefined = await tx('kubeai_runs')
        .where({ id })
        .first();
      if (!row) {
        throw new NotFoundError(`run ${id} not found`);
      }
      const update: Record<string, unknown> = { updated_at: nowIso() };
      if (patch.phase) update.phase = patch.phase;
      if (patch.message !== undefined) update.message = patch.message;
      if (patch.reason !== undefined) update.reason = patch.reason;
      if (patch.startedAt) update.started_at = toIso(patch.startedAt);
      if (patch.finishedAt) update.finished_at = toIso(patch.finishedAt);
      if (patch.params) {
        update.params = toJson({
          ...fromJson<Record<string, unknown>>(row.params, {}),
          ...patch.params,
        });
      }
      if (patch.inputs) {
        const inputs = dedupeInputs(patch.inputs);
        await assertDatasetVersionsExist(tx, inputs);
        await tx('kubeai_run_inputs').where({ run_id: id }).delete();
        await insertInputs(tx, id, inputs);
      }
      await tx('kubeai_runs').where({ id }).update(update);
      return (await readRuns(tx, [id]))[0];
    });
  }

  // ------------------------------------------------------------------ dataset versions

  async createDatasetVersion(
    datasetRef: string,
    request: CreateDatasetVersionRequest,
    actor: string,
  ): Promise<DatasetVersion> {
    const ref = normalizeRef(datasetRef);
    const insert = async () =>
      this.#db.transaction(async tx => {
        const existing = await tx('kubeai_dataset_versions')
          .where({ dataset_ref: ref, version: request.version })
          .first('id');
        if (existing) {
          throw new ConflictError(
            `request/body/version: ${ref} already has a version ${request.version}`,
          );
        }
        await tx('kubeai_dataset_versions').insert({
          dataset_ref: ref,
          version: request.version,
          uri: request.uri,
          digest: request.digest ?? null,
          size: request.size ?? null,
          description: request.description ?? null,
          created_by: actor,
          created_at: nowIso(),
        });
        const row = await tx('kubeai_dataset_versions')
          .where({ dataset_ref: ref, version: request.version })
          .first();
        return datasetVersionFromRow(row);
      });
    try {
      return await insert();
    } catch (error) {
      // A concurrent insert of the same version got there first.
      if ((await this.getDatasetVersion(ref, request.version)) !== undefined) {
        if (!(error instanceof ConflictError)) {
          throw new ConflictError(
            `request/body/version: ${ref} already has a version ${request.version}`,
          );
        }
      }
      throw error;
    }
  }

  async getDatasetVersion(
    datasetRef: string,
    version: string,
  ): Promise<DatasetVersion | undefined> {
    const row = await this.#db('kubeai_dataset_versions')
      .where({ dataset_ref: normalizeRef(datasetRef), version })
      .first();
    return row ? datasetVersionFromRow(row) : undefined;
  }

  async listDatasetVersions(
    datasetRef: string,
    page: Page = {},
  ): Promise<DatasetVersionList> {
    const base = this.#db('kubeai_dataset_versions').where({
      dataset_ref: normalizeRef(datasetRef),
    });
    const [{ count }] = await base.clone().count({ count: '*' });
    const rows: DatasetVersionRow[] = await base
      .clone()
      .select()
      .orderBy('id', 'desc')
      .limit(page.limit ?? DEFAULT_LIMIT)
      .offset(page.offset ?? 0);
    return {
      items: rows.map(datasetVersionFromRow),
      totalItems: Number(count),
    };
  }

  // ------------------------------------------------------------------ deployments

  async createDeployment(
    request: CreateDeploymentRequest,
    actor: string,
  ): Promise<Deployment> {
    const serviceRef = normalizeRef(request.serviceRef);
    const modelRef = normalizeRef(request.modelRef);
    const desired = request.desired ?? {};
    try {
      return await this.#db.transaction(async tx => {
        const existing = await tx('kubeai_deployments')
          .where({ service_ref: serviceRef })
          .first('revision');
        if (existing) {
          throw new ConflictError(
            `request/body/serviceRef: ${serviceRef} already has a deployment (revision ${existing.revision}); PATCH /deployments/… changes it`,
          );
        }
        await assertTraffic(tx, modelRef, request.traffic);
        const now = nowIso();
        await tx('kubeai_deployments').insert({
          service_ref: serviceRef,
          cluster: request.cluster,
          namespace: request.namespace,
          name: request.name,
          model_ref: modelRef,
          revision: 1,
          traffic: toJson(request.traffic),
          desired: toJson(desired),
          observed: null,
          observed_at: null,
          created_at: now,
          updated_at: now,
          updated_by: actor,
        });
        await writeTraffic(tx, serviceRef, modelRef, request.traffic);
        await tx('kubeai_deployment_revisions').insert({
          service_ref: serviceRef,
          revision: 1,
          model_ref: modelRef,
          traffic: toJson(request.traffic),
          desired: toJson(desired),
          message: request.message ?? null,
          created_by: actor,
          created_at: now,
        });
        return deploymentFromRow(
          await tx('kubeai_deployments')
            .where({ service_ref: serviceRef })
            .first(),
        );
      });
    } catch (error) {
      if (
        !(error instanceof ConflictError) &&
        (await this.getDeployment(serviceRef))
      ) {
        throw new ConflictError(
          `request/body/serviceRef: ${serviceRef} already has a deployment`,
        );
      }
      throw error;
    }
  }

  /** Changes the desired state: a new revision, in the history too. */
  async updateDeployment(
    serviceRef: string,
    patch: UpdateDeploymentRequest,
    actor: string,
  ): Promise<Deployment> {
    const ref = normalizeRef(serviceRef);
    return retryOnUniqueViolation(() =>
      this.#db.transaction(async tx => {
        const row: DeploymentRow | undefined = await tx('kubeai_deployments')
          .where({ service_ref: ref })
          .first();
        if (!row) {
          throw new NotFoundError(`${ref} has no deployment`);
        }
        const modelRef = patch.modelRef
          ? normalizeRef(patch.modelRef)
          : row.model_ref;
        if (modelRef !== row.model_ref && !patch.traffic) {
          throw new UnprocessableEntityError(
            `request/body/traffic: required when modelRef changes (${row.model_ref} → ${modelRef})`,
          );
        }
        const traffic =
          patch.traffic ?? fromJson<TrafficTarget[]>(row.traffic, []);
        const desired = patch.desired ?? fromJson(row.desired, {});
        if (patch.traffic) {
          await assertTraffic(tx, modelRef, patch.traffic);
        }
        const revision = row.revision + 1;
        const now = nowIso();
        // The history row first: its unique (service_ref, revision) index makes a concurrent
        // update of the same revision fail, and the transaction is retried on the new state.
        await tx('kubeai_deployment_revisions').insert({
          service_ref: ref,
          revision,
          model_ref: modelRef,
          traffic: toJson(traffic),
          desired: toJson(desired),
          message: patch.message ?? null,
          created_by: actor,
          created_at: now,
        });
        await tx('kubeai_deployments')
          .where({ service_ref: ref })
          .update({
            model_ref: modelRef,
            revision,
            traffic: toJson(traffic),
            desired: toJson(desired),
            updated_at: now,
            updated_by: actor,
          });
        await tx('kubeai_deployment_traffic')
          .where({ service_ref: ref })
          .delete();
        await writeTraffic(tx, ref, modelRef, traffic);
        return deploymentFromRow(
          await tx('kubeai_deployments').where({ service_ref: ref }).first(),
        );
      }),
    );
  }

  /**
   * Records what the cluster reports for a service (for the cluster informers). Does not change the
   * revision. Returns false when the service has no deployment.
   */
  async setObserved(
    serviceRef: string,
    observed: Record<string, unknown> | null,
    observedAt: Date = new Date(),
  ): Promise<boolean> {
    const count = await this.#db('kubeai_deployments')
      .where({ service_ref: normalizeRef(serviceRef) })
      .update({
        observed: observed === null ? null : toJson(observed),
        observed_at: observedAt.toISOString(),
      });
    return count > 0;
  }

  async getDeployment(serviceRef: string): Promise<Deployment | undefined> {
    const row = await this.#db('kubeai_deployments')
      .where({ service_ref: normalizeRef(serviceRef) })
      .first();
    return row ? deploymentFromRow(row) : undefined;
  }

  /** Deployments, optionally of one service or serving one model (version). */
  async listDeployments(
    filter: ListDeploymentsQuery = {},
  ): Promise<DeploymentList> {
    const base = this.#db('kubeai_deployments');
    if (filter.service) {
      base.where({ service_ref: normalizeRef(filter.service) });
    }
    if (filter.model) {
      const served = this.#db('kubeai_deployment_traffic')
        .where({ model_ref: normalizeRef(filter.model) })
        .select('service_ref');
      if (filter.version !== undefined) {
        served.where({ version: filter.version });
      }
      base.whereIn('service_ref', served);
    }
    const [{ count }] = await base.clone().count({ count: '*' });
    const rows: DeploymentRow[] = await base
      .clone()
      .select()
      .orderBy('service_ref')
      .limit(filter.limit ?? DEFAULT_LIMIT)
      .offset(filter.offset ?? 0);
    return { items: rows.map(deploymentFromRow), totalItems: Number(count) };
  }

  async listDeploymentRevisions(
    serviceRef: string,
    page: Page = {},
  ): Promise<DeploymentRevisionList | undefined> {
    const ref = normalizeRef(serviceRef);
    if (!(await this.getDeployment(ref))) {
      return undefined;
    }
    const base = this.#db('kubeai_deployment_revisions').where({
      service_ref: ref,
    });
    const [{ count }] = await base.clone().count({ count: '*' });
    const rows = await base
      .clone()
      .select()
      .orderBy('revision', 'desc')
      .limit(page.limit ?? DEFAULT_LIMIT)
      .offset(page.offset ?? 0);
    return {
      items: rows.map(row =>
        compact({
          serviceRef: row.service_ref,
          revision: row.revision,
          modelRef: row.model_ref,
          traffic: fromJson<TrafficTarget[]>(row.traffic, []),
          desired: fromJson<Record<string, unknown>>(row.desired, {}),
          message: row.message,
          createdBy: row.created_by,
          createdAt: row.created_at,
        }),
      ),
      totalItems: Number(count),
    };
  }

  // ------------------------------------------------------------------ lineage

  /**
   * The lineage graph around a start, in a few set-based queries per level (see `lineage.ts`).
   * Returns undefined when the start has no data in the registry at all.
   */
  async lineage(
    start: LineageStart,
    options: { direction: 'upstream' | 'downstream' | 'both'; depth: number },
  ): Promise<LineageGraph | undefined> {
    return walkLineage(this.#db, start, options);
  }

  /** Whether the registry holds anything about this entity (versions, runs, deployments). */
  async hasRegistryData(entityRef: string): Promise<boolean> {
    const ref = normalizeRef(entityRef);
    const probes = [
      this.#db('kubeai_model_versions').where({ model_ref: ref }).first('id'),
      this.#db('kubeai_dataset_versions')
        .where({ dataset_ref: ref })
        .first('id'),
      this.#db('kubeai_run_inputs').where({ dataset_ref: ref }).first('id'),
      this.#db('kubeai_deployments')
        .where({ service_ref: ref })
        .first('service_ref'),
    ];
    return (await Promise.all(probes)).some(Boolean);
  }

  // ------------------------------------------------------------------ cluster objects
  // (used by src/service/clusterRoutes.ts: what the portal creates in clusters)

  /**
   * Records the run of a Kubernetes object the portal applied, once per object: a run is
   * identified by (cluster, uid), so applying the same object again updates that run's namespace,
   * name, model, inputs and parameters (phase and timestamps are kept) instead of adding a run.
   * Dataset versions of `inputs` must exist (422).
   */
  async upsertObjectRun(
    request: CreateRunRequest & { uid: string },
    actor: string,
  ): Promise<{ run: Run; created: boolean }> {
    const [result] = await this.upsertObjectRuns([request], actor);
    return result;
  }

  /**
   * {@link RegistryStore.upsertObjectRun} for many objects in one transaction and a handful of
   * statements (one lookup, one insert of the new runs, one of their inputs), in request order.
   */
  async upsertObjectRuns(
    requests: Array<CreateRunRequest & { uid: string }>,
    actor: string,
  ): Promise<Array<{ run: Run; created: boolean }>> {
    if (requests.length === 0) return [];
    const inputsOf = requests.map(r => dedupeInputs(r.inputs ?? []));
    return retryOnUniqueViolation(() =>
      this.#db.transaction(async tx => {
        await assertDatasetVersionsExist(tx, dedupeInputs(inputsOf.flat()));
        const now = nowIso();
        const existing = new Map<string, string>(); // cluster + uid → run id
        const uidsByCluster = new Map<string, string[]>();
        for (const r of requests) {
          const list = uidsByCluster.get(r.cluster) ?? [];
          list.push(r.uid);
          uidsByCluster.set(r.cluster, list);
        }
        for (const [cluster, uids] of uidsByCluster) {
          for (const chunk of chunks(uids, 500)) {
            const rows: { id: string; uid: string }[] = await tx('kubeai_runs')
              .where({ cluster })
              .whereIn('uid', chunk)
              .select('id', 'uid');
            rows.forEach(row =>
              existing.set(`${cluster}\u0000${row.uid}`, row.id),
            );
          }
        }
        // the same object twice in one call: the last request wins
        const keyOf = (r: { cluster: string; uid: string }) =>
          `${r.cluster}\u0000${r.uid}`;
        const winner = new Map<string, number>();
        requests.forEach((r, i) => winner.set(keyOf(r), i));
        const byKey = new Map<
          string,
          { id: string; created: boolean; run?: Run }
        >();
        const newRows: Record<string, unknown>[] = [];
        const inputRows: Record<string, unknown>[] = [];
        for (const [key, i] of winner) {
          const r = requests[i];
          const fields = {
            namespace: r.namespace,
            name: r.name,
            model_ref: r.modelRef ? normalizeRef(r.modelRef) : null,
            params: toJson(r.params ?? {}),
            updated_at: now,
          };
          let id = existing.get(key);
          if (id) {
            await tx('kubeai_runs').where({ id }).update(fields);
            await tx('kubeai_run_inputs').where({ run_id: id }).delete();
            byKey.set(key, { id, created: false });
          } else {
            id = randomUUID();
            const row = {
              id,
              kind: r.kind,
              cluster: r.cluster,
              uid: r.uid,
              phase: r.phase ?? 'Pending',
              message: r.message ?? null,
              started_at: toIso(r.startedAt) ?? null,
              finished_at: toIso(r.finishedAt) ?? null,
              created_by: actor,
              created_at: now,
              ...fields,
            };
            newRows.push(row);
            // a new run: what readRuns would answer, without reading it back
            byKey.set(key, {
              id,
              created: true,
              run: compact({
                id,
                kind: r.kind,
                cluster: r.cluster,
                namespace: r.namespace,
                name: r.name,
                uid: r.uid,
                modelRef: fields.model_ref ?? undefined,
                phase: row.phase as Run['phase'],
                message: row.message ?? undefined,
                startedAt: row.started_at ?? undefined,
                finishedAt: row.finished_at ?? undefined,
                inputs: inputsOf[i].map(input => compact({ ...input })),
                outputs: [],
                params: r.params ?? {},
                createdBy: actor,
                createdAt: now,
                updatedAt: now,
              }),
            });
          }
          for (const input of inputsOf[i]) {
            inputRows.push({
              run_id: id,
              dataset_ref: input.datasetRef,
              dataset_version: input.version ?? null,
            });
          }
        }
        for (const chunk of chunks(newRows, 200)) {
          await tx('kubeai_runs').insert(chunk);
        }
        for (const chunk of chunks(inputRows, 500)) {
          await tx('kubeai_run_inputs').insert(chunk);
        }
        const updated = [...byKey.values()].filter(r => !r.run).map(r => r.id);
        const read = new Map(
          (await readRuns(tx, updated)).map(run => [run.id, run]),
        );
        return requests.map(r => {
          const result = byKey.get(keyOf(r))!;
          return {
            run: result.run ?? read.get(result.id)!,
            created: result.created,
          };
        });
      }),
    );
  }

  /** The newest run recorded for an object (by cluster, namespace and name; optionally its uid). */
  async findObjectRun(
    cluster: string,
    namespace: string,
    name: string,
    uid?: string,
  ): Promise<Run | undefined> {
    const query = this.#db('kubeai_runs').where({ cluster, namespace, name });
    if (uid) {
      query.where({ uid });
    }
    const row: { id: string } | undefined = await query
      .orderBy('created_at', 'desc')
      .first('id');
    return row ? (await readRuns(this.#db, [row.id]))[0] : undefined;
  }

  /** The deployment recorded for the InferenceService object `namespace/name` of a cluster. */
  async findDeploymentByObject(
    cluster: string,
    namespace: string,
    name: string,
  ): Promise<Deployment | undefined> {
    const row = await this.#db('kubeai_deployments')
      .where({ cluster, namespace, name })
      .orderBy('service_ref')
      .first();
    return row ? deploymentFromRow(row) : undefined;
  }

  /**
   * Which version name a dataset version of `uri` gets, checked before anything is applied:
   * a given `version` must be free or already hold the same uri (409 otherwise); without one, the
   * version that already holds the uri, else the next free `v<n>`.
   */
  async planDatasetVersion(
    datasetRef: string,
    request: { version?: string; uri: string },
  ): Promise<{ version: string; existing?: DatasetVersion }> {
    const ref = normalizeRef(datasetRef);
    if (request.version) {
      const existing = await this.getDatasetVersion(ref, request.version);
      if (existing && existing.uri !== request.uri) {
        throw new ConflictError(
          `request/body/version: ${ref} already has a version ${request.version}, of ${existing.uri}`,
        );
      }
      return { version: request.version, existing };
    }
    const rows: { version: string; uri: string }[] = await this.#db(
      'kubeai_dataset_versions',
    )
      .where({ dataset_ref: ref })
      .orderBy('id', 'desc')
      .select('version', 'uri');
    const same = rows.find(r => r.uri === request.uri);
    if (same) {
      return {
        version: same.version,
        existing: await this.getDatasetVersion(ref, same.version),
      };
    }
    const taken = new Set(rows.map(r => r.version));
    let n = rows.length + 1;
    while (taken.has(`v${n}`)) n++;
    return { version: `v${n}` };
  }

  /** Creates a dataset version unless it exists with the same uri (then returns it). */
  async ensureDatasetVersion(
    datasetRef: string,
    request: CreateDatasetVersionRequest,
    actor: string,
  ): Promise<{ datasetVersion: DatasetVersion; created: boolean }> {
    const same = async () => {
      const existing = await this.getDatasetVersion(
        datasetRef,
        request.version,
      );
      if (existing && existing.uri !== request.uri) {
        throw new ConflictError(
          `request/body/version: ${normalizeRef(
            datasetRef,
          )} already has a version ${request.version}, of ${existing.uri}`,
        );
      }
      return existing;
    };
    const existing = await same();
    if (existing) {
      return { datasetVersion: existing, created: false };
    }
    try {
      return {
        datasetVersion: await this.createDatasetVersion(
          datasetRef,
          request,
          actor,
        ),
        created: true,
      };
    } catch (error) {
      // a concurrent identical request created it first
      const again = error instanceof ConflictError ? await same() : undefined;
      if (again) {
        return { datasetVersion: again, created: false };
      }
      throw error;
    }
  }

  /** Stores (or replaces) a catalog entity created through the portal. */
  async upsertPortalEntity(
    entity: PortalEntity,
    actor: string,
  ): Promise<{ entityRef: string; created: boolean }> {
    const entityRef = normalizeRef(
      `${entity.kind}:${entity.metadata.namespace ?? 'default'}/${
        entity.metadata.name
      }`,
    );
    const now = nowIso();
    return this.#db.transaction(async tx => {
      const existing = await tx('kubeai_portal_entities')
        .where({ entity_ref: entityRef })
        .first('entity_ref');
      if (existing) {
        await tx('kubeai_portal_entities')
          .where({ entity_ref: entityRef })
          .update({
            entity: toJson(entity),
            updated_by: actor,
            updated_at: now,
          });
      } else {
        await tx('kubeai_portal_entities').insert({
          entity_ref: entityRef,
          kind: entity.kind.toLocaleLowerCase('en-US'),
          entity: toJson(entity),
          created_by: actor,
          created_at: now,
          updated_by: actor,
          updated_at: now,
        });
      }
      return { entityRef, created: !existing };
    });
  }

  /** A catalog entity created through the portal. */
  async getPortalEntity(entityRef: string): Promise<PortalEntity | undefined> {
    const row = await this.#db('kubeai_portal_entities')
      .where({ entity_ref: normalizeRef(entityRef) })
      .first('entity');
    return row
      ? fromJson<PortalEntity>(row.entity, undefined as never)
      : undefined;
  }

  /** The catalog entities created through the portal, by entity ref. */
  async listPortalEntities(
    page: Page = {},
  ): Promise<{ items: PortalEntity[]; totalItems: number }> {
    const base = this.#db('kubeai_portal_entities');
    const [{ count }] = await base.clone().count({ count: '*' });
    const rows: { entity: string }[] = await base
      .clone()
      .select('entity')
      .orderBy('entity_ref')
      .limit(page.limit ?? DEFAULT_LIMIT)
      .offset(page.offset ?? 0);
    return {
      items: rows.map(r =>
        fromJson<PortalEntity>(r.entity, undefined as never),
      ),
      totalItems: Number(count),
    };
  }

  /** Removes a catalog entity created through the portal; false when there was none. */
  async deletePortalEntity(entityRef: string): Promise<boolean> {
    const removed = await this.#db('kubeai_portal_entities')
      .where({ entity_ref: normalizeRef(entityRef) })
      .delete();
    return removed > 0;
  }

  // ------------------------------------------------------------------ observed state
  // (the cluster informers of src/informers and src/service/observedRoutes.ts)

  /** Writes a batch of observations of cluster objects (runs, deployments, objects). */
  async applyObservations(batch: Observation[]): Promise<ApplyStats> {
    return applyObservations(this.#db, batch);
  }

  /** After a full list: deletion observations of stored objects the list lacks. */
  async missingObservedObjects(
    cluster: string,
    kind: string,
    present: Set<string>,
  ): Promise<Observation[]> {
    return missingObjects(this.#db, cluster, kind, present);
  }

  /** Deployments of `cluster` whose InferenceService is not in it become observed `NotFound`. */
  async markMissingDeployments(
    cluster: string,
    present: Set<string>,
  ): Promise<number> {
    return markMissingDeployments(this.#db, cluster, present);
  }

  /** Observed state for deployments recorded after their service was observed, and re-matched versions. */
  async reconcileDeployments(clusters: string[]): Promise<number> {
    return reconcileDeployments(this.#db, clusters);
  }

  /** The observed cluster objects (filters: cluster, kind, namespace, entityRef, runId, discovered). */
  async listObservedObjects(
    query: ObservedObjectQuery,
  ): Promise<{ items: ObservedObject[]; totalItems: number }> {
    return listObservedObjects(this.#db, query);
  }

  /** Observed objects per `cluster|kind` (not deleted). */
  async countObservedObjects(): Promise<Map<string, number>> {
    return countObservedObjects(this.#db);
  }

  /** The cluster objects that are (or were) the given run, newest first. */
  async observedObjectsOfRun(runId: string): Promise<ObservedObject[]> {
    return (await objectsOfRun(this.#db, runId)).map(row =>
      observedObjectFromRow(row),
    );
  }

  /**
   * {@link lineage} with the observed state: services' `observed` and `drift`, `servedBy` edges,
   * discovered services (see src/informers/observedLineage.ts). A discovered service's entity ref
   * is a start too.
   */
  async lineageWithObserved(
    start: LineageStart,
    options: { direction: 'upstream' | 'downstream' | 'both'; depth: number },
  ): Promise<LineageGraph | undefined> {
    const g = new GraphBuilder();
    const roots = await walkInto(this.#db, g, start, options);
    if (roots) {
      await augmentLineage(this.#db, g, options);
      return g.graph(roots);
    }
    if (start.type === 'inferenceService') {
      return discoveredLineage(this.#db, start.ref, options);
    }
    return undefined;
  }
}

// -------------------------------------------------------------------- helpers

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const list = out.get(key(item));
    if (list) list.push(item);
    else out.set(key(item), [item]);
  }
  return out;
}

function likeEscape(value: string): string {
  return value.replace(/[\\%_]/g, m => `\\${m}`);
}

function assertAssignableAliases(aliases: string[], field: string) {
  const index = aliases.indexOf(LATEST_ALIAS);
  if (index >= 0) {
    throw new InputError(
      `${field}/${index}: '${LATEST_ALIAS}' is reserved (it always means the newest live version)`,
    );
  }
}

/** Points `aliases` of the model at `version` (one upsert each: an alias is on one version). */
async function moveAliases(
  tx: Knex.Transaction,
  modelRef: string,
  version: number,
  aliases: string[],
  actor: string,
  now: string,
) {
  if (aliases.length === 0) {
    return;
  }
  const state = await tx('kubeai_model_versions')
    .where({ model_ref: modelRef, version })
    .first('state');
  if (state?.state === 'archived') {
    throw new ConflictError(
      `request/body/aliases: version ${version} of ${modelRef} is archived and cannot hold aliases`,
    );
  }
  await tx('kubeai_model_aliases')
    .insert(
      aliases.map(alias => ({
        model_ref: modelRef,
        alias,
        version,
        updated_by: actor,
        updated_at: now,
      })),
    )
    .onConflict(['model_ref', 'alias'])
    .merge(['version', 'updated_by', 'updated_at']);
}

async function readModelVersions(
  db: Knex | Knex.Transaction,
  modelRef: string,
  versions: number[],
): Promise<ModelVersion[]> {
  if (versions.length === 0) {
    return [];
  }
  const rows: ModelVersionRow[] = [];
  const aliasRows: { alias: string; version: number }[] = [];
  for (const chunk of chunks(versions)) {
    rows.push(
      ...(await db('kubeai_model_versions')
        .where({ model_ref: modelRef })
        .whereIn('version', chunk)),
    );
    aliasRows.push(
      ...(await db('kubeai_model_aliases')
        .where({ model_ref: modelRef })
        .whereIn('version', chunk)
        .select('alias', 'version')),
    );
  }
  const aliases = new Map<number, string[]>();
  for (const a of aliasRows) {
    const list = aliases.get(a.version) ?? [];
    list.push(a.alias);
    aliases.set(a.version, list);
  }
  const byVersion = new Map(rows.map(r => [r.version, r]));
  return versions
    .map(v => byVersion.get(v))
    .filter((r): r is ModelVersionRow => Boolean(r))
    .map(row =>
      modelVersionFromRow(row, (aliases.get(row.version) ?? []).sort()),
    );
}

export function modelVersionFromRow(
  row: ModelVersionRow,
  aliases: string[],
): ModelVersion {
  return compact({
    modelRef: row.model_ref,
    version: row.version,
    artifact: compact({
      uri: row.artifact_uri,
      format: row.artifact_format,
      digest: row.artifact_digest ?? undefined,
      size: toNumber(row.artifact_size),
    }),
    framework: row.framework ?? undefined,
    description: row.description ?? undefined,
    metrics: fromJson(row.metrics, {}),
    curves: fromJson(row.curves, undefined),
    params: fromJson(row.params, {}),
    tags: fromJson<string[]>(row.tags, []),
    aliases,
    state: row.state as ModelVersion['state'],
    runId: row.run_id ?? undefined,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

function dedupeInputs(inputs: RunInput[]): RunInput[] {
  const seen = new Map<string, RunInput>();
  for (const input of inputs) {
    const datasetRef = normalizeRef(input.datasetRef);
    seen.set(`${datasetRef}@${input.version ?? ''}`, {
      datasetRef,
      ...(input.version !== undefined ? { version: input.version } : {}),
    });
  }
  return [...seen.values()];
}

async function assertDatasetVersionsExist(
  tx: Knex.Transaction,
  inputs: RunInput[],
) {
  for (const [index, input] of inputs.entries()) {
    if (input.version === undefined) continue;
    const row = await tx('kubeai_dataset_versions')
      .where({ dataset_ref: input.datasetRef, version: input.version })
      .first('id');
    if (!row) {
      throw new UnprocessableEntityError(
        `request/body/inputs/${index}/version: ${input.datasetRef} has no version ${input.version}`,
      );
    }
  }
}

async function insertInputs(
  tx: Knex.Transaction,
  runId: string,
  inputs: RunInput[],
) {
  if (inputs.length === 0) return;
  await tx('kubeai_run_inputs').insert(
    inputs.map(input => ({
      run_id: runId,
      dataset_ref: input.datasetRef,
      dataset_version: input.version ?? null,
    })),
  );
}

async function readRuns(
  db: Knex | Knex.Transaction,
  ids: string[],
): Promise<Run[]> {
  if (ids.length === 0) return [];
  const rows: RunRow[] = [];
  const inputs: {
    run_id: string;
    dataset_ref: string;
    dataset_version: string | null;
  }[] = [];
  const outputs: { run_id: string; model_ref: string; version: number }[] = [];
  for (const chunk of chunks(ids)) {
    rows.push(...(await db('kubeai_runs').whereIn('id', chunk)));
    inputs.push(
      ...(await db('kubeai_run_inputs')
        .whereIn('run_id', chunk)
        .orderBy('id')
        .select('run_id', 'dataset_ref', 'dataset_version')),
    );
    outputs.push(
      ...(await db('kubeai_model_versions')
        .whereIn('run_id', chunk)
        .orderBy(['model_ref', 'version'])
        .select('run_id', 'model_ref', 'version')),
    );
  }
  const byId = new Map(rows.map(r => [r.id, r]));
  const inputsOf = groupBy(inputs, i => i.run_id);
  const outputsOf = groupBy(outputs, o => o.run_id);
  return ids
    .map(id => byId.get(id))
    .filter((r): r is RunRow => Boolean(r))
    .map(row =>
      compact({
        id: row.id,
        kind: row.kind as Run['kind'],
        cluster: row.cluster,
        namespace: row.namespace,
        name: row.name,
        uid: row.uid ?? undefined,
        modelRef: row.model_ref ?? undefined,
        phase: row.phase as Run['phase'],
        message: row.message ?? undefined,
        startedAt: row.started_at ?? undefined,
        finishedAt: row.finished_at ?? undefined,
        inputs: (inputsOf.get(row.id) ?? []).map(i =>
          compact({
            datasetRef: i.dataset_ref,
            version: i.dataset_version ?? undefined,
          }),
        ),
        outputs: (outputsOf.get(row.id) ?? []).map(o => ({
          modelRef: o.model_ref,
          version: o.version,
        })),
        params: fromJson(row.params, {}),
        // observed by the cluster informers (src/informers)
        reason: row.reason ?? undefined,
        schedule: fromJson(row.schedule, undefined),
        observed: fromJson(row.observed, undefined),
        observedAt: row.observed_at ?? undefined,
        createdBy: row.created_by,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
      }),
    );
}

function datasetVersionFromRow(row: DatasetVersionRow): DatasetVersion {
  return compact({
    datasetRef: row.dataset_ref,
    version: row.version,
    uri: row.uri,
    digest: row.digest ?? undefined,
    size: toNumber(row.size),
    description: row.description ?? undefined,
    createdBy: row.created_by,
    createdAt: row.created_at,
  });
}

function deploymentFromRow(row: DeploymentRow): Deployment {
  return {
    serviceRef: row.service_ref,
    cluster: row.cluster,
    namespace: row.namespace,
    name: row.name,
    modelRef: row.model_ref,
    traffic: fromJson<TrafficTarget[]>(row.traffic, []),
    revision: row.revision,
    desired: fromJson<Record<string, unknown>>(row.desired, {}),
    observed: fromJson<Record<string, unknown> | null>(row.observed, null),
    observedAt: row.observed_at ?? null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
    // drift of the declared traffic from what the cluster serves, once observed (src/informers)
    ...(row.observed
      ? {
          drift: computeDrift(
            fromJson<TrafficTarget[]>(row.traffic, []),
            fromJson<DeploymentObserved | null>(row.observed, null),
          ),
        }
      : {}),
  };
}

/** Shares add up to 100, each version listed once, each a live version of the model. */
async function assertTraffic(
  tx: Knex.Transaction,
  modelRef: string,
  traffic: TrafficTarget[],
) {
  const seen = new Set<number>();
  for (const [index, target] of traffic.entries()) {
    if (seen.has(target.version)) {
      throw new UnprocessableEntityError(
        `request/body/traffic/${index}/version: version ${target.version} is listed twice`,
      );
    }
    seen.add(target.version);
  }
  const total = traffic.reduce((sum, t) => sum + t.percent, 0);
  if (total !== 100) {
    throw new UnprocessableEntityError(
      `request/body/traffic: the percents add up to ${total}, not 100`,
    );
  }
  const rows: { version: number; state: string }[] = await wherePairs(
    tx('kubeai_model_versions').select('version', 'state'),
    'model_ref',
    'version',
    new Map([[modelRef, [...seen]]]),
  );
  const states = new Map(rows.map(r => [r.version, r.state]));
  for (const [index, target] of traffic.entries()) {
    const state = states.get(target.version);
    if (!state) {
      throw new UnprocessableEntityError(
        `request/body/traffic/${index}/version: ${modelRef} has no version ${target.version}`,
      );
    }
    if (state !== 'live') {
      throw new UnprocessableEntityError(
        `request/body/traffic/${index}/version: version ${target.version} of ${modelRef} is archived`,
      );
    }
  }
}

async function writeTraffic(
  tx: Knex.Transaction,
  serviceRef: string,
  modelRef: string,
  traffic: TrafficTarget[],
) {
  await tx('kubeai_deployment_traffic').insert(
    traffic.map(t => ({
      service_ref: serviceRef,
      model_ref: modelRef,
      version: t.version,
      percent: t.percent,
    })),
  );
}

/** A catalog entity stored for the portal's entity provider (`kubeai_portal_entities`). */
export interface PortalEntity {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    [key: string]: unknown;
  };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}
