import { Entity, KindValidator } from '@backstage/catalog-model';
import { KUBEAI_API_VERSION } from '../constants';
import { KUBEAI_KIND_MODEL, ModelFramework, ModelType } from './kinds';
import { modelEntityV1alpha1Schema } from './Model.v1alpha1.schema';
import { kubeaiEntityKindValidator } from './validation';

/** A trained machine learning model (`kind: Model`, `apiVersion: kubeai.io/v1alpha1`). */
export interface ModelEntityV1alpha1 extends Entity {
  apiVersion: typeof KUBEAI_API_VERSION;
  kind: typeof KUBEAI_KIND_MODEL;
  spec: {
    /** Owner: a Group or User reference (default kind Group). */
    owner: string;
    lifecycle: string;
    type: ModelType;
    framework: ModelFramework;
    /** System reference (default kind System). */
    system?: string;
    /** Dataset references (default kind Dataset). */
    trainedOn?: string[];
    /** References with an explicit kind. */
    dependsOn?: string[];
  };
}

/**
 * Validates a Model: `false` for other kinds, the entity when valid; throws
 * `KubeaiEntityValidationError` (entity ref, field paths, reasons) when invalid.
 */
export const validateModelEntity =
  kubeaiEntityKindValidator<ModelEntityV1alpha1>(
    KUBEAI_KIND_MODEL,
    modelEntityV1alpha1Schema,
  );

/** catalog-model style validator (`check` resolves true/false, rejects when invalid). */
export const modelEntityV1alpha1Validator: KindValidator = {
  async check(data: Entity) {
    return validateModelEntity(data) !== false;
  },
};

/** True for `kind: Model` (any case) of `apiVersion: kubeai.io/…`. */
export function isModelEntity(entity: Entity): entity is ModelEntityV1alpha1 {
  return (
    entity.kind?.toLowerCase() === KUBEAI_KIND_MODEL.toLowerCase() &&
    String(entity.apiVersion).startsWith('kubeai.io/')
  );
}
