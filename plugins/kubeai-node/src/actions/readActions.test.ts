/*
 * The read actions of the actions registry: described for an agent, and the lineage summary that
 * keeps an answer within its caps (nearest the start first).
 */
import { z } from 'zod/v3';
import type { LineageGraph } from '@kubeai/plugin-kubeai-common';
import { kubeaiReadActions, summariseLineage } from './actions';

/** model → v1..v3 → run → dataset version, as GET /lineage answers it. */
const graph: LineageGraph = {
  roots: ['model:m'],
  nodes: [
    { id: 'dsv:d@1', type: 'datasetVersion', label: 'd v1' },
    { id: 'run:r', type: 'run', label: 'r', runId: 'r', status: 'Succeeded' },
    { id: 'mv:m@3', type: 'modelVersion', label: 'v3' },
    { id: 'mv:m@2', type: 'modelVersion', label: 'v2' },
    { id: 'model:m', type: 'model', label: 'm', entityRef: 'model:default/m' },
    { id: 'mv:m@1', type: 'modelVersion', label: 'v1', version: '1' },
  ],
  edges: [
    { from: 'dsv:d@1', to: 'run:r', type: 'inputTo' },
    { from: 'run:r', to: 'mv:m@1', type: 'produced' },
    { from: 'mv:m@1', to: 'model:m', type: 'versionOf' },
    { from: 'mv:m@2', to: 'model:m', type: 'versionOf' },
    { from: 'mv:m@3', to: 'model:m', type: 'versionOf' },
  ],
};

describe('the read actions', () => {
  it('are read-only, and every input field is described', () => {
    expect(kubeaiReadActions.map(a => [a.name, a.readOnly])).toEqual([
      ['list-model-versions', true],
      ['list-deployments', true],
      ['get-lineage', true],
      ['get-impact', true],
      ['get-run', true],
      ['get-team-usage', true],
    ]);
    for (const action of kubeaiReadActions) {
      expect(action.description.length).toBeGreaterThan(200);
      for (const [key, type] of Object.entries<z.ZodTypeAny>(
        action.input(z).shape,
      )) {
        expect([action.name, key, type.description]).toEqual([
          action.name,
          key,
          expect.any(String),
        ]);
      }
      expect(action.output(z).shape.summary).toBeDefined();
    }
  });
});

describe('summariseLineage', () => {
  it('keeps the whole graph within the caps', () => {
    const all = summariseLineage(graph, 10, 10);
    expect(all.truncated).toBe(false);
    expect(all.nodes).toHaveLength(6);
    expect(all.edges).toHaveLength(5);
  });

  it('keeps the nodes nearest the start and the edges between them', () => {
    const cut = summariseLineage(graph, 4, 10);
    expect(cut.truncated).toBe(true);
    // the model and its three versions (one hop); the run and the dataset version are two and three
    expect(cut.nodes.map(n => n.id).sort()).toEqual(
      ['model:m', 'mv:m@1', 'mv:m@2', 'mv:m@3'].sort(),
    );
    expect(cut.edges.map(e => e.type)).toEqual([
      'versionOf',
      'versionOf',
      'versionOf',
    ]);
    expect(cut.nodes.find(n => n.id === 'mv:m@1')).toEqual({
      id: 'mv:m@1',
      type: 'modelVersion',
      label: 'v1',
      version: '1',
    });
  });

  it('caps the edges on their own', () => {
    const cut = summariseLineage(graph, 10, 2);
    expect(cut).toMatchObject({ truncated: true });
    expect(cut.nodes).toHaveLength(6);
    expect(cut.edges).toHaveLength(2);
  });
});

