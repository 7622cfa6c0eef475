/**
 * The observed state of the clusters: what the cluster informers (src/informers) write —
 * `kubeai_cluster_objects`, the runs' and the deployments' observed state — and the reads of
 * src/service/observedRoutes.ts. Called through {@link RegistryStore}, never with request input
 * that was not validated.
 */
import { Knex } from 'knex';
import { loadQueueState } from './admission';
import { applyObservations } from './applyObservations';
import { toApiAmount } from './kueue';
import { computeUsage, type QueueUsage } from './queueUsage';
import type { ApplyStats } from './common';
import type { Observation } from './observation';
import {
  countObservedObjects,
  listObservedObjects,
  objectsOfRun,
  observedObjectFromRow,
  type ObservedObject,
  type ObservedObjectQuery,
} from './reads';
import {
  markMissingDeployments,
  missingObjects,
  reconcileDeployments,
} from './reconcile';

export type { ApplyStats } from './common';
export type { ObservedObject, ObservedObjectQuery } from './reads';

export class ObservedStore {
  readonly #db: Knex;

  constructor(db: Knex) {
    this.#db = db;
  }

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

  /**
   * Usage of the observed ClusterQueues (./queueUsage.ts) of a cluster (default: every cluster
   * with one), only `team`'s queue when given; amounts in API units (CPU in cores).
   */
  async queueUsage(
    query: { cluster?: string; team?: string } = {},
  ): Promise<Array<QueueUsage & { cluster: string }>> {
    const clusters: string[] = query.cluster
      ? [query.cluster]
      : (
          await this.#db('kubeai_cluster_objects')
            .where({ kind: 'ClusterQueue' })
            .whereNull('deleted_at')
            .distinct('cluster')
            .orderBy('cluster')
        ).map((r: { cluster: string }) => r.cluster);
    const out: Array<QueueUsage & { cluster: string }> = [];
    for (const cluster of clusters) {
      const { queues, workloads } = await loadQueueState(this.#db, cluster, {
        workloadStates: ['admitted', 'pending', 'evicted'],
      });
      for (const usage of computeUsage(queues, workloads).values()) {
        if (query.team && usage.clusterQueue !== query.team) continue;
        out.push({
          cluster,
          ...usage,
          flavors: usage.flavors.map(f => ({
            flavor: f.flavor,
            resources: f.resources.map(r => {
              const api = (n: number) => toApiAmount(r.resource, n);
              return {
                ...r,
                nominal: api(r.nominal),
                used: api(r.used),
                borrowed: api(r.borrowed),
                lent: api(r.lent),
                lendable: api(r.lendable),
                ...(r.borrowingLimit !== undefined
                  ? { borrowingLimit: api(r.borrowingLimit) }
                  : {}),
                ...(r.lendingLimit !== undefined
                  ? { lendingLimit: api(r.lendingLimit) }
                  : {}),
              };
            }),
          })),
          pending: usage.pending.map(p => ({
            ...p,
            requests: Object.fromEntries(
              Object.entries(p.requests).map(([r, n]) => [
                r,
                toApiAmount(r, n),
              ]),
            ),
          })),
        });
      }
    }
    return out;
  }

  /** The cluster objects that are (or were) the given run, newest first. */
  async observedObjectsOfRun(runId: string): Promise<ObservedObject[]> {
    return (await objectsOfRun(this.#db, runId)).map(row =>
      observedObjectFromRow(row),
    );
  }
}
