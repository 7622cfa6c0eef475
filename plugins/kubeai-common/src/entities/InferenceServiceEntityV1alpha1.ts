import { Entity, KindValidator } from '@backstage/catalog-model';
import { KUBEAI_API_VERSION } from '../constants';
import {
  InferenceProtocol,
  KUBEAI_KIND_INFERENCE_SERVICE,
  ModelFormat,
} from './kinds';
import { inferenceServiceEntityV1alpha1Schema } from './InferenceService.v1alpha1.schema';
import { kubeaiEntityKindValidator } from './validation';

/** A model served online (`kind: InferenceService`, `apiVersion: kubeai.io/v1alpha1`). */
export interface InferenceServiceEntityV1alpha1 extends Entity {
  apiVersion: typeof KUBEAI_API_VERSION;
  kind: typeof KUBEAI_KIND_INFERENCE_SERVICE;
  spec: {
    owner: string;
    lifecycle: string;
    /** Model reference (default kind Model); any other explicit kind is invalid. */
    model: string;
    /** Version number (>= 1) or alias; latest when omitted. */
    modelVersion?: number | string;
    runtime?: {
      modelFormat: ModelFormat;
      protocol?: InferenceProtocol;
      name?: string;
    };
    deployment?: { cluster?: string; namespace: string; name: string };
    system?: string;
    /** API references (default kind API). */
    providesApis?: string[];
  };
}

/** Validates an InferenceService: `false` for other kinds, the entity when valid; throws when invalid. */
export const validateInferenceServiceEntity =
  kubeaiEntityKindValidator<InferenceServiceEntityV1alpha1>(
    KUBEAI_KIND_INFERENCE_SERVICE,
    inferenceServiceEntityV1alpha1Schema,
  );

/** catalog-model style validator. */
export const inferenceServiceEntityV1alpha1Validator: KindValidator = {
  async check(data: Entity) {
    return validateInferenceServiceEntity(data) !== false;
  },
};

/** True for `kind: InferenceService` (any case) of `apiVersion: kubeai.io/…`. */
export function isInferenceServiceEntity(
  entity: Entity,
): entity is InferenceServiceEntityV1alpha1 {
  return (
    entity.kind?.toLowerCase() ===
      KUBEAI_KIND_INFERENCE_SERVICE.toLowerCase() &&
    String(entity.apiVersion).startsWith('kubeai.io/')
  );
}
