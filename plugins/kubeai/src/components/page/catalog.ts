import {
  Entity,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { getEntityRelations } from '@backstage/plugin-catalog-react';

/** The owner refs of an entity (ownedBy relations, else `spec.owner`). */
export function ownerRefs(entity: Entity): string[] {
  const related = getEntityRelations(entity, 'ownedBy').map(r =>
    stringifyEntityRef(r),
  );
  if (related.length) return related;
  const owner = entity.spec?.owner;
  if (typeof owner !== 'string' || !owner) return [];
  try {
    return [
      stringifyEntityRef(
        parseEntityRef(owner, {
          defaultKind: 'group',
          defaultNamespace: entity.metadata.namespace ?? 'default',
        }),
      ),
    ];
  } catch {
    return [];
  }
}

/** `group:default/search-reco` → `search-reco`, for sorting and filtering. */
export function ownerName(entity: Entity): string {
  return ownerRefs(entity)
    .map(r => parseEntityRef(r).name)
    .join(', ');
}

/** The lower-case entity ref (the registry's form). */
export function registryRef(entity: Entity): string {
  return stringifyEntityRef(entity).toLowerCase();
}
