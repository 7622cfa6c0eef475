/*
 * Audit retention on SQLite and PostgreSQL: events older than the cutoff go with their target rows
 * (so lookups by entity or run no longer find them), recent ones and the one exactly at the cutoff
 * stay, every transaction deletes at most one batch (oldest first), an aborted run stops; and the
 * parsing of `kubeai.audit.retentionDays`.
 */
import { ConfigReader } from '@backstage/config';
import { TestDatabaseId } from '@backstage/backend-test-utils';
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import {
  createTestDatabases,
  postgresSupport,
} from '../../__testUtils__/databases';
import type { NewAuditEvent } from '../../database/AuditStore';
import { RegistryStore } from '../../database/RegistryStore';
import {
  AuditRetention,
  DEFAULT_RETENTION_DAYS,
  readAuditRetentionConfig,
} from './retention';

jest.setTimeout(60_000);

const databases = createTestDatabases();

it('runs against SQLite and PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

const NOW = new Date('2027-06-01T00:00:00.000Z');
const DAY = 24 * 60 * 60 * 1000;
const daysAgo = (days: number, ms = 0) =>
  new Date(NOW.getTime() - days * DAY + ms).toISOString();

const event = (occurredAt: string, runId = randomUUID()): NewAuditEvent => ({
  occurredAt,
  actor: 'user:default/alice',
  operationId: 'createJob',
  method: 'POST',
  path: '/jobs',
  summary: `created training task at ${occurredAt}`,
  outcome: 'succeeded',
  status: 201,
  dryRun: false,
  cluster: 'local',
  namespace: 'team-a',
  entityRefs: ['model:default/forecast', 'dataset:default/orders'],
  runIds: [runId],
});

describe.each(databases.eachSupportedId())(
  'audit retention on %p',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let store: RegistryStore;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      await RegistryStore.migrate(knex);
      store = new RegistryStore(knex);
    });

    beforeEach(async () => {
      await knex('kubeai_audit_event_targets').delete();
      await knex('kubeai_audit_events').delete();
    });

    const times = async () =>
      (
        await knex('kubeai_audit_events')
          .select('occurred_at')
          .orderBy('occurred_at')
      ).map(r => r.occurred_at);
    const targetsOf = async () =>
      (
        await knex('kubeai_audit_event_targets')
          .join(
            'kubeai_audit_events',
            'kubeai_audit_events.id',
            'kubeai_audit_event_targets.event_id',
          )
          .select('occurred_at', 'type')
      ).map(r => `${r.occurred_at} ${r.type}`);

    it('deletes the events older than the retention and their targets; recent ones stay', async () => {
      const oldRun = randomUUID();
      const old = [
        event(daysAgo(31), oldRun),
        ...Array.from({ length: 22 }, (_, i) => event(daysAgo(40 + i))),
      ];
      // exactly at the cutoff (kept: strictly older goes) and within the retention
      const kept = [
        event(daysAgo(30)),
        ...Array.from({ length: 5 }, (_, i) => event(daysAgo(29 - i))),
      ];
      await store.audit.append([...old, ...kept]);
      const targetsBefore = (await targetsOf()).length;
      expect(targetsBefore).toBe(3 * (old.length + kept.length));

      const retention = new AuditRetention({
        db: knex,
        retentionDays: 30,
        batchSize: 5,
      });
      const result = await retention.prune({ now: NOW });
      expect(result).toEqual({
        deleted: 23,
        batches: 5,
        cutoff: daysAgo(30),
        incomplete: false,
      });

      expect(await times()).toEqual(kept.map(e => e.occurredAt).sort());
      // no target row of a deleted event is left; those of the kept ones are all there
      const targets = await targetsOf();
      expect(targets.length).toBe(3 * kept.length);
      const orphans = await knex('kubeai_audit_event_targets')
        .whereNotIn('event_id', knex('kubeai_audit_events').select('id'))
        .count({ n: '*' });
      expect(Number(orphans[0].n)).toBe(0);
      expect(
        Number(
          (await knex('kubeai_audit_event_targets').count({ n: '*' }))[0].n,
        ),
      ).toBe(3 * kept.length);

      // what the API reads: the old run is gone, the entity's page holds the kept events only
      expect((await store.audit.list({ runId: oldRun })).items).toEqual([]);
      const page = await store.audit.list({
        entityRef: 'model:default/forecast',
      });
      expect(page.items.map(e => e.occurredAt).sort()).toEqual(
        kept.map(e => e.occurredAt).sort(),
      );

      // a second run finds nothing
      expect(await retention.prune({ now: NOW })).toMatchObject({
        deleted: 0,
        batches: 0,
      });
    });

    it('deletes at most one batch per transaction, oldest first', async () => {
      const old = Array.from({ length: 12 }, (_, i) => event(daysAgo(100 + i)));
      await store.audit.append([...old, event(daysAgo(1))]);
      const retention = new AuditRetention({
        db: knex,
        retentionDays: 30,
        batchSize: 5,
      });

      // one batch: the 5 oldest go
      expect(await retention.prune({ now: NOW, maxBatches: 1 })).toMatchObject({
        deleted: 5,
        batches: 1,
        incomplete: true,
      });
      const oldest = old.map(e => e.occurredAt).sort();
      expect(await times()).toEqual([...oldest.slice(5), daysAgo(1)]);

      // the rest: every DELETE of events names at most 5 ids
      const deletes: number[] = [];
      const onQuery = (q: { sql: string; bindings?: unknown[] }) => {
        if (/^delete from [`"]?kubeai_audit_events[`"]? /i.test(q.sql)) {
          deletes.push(q.bindings?.length ?? 0);
        }
      };
      knex.on('query', onQuery);
      try {
        expect(await retention.prune({ now: NOW })).toMatchObject({
          deleted: 7,
          batches: 2,
          incomplete: false,
        });
      } finally {
        knex.removeListener('query', onQuery);
      }
      expect(deletes).toEqual([5, 2]);
      expect(await times()).toEqual([daysAgo(1)]);
    });

    it('stops when aborted (the scheduler’s timeout or shutdown), deleting nothing more', async () => {
      await store.audit.append([event(daysAgo(400)), event(daysAgo(1))]);
      const retention = new AuditRetention({ db: knex, retentionDays: 30 });
      const controller = new AbortController();
      controller.abort();
      expect(
        await retention.prune({ now: NOW, signal: controller.signal }),
      ).toMatchObject({ deleted: 0, incomplete: true });
      expect((await times()).length).toBe(2);
      expect(await retention.prune({ now: NOW })).toMatchObject({
        deleted: 1,
        incomplete: false,
      });
      expect(await times()).toEqual([daysAgo(1)]);
    });
  },
);

describe('kubeai.audit.retentionDays', () => {
  const read = (retentionDays: unknown) =>
    readAuditRetentionConfig(
      new ConfigReader(
        retentionDays === undefined
          ? {}
          : { kubeai: { audit: { retentionDays } } },
      ),
    );

  it('defaults to 365 days and takes whole numbers (also as strings, from the environment)', () => {
    expect(DEFAULT_RETENTION_DAYS).toBe(365);
    expect(read(undefined)).toEqual({ retentionDays: 365 });
    expect(read(30)).toEqual({ retentionDays: 30 });
    expect(read(1)).toEqual({ retentionDays: 1 });
    expect(read('90')).toEqual({ retentionDays: 90 });
    expect(read(36500)).toEqual({ retentionDays: 36500 });
  });

  it.each([0, -1, 1.5, 36501, 'abc', '', '1.5', true, [30], { days: 30 }])(
    'refuses %p, naming the key and the value',
    value => {
      expect(() => read(value)).toThrow(
        `kubeai.audit.retentionDays: must be a whole number of days from 1 to 36500 ` +
          `(how long audit events are kept; default 365), got ${JSON.stringify(
            value,
          )}`,
      );
    },
  );
});