describe('get-team-usage', () => {
  const action = kubeaiReadActions.find(a => a.name === 'get-team-usage')!;
  // the API's answers for a team with a queue in one cluster (as GET /cost and /pools/usage give)
  const report = (groupBy: string, items: any[]) => ({
    currency: 'EUR',
    from: '2026-01',
    to: '2026-12',
    groupBy,
    team: 'group:default/cv-team',
    total: items.reduce((n, i) => n + i.cost, 0),
    items,
    budget: {
      team: 'group:default/cv-team',
      month: '2026-12',
      monthly: 100,
      spent: 85.004,
      share: 0.85,
      state: 'warning',
      message: 'group:default/cv-team has spent 85 % of its budget',
    },
  });
  const pending = Array.from({ length: 25 }, (_, i) => ({
    namespace: 'cv',
    name: `w${i}`,
    state: 'pending',
    requests: { cpu: 4 },
  }));
  const calls: unknown[] = [];
  const client: any = {
    getCost: async (query: any, options: any) => {
      calls.push(['cost', query, options]);
      return query.groupBy === 'month'
        ? report('month', [
            { key: '2026-11', cost: 40.004, runs: 3, live: 0 },
            { key: '2026-12', cost: 45, runs: 4, live: 5 },
          ])
        : report('model', [
            { key: 'model:default/a', cost: 10.004, runs: 2, live: 0 },
            { key: 'model:default/b', cost: 75, runs: 5, live: 5 },
          ]);
    },
    getPoolUsage: async (query: any, options: any) => {
      calls.push(['usage', query, options]);
      return {
        items: [
          {
            cluster: 'local',
            clusterQueue: 'cv-team',
            cohort: 'shared',
            admitted: 2,
            flavors: [
              {
                flavor: 'elastic',
                resources: [
                  {
                    resource: 'cpu',
                    nominal: 16,
                    used: 18,
                    borrowed: 2,
                    lent: 0,
                    lendable: 0,
                  },
                  {
                    resource: 'memory',
                    nominal: 64 * 2 ** 30,
                    used: 6 * 2 ** 30,
                    borrowed: 0,
                    lent: 2 ** 30,
                    lendable: 58 * 2 ** 30,
                  },
                ],
              },
            ],
            pending,
          },
        ],
      };
    },
  };

  it("asks the API for the team's months, models and queue, and answers within its caps", async () => {
    const out: any = await action.run(
      client,
      { team: 'cv-team', from: '2026-01' },
      { token: 't' } as any,
    );
    expect(calls).toEqual([
      [
        'cost',
        { team: 'group:default/cv-team', from: '2026-01', groupBy: 'month' },
        { token: 't' },
      ],
      [
        'cost',
        { team: 'group:default/cv-team', from: '2026-01', groupBy: 'model' },
        { token: 't' },
      ],
      ['usage', { team: 'cv-team' }, { token: 't' }],
    ]);
    expect(out.total).toBe(85);
    expect(out.months).toEqual([
      { month: '2026-11', cost: 40, runs: 3 },
      { month: '2026-12', cost: 45, runs: 4 },
    ]);
    // costliest first
    expect(out.models.map((m: any) => m.model)).toEqual([
      'model:default/b',
      'model:default/a',
    ]);
    expect(out.budget).toMatchObject({ state: 'warning', spent: 85 });
    expect(out.pools[0].flavors[0].resources).toEqual([
      {
        resource: 'cpu',
        unit: 'cores',
        nominal: 16,
        used: 18,
        borrowed: 2,
        lent: 0,
      },
      {
        resource: 'memory',
        unit: 'GiB',
        nominal: 64,
        used: 6,
        borrowed: 0,
        lent: 1,
      },
    ]);
    expect([out.pools[0].pending.length, out.pools[0].totalPending]).toEqual([
      20, 25,
    ]);
    expect(out.summary).toBe(
      'group:default/cv-team spent 85 EUR in 2026-01…2026-12 (7 runs); most on model:default/b (75 EUR); group:default/cv-team has spent 85 % of its budget; 1 queue(s), 25 workload(s) waiting for quota.',
    );
  });

  it('refuses a team that is not a group reference', async () => {
    await expect(
      action.run(client, { team: 'user:default/alice' }, { token: 't' } as any),
    ).rejects.toThrow(/not a group reference/);
  });
});
