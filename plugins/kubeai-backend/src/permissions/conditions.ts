/**
 * What a permission policy uses to decide the cluster-namespace permissions, as
 * `catalogConditions` / `createCatalogConditionalDecision` do for entities:
 *
 *   createKubeaiNamespaceConditionalDecision(permission,
 *     kubeaiNamespaceConditions.isNamespaceOwner({ claims: user.info.ownershipEntityRefs }))
 */
import type { PermissionsRegistryService } from '@backstage/backend-plugin-api';
import {
  createConditionAuthorizer,
  createConditionExports,
} from '@backstage/plugin-permission-node';
import type { OwnResourceDecider } from '../service/access/Access';
import type {
  ClusterNamespace,
  NamespaceDirectory,
} from '../tenancy/NamespaceDirectory';
import { kubeaiNamespaceResourceRef, kubeaiNamespaceRules } from './rules';

const { conditions, createConditionalDecision } = createConditionExports({
  resourceRef: kubeaiNamespaceResourceRef,
  rules: kubeaiNamespaceRules,
});

/** Conditions of the cluster-namespace resource: `isNamespaceOwner`, `isInCluster`. */
export const kubeaiNamespaceConditions = conditions;

/** A conditional decision on a cluster-namespace permission, applied by the kubeai plugin. */
export const createKubeaiNamespaceConditionalDecision = createConditionalDecision;

/**
 * How the routes decide cluster-namespace permissions in-process: the policy's conditional
 * decision applied to the namespaces of the directory with the registered rules (the same ones
 * the permission backend's apply-conditions call would use).
 */
export function namespaceDecider(
  registry: Pick<PermissionsRegistryService, 'getPermissionRuleset'>,
  directory: Pick<NamespaceDirectory, 'resources'>,
): OwnResourceDecider {
  const authorizer = createConditionAuthorizer(
    registry.getPermissionRuleset(kubeaiNamespaceResourceRef),
  );
  return {
    resourceType: kubeaiNamespaceResourceRef.resourceType,
    load: refs => directory.resources(refs),
    authorize: (decision, resource) =>
      authorizer(decision, resource as ClusterNamespace | undefined),
  };
}
