/*
 * Costs on SQLite and PostgreSQL over a hand-computed fixture month: each run's cost, the totals
 * per month, team, model and version before and after the fold (equal; the fold only moves a run
 * from live to folded), a second fold and a fold interrupted and restarted change nothing, two
 * folds at once count every run once, budgets (warning, over) name the budget, and run retention
 * keeps the cost of what it removes in the rollups while no total changes. Also the config.
 */
import { ConfigReader } from '@backstage/config';
import { TestDatabaseId } from '@backstage/backend-test-utils';
import type { Knex } from 'knex';
import {
  createTestDatabases,
  postgresSupport,
} from '../__testUtils__/databases';
import { RegistryStore } from '../database/RegistryStore';
import { RunRetention } from '../database/RunRetention';
import { readCostConfig } from './costConfig';
import { CostStore } from './CostStore';

jest.setTimeout(120_000);

const databases = createTestDatabases();

it('runs against SQLite and PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

const CONFIG = {
  kubeai: {
    cost: {
      currency: 'EUR',
      default: { cpuHour: 0.1, memoryGiBHour: 0.02, gpuHour: 3 },
      flavors: {
        elastic: { cpuHour: 0.02, memoryGiBHour: 0.004 },
        regular: { cpuHour: 0.05, memoryGiBHour: 0.01 },
        gpu: { cpuHour: 0.05, memoryGiBHour: 0.01, gpuHour: 2.5 },
      },
      budgets: [{ team: 'group:default/cv-team', monthly: 45 }],
    },
  },
};
const CV = 'group:default/cv-team';
const FC = 'group:default/forecast-team';
const DETECTOR = 'model:default/cost-detector';
const CLASSIFIER = 'model:default/cost-classifier';
const FORECAST = 'model:default/cost-forecast';
/** Mid-December: November is closed, one run is running. */
const NOW = new Date('2026-12-03T12:00:00.000Z');
const teamsOf = async (refs: string[]) =>
  refs.map(
    ref => (({ 'c/cv-ns': CV, 'c/fc-ns': FC } as Record<string, string>)[ref]),
  );

let seq = 0;
const newId = () =>
  `00000000-0000-4000-a000-${(++seq).toString(16).padStart(12, '0')}`;

/**
 * The fixture and its cost by hand (hours × pods × Σ request × price of the flavor):
 * - r1 elastic, 2 cpu 4Gi, 1 pod, 3 h (Nov 2):        3 × (2×0.02 + 4×0.004)         =  0.168
 * - r2 gpu, 4 cpu 16Gi 2 GPU, 1+3 pods, 1.5 h (Nov 10): 6 × (4×0.05 + 16×0.01 + 2×2.5) = 32.16
 * - r3 no flavor (default), 500m 2Gi, parallelism 2, 0.5 h (Nov 30): 1 × (0.05 + 0.04) =  0.09
 * - r4 regular, 8 cpu 32Gi, 1 pod, 10 h from Oct 31 22:00 (ends Nov 1: counts in Nov):
 *                                                     10 × (8×0.05 + 32×0.01)          =  7.2
 *   cv-team in November: 0.168 + 32.16 + 0.09 + 7.2 = 39.618
 * - f1 forecast-team, elastic, 1 cpu 1Gi, 2 h (Nov 5): 2 × (0.02 + 0.004)              =  0.048
 * - o1 cv-team, regular, 1 cpu, 1 h (Oct 15):          1 × 0.05                         =  0.05
 * - live: cv-team, elastic, 4 cpu 8Gi, running since 2 h before NOW: 2 × (0.08 + 0.032) = 0.224
 * - a pending run that never started: 0
 * - k1 cv-team, elastic, its params record no cpu / memory (as POST /jobs records a task), but
 *   Kueue's Workload of it has 3 pods of 2 cpu 4Gi; 2 h (Sep 20): 2 × 3 × (2×0.02 + 4×0.004) = 0.336
 */
const EXPECTED = {
  r1: 0.168,
  r2: 32.16,
  r3: 0.09,
  r4: 7.2,
  f1: 0.048,
  o1: 0.05,
  k1: 0.336,
  live: 0.224,
  cvNovember: 39.618,
};

function fixture() {
  const run = (
    name: string,
    fields: Record<string, unknown>,
    params: Record<string, unknown>,
  ) => ({
    id: newId(),
    kind: 'training',
    cluster: 'c',
    namespace: 'cv-ns',
    name,
    phase: 'Succeeded',
    created_by: 'user:default/test',
    updated_at: NOW.toISOString(),
    ...fields,
    created_at: fields.started_at ?? NOW.toISOString(),
    params: JSON.stringify(params),
  });
  const done = (start: string, end: string) => ({
    started_at: start,
    finished_at: end,
  });
  return {
    r1: run(
      'r1',
      {
        model_ref: DETECTOR,
        flavor: 'elastic',
        ...done('2026-11-02T10:00:00.000Z', '2026-11-02T13:00:00.000Z'),
      },
      { cpu: '2', memory: '4Gi' },
    ),
    r2: run(
      'r2',
      {
        model_ref: DETECTOR,
        flavor: 'gpu',
        phase: 'Failed',
        ...done('2026-11-10T08:00:00.000Z', '2026-11-10T09:30:00.000Z'),
      },
      {
        resources: { cpu: '4', memory: '16Gi', gpu: 2 },
        replicas: { Master: 1, Worker: 3 },
      },
    ),
    r3: run(
      'r3',
      {
        model_ref: CLASSIFIER,
        ...done('2026-11-30T23:00:00.000Z', '2026-11-30T23:30:00.000Z'),
      },
      { cpu: '500m', memory: '2Gi', parallelism: 2 },
    ),
    r4: run(
      'r4',
      {
        model_ref: CLASSIFIER,
        flavor: 'regular',
        phase: 'Stopped',
        ...done('2026-10-31T22:00:00.000Z', '2026-11-01T08:00:00.000Z'),
      },
      { cpu: 8, memory: '32Gi' },
    ),
    f1: run(
      'f1',
      {
        namespace: 'fc-ns',
        model_ref: FORECAST,
        flavor: 'elastic',
        ...done('2026-11-05T01:00:00.000Z', '2026-11-05T03:00:00.000Z'),
      },
      { cpu: '1', memory: '1Gi' },
    ),
    o1: run(
      'o1',
      {
        model_ref: DETECTOR,
        flavor: 'regular',
        ...done('2026-10-15T01:00:00.000Z', '2026-10-15T02:00:00.000Z'),
      },
      { cpu: '1' },
    ),
    live: run(
      'live',
      {
        model_ref: DETECTOR,
        flavor: 'elastic',
        phase: 'Running',
        started_at: '2026-12-03T10:00:00.000Z',
      },
      { cpu: '4', memory: '8Gi' },
    ),
    // a periodic task's own run: its executions run the pods, it costs nothing itself
    k1: run(
      'k1',
      {
        model_ref: CLASSIFIER,
        flavor: 'elastic',
        ...done('2026-09-20T10:00:00.000Z', '2026-09-20T12:00:00.000Z'),
      },
      { objectKind: 'Job' },
    ),
    cron: run(
      'cron',
      {
        model_ref: DETECTOR,
        phase: 'Running',
        started_at: '2026-11-01T00:00:00.000Z',
      },
      { objectKind: 'CronJob', gpu: 1 },
    ),
    pending: run(
      'pending',
      { model_ref: DETECTOR, phase: 'Pending' },
      { cpu: '64' },
    ),
  };
}

const round = (n: number) => Math.round(n * 1e6) / 1e6;
const asMap = (items: Array<{ key: string; cost: number }>) =>
  Object.fromEntries(items.map(i => [i.key, round(i.cost)]));

describe.each(databases.eachSupportedId())(
  'cost on %p',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let runs: ReturnType<typeof fixture>;
    const config = readCostConfig(new ConfigReader(CONFIG));
    const store = () => new CostStore({ db: knex, config, teamsOf });
    const ids = () => Object.values(runs).map(r => r.id);

    const reports = async (cost: CostStore) => ({
      months: asMap(
        (
          await cost.report(
            { team: CV, from: '2026-10', to: '2026-12', groupBy: 'month' },
            NOW,
          )
        ).items,
      ),
      models: asMap(
        (
          await cost.report(
            { team: CV, from: '2026-11', to: '2026-11', groupBy: 'model' },
            NOW,
          )
        ).items,
      ),
      teams: asMap(
        (
          await cost.report(
            { from: '2026-11', to: '2026-11', groupBy: 'team' },
            NOW,
          )
        ).items,
      ),
      versions: asMap(
        (
          await cost.report(
            {
              model: DETECTOR,
              from: '2026-01',
              to: '2026-12',
              groupBy: 'version',
            },
            NOW,
          )
        ).items,
      ),
    });
    const EXPECTED_REPORTS = {
      months: {
        '2026-10': EXPECTED.o1,
        '2026-11': EXPECTED.cvNovember,
        '2026-12': EXPECTED.live,
      },
      models: {
        [DETECTOR]: round(EXPECTED.r1 + EXPECTED.r2),
        [CLASSIFIER]: round(EXPECTED.r3 + EXPECTED.r4),
      },
      teams: { [CV]: EXPECTED.cvNovember, [FC]: EXPECTED.f1 },
      versions: { '1': EXPECTED.r1, '2': EXPECTED.r2, '3': EXPECTED.live },
    };

    beforeEach(async () => {
      knex = knex ?? (await databases.init(databaseId));
      await RegistryStore.migrate(knex);
      runs = fixture();
      await knex('kubeai_runs').insert(Object.values(runs));
      // Kueue's Workload of k1 as the informers store it (its summary: pod sets, canonical units)
      await knex('kubeai_cluster_objects').insert({
        cluster: 'c',
        kind: 'Workload',
        api_version: 'kueue.x-k8s.io/v1beta2',
        namespace: 'cv-ns',
        name: 'job-k1-12345',
        uid: '00000000-0000-4000-a000-00000000ffff',
        resource_version: '1',
        managed: false,
        run_id: runs.k1.id,
        phase: 'finished',
        observed: JSON.stringify({
          details: {
            state: 'finished',
            podSets: [
              {
                name: 'main',
                count: 3,
                requests: { cpu: 2000, memory: 4 * 2 ** 30 },
              },
            ],
            assignments: [],
          },
        }),
        observed_at: '2026-09-20T12:00:05.000Z',
        // gone with its Job (else run retention would keep k1: the informers still see it)
        deleted_at: '2026-09-20T13:00:00.000Z',
      });
      await knex('kubeai_model_versions').insert(
        (['r1', 'r2', 'live'] as const).map((key, i) => ({
          model_ref: DETECTOR,
          version: i + 1,
          artifact_uri: `s3://m/${i + 1}`,
          artifact_format: 'onnx',
          metrics: '{}',
          params: '{}',
          tags: '[]',
          state: 'live',
          run_id: runs[key].id,
          created_by: 'user:default/test',
          created_at: NOW.toISOString(),
          updated_at: NOW.toISOString(),
        })),
      );
    });

    afterEach(async () => {
      await knex('kubeai_cluster_objects').where({ kind: 'Workload' }).delete();
      await knex('kubeai_model_versions')
        .where({ model_ref: DETECTOR })
        .delete();
      await knex('kubeai_runs').whereIn('id', ids()).delete();
      await knex('kubeai_cost_daily').delete();
      await knex('kubeai_run_rollups').delete();
    });

    it('prices each run as computed by hand, running ones up to now', async () => {
      const cost = store();
      for (const key of ['r1', 'r2', 'r3', 'r4', 'f1', 'o1', 'k1'] as const) {
        const got = await cost.ofRun(runs[key].id, NOW);
        expect({ key, amount: round(got!.amount), final: got!.final }).toEqual({
          key,
          amount: EXPECTED[key],
          final: true,
        });
      }
      expect(await cost.ofRun(runs.live.id, NOW)).toMatchObject({
        final: false,
        flavor: 'elastic',
        podHours: 2,
      });
      expect(round((await cost.ofRun(runs.live.id, NOW))!.amount)).toBe(
        EXPECTED.live,
      );
      expect((await cost.ofRun(runs.pending.id, NOW))!.amount).toBe(0);
      expect(await cost.ofRun(runs.cron.id, NOW)).toMatchObject({
        amount: 0,
        podHours: 0,
      });
      // the default prices for a run without a flavor
      expect((await cost.ofRun(runs.r3.id, NOW))!.flavor).toBeUndefined();
    });

    it('totals per month, model, team and version are the same before and after the fold; a second fold changes nothing', async () => {
      const cost = store();
      const before = await reports(cost);
      expect(before).toEqual(EXPECTED_REPORTS);
      // before the fold every part is live
      const november = (
        await cost.report(
          { team: CV, from: '2026-11', to: '2026-11', groupBy: 'month' },
          NOW,
        )
      ).items[0];
      expect(round(november.live)).toBe(EXPECTED.cvNovember);

      expect(await cost.fold()).toEqual({ folded: 7, batches: 1 });
      expect(await reports(cost)).toEqual(EXPECTED_REPORTS);
      const afterFold = (
        await cost.report(
          { team: CV, from: '2026-11', to: '2026-12', groupBy: 'month' },
          NOW,
        )
      ).items;
      expect(afterFold.map(i => [i.key, round(i.live), i.runs])).toEqual([
        ['2026-11', 0, 4],
        ['2026-12', EXPECTED.live, 1],
      ]);
      const stored: Array<{ id: string; cost: number }> = await knex(
        'kubeai_runs',
      )
        .whereIn('id', ids())
        .select('id', 'cost');
      const byId = new Map(
        stored.map(r => [r.id, r.cost === null ? null : round(Number(r.cost))]),
      );
      expect(byId.get(runs.r2.id)).toBe(EXPECTED.r2);
      expect(byId.get(runs.live.id)).toBeNull();
      expect(byId.get(runs.pending.id)).toBeNull();
      const daily = await knex('kubeai_cost_daily').sum({
        cost: 'cost',
        runs: 'runs',
      });
      expect(round(Number(daily[0].cost))).toBe(
        round(EXPECTED.cvNovember + EXPECTED.f1 + EXPECTED.o1 + EXPECTED.k1),
      );
      expect(Number(daily[0].runs)).toBe(7);

      expect(await cost.fold()).toEqual({ folded: 0, batches: 0 });
      expect(await reports(cost)).toEqual(EXPECTED_REPORTS);
      expect(
        Number((await knex('kubeai_cost_daily').sum({ runs: 'runs' }))[0].runs),
      ).toBe(7);

      // the run finishes: the next fold prices it (up to its end), in December
      await knex('kubeai_runs').where({ id: runs.live.id }).update({
        phase: 'Succeeded',
        finished_at: '2026-12-03T11:00:00.000Z',
      });
      expect(await cost.fold()).toEqual({ folded: 1, batches: 1 });
      const december = await cost.report(
        { team: CV, from: '2026-12', to: '2026-12', groupBy: 'month' },
        NOW,
      );
      expect(december.items.map(i => [i.key, round(i.cost), i.live])).toEqual([
        ['2026-12', 0.112, 0],
      ]);
    });

    it('a fold stopped midway and restarted, and two folds at once, count every run once', async () => {
      const first = await store().fold({ batchSize: 2, maxBatches: 1 });
      expect(first).toEqual({ folded: 2, batches: 1 });
      expect(await reports(store())).toEqual(EXPECTED_REPORTS);
      // "restart": a new instance folds the rest, twice at the same time
      const [a, b] = await Promise.all(
        [store().fold({ batchSize: 2 }), store().fold({ batchSize: 2 })].map(
          p => p.catch(e => e),
        ),
      );
      // on SQLite one waits for the other; on PostgreSQL the rows are locked: either may retry next time
      const folded = [a, b].reduce(
        (n, r) => n + (r instanceof Error ? 0 : r.folded),
        0,
      );
      // what either did not fold, the next pass does: every run exactly once
      expect(folded + (await store().fold()).folded).toBe(5);
      expect(await reports(store())).toEqual(EXPECTED_REPORTS);
      expect(
        Number((await knex('kubeai_cost_daily').sum({ runs: 'runs' }))[0].runs),
      ).toBe(7);
    });

    it('budgets: a warning from 80 %, over it the message names the budget', async () => {
      const cost = store();
      const endOfNovember = new Date('2026-11-30T23:59:00.000Z');
      expect(await cost.budgetStatus(CV, endOfNovember)).toMatchObject({
        team: CV,
        month: '2026-11',
        monthly: 45,
        state: 'warning',
        message:
          'team group:default/cv-team has spent 88 % of its budget of 45 EUR for 2026-11 (39.62)',
      });
      const tight = new CostStore({
        db: knex,
        teamsOf,
        config: readCostConfig(
          new ConfigReader({
            kubeai: {
              cost: {
                ...CONFIG.kubeai.cost,
                budgets: [{ team: CV, monthly: 35 }],
              },
            },
          }),
        ),
      });
      expect(await tight.budgetStatus(CV, endOfNovember)).toMatchObject({
        state: 'over',
        message:
          'team group:default/cv-team is over its budget of 35 EUR for 2026-11 (spent 39.62)',
      });
      expect(await cost.budgetStatus(FC, endOfNovember)).toBeUndefined();
      // December: only the running run so far
      expect(await cost.budgetStatus(CV, NOW)).toMatchObject({
        state: 'ok',
        spent: expect.closeTo(EXPECTED.live, 9),
      });
    });

    it('run retention folds what it removes first: the rollups keep the cost, no total changes', async () => {
      const cost = store();
      // some runs folded by the task already, the others not yet
      await cost.fold({ batchSize: 3, maxBatches: 1 });
      const retention = new RunRetention({
        db: knex,
        maxAgeDays: 1,
        teamsOf,
        foldCost: (tx, runIds) => cost.foldRows(tx, runIds, new Map()),
      });
      const result = await retention.prune({ now: NOW });
      // r1, r2 produced versions and stay; live and pending are not finished
      expect(result.removed).toBe(5);
      const left: string[] = await knex('kubeai_runs')
        .whereIn('id', ids())
        .pluck('name');
      expect(left.sort()).toEqual(['cron', 'live', 'pending', 'r1', 'r2']);
      const rollups = await knex('kubeai_run_rollups').sum({
        cost: 'cost',
        runs: 'runs',
      });
      expect(round(Number(rollups[0].cost))).toBe(
        round(
          EXPECTED.r3 + EXPECTED.r4 + EXPECTED.f1 + EXPECTED.o1 + EXPECTED.k1,
        ),
      );
      expect(Number(rollups[0].runs)).toBe(5);
      expect(await reports(cost)).toEqual(EXPECTED_REPORTS);
      await cost.fold();
      expect(await reports(cost)).toEqual(EXPECTED_REPORTS);
      // a second pass and fold: nothing moves
      await retention.prune({ now: NOW });
      expect(await cost.fold()).toEqual({ folded: 0, batches: 0 });
      expect(await reports(cost)).toEqual(EXPECTED_REPORTS);
    });
  },
);

