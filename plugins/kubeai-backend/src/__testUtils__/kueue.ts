/**
 * Kueue's objects as Kueue writes them (kueue.x-k8s.io/v1beta2), for the tests that play Kueue
 * (no Kueue controller runs on the local control plane): a Workload for a Job (owner reference
 * and `kueue.x-k8s.io/job-uid` label, pod sets from its template), its status when quota is
 * reserved / pending / finished, and a team's ClusterQueue as POST /pools builds it. The tests
 * validate these against the upstream v1beta2 schemas.
 */

export interface PodSetFixture {
  name: string;
  count: number;
  /** Per pod, e.g. `{ cpu: '500m', memory: '1Gi' }`. */
  requests: Record<string, string>;
}

export function kueueWorkload(options: {
  name: string;
  namespace: string;
  owner: { apiVersion: string; kind: string; name: string; uid: string };
  queueName: string;
  podSets: PodSetFixture[];
}) {
  return {
    apiVersion: 'kueue.x-k8s.io/v1beta2',
    kind: 'Workload',
    metadata: {
      name: options.name,
      namespace: options.namespace,
      labels: { 'kueue.x-k8s.io/job-uid': options.owner.uid },
      ownerReferences: [
        { ...options.owner, controller: true, blockOwnerDeletion: true },
      ],
    },
    spec: {
      active: true,
      queueName: options.queueName,
      podSets: options.podSets.map(p => ({
        name: p.name,
        count: p.count,
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [
              {
                name: 'main',
                image: 'busybox:1.36',
                resources: { requests: p.requests },
              },
            ],
          },
        },
      })),
    },
  };
}

const condition = (
  type: string,
  status: 'True' | 'False',
  reason: string,
  message: string,
  at: string,
) => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: at,
  observedGeneration: 1,
});

/** Quota reserved in `clusterQueue` and admitted, with a flavor per pod set. */
export function admittedStatus(
  clusterQueue: string,
  podSets: PodSetFixture[],
  flavors: Record<string, string>, // pod set → flavor (of all its resources)
  at: string,
) {
  return {
    admission: {
      clusterQueue,
      podSetAssignments: podSets.map(p => ({
        name: p.name,
        count: p.count,
        flavors: Object.fromEntries(
          Object.keys(p.requests).map(r => [r, flavors[p.name]]),
        ),
        // Kueue writes the pod set's total (count × per pod) per resource
        resourceUsage: Object.fromEntries(
          Object.entries(p.requests).map(([r, v]) => [r, multiply(v, p.count)]),
        ),
      })),
    },
    conditions: [
      condition(
        'QuotaReserved',
        'True',
        'QuotaReserved',
        `Quota reserved in ClusterQueue ${clusterQueue}`,
        at,
      ),
      condition('Admitted', 'True', 'Admitted', 'The workload is admitted', at),
    ],
  };
}

/** Waiting for quota: QuotaReserved=False with Kueue's message. */
export function pendingStatus(message: string, at: string) {
  return {
    conditions: [condition('QuotaReserved', 'False', 'Pending', message, at)],
  };
}

/** Finished (after being admitted). */
export function finishedStatus(
  admitted: ReturnType<typeof admittedStatus>,
  at: string,
) {
  return {
    ...admitted,
    conditions: [
      ...admitted.conditions,
      condition(
        'Finished',
        'True',
        'Succeeded',
        'Job finished successfully',
        at,
      ),
    ],
  };
}

/** A team's ClusterQueue as POST /pools builds it (quotas: flavor → resource → quota). */
export function teamClusterQueue(options: {
  name: string;
  cohort: string;
  namespaces: string[];
  flavors: Array<{
    name: string;
    resources: Array<{
      name: string;
      nominalQuota: string;
      borrowingLimit?: string;
      lendingLimit?: string;
    }>;
  }>;
}) {
  return {
    apiVersion: 'kueue.x-k8s.io/v1beta2',
    kind: 'ClusterQueue',
    metadata: { name: options.name },
    spec: {
      cohortName: options.cohort,
      namespaceSelector: {
        matchExpressions: [
          {
            key: 'kubernetes.io/metadata.name',
            operator: 'In',
            values: options.namespaces,
          },
        ],
      },
      resourceGroups: [
        {
          coveredResources: options.flavors[0].resources.map(r => r.name),
          flavors: options.flavors,
        },
      ],
    },
  };
}

function multiply(quantity: string, times: number): string {
  const m = /^(\d+(?:\.\d+)?)(.*)$/.exec(quantity)!;
  const n = Number(m[1]) * times;
  return `${Number.isInteger(n) ? n : n.toFixed(3).replace(/0+$/, '')}${m[2]}`;
}
