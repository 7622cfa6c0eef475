/**
 * The Kueue objects of pools and quotas that `POST /pools` (platform admins) writes — what the
 * platform-admin role of a cluster must be allowed to write when the portal impersonates the
 * caller (scripts/cluster/setup.mjs derives its rules from this table; the backend's buildPools is
 * checked against it). Kept free of imports so that script can load it. The teams get none of it:
 * a LocalQueue of their own would submit to any ClusterQueue.
 */
export const POOL_OBJECTS = {
  ResourceFlavor: {
    group: 'kueue.x-k8s.io',
    plural: 'resourceflavors',
    namespaced: false,
  },
  WorkloadPriorityClass: {
    group: 'kueue.x-k8s.io',
    plural: 'workloadpriorityclasses',
    namespaced: false,
  },
  ClusterQueue: {
    group: 'kueue.x-k8s.io',
    plural: 'clusterqueues',
    namespaced: false,
  },
  LocalQueue: {
    group: 'kueue.x-k8s.io',
    plural: 'localqueues',
    namespaced: true,
  },
} as const;

/** A kind of {@link POOL_OBJECTS}. */
export type PoolObjectKind = keyof typeof POOL_OBJECTS;
