/** Catalog entities created through the portal (`kubeai_portal_entities`). */
import type { PortalEntity } from '@kubeai/plugin-kubeai-common';
import { Knex } from 'knex';
import { normalizeRef } from '../refs';
import { touchScopes } from './changes';
import { DEFAULT_LIMIT, fromJson, nowIso, toJson, type Page } from './util';

/** A catalog entity stored for the portal's entity provider: the spec's PortalEntity. */
export type { PortalEntity };
/** The entities the portal's entity provider publishes. */
export class PortalEntityStore {
  readonly #db: Knex;

  constructor(db: Knex) {
    this.#db = db;
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
      // a catalog entity, not the registry: no lineage answer shows it (database/changes.ts)
      touchScopes();
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
}
