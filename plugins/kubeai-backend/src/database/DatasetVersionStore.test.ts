/*
 * Dataset version digests on SQLite and PostgreSQL: identical content is one version (also when
 * registered concurrently), digests compare lower-case, and the migration that added the unique
 * index keeps the data it finds (a repeated digest stays recorded; only the oldest gets the key).
 */
import { TestDatabaseId } from '@backstage/backend-test-utils';
import { ConflictError } from '@backstage/errors';
import { Knex } from 'knex';
import { resolvePackagePath } from '@backstage/backend-plugin-api';
import {
  createTestDatabases,
  postgresSupport,
} from '../__testUtils__/databases';
import { RegistryStore } from './RegistryStore';

jest.setTimeout(120_000);

const databases = createTestDatabases();

const DATASET = 'dataset:default/order-facts-daily';
const OTHER = 'dataset:default/user-activity-daily';
const USER = 'user:default/alice';
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const MIGRATION = '20270102000000_dataset_digest.js';

it('runs against SQLite and PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

describe.each(databases.eachSupportedId())(
  'dataset version digests on %p',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let store: RegistryStore;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      await RegistryStore.migrate(knex);
    });

    beforeEach(async () => {
      await knex('kubeai_run_inputs').delete();
      await knex('kubeai_dataset_versions').delete();
      store = new RegistryStore(knex);
    });

    afterAll(async () => {
      await knex('kubeai_dataset_versions').delete();
    });

    it('answers the version that already has the digest, writing nothing', async () => {
      const first = await store.createDatasetVersion(
        DATASET,
        {
          version: '2026-12-01',
          uri: 'odps://biz_dw.orders/ds=2026-12-01',
          digest: DIGEST,
        },
        USER,
      );
      const again = await store.createDatasetVersion(
        DATASET,
        {
          version: 'v9',
          uri: 's3://exports/orders/2026-12-01/',
          digest: DIGEST.toUpperCase().replace('SHA256', 'sha256'),
        },
        'user:default/bob',
      );
      expect(again).toEqual(first);
      expect(first.digest).toBe(DIGEST);
      expect((await store.listDatasetVersions(DATASET)).totalItems).toBe(1);
      expect(await store.getDatasetVersion(DATASET, 'v9')).toBeUndefined();
      // the same content in another dataset is a version of that dataset
      await store.createDatasetVersion(
        OTHER,
        { version: 'v1', uri: 's3://x/', digest: DIGEST },
        USER,
      );
      expect((await store.listDatasetVersions(OTHER)).totalItems).toBe(1);
    });

    it('keeps versions without a digest apart, and names unique', async () => {
      for (const v of ['v1', 'v2']) {
        await store.createDatasetVersion(
          DATASET,
          { version: v, uri: `s3://d/${v}` },
          USER,
        );
      }
      expect((await store.listDatasetVersions(DATASET)).totalItems).toBe(2);
      await expect(
        store.createDatasetVersion(
          DATASET,
          { version: 'v1', uri: 's3://d/other', digest: DIGEST },
          USER,
        ),
      ).rejects.toThrow(ConflictError);
    });

    it('makes concurrent registrations of one digest one version', async () => {
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          store.ensureDatasetVersion(
            DATASET,
            { version: `v${i + 1}`, uri: `s3://d/copy-${i}`, digest: DIGEST },
            USER,
          ),
        ),
      );
      const list = await store.listDatasetVersions(DATASET);
      expect(list.totalItems).toBe(1);
      expect(new Set(results.map(r => r.datasetVersion.version))).toEqual(
        new Set([list.items[0].version]),
      );
      expect(results.filter(r => r.created)).toHaveLength(1);
    });

    it('refuses a second row of one digest in the database itself', async () => {
      // A database of its own, freshly migrated
      const own = await databases.init(databaseId);
      await RegistryStore.migrate(own);
      await new RegistryStore(own).createDatasetVersion(
        DATASET,
        { version: 'v1', uri: 's3://d/1', digest: DIGEST },
        USER,
      );
      // the refusal read as a value: better-sqlite3's SqliteError comes from outside jest's
      // module realm, and `rejects.toThrow()` was seen passing it by as "did not throw"
      const refusal = await own('kubeai_dataset_versions')
        .insert({
          dataset_ref: DATASET,
          version: 'v2',
          uri: 's3://d/2',
          digest: DIGEST,
          digest_key: DIGEST,
          created_by: USER,
          created_at: new Date().toISOString(),
        })
        .then(
          () => 'inserted',
          (error: unknown) => String((error as Error)?.message ?? error),
        );
      expect(refusal).toMatch(/unique/i);
      expect(
        await own('kubeai_dataset_versions').where({ digest_key: DIGEST }),
      ).toHaveLength(1);
    });

    it('migrates existing repeated digests: every digest stays as recorded, the oldest is the one version of that content', async () => {
      const config = {
        directory: resolvePackagePath(
          '@kubeai/plugin-kubeai-backend',
          'migrations',
        ),
        tableName: 'kubeai__knex_migrations',
      };
      await knex.migrate.down({ ...config, name: MIGRATION });
      try {
        const row = (version: string, digest: string | null) => ({
          dataset_ref: DATASET,
          version,
          uri: `s3://d/${version}`,
          digest,
          created_by: USER,
          created_at: new Date().toISOString(),
        });
        await knex('kubeai_dataset_versions').insert(
          row('v1', DIGEST.toUpperCase().replace('SHA256', 'sha256')),
        );
        await knex('kubeai_dataset_versions').insert(row('v2', DIGEST));
        await knex('kubeai_dataset_versions').insert(row('v3', null));
      } finally {
        await RegistryStore.migrate(knex);
      }
      const rows = await knex('kubeai_dataset_versions')
        .orderBy('id')
        .select('version', 'uri', 'digest', 'digest_key');
      const upper = DIGEST.toUpperCase().replace('SHA256', 'sha256');
      expect(rows).toEqual([
        { version: 'v1', uri: 's3://d/v1', digest: upper, digest_key: DIGEST },
        { version: 'v2', uri: 's3://d/v2', digest: DIGEST, digest_key: null },
        { version: 'v3', uri: 's3://d/v3', digest: null, digest_key: null },
      ]);
      // the content is one version: v1
      const again = await store.registerDatasetVersion(
        DATASET,
        { version: 'v4', uri: 's3://d/v4', digest: DIGEST },
        USER,
      );
      expect(again).toMatchObject({
        created: false,
        datasetVersion: { version: 'v1' },
      });
    });
  },
);
