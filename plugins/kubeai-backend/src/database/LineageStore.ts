/** Lineage reads across the registry's tables, with or without the observed state. */
import type { LineageGraph, LineageNode } from '@kubeai/plugin-kubeai-common';
import { Knex } from 'knex';
import { normalizeRef } from '../refs';
import {
  GraphBuilder,
  LineageStart,
  lineageNodes,
  walkInto,
  walkLineage,
} from './lineage';
import { augmentLineage, discoveredLineage } from './observed/lineage';

/** The lineage graph around an entity, and whether the registry knows it. */
export class LineageStore {
  readonly #db: Knex;

  constructor(db: Knex) {
    this.#db = db;
  }

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

  /**
   * {@link lineage} with the observed state: services' `observed` and `drift`, `servedBy` edges,
   * discovered services (see ./observed/lineage.ts). A discovered service's entity ref
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

  /**
   * Lineage nodes read again by id, as a walk builds them (model versions and runs: the nodes a
   * write may change the details of alone); undefined when one cannot be read so.
   */
  async lineageNodeDetails(
    ids: string[],
  ): Promise<Map<string, LineageNode> | undefined> {
    return lineageNodes(this.#db, ids);
  }
}
