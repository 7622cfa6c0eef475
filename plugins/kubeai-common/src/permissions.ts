import {
  BasicPermission,
  createPermission,
  ResourcePermission,
} from '@backstage/plugin-permission-common';

/**
 * The catalog's resource type, `RESOURCE_TYPE_CATALOG_ENTITY` of `@backstage/plugin-catalog-common/alpha`
 * (kept as a literal so this library does not depend on the catalog; a backend test checks they agree).
 *
 * Permissions of this resource type are checked with an entity ref as `resourceRef`, so a permission
 * policy can decide them with the catalog's conditions, e.g. allow by entity ownership:
 * `createCatalogConditionalDecision(permission, catalogConditions.isEntityOwner({ claims }))`.
 */
export const KUBEAI_CATALOG_ENTITY_RESOURCE_TYPE = 'catalog-entity' as const;

/** A KubeAI permission checked against a catalog entity (model, dataset or inference service). */
export type KubeaiEntityPermission = ResourcePermission<
  typeof KUBEAI_CATALOG_ENTITY_RESOURCE_TYPE
>;

/**
 * Register a new version of a model. Resource: the Model entity (`model:<namespace>/<name>`).
 * Route: `POST /models/{namespace}/{name}/versions`.
 */
export const kubeaiModelVersionCreatePermission: KubeaiEntityPermission =
  createPermission({
    name: 'kubeai.model.version.create',
    attributes: { action: 'create' },
    resourceType: KUBEAI_CATALOG_ENTITY_RESOURCE_TYPE,
  });

/**
 * Change a model version: move aliases, archive / restore, retag. Resource: the Model entity.
 * Route: `PATCH /models/{namespace}/{name}/versions/{version}`.
 */
export const kubeaiModelVersionUpdatePermission: KubeaiEntityPermission =
  createPermission({
    name: 'kubeai.model.version.update',
    attributes: { action: 'update' },
    resourceType: KUBEAI_CATALOG_ENTITY_RESOURCE_TYPE,
  });

/**
 * Register a new version of a dataset. Resource: the Dataset entity (`dataset:<namespace>/<name>`).
 * Route: `POST /datasets/{namespace}/{name}/versions`.
 */
export const kubeaiDatasetVersionCreatePermission: KubeaiEntityPermission =
  createPermission({
    name: 'kubeai.dataset.version.create',
    attributes: { action: 'create' },
    resourceType: KUBEAI_CATALOG_ENTITY_RESOURCE_TYPE,
  });

/**
 * Create the deployment record of an inference service. Resource: the InferenceService entity
 * (`inferenceservice:<namespace>/<name>`). Route: `POST /deployments`.
 */
export const kubeaiDeploymentCreatePermission: KubeaiEntityPermission =
  createPermission({
    name: 'kubeai.deployment.create',
    attributes: { action: 'create' },
    resourceType: KUBEAI_CATALOG_ENTITY_RESOURCE_TYPE,
  });

/**
 * Change the desired state (model versions and traffic split) of a deployment: a new revision.
 * Resource: the InferenceService entity. Route: `PATCH /deployments/{namespace}/{name}`.
 */
export const kubeaiDeploymentUpdatePermission: KubeaiEntityPermission =
  createPermission({
    name: 'kubeai.deployment.update',
    attributes: { action: 'update' },
    resourceType: KUBEAI_CATALOG_ENTITY_RESOURCE_TYPE,
  });

/**
 * A namespace of a configured cluster, the place cluster objects are created in and deleted from.
 * Permissions of this resource type are checked with {@link clusterNamespaceRef} as `resourceRef`;
 * the KubeAI backend resolves it to the namespace and its owning group, so a policy can decide them
 * with the backend's conditions, e.g.
 * `createKubeaiNamespaceConditionalDecision(permission, kubeaiNamespaceConditions.isNamespaceOwner({ claims }))`.
 */
export const KUBEAI_CLUSTER_NAMESPACE_RESOURCE_TYPE =
  'kubeai-cluster-namespace' as const;

/** A KubeAI permission checked against a cluster namespace. */
export type KubeaiNamespacePermission = ResourcePermission<
  typeof KUBEAI_CLUSTER_NAMESPACE_RESOURCE_TYPE
>;

/**
 * The `resourceRef` of a cluster namespace: `<cluster>/<namespace>` (a namespace name never holds
 * a `/`; a cluster name may, so it is split at the last one).
 */
