import {
  KUBEAI_KINDS,
  KUBEAI_RELATION_FIELDS,
  KUBEAI_RELATION_TITLES,
} from '@kubeai/plugin-kubeai-common';

/** A relation type to list on an entity page, with its title. */
export interface RelationRow {
  type: string;
  title: string;
}

const BUILTIN_TITLES: Record<string, string> = {
  ownedBy: 'owned by',
  partOf: 'part of',
  dependsOn: 'depends on',
  dependencyOf: 'dependency of',
  providesApi: 'provides API',
  apiProvidedBy: 'API provided by',
};

const titleOf = (type: string) =>
  KUBEAI_RELATION_TITLES[type] ?? BUILTIN_TITLES[type] ?? type;

/**
 * The relations a KubeAI kind has, derived from the reference fields of every kind: the forward
 * relations of its own fields (a Model's `trainedOn`) and the reverse relations of other kinds'
 * fields that point at it (a Model is `servedBy` an InferenceService). Owner and system are left
 * to the about card.
 */
export function relationRowsOf(kind: string): RelationRow[] {
  const rows = new Map<string, RelationRow>();
  const skip = new Set(['spec.owner', 'spec.system']);
  const own = KUBEAI_KINDS.find(k => k.toLowerCase() === kind.toLowerCase());
  for (const field of own ? KUBEAI_RELATION_FIELDS[own] : []) {
    if (!skip.has(field.path)) {
      rows.set(field.relation, {
        type: field.relation,
        title: titleOf(field.relation),
      });
    }
  }
  for (const other of KUBEAI_KINDS) {
    for (const field of KUBEAI_RELATION_FIELDS[other]) {
      const targetsThisKind = (field.allowedKinds ?? []).some(
        k => k.toLowerCase() === kind.toLowerCase(),
      );
      if (targetsThisKind || field.relation === 'dependsOn') {
        rows.set(field.reverseRelation, {
          type: field.reverseRelation,
          title: titleOf(field.reverseRelation),
        });
      }
    }
  }
  return [...rows.values()];
}
