/*
 * The run of an object is looked up by cluster and name before every apply (objectRunIds) and
 * by cluster, namespace and name afterwards (findObjectRun). Both are index lookups on SQLite and
 * PostgreSQL — a scan of every run made each single-task POST /jobs slower as runs accumulated
 * (migration 20270107000000_run_object_index) — and they find the right run.
 */
import { TestDatabaseId } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import {
  createTestDatabases,
  postgresSupport,
} from '../__testUtils__/databases';
import { RegistryStore } from './RegistryStore';

jest.setTimeout(120_000);

const databases = createTestDatabases();

it('runs against SQLite and PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

describe.each(databases.eachSupportedId())(
  'the run of an object on %p',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let store: RegistryStore;
    beforeAll(async () => {
      knex = await databases.init(databaseId);
      await RegistryStore.migrate(knex);
      store = new RegistryStore(knex);
      for (const [namespace, name, uid] of [
        ['team-a', 'forecast-1', 'u1'],
        ['team-b', 'forecast-1', 'u2'],
        ['team-a', 'forecast-2', 'u3'],
      ]) {
        await store.upsertObjectRun(
          { kind: 'training', cluster: 'local', namespace, name, uid },
          'user:default/alice',
        );
      }
    });

    /** The plan of the statements `lookup` sends (index use forced where the planner may choose). */
    async function plansOf(lookup: () => Promise<unknown>): Promise<string> {
      const sent: { sql: string; bindings: unknown[] }[] = [];
      const listen = (q: { sql: string; bindings: unknown[] }) => {
        if (/from ["`]kubeai_runs["`]/i.test(q.sql)) sent.push(q);
      };
      knex.on('query', listen);
      try {
        await lookup();
      } finally {
        knex.off('query', listen);
      }
      expect(sent.length).toBeGreaterThan(0);
      const plans: string[] = [];
      for (const { sql, bindings } of sent) {
        if (databaseId.startsWith('SQLITE')) {
          const rows = await knex.raw(
            `explain query plan ${sql}`,
            bindings as never,
          );
          plans.push(rows.map((r: { detail: string }) => r.detail).join('\n'));
        } else {
          // a three-row table is read whole otherwise: say whether the index can serve it
          await knex.transaction(async tx => {
            await tx.raw('set local enable_seqscan = off');
            const { rows } = await tx.raw(
              `explain ${sql.replace(/\$(\d+)/g, '?')}`,
              bindings as never,
            );
            plans.push(
              rows
                .map((r: Record<string, string>) => r['QUERY PLAN'])
                .join('\n'),
            );
          });
        }
      }
      return plans.join('\n---\n');
    }

    it('finds the runs of objects to be applied by an index', async () => {
      let ids: string[] = [];
      const plan = await plansOf(async () => {
        ids = await store.runs.objectRunIds('training', 'local', [
          { namespace: 'team-b', name: 'forecast-1' },
          { namespace: 'team-a', name: 'forecast-2' },
          { namespace: 'team-a', name: 'forecast-new' },
        ]);
      });
      expect(plan).toContain('kubeai_runs_object_idx');
      const u2 = await store.findObjectRun('local', 'team-b', 'forecast-1');
      const u3 = await store.findObjectRun('local', 'team-a', 'forecast-2');
      expect(ids.slice(0, 2)).toEqual([u2!.id, u3!.id]);
      expect([u2!.id, u3!.id]).not.toContain(ids[2]); // a new object: a new run id
    });

    it('finds the newest run of an object by an index', async () => {
      let run: Awaited<ReturnType<RegistryStore['findObjectRun']>>;
      const plan = await plansOf(async () => {
        run = await store.findObjectRun('local', 'team-a', 'forecast-1');
      });
      expect(plan).toContain('kubeai_runs_object_idx');
      expect(run!).toMatchObject({
        cluster: 'local',
        namespace: 'team-a',
        name: 'forecast-1',
      });
    });
  },
);
