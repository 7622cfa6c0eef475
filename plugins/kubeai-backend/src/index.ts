/**
 * KubeAI backend plugin: model registry, lineage, cluster gateway and the OpenAPI router.
 *
 * @packageDocumentation
 */
export { kubeaiPlugin as default } from './plugin';
export {
  kubeaiNamespaceConditions,
  createKubeaiNamespaceConditionalDecision,
  kubeaiNamespaceResourceRef,
  isNamespaceOwner,
  isInCluster,
} from './permissions';
export {
  readTenancyConfig,
  parseOwner,
  DEFAULT_OWNER_KEY,
  type TenancyConfig,
} from './tenancy/tenancyConfig';
export type { ClusterNamespace } from './tenancy/NamespaceDirectory';
