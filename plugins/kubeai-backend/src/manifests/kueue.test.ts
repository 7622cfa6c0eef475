import { POOL_OBJECTS } from '@kubeai/plugin-kubeai-common';
import { buildPools, clusterQueueFlavors, poolsInputSchema } from './kueue';
import { cpuCores, flavorFor } from '../service/cluster/poolRouting';
import { validateAgainstAllCrdSets } from './__testUtils__/crdSchemas';

const input = {
  flavors: [
    { name: 'elastic' },
    { name: 'gpu', nodeLabels: { accel: 'a100' } },
  ],
  priorityClasses: [
    { name: 'production', value: 1000, description: 'nightly' },
    { name: 'development', value: 100 },
  ],
  teams: [
    {
      name: 'cv-team',
      cohort: 'shared',
      namespaces: ['cv-team', 'cv-team-dev'],
      quotas: [
        {
          flavor: 'elastic',
          nominal: { cpu: '16', memory: '64Gi' },
          borrowingLimit: { cpu: '8' },
          lendingLimit: { memory: '16Gi' },
        },
        { flavor: 'gpu', nominal: { cpu: '8', memory: '32Gi', gpu: 4 } },
      ],
    },
  ],
};

describe('buildPools', () => {
  const objects = buildPools(input);

  it('builds flavors, priority classes, one ClusterQueue per team and a LocalQueue per namespace, in apply order', () => {
    expect(
      objects.map(
        o =>
          `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${
            o.metadata.name
          }`,
      ),
    ).toEqual([
      'ResourceFlavor elastic',
      'ResourceFlavor gpu',
      'WorkloadPriorityClass production',
      'WorkloadPriorityClass development',
      'ClusterQueue cv-team',
      'LocalQueue cv-team/cv-team',
      'LocalQueue cv-team-dev/cv-team',
    ]);
    expect(objects[0].spec).toEqual({
      nodeLabels: { 'kubeai.io/pool': 'elastic' },
    });
    expect(objects[1].spec).toEqual({ nodeLabels: { accel: 'a100' } });
    expect(objects[5].spec).toEqual({ clusterQueue: 'cv-team' });
  });

  it('gives every flavor of a ClusterQueue every covered resource (unset: 0), with the limits given', () => {
    const queue = objects[4] as any;
    expect(queue.spec.cohortName).toBe('shared');
    expect(queue.spec.resourceGroups).toEqual([
      {
        coveredResources: ['cpu', 'memory', 'nvidia.com/gpu'],
        flavors: [
          {
            name: 'elastic',
            resources: [
              { name: 'cpu', nominalQuota: '16', borrowingLimit: '8' },
              { name: 'memory', nominalQuota: '64Gi', lendingLimit: '16Gi' },
              { name: 'nvidia.com/gpu', nominalQuota: '0' },
            ],
          },
          {
            name: 'gpu',
            resources: [
              { name: 'cpu', nominalQuota: '8' },
              { name: 'memory', nominalQuota: '32Gi' },
              { name: 'nvidia.com/gpu', nominalQuota: '4' },
            ],
          },
        ],
      },
    ]);
    expect(clusterQueueFlavors(queue)).toEqual(['elastic', 'gpu']);
  });

  it('builds objects the pinned Kueue CRDs accept, nothing pruned', () => {
    for (const object of objects) {
      const { sets, report } = validateAgainstAllCrdSets(object);
      expect(sets.length).toBeGreaterThan(0);
      expect(report).toBe('');
    }
  });

  it('writes only kinds of POOL_OBJECTS (the platform-admin RBAC of scripts/cluster/setup.mjs), each as scoped there', () => {
    for (const object of buildPools(input)) {
      const spec = (POOL_OBJECTS as Record<string, any>)[object.kind];
      expect([
        object.kind,
        spec?.group,
        Boolean(object.metadata.namespace),
      ]).toEqual([
        object.kind,
        object.apiVersion.split('/')[0],
        spec?.namespaced,
      ]);
    }
  });

  it('refuses node labels that are not labels, or more than the CRD allows', () => {
    const flavor = (nodeLabels: Record<string, string>) =>
      poolsInputSchema.safeParse({ flavors: [{ name: 'elastic', nodeLabels }] })
        .success;
    expect(flavor({ pool: 'elastic' })).toBe(true);
    expect(flavor({ '$(rm -rf /)': 'x' })).toBe(false);
    expect(flavor({ pool: 'not a value' })).toBe(false);
    expect(
      flavor(Object.fromEntries([...Array(9).keys()].map(i => [`l${i}`, 'v']))),
    ).toBe(false);
  });

  it('refuses a quantity that is not one, naming the field', () => {
    const parsed = poolsInputSchema.safeParse({
      teams: [
        {
          name: 'cv-team',
          namespaces: ['cv-team'],
          quotas: [{ flavor: 'elastic', nominal: { cpu: 'lots' } }],
        },
      ],
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0].path).toEqual([
      'teams',
      0,
      'quotas',
      0,
      'nominal',
      'cpu',
    ]);
  });
});

describe('the routing rule', () => {
  const rule = {
    flavors: [
      { flavor: 'elastic', maxCpu: 4, maxGpu: 0 },
      { flavor: 'gpu', minGpu: 1 },
    ],
    defaultFlavor: 'regular',
    priorityClasses: {},
  };

  it('picks the first flavor the task fits, else the default', () => {
    expect(flavorFor(rule, { cpu: '500m' })).toBe('elastic');
    expect(flavorFor(rule, { cpu: '4' })).toBe('elastic');
    expect(flavorFor(rule, { cpu: '4001m' })).toBe('regular');
    expect(flavorFor(rule, { cpu: '2', gpu: 1 })).toBe('gpu');
    expect(flavorFor(rule, {})).toBe('elastic');
    expect(cpuCores('250m')).toBe(0.25);
  });
});
