export * from './types.generated';
export type { EntityName, KubeaiApi, KubeaiRequestOptions } from './KubeaiApi';
export { KubeaiClient } from './KubeaiClient';
export type {
  KubeaiClientOptions,
  KubeaiDiscoveryApi,
  KubeaiFetchApi,
} from './KubeaiClient';
