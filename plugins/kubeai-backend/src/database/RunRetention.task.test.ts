/*
 * The run retention task as the plugin schedules it (coreServices.scheduler, a mock that records
 * the task so the test can run it): scheduled only when `kubeai.retention.runs.maxAgeDays` is set,
 * hourly, and running it removes the plugin's own old finished runs; a bad value stops the backend
 * at startup naming the key.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import type { Knex } from 'knex';
import { createTestDatabases } from '../__testUtils__/databases';
import { kubeaiPlugin } from '../plugin';

jest.setTimeout(60_000);

const databases = createTestDatabases();

const start = (
  knex: Knex,
  retention: { runs: { maxAgeDays: number | string } } | undefined,
  scheduler = mockServices.scheduler.mock(),
) =>
  startTestBackend({
    features: [
      kubeaiPlugin,
      mockServices.database.factory({ knex }),
      catalogServiceMock.factory({ entities: [] }),
      scheduler.factory,
      mockServices.rootConfig.factory({
        data: { kubeai: { informers: { enabled: false }, retention } },
      }),
    ],
  });

const DAY = 24 * 60 * 60 * 1000;
const run = (id: string, finishedDaysAgo: number) => {
  const at = new Date(Date.now() - finishedDaysAgo * DAY).toISOString();
  return {
    id,
    kind: 'training',
    cluster: 'c',
    namespace: 'ns',
    name: `task-${id.slice(-4)}`,
    phase: 'Succeeded',
    params: '{}',
    created_by: 'user:default/test',
    created_at: at,
    started_at: at,
    finished_at: at,
    updated_at: at,
  };
};

it('schedules the hourly run retention when maxAgeDays is set, which removes the old finished runs', async () => {
  const knex = await databases.init('SQLITE_3');
  const scheduler = mockServices.scheduler.mock();
  const backend = await start(knex, { runs: { maxAgeDays: 7 } }, scheduler);
  try {
    const task = scheduler.scheduleTask.mock.calls.find(
      ([t]) => t.id === 'kubeai-run-retention',
    )?.[0];
    expect(task).toMatchObject({
      id: 'kubeai-run-retention',
      frequency: { hours: 1 },
      timeout: { minutes: 30 },
    });
    const old = '00000000-0000-4000-a000-000000000001';
    const recent = '00000000-0000-4000-a000-000000000002';
    await knex('kubeai_runs').insert([run(old, 8), run(recent, 6)]);
    await task!.fn(new AbortController().signal);
    expect(await knex('kubeai_runs').pluck('id')).toEqual([recent]);
    const rollups = await knex('kubeai_run_rollups').select(
      'namespace',
      'runs',
    );
    expect(rollups.map(r => [r.namespace, Number(r.runs)])).toEqual([
      ['ns', 1],
    ]);
    await knex('kubeai_runs').delete();
    await knex('kubeai_run_rollups').delete();
  } finally {
    await backend.stop();
  }
});

it('schedules no run retention when maxAgeDays is unset (runs are kept)', async () => {
  const knex = await databases.init('SQLITE_3');
  const scheduler = mockServices.scheduler.mock();
  const backend = await start(knex, undefined, scheduler);
  try {
    const ids = scheduler.scheduleTask.mock.calls.map(([t]) => t.id);
    expect(ids).toContain('kubeai-audit-retention');
    expect(ids).not.toContain('kubeai-run-retention');
  } finally {
    await backend.stop();
  }
});

it.each([0, -5, 'a year'])(
  'a maxAgeDays of %p stops the backend at startup, naming kubeai.retention.runs.maxAgeDays',
  async maxAgeDays => {
    const knex = await databases.init('SQLITE_3');
    await expect(start(knex, { runs: { maxAgeDays } })).rejects.toThrow(
      /kubeai\.retention\.runs\.maxAgeDays: must be a whole number of days from 1 to 36500/,
    );
  },
);
