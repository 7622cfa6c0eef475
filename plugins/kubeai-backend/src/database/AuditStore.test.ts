/*
 * The audit store on SQLite and PostgreSQL: what the end-to-end suite (service/audit.test.ts)
 * cannot easily reach — an event with more targets than one insert statement takes (a batch of
 * 1,000 tasks), the page size cap, and that audit rows leave the registry's change token alone
 * (they change no lineage answer).
 */
import { TestDatabaseId } from '@backstage/backend-test-utils';
import { randomUUID } from 'node:crypto';
import {
  createTestDatabases,
  postgresSupport,
} from '../__testUtils__/databases';
import { AUDIT_PAGE, type NewAuditEvent } from './AuditStore';
import { RegistryStore } from './RegistryStore';

jest.setTimeout(60_000);

const databases = createTestDatabases();

it('runs against SQLite and PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

const event = (
  n: number,
  extra: Partial<NewAuditEvent> = {},
): NewAuditEvent => ({
  occurredAt: new Date(Date.UTC(2026, 11, 30, 8, 0, n)).toISOString(),
  actor: 'user:default/alice',
  operationId: 'createJob',
  method: 'POST',
  path: '/jobs',
  summary: `created training task t-${n} (Job)`,
  outcome: 'succeeded',
  status: 201,
  dryRun: false,
  cluster: 'local',
  namespace: 'team-a',
  entityRefs: [],
  runIds: [],
  ...extra,
});

describe.each(databases.eachSupportedId())(
  'the audit store on %p',
  (databaseId: TestDatabaseId) => {
    let store: RegistryStore;

    beforeAll(async () => {
      const knex = await databases.init(databaseId);
      await RegistryStore.migrate(knex);
      store = new RegistryStore(knex);
    });

    it('stores a batch event with 1,000 runs, findable by each', async () => {
      const runIds = Array.from({ length: 1000 }, () => randomUUID());
      await store.audit.append([
        event(0, {
          operationId: 'createJobs',
          summary: 'created 1000 of 1000 training tasks',
          entityRefs: ['Model:default/Forecast'],
          runIds,
        }),
      ]);
      for (const runId of [runIds[0], runIds[499], runIds[500], runIds[999]]) {
        const page = await store.audit.list({ runId });
        expect(page.items.map(e => e.summary)).toEqual([
          'created 1000 of 1000 training tasks',
        ]);
        expect(page.items[0].runIds).toEqual(runIds);
      }
      const byModel = await store.audit.list({
        entityRef: 'model:default/forecast',
      });
      expect(byModel.items.length).toBe(1);
    });

    it('answers at most the largest page, with the cursor of the next', async () => {
      await store.audit.append(
        Array.from({ length: AUDIT_PAGE.max + 5 }, (_, i) => event(i + 1)),
      );
      const first = await store.audit.list({ limit: 10_000 });
      expect(first.items.length).toBe(AUDIT_PAGE.max);
      expect(first.items[0].summary).toBe(
        `created training task t-${AUDIT_PAGE.max + 5} (Job)`,
      );
      const rest = await store.audit.list({
        limit: 10_000,
        before: first.nextBefore,
      });
      // the 5 oldest of this test and the batch event of the one before
      expect(rest.items.length).toBe(6);
      expect(rest.nextBefore).toBeUndefined();
      expect((await store.audit.list()).items.length).toBe(AUDIT_PAGE.default);
    });

    it('leaves the registry change token alone', async () => {
      const before = await store.changeToken();
      await store.audit.append([
        event(9999, { outcome: 'denied', status: 403 }),
      ]);
      // PostgreSQL's sequence would move after the response of a counted statement
      await new Promise(resolve => setTimeout(resolve, 50));
      expect(await store.changeToken()).toBe(before);
    });
  },
);
