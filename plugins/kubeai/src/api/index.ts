export { kubeaiApiRef, inferenceServiceActionsApiRef } from './refs';
export {
  ClusterInferenceServiceActions,
  RegistryInferenceServiceActions,
  mainVersion,
  canaryTraffic,
  canaryOf,
  formatTraffic,
} from './InferenceServiceActions';
export type {
  InferenceServiceActions,
  InferenceServiceActionResult,
} from './InferenceServiceActions';
