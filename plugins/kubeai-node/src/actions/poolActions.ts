/** The `kubeai:pools:apply` action: pools and quotas of a cluster as Kueue objects (platform admins). */
import {
  KubeaiActionDefinition,
  bodyFields,
  bodyOf,
  dryRun,
  writeOutput,
  writeOutputOf,
} from './actionParts';

export const poolsApply: KubeaiActionDefinition = {
  id: 'kubeai:pools:apply',
  name: 'apply-pools',
  title: 'Apply pools and quotas',
  description:
    "Creates or changes a cluster's pools and quotas as Kueue objects — ResourceFlavors, WorkloadPriorityClasses, and per team a ClusterQueue (quota per flavor of cpu, memory and nvidia.com/gpu in a cohort, with borrowing and lending limits) and a LocalQueue in each of its namespaces — through the KubeAI API (`POST /api/kubeai/pools`). Platform admins only (`kubeai.pool.update`). Running it again changes nothing.",
  examples: [
    {
      title: 'An elastic and a regular pool, and the quota of cv-team',
      input: {
        cluster: 'local',
        flavors: [{ name: 'elastic' }, { name: 'regular' }],
        priorityClasses: [
          { name: 'production', value: 1000 },
          { name: 'development', value: 100 },
        ],
        teams: [
          {
            name: 'cv-team',
            cohort: 'shared',
            namespaces: ['cv-team'],
            quotas: [
              {
                flavor: 'elastic',
                nominal: { cpu: '16', memory: '64Gi' },
                borrowingLimit: { cpu: '8' },
                lendingLimit: { cpu: '4' },
              },
            ],
          },
        ],
      },
    },
  ],
  input: z =>
    z.object({
      ...bodyFields(
        z,
        'ApplyPoolsRequest',
        ['cluster', 'flavors', 'teams', 'priorityClasses'],
        {
          flavors:
            'Pools: a ResourceFlavor each (nodeLabels default kubeai.io/pool: <name>).',
          teams:
            'Teams: a ClusterQueue each (quotas per flavor), a LocalQueue in each of its namespaces.',
          priorityClasses:
            'WorkloadPriorityClasses, e.g. production 1000, development 100.',
        },
      ),
      dryRun: dryRun(z),
    }),
  output: writeOutput,
  async run(client, input, options) {
    const result = await client.applyPools(bodyOf(input, options) as any, {
      token: options.token,
    });
    return writeOutputOf(result);
  },
};
