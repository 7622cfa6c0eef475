export {
  kubeaiNamespaceResourceRef,
  kubeaiNamespaceRules,
  isNamespaceOwner,
  isInCluster,
  type ClusterNamespaceQuery,
} from './rules';
export {
  kubeaiNamespaceConditions,
  createKubeaiNamespaceConditionalDecision,
  namespaceDecider,
} from './conditions';
