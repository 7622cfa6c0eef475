export * from './kinds';
export * from './annotations';
export * from './relations';
export { modelEntityV1alpha1Schema } from './Model.v1alpha1.schema';
export { datasetEntityV1alpha1Schema } from './Dataset.v1alpha1.schema';
export { inferenceServiceEntityV1alpha1Schema } from './InferenceService.v1alpha1.schema';
export { POSITIVE_BYTE_QUANTITY, CRON_SCHEDULE } from './schemaParts';
export {
  KubeaiEntityValidationError,
  formatIssue,
  type KubeaiValidationIssue,
} from './validation';
export * from './ModelEntityV1alpha1';
export * from './DatasetEntityV1alpha1';
export * from './InferenceServiceEntityV1alpha1';
export * from './kubeaiEntity';
