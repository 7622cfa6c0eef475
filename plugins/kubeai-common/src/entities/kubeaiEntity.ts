import {
  CompoundEntityRef,
  DEFAULT_NAMESPACE,
  Entity,
  getCompoundEntityRef,
  parseEntityRef,
} from '@backstage/catalog-model';
import {
  DatasetEntityV1alpha1,
  isDatasetEntity,
  validateDatasetEntity,
} from './DatasetEntityV1alpha1';
import { datasetEntityV1alpha1Schema } from './Dataset.v1alpha1.schema';
import {
  InferenceServiceEntityV1alpha1,
  isInferenceServiceEntity,
  validateInferenceServiceEntity,
} from './InferenceServiceEntityV1alpha1';
import { inferenceServiceEntityV1alpha1Schema } from './InferenceService.v1alpha1.schema';
import {
  KUBEAI_KIND_DATASET,
  KUBEAI_KIND_INFERENCE_SERVICE,
  KUBEAI_KIND_MODEL,
  KUBEAI_KINDS,
  KubeaiKind,
} from './kinds';
import {
  isModelEntity,
  ModelEntityV1alpha1,
  validateModelEntity,
} from './ModelEntityV1alpha1';
import { modelEntityV1alpha1Schema } from './Model.v1alpha1.schema';
import { KUBEAI_RELATION_FIELDS } from './relations';
import { KubeaiValidationIssue, kubeaiEntityIssues } from './validation';

/** Any KubeAI entity. */
export type KubeaiEntity =
  | ModelEntityV1alpha1
  | DatasetEntityV1alpha1
  | InferenceServiceEntityV1alpha1;

/** The JSON schema of each KubeAI kind. */
export const KUBEAI_ENTITY_SCHEMAS: Record<KubeaiKind, object> = {
  [KUBEAI_KIND_MODEL]: modelEntityV1alpha1Schema,
  [KUBEAI_KIND_DATASET]: datasetEntityV1alpha1Schema,
  [KUBEAI_KIND_INFERENCE_SERVICE]: inferenceServiceEntityV1alpha1Schema,
};

/** True when `kind` is exactly one of the KubeAI kinds (`Model`, `Dataset`, `InferenceService`). */
export function isKubeaiKind(kind: unknown): kind is KubeaiKind {
  return (KUBEAI_KINDS as readonly unknown[]).includes(kind);
}

/** True for a Model, Dataset or InferenceService of `apiVersion: kubeai.io/…`. */
export function isKubeaiEntity(entity: Entity): entity is KubeaiEntity {
  return (
    isModelEntity(entity) ||
    isDatasetEntity(entity) ||
    isInferenceServiceEntity(entity)
  );
}

/**
 * Validates any entity: `false` when its kind is not a KubeAI kind, the entity when valid, and
 * throws `KubeaiEntityValidationError` (entity ref + every field path and reason) when invalid.
 * This is what the catalog processor's `validateEntityKind` does.
 */
export function validateKubeaiEntity(data: unknown): KubeaiEntity | false {
  return (
    validateModelEntity(data) ||
    validateDatasetEntity(data) ||
    validateInferenceServiceEntity(data)
  );
}

/**
 * The issues of a candidate KubeAI entity without throwing (for forms and tests).
 * Empty when valid; also empty when `kind` is not a KubeAI kind.
 */
export function getKubeaiEntityIssues(data: unknown): KubeaiValidationIssue[] {
  const kind = (data as { kind?: unknown } | undefined)?.kind;
  if (!isKubeaiKind(kind)) {
    return [];
  }
  return kubeaiEntityIssues(kind, KUBEAI_ENTITY_SCHEMAS[kind], data);
}

/** A relation between two entities, as the catalog stores it. */
export interface KubeaiEntityRelation {
  source: CompoundEntityRef;
  type: string;
  target: CompoundEntityRef;
}

/**
 * The relations of a (valid) KubeAI entity, each in both directions: for
 * `spec.trainedOn: [clicks]` on model `ranker`, `model:ranker trainedOn dataset:clicks` and
 * `dataset:clicks trainingDataOf model:ranker`. References without a namespace inherit the
 * entity's namespace. Returns nothing for other kinds.
 */
export function getKubeaiEntityRelations(
  entity: Entity,
): KubeaiEntityRelation[] {
  if (!isKubeaiKind(entity.kind)) {
    return [];
  }
  const self = getCompoundEntityRef(entity);
  const relations = new Array<KubeaiEntityRelation>();
  for (const field of KUBEAI_RELATION_FIELDS[entity.kind]) {
    const value = field.path
      .split('.')
      .reduce<unknown>(
        (o, key) =>
          o && typeof o === 'object'
            ? (o as Record<string, unknown>)[key]
            : undefined,
        entity,
      );
    const refs = [value]
      .flat()
      .filter((v): v is string => typeof v === 'string' && v.length > 0);
    for (const ref of refs) {
      const target = parseEntityRef(ref, {
        defaultKind: field.defaultKind,
        defaultNamespace: entity.metadata.namespace ?? DEFAULT_NAMESPACE,
      });
      relations.push({ source: self, type: field.relation, target });
      relations.push({
        source: target,
        type: field.reverseRelation,
        target: self,
      });
    }
  }
  return relations;
}
