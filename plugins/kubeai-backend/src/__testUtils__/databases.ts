import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';
import { Knex } from 'knex';

/**
 * The PostgreSQL of the tests: `eval "$(bash scripts/postgres.sh start)"` exports
 * `BACKSTAGE_TEST_DATABASE_POSTGRES<major>_CONNECTION_STRING` and `KUBEAI_TEST_POSTGRES_ID`.
 */
export const POSTGRES_ID = (process.env.KUBEAI_TEST_POSTGRES_ID ??
  'POSTGRES_15') as TestDatabaseId;

/**
 * SQLite and PostgreSQL. Without the PostgreSQL variable TestDatabases silently drops the id —
 * every suite using this therefore also asserts {@link postgresSupport}, which fails instead.
 */
export function createTestDatabases(): TestDatabases {
  return TestDatabases.create({ ids: ['SQLITE_3', POSTGRES_ID] });
}

/**
 * The guard: `'ok'` when PostgreSQL is among the supported ids, else a hint. Tests assert
 * `expect(postgresSupport(databases)).toBe('ok')`, so a missing PostgreSQL fails the suite instead
 * of silently skipping half of it.
 */
export function postgresSupport(databases: TestDatabases): string {
  const ids = databases.eachSupportedId().map(([id]) => id);
  if (ids.includes('SQLITE_3') && ids.includes(POSTGRES_ID)) {
    return 'ok';
  }
  return `${POSTGRES_ID} is not available to the tests (supported: ${ids.join(
    ', ',
  )}). Start it with: eval "$(bash scripts/postgres.sh start)"`;
}

const TABLES = [
  'kubeai_runs',
  'kubeai_run_inputs',
  'kubeai_dataset_versions',
  'kubeai_model_versions',
  'kubeai_model_aliases',
  'kubeai_deployments',
  'kubeai_deployment_traffic',
  'kubeai_deployment_revisions',
  'kubeai_run_credentials',
];

/** Every row of every registry table, in a stable order — to prove a request wrote nothing. */
export async function snapshotRegistry(
  knex: Knex,
): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of TABLES) {
    const rows = await knex(table).select();
    out[table] = rows
      .map(row => JSON.stringify(row, Object.keys(row).sort()))
      .sort();
  }
  return out;
}
