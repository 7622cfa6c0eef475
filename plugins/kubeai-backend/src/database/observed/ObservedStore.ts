/**
 * The observed state of the clusters: what the cluster informers (src/informers) write —
 * `kubeai_cluster_objects`, the runs' and the deployments' observed state — and the reads of
 * src/service/observedRoutes.ts. Called through {@link RegistryStore}, never with request input
 * that was not validated.
 */
import { Knex } from 'knex';
import { applyObservations } from './applyObservations';
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

  /** The cluster objects that are (or were) the given run, newest first. */
  async observedObjectsOfRun(runId: string): Promise<ObservedObject[]> {
    return (await objectsOfRun(this.#db, runId)).map(row =>
      observedObjectFromRow(row),
    );
  }
}
