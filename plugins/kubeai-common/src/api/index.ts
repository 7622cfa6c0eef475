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
