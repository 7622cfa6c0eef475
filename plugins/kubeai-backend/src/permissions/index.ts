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
} from './conditions';
