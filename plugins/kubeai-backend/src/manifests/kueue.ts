/**
 * Pools and quotas as Kueue objects (`kueue.x-k8s.io/v1beta2`, the storage version of the pinned
 * CRDs): a `ResourceFlavor` per pool (`regular`, `elastic`, `gpu`, …; its `nodeLabels` select the
 * pool's nodes), a `ClusterQueue` per team with nominal quotas of cpu, memory and nvidia.com/gpu
 * per flavor in a shared cohort (borrowing and lending limits are the elasticity), a `LocalQueue`
 * in each of the team's namespaces, and `WorkloadPriorityClass`es. Pure: input → objects.
 */
import { z } from 'zod';
import { compact, GPU_RESOURCE } from './common';
import {
  dnsLabelSchema,
  dnsSubdomainSchema,
  labelKeySchema,
  namespaceSchema,
} from './inputs';
import { isValidLabelValue } from './labels';
import type { KubeObject } from './types';

export const KUEUE_API_VERSION = 'kueue.x-k8s.io/v1beta2';

/** The node label a flavor selects by default (`kubeai.io/pool: <flavor>`). */
export const POOL_NODE_LABEL = 'kubeai.io/pool';

/** The resources every ClusterQueue covers, in this order. */
export const POOL_RESOURCES = ['cpu', 'memory', GPU_RESOURCE] as const;

const quantitySchema = z
  .string()
  .regex(
    /^(\d+(\.\d+)?|\.\d+)([KMGTPE]i|[mkMGTPE])?$/,
    'must be a Kubernetes quantity, e.g. 16, 500m, 64Gi',
  );

/** Amounts of the three resources; gpu is a count. */
const amountsSchema = z
  .object({
    cpu: quantitySchema.optional(),
    memory: quantitySchema.optional(),
    gpu: z.number().int().min(0).max(100000).optional(),
  })
  .strict();

export const poolsInputSchema = z
  .object({
    /** Pools: a ResourceFlavor each. */
    flavors: z
      .array(
        z
          .object({
            name: dnsSubdomainSchema,
            /** Labels of the pool's nodes; default `kubeai.io/pool: <name>` (the CRD allows 8). */
            nodeLabels: z
              .record(
                labelKeySchema,
                z.string().refine(isValidLabelValue, 'must be a label value'),
              )
              .refine(
                r => Object.keys(r).length <= 8,
                'must have at most 8 labels',
              )
              .optional(),
          })
          .strict(),
      )
      .max(16)
      .optional(),
    /** Teams: a ClusterQueue each, and a LocalQueue in each of its namespaces. */
    teams: z
      .array(
        z
          .object({
            /** The ClusterQueue's name (the team's). */
            name: dnsLabelSchema,
            /** The cohort the team borrows from and lends to. */
            cohort: dnsSubdomainSchema.optional(),
            namespaces: z.array(namespaceSchema).min(1).max(100),
            /** The LocalQueue's name in each namespace; default the team's name. */
            localQueue: dnsLabelSchema.optional(),
            quotas: z
              .array(
                z
                  .object({
                    flavor: dnsSubdomainSchema,
                    nominal: amountsSchema,
                    /** At most this much more from the cohort; unset: no limit. */
                    borrowingLimit: amountsSchema.optional(),
                    /** At most this much of the nominal quota lent to the cohort; unset: all. */
                    lendingLimit: amountsSchema.optional(),
                  })
                  .strict(),
              )
              .min(1)
              .max(16),
          })
          .strict(),
      )
      .max(100)
      .optional(),
    /** WorkloadPriorityClasses, e.g. production 1000 and development 100. */
    priorityClasses: z
      .array(
        z
          .object({
            name: dnsSubdomainSchema,
            value: z.number().int().min(-1000000000).max(1000000000),
            description: z.string().max(1000).optional(),
          })
          .strict(),
      )
      .max(16)
      .optional(),
  })
  .strict();

export type PoolsInput = z.infer<typeof poolsInputSchema>;

const managedLabels = (team?: string): Record<string, string> => ({
  'app.kubernetes.io/managed-by': 'kubeai',
  ...(team ? { 'kubeai.io/team': team } : {}),
});

const amountOf = (
  amounts: z.infer<typeof amountsSchema> | undefined,
  resource: (typeof POOL_RESOURCES)[number],
): string | undefined => {
  if (!amounts) return undefined;
  if (resource === GPU_RESOURCE) {
    return amounts.gpu === undefined ? undefined : String(amounts.gpu);
  }
  return amounts[resource];
};

/**
 * The Kueue objects of `input`, in apply order: flavors and priority classes, then the
 * ClusterQueues that name the flavors, then the LocalQueues that name the ClusterQueues.
 * A quota names a flavor of this input or one already in the cluster (the apiserver does not
 * check; Kueue marks the ClusterQueue inactive until it exists).
 */
export function buildPools(rawInput: PoolsInput): KubeObject[] {
  const input = poolsInputSchema.parse(rawInput);
  const flavors: KubeObject[] = (input.flavors ?? []).map(f => ({
    apiVersion: KUEUE_API_VERSION,
    kind: 'ResourceFlavor',
    metadata: { name: f.name, labels: managedLabels() },
    spec: { nodeLabels: f.nodeLabels ?? { [POOL_NODE_LABEL]: f.name } },
  }));
  const priorities: KubeObject[] = (input.priorityClasses ?? []).map(p =>
    compact({
      apiVersion: KUEUE_API_VERSION,
      kind: 'WorkloadPriorityClass',
      metadata: { name: p.name, labels: managedLabels() },
      value: p.value,
      description: p.description,
    }),
  );
  const clusterQueues: KubeObject[] = [];
  const localQueues: KubeObject[] = [];
  for (const team of input.teams ?? []) {
    clusterQueues.push({
      apiVersion: KUEUE_API_VERSION,
      kind: 'ClusterQueue',
      metadata: { name: team.name, labels: managedLabels(team.name) },
      spec: compact({
        cohortName: team.cohort,
        // only the team's namespaces may submit to it (their LocalQueues)
        namespaceSelector: {
          matchExpressions: [
            {
              key: 'kubernetes.io/metadata.name',
              operator: 'In',
              values: team.namespaces,
            },
          ],
        },
        resourceGroups: [
          {
            coveredResources: [...POOL_RESOURCES],
            // every flavor lists every covered resource (the CRD's rule); an unset one is 0
            flavors: team.quotas.map(q => ({
              name: q.flavor,
              resources: POOL_RESOURCES.map(resource =>
                compact({
                  name: resource,
                  nominalQuota: amountOf(q.nominal, resource) ?? '0',
                  borrowingLimit: amountOf(q.borrowingLimit, resource),
                  lendingLimit: amountOf(q.lendingLimit, resource),
                }),
              ),
            })),
          },
        ],
      }),
    });
    for (const namespace of team.namespaces) {
      localQueues.push({
        apiVersion: KUEUE_API_VERSION,
        kind: 'LocalQueue',
        metadata: {
          name: team.localQueue ?? team.name,
          namespace,
          labels: managedLabels(team.name),
        },
        spec: { clusterQueue: team.name },
      });
    }
  }
  return [...flavors, ...priorities, ...clusterQueues, ...localQueues];
}

/** The flavors a ClusterQueue has quota in (from its `spec.resourceGroups`). */
export function clusterQueueFlavors(clusterQueue: KubeObject): string[] {
  const groups = ((clusterQueue.spec as any)?.resourceGroups ?? []) as Array<{
    flavors?: Array<{ name: string }>;
  }>;
  return groups.flatMap(g => (g.flavors ?? []).map(f => f.name));
}
