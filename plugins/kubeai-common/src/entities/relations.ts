import {
  RELATION_API_PROVIDED_BY,
  RELATION_DEPENDENCY_OF,
  RELATION_DEPENDS_ON,
  RELATION_HAS_PART,
  RELATION_OWNED_BY,
  RELATION_OWNER_OF,
  RELATION_PART_OF,
  RELATION_PROVIDES_API,
} from '@backstage/catalog-model';
import {
  KUBEAI_KIND_DATASET,
  KUBEAI_KIND_INFERENCE_SERVICE,
  KUBEAI_KIND_MODEL,
  KubeaiKind,
} from './kinds';

/** A Model was trained on a Dataset (Model → Dataset). Reverse: {@link RELATION_TRAINING_DATA_OF}. */
export const RELATION_TRAINED_ON = 'trainedOn';
/** A Dataset is training data of a Model (Dataset → Model). Reverse: {@link RELATION_TRAINED_ON}. */
export const RELATION_TRAINING_DATA_OF = 'trainingDataOf';
/** An InferenceService serves a Model (InferenceService → Model). Reverse: {@link RELATION_SERVED_BY}. */
export const RELATION_SERVES_MODEL = 'servesModel';
/** A Model is served by an InferenceService (Model → InferenceService). Reverse: {@link RELATION_SERVES_MODEL}. */
export const RELATION_SERVED_BY = 'servedBy';

/** The relation types KubeAI adds to the catalog. */
export const KUBEAI_RELATIONS = [
  RELATION_TRAINED_ON,
  RELATION_TRAINING_DATA_OF,
  RELATION_SERVES_MODEL,
  RELATION_SERVED_BY,
] as const;

/** The relation pairs KubeAI adds, as `[forward, reverse]` (the catalog graph's format). */
export const KUBEAI_RELATION_PAIRS: [string, string][] = [
  [RELATION_TRAINED_ON, RELATION_TRAINING_DATA_OF],
  [RELATION_SERVES_MODEL, RELATION_SERVED_BY],
];

/** Human-readable titles of the KubeAI relations (for cards and graph legends). */
export const KUBEAI_RELATION_TITLES: Record<string, string> = {
  [RELATION_TRAINED_ON]: 'trained on',
  [RELATION_TRAINING_DATA_OF]: 'training data of',
  [RELATION_SERVES_MODEL]: 'serves model',
  [RELATION_SERVED_BY]: 'served by',
};

/**
 * A spec field of a KubeAI kind that holds entity references, and the relations it produces.
 */
export interface KubeaiRelationField {
  /** Dotted path of the field, e.g. `spec.trainedOn`. */
  path: string;
  /** Relation from the entity to each referenced entity. */
  relation: string;
  /** Relation from each referenced entity back to the entity. */
  reverseRelation: string;
  /** Kind used when the reference has none (`owner-team` → `group:owner-team`). */
  defaultKind?: string;
  /** The kinds a reference may point at; any other explicit kind is an error. */
  allowedKinds?: string[];
}

const owner: KubeaiRelationField = {
  path: 'spec.owner',
  relation: RELATION_OWNED_BY,
  reverseRelation: RELATION_OWNER_OF,
  defaultKind: 'Group',
  allowedKinds: ['Group', 'User'],
};
const system: KubeaiRelationField = {
  path: 'spec.system',
  relation: RELATION_PART_OF,
  reverseRelation: RELATION_HAS_PART,
  defaultKind: 'System',
  allowedKinds: ['System'],
};

/**
 * The reference fields of each KubeAI kind. The catalog module emits both directions of each
 * relation; references without a namespace inherit the entity's namespace.
 */
export const KUBEAI_RELATION_FIELDS: Record<KubeaiKind, KubeaiRelationField[]> =
  {
    [KUBEAI_KIND_MODEL]: [
      owner,
      system,
      {
        path: 'spec.trainedOn',
        relation: RELATION_TRAINED_ON,
        reverseRelation: RELATION_TRAINING_DATA_OF,
        defaultKind: KUBEAI_KIND_DATASET,
        allowedKinds: [KUBEAI_KIND_DATASET],
      },
      {
        // Like Component.spec.dependsOn: any kind, and the kind must be written out.
        path: 'spec.dependsOn',
        relation: RELATION_DEPENDS_ON,
        reverseRelation: RELATION_DEPENDENCY_OF,
      },
    ],
    [KUBEAI_KIND_DATASET]: [owner, system],
    [KUBEAI_KIND_INFERENCE_SERVICE]: [
      owner,
      system,
      {
        path: 'spec.model',
        relation: RELATION_SERVES_MODEL,
        reverseRelation: RELATION_SERVED_BY,
        defaultKind: KUBEAI_KIND_MODEL,
        allowedKinds: [KUBEAI_KIND_MODEL],
      },
      {
        path: 'spec.providesApis',
        relation: RELATION_PROVIDES_API,
        reverseRelation: RELATION_API_PROVIDED_BY,
        defaultKind: 'API',
        allowedKinds: ['API'],
      },
    ],
  };
