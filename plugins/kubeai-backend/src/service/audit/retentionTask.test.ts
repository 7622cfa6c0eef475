/*
 * The retention task as the plugin schedules it (coreServices.scheduler, a mock that records the
 * task so the test can run it): its id, hourly frequency and timeout, and that running it deletes
 * the plugin's own old audit events; a bad `kubeai.audit.retentionDays` stops the backend at
 * startup naming the key.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import type { Knex } from 'knex';
import { createTestDatabases } from '../../__testUtils__/databases';
import { RegistryStore } from '../../database/RegistryStore';
import { kubeaiPlugin } from '../../plugin';

jest.setTimeout(60_000);

const databases = createTestDatabases();

const start = (
  knex: Knex,
  audit: { retentionDays: number | string },
  scheduler = mockServices.scheduler.mock(),
) =>
  startTestBackend({
    features: [
      kubeaiPlugin,
      mockServices.database.factory({ knex }),
      catalogServiceMock.factory({ entities: [] }),
      scheduler.factory,
      mockServices.rootConfig.factory({
        data: { kubeai: { informers: { enabled: false }, audit } },
      }),
    ],
  });

const event = (occurredAt: string) => ({
  occurredAt,
  actor: 'user:default/alice',
  operationId: 'createJob',
  method: 'POST' as const,
  path: '/jobs',
  summary: 'created training task t (Job)',
  outcome: 'succeeded' as const,
  status: 201,
  dryRun: false,
  entityRefs: ['model:default/forecast'],
  runIds: [],
});

it('schedules the hourly retention task, which deletes the events older than the retention', async () => {
  const knex = await databases.init('SQLITE_3');
  const scheduler = mockServices.scheduler.mock();
  const backend = await start(knex, { retentionDays: 7 }, scheduler);
  try {
    // the plugin's scheduled tasks: audit retention, the cost fold and run credential renewal
    expect(scheduler.scheduleTask.mock.calls.map(([t]) => t.id).sort()).toEqual(
      ['kubeai-audit-retention', 'kubeai-cost-fold', 'kubeai-run-credentials'],
    );
    const task = scheduler.scheduleTask.mock.calls.find(
      ([t]) => t.id === 'kubeai-audit-retention',
    )![0];
    expect(task).toMatchObject({
      id: 'kubeai-audit-retention',
      frequency: { hours: 1 },
      timeout: { minutes: 15 },
    });

    const day = 24 * 60 * 60 * 1000;
    const old = new Date(Date.now() - 8 * day).toISOString();
    const recent = new Date(Date.now() - 6 * day).toISOString();
    const store = new RegistryStore(knex);
    await store.audit.append([event(old), event(recent)]);

    await task.fn(new AbortController().signal);
    const page = await store.audit.list({
      entityRef: 'model:default/forecast',
    });
    expect(page.items.map(e => e.occurredAt)).toEqual([recent]);
    expect(
      (await knex('kubeai_audit_event_targets').select('event_id')).map(r =>
        Number(r.event_id),
      ),
    ).toEqual([page.items[0].id]);
  } finally {
    await backend.stop();
  }
});

it.each([0, -5, 'a year'])(
  'a retention of %p stops the backend at startup, naming kubeai.audit.retentionDays',
  async retentionDays => {
    const knex = await databases.init('SQLITE_3');
    await expect(start(knex, { retentionDays })).rejects.toThrow(
      /kubeai\.audit\.retentionDays: must be a whole number of days from 1 to 36500/,
    );
  },
);
