/**
 * The permission rules of the cluster-namespace resource (`kubeai-cluster-namespace`), in the
 * style of the catalog's `isEntityOwner`: a policy returns a conditional decision with them, and
 * the permission backend asks this plugin to apply it to the namespace (getResources of
 * ../tenancy/NamespaceDirectory).
 */
import {
  createPermissionResourceRef,
  createPermissionRule,
} from '@backstage/plugin-permission-node';
import { KUBEAI_CLUSTER_NAMESPACE_RESOURCE_TYPE } from '@kubeai/plugin-kubeai-common';
import { z } from 'zod/v3';
import type { ClusterNamespace } from '../tenancy/NamespaceDirectory';

/**
 * What a rule's `toQuery` says, for a store that would filter namespaces itself (none does yet:
 * the portal lists a cluster's namespaces and decides each one).
 */
export type ClusterNamespaceQuery =
  | { key: 'owner'; values: string[] }
  | { key: 'cluster'; values: string[] };

export const kubeaiNamespaceResourceRef = createPermissionResourceRef<
  ClusterNamespace,
  ClusterNamespaceQuery
>().with({
  pluginId: 'kubeai',
  resourceType: KUBEAI_CLUSTER_NAMESPACE_RESOURCE_TYPE,
});

/**
 * A zod schema as a rule's params schema. The permission framework accepts zod 3 schemas at run
 * time (as the catalog's rules use); its types come from its own zod copy, which tsc cannot
 * compare with ours without running out of depth — hence the cast, checked by the rules' tests.
 */
const paramsSchema = (schema: z.ZodTypeAny): any => schema;

/** The namespace's owning group is one of `claims` (the user's ownership refs). */
export const isNamespaceOwner = createPermissionRule<
  typeof kubeaiNamespaceResourceRef,
  { claims: string[] }
>({
  name: 'IS_NAMESPACE_OWNER',
  description: 'Allow namespaces owned by one of the given claims (kubeai.io/owner or kubeai.tenancy)',
  resourceRef: kubeaiNamespaceResourceRef,
  paramsSchema: paramsSchema(
    z.object({
      claims: z
        .array(z.string())
        .describe('Entity refs, e.g. the ownershipEntityRefs of the user'),
    }),
  ),
  apply: (resource, { claims }) =>
    resource.owner !== undefined &&
    claims.map(c => c.toLowerCase()).includes(resource.owner),
  toQuery: ({ claims }) => ({ key: 'owner', values: claims }),
});

/** The namespace is in one of `clusters` (names of kubernetes.clusterLocatorMethods). */
export const isInCluster = createPermissionRule<
  typeof kubeaiNamespaceResourceRef,
  { clusters: string[] }
>({
  name: 'IS_IN_CLUSTER',
  description: 'Allow namespaces of the given clusters',
  resourceRef: kubeaiNamespaceResourceRef,
  paramsSchema: paramsSchema(
    z.object({ clusters: z.array(z.string()).describe('Cluster names') }),
  ),
  apply: (resource, { clusters }) => clusters.includes(resource.cluster),
  toQuery: ({ clusters }) => ({ key: 'cluster', values: clusters }),
});

export const kubeaiNamespaceRules = { isNamespaceOwner, isInCluster };