export function clusterNamespaceRef(cluster: string, namespace: string): string {
  return `${cluster}/${namespace}`;
}

/** The cluster and namespace of a {@link clusterNamespaceRef}; undefined when it is not one. */
export function parseClusterNamespaceRef(
  ref: string,
): { cluster: string; namespace: string } | undefined {
  const at = ref.lastIndexOf('/');
  if (at <= 0 || at === ref.length - 1) return undefined;
  return { cluster: ref.slice(0, at), namespace: ref.slice(at + 1) };
}

/**
 * Create or change Kubernetes objects in a namespace through the portal's cluster gateway
 * (notebooks, training tasks, datasets, inference services, pipelines). Resource: the namespace.
 */
export const kubeaiClusterObjectCreatePermission: KubeaiNamespacePermission =
  createPermission({
    name: 'kubeai.cluster.object.create',
    attributes: { action: 'create' },
    resourceType: KUBEAI_CLUSTER_NAMESPACE_RESOURCE_TYPE,
  });

/**
 * Delete Kubernetes objects the portal created (notebooks, training jobs, datasets, inference
 * services, pipelines) from a namespace. Resource: the namespace.
 * Routes: `DELETE /clusters/{cluster}/namespaces/{namespace}/{kind}/{name}`. A delete that ends what
 * a catalog entity describes is decided on that entity too: an InferenceService needs
 * `kubeai.deployment.update` on its service entity, and removing an entity the portal registered
 * needs the catalog's `catalog.entity.delete` on it.
 */
export const kubeaiClusterObjectDeletePermission: KubeaiNamespacePermission =
  createPermission({
    name: 'kubeai.cluster.object.delete',
    attributes: { action: 'delete' },
    resourceType: KUBEAI_CLUSTER_NAMESPACE_RESOURCE_TYPE,
  });

/**
 * Record a run (training task, notebook session, pipeline run). Resource: the namespace the run
 * names (`clusterNamespaceRef(run.cluster, run.namespace)`), so a team records runs only in its own
 * places. Routes: `POST /runs`, and the cluster routes that record the run of what they create.
 */
export const kubeaiRunCreatePermission: KubeaiNamespacePermission =
  createPermission({
    name: 'kubeai.run.create',
    attributes: { action: 'create' },
    resourceType: KUBEAI_CLUSTER_NAMESPACE_RESOURCE_TYPE,
  });

/**
 * Update a run (phase, timestamps, inputs, parameters). Resource: the stored run's namespace.
 * Routes: `PATCH /runs/{id}`, and the cluster `DELETE` routes that mark a run `Stopped`.
 */
export const kubeaiRunUpdatePermission: KubeaiNamespacePermission =
  createPermission({
    name: 'kubeai.run.update',
    attributes: { action: 'update' },
    resourceType: KUBEAI_CLUSTER_NAMESPACE_RESOURCE_TYPE,
  });

/**
 * Create or change the pools and quotas of a cluster (Kueue ResourceFlavors, ClusterQueues,
 * LocalQueues, WorkloadPriorityClasses). A basic permission: quotas are the platform's, not a
 * team's place, so the `ownership` policy allows it to `kubeai.tenancy.platformAdmins` only.
 * Route: `POST /pools`. Reading them (`GET /clusters/{cluster}/pools`) needs no permission.
 */
export const kubeaiPoolUpdatePermission: BasicPermission = createPermission({
  name: 'kubeai.pool.update',
  attributes: { action: 'update' },
});

/** The permissions checked against a cluster namespace. */
export const kubeaiNamespacePermissions = [
  kubeaiClusterObjectCreatePermission,
  kubeaiClusterObjectDeletePermission,
  kubeaiRunCreatePermission,
  kubeaiRunUpdatePermission,
];

/** Every KubeAI permission, for `permissionsRegistry.addPermissions(kubeaiPermissions)`. */
export const kubeaiPermissions = [
  kubeaiModelVersionCreatePermission,
  kubeaiModelVersionUpdatePermission,
  kubeaiDatasetVersionCreatePermission,
  kubeaiRunCreatePermission,
  kubeaiRunUpdatePermission,
  kubeaiDeploymentCreatePermission,
  kubeaiDeploymentUpdatePermission,
  kubeaiClusterObjectCreatePermission,
  kubeaiClusterObjectDeletePermission,
  kubeaiPoolUpdatePermission,
];
