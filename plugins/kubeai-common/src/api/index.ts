export * from './types.generated';
export type {
  ClusterObjectName,
  EntityName,
  KubeaiApi,
  KubeaiRequestOptions,
} from './KubeaiApi';
export { KubeaiClient } from './KubeaiClient';
export { KubeaiOperationsClient, kubeaiOperationIds } from './client.generated';
export type {
  KubeaiOperationRequest,
  KubeaiOperations,
} from './client.generated';
export type {
  KubeaiClientOptions,
  KubeaiDiscoveryApi,
  KubeaiFetchApi,
} from './KubeaiClient';
export {
  kubeaiObservedPermissions,
  kubeaiRunLogsReadPermission,
  type KubeaiObservedApi,
} from './observed';
export {
  exampleStepYaml,
  kubeaiActions,
  objectRefString,
  pruneEmpty,
} from './actions';
export type { KubeaiActionDefinition, KubeaiActionRunOptions } from './actions';
export {
  KUBEAI_PORTAL_ENTITY_TOPIC,
  KUBEAI_PORTAL_LOCATION_TYPE,
} from './portalEntities';