describe('kubeai.cost config', () => {
  const read = (cost: any) => () =>
    readCostConfig(new ConfigReader({ kubeai: { cost } }));
  it('reads prices, budgets and the default', () => {
    const config = readCostConfig(new ConfigReader(CONFIG));
    expect(config.flavors.get('gpu')).toEqual({
      cpuHour: 0.05,
      memoryGiBHour: 0.01,
      gpuHour: 2.5,
    });
    expect(config.flavors.get('elastic')).toEqual({
      cpuHour: 0.02,
      memoryGiBHour: 0.004,
      gpuHour: 0,
    });
    expect(config.budgets.get(CV)).toEqual({ team: CV, monthly: 45 });
    expect(config.warnAt).toBe(0.8);
    expect(readCostConfig(new ConfigReader({})).default).toEqual({
      cpuHour: 0,
      memoryGiBHour: 0,
      gpuHour: 0,
    });
  });
  it('names the key of a bad value', () => {
    expect(read({ flavors: { elastic: { cpuHour: -1 } } })).toThrow(
      'kubeai.cost.flavors.elastic.cpuHour: must be a number ≥ 0, got -1',
    );
    expect(read({ flavors: { elastic: { cpuHours: 1 } } })).toThrow(
      'kubeai.cost.flavors.elastic.cpuHours: unknown price',
    );
    expect(read({ flavors: { elastic: 3 } })).toThrow(
      'kubeai.cost.flavors.elastic: must be an object',
    );
    expect(read({ default: { gpuHour: 'lots' } })).toThrow(
      'kubeai.cost.default.gpuHour: must be a number ≥ 0, got "lots"',
    );
    expect(read({ currency: 'euros and cents' })).toThrow(
      'kubeai.cost.currency',
    );
    expect(read({ budgets: [{ team: 'cv-team', monthly: 10 }] })).toThrow(
      'kubeai.cost.budgets[0].team: must be a group reference',
    );
    expect(read({ budgets: [{ team: CV }] })).toThrow(
      'kubeai.cost.budgets[0].monthly: is required',
    );
    expect(
      read({
        budgets: [
          { team: CV, monthly: 1 },
          { team: CV, monthly: 2 },
        ],
      }),
    ).toThrow('kubeai.cost.budgets[1].team: has a budget already');
    expect(read({ warnAt: 2 })).toThrow(
      'kubeai.cost.warnAt: must be a share from 0 to 1',
    );
  });
});
