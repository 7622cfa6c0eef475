/**
 * Deployments, their traffic split and revision history (`kubeai_deployments`,
 * `kubeai_deployment_traffic`, `kubeai_deployment_revisions`).
 */
import { ConflictError, NotFoundError } from '@backstage/errors';
import type {
  CreateDeploymentRequest,
  Deployment,
  DeploymentList,
  DeploymentRevisionList,
  ListDeploymentsQuery,
  TrafficTarget,
  UpdateDeploymentRequest,
} from '@kubeai/plugin-kubeai-common';
import { Knex } from 'knex';
import { UnprocessableEntityError } from '../errors';
import { touchScopes } from './changes';
import { normalizeRef } from '../refs';
import { computeDrift, type DeploymentObserved } from './drift';
import {
  compact,
  DEFAULT_LIMIT,
  fromJson,
  nowIso,
  retryOnUniqueViolation,
  toJson,
  wherePairs,
  type Page,
} from './util';

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

/** Deployments (+ traffic, revisions): every change of the desired state is a new revision. */
export class DeploymentStore {
  readonly #db: Knex;

  constructor(db: Knex) {
    this.#db = db;
  }

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
        // answers with the service, and those with the model's versions (a service joins an
        // answer only through a version it serves): database/changes.ts
        touchScopes(serviceRef, modelRef);
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
        // the service's answers, and those of the model it served and the one it serves now
        touchScopes(ref, row.model_ref, modelRef);
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
