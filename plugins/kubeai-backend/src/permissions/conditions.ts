/**
 * What a permission policy uses to decide the cluster-namespace permissions, as
 * `catalogConditions` / `createCatalogConditionalDecision` do for entities:
 *
 *   createKubeaiNamespaceConditionalDecision(permission,
 *     kubeaiNamespaceConditions.isNamespaceOwner({ claims: user.info.ownershipEntityRefs }))
 */
import { createConditionExports } from '@backstage/plugin-permission-node';
import { kubeaiNamespaceResourceRef, kubeaiNamespaceRules } from './rules';

const { conditions, createConditionalDecision } = createConditionExports({
  resourceRef: kubeaiNamespaceResourceRef,
  rules: kubeaiNamespaceRules,
});

/** Conditions of the cluster-namespace resource: `isNamespaceOwner`, `isInCluster`. */
export const kubeaiNamespaceConditions = conditions;

/** A conditional decision on a cluster-namespace permission, applied by the kubeai plugin. */
export const createKubeaiNamespaceConditionalDecision = createConditionalDecision;
