import { TestDatabaseId } from '@backstage/backend-test-utils';
import knexFactory, { Knex } from 'knex';
import {
  createTestDatabases,
  postgresSupport,
} from '../__testUtils__/databases';
import { RegistryStore } from './RegistryStore';

jest.setTimeout(60_000);

const databases = createTestDatabases();
const actor = 'user:default/test';
const artifact = { uri: 's3://m/clf/1', format: 'onnx' };

it('runs against SQLite and PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

describe.each(databases.eachSupportedId())(
  'the registry change token on %p',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let store: RegistryStore;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      await RegistryStore.migrate(knex);
      store = new RegistryStore(knex);
    });

    it('stays while only reads happen', async () => {
      const before = await store.changeToken();
      await store.listModelVersions('model:default/clf', {});
      await store.lineage(
        { type: 'model', ref: 'model:default/clf' },
        { direction: 'both', depth: 3 },
      );
      expect(await store.changeToken()).toBe(before);
    });

    it('changes once a transaction committed, whichever store of the client wrote', async () => {
      const before = await store.changeToken();
      await store.createModelVersion('model:default/clf', { artifact }, actor);
      const afterFirst = await store.changeToken();
      expect(afterFirst).not.toBe(before);
      // another store on the same client (as the informers could hold) counts for all
      await new RegistryStore(knex).createRun(
        { kind: 'training', cluster: 'c', namespace: 'ns', name: 'r' },
        actor,
      );
      expect(await store.changeToken()).not.toBe(afterFirst);
    });

    it('changes after a statement outside any transaction', async () => {
      const before = await store.changeToken();
      await knex('kubeai_model_versions')
        .where({ model_ref: 'model:default/clf' })
        .update({ state: 'archived' });
      // the listener runs when the statement's response arrives; give PostgreSQL's nextval a tick
      await new Promise(resolve => setTimeout(resolve, 50));
      expect(await store.changeToken()).not.toBe(before);
    });

    it('raises only the scopes a write declares; an undeclared write raises *', async () => {
      const changes = store.changes;
      const scopes = [
        '*',
        'model:default/clf',
        'model:default/det',
        'run:r-scopes',
      ];
      const before = await changes.versions(scopes);
      const horizon = await changes.horizon();
      await store.createModelVersion(
        'model:default/Clf',
        { artifact: { uri: 's3://m/clf/scopes/', format: 'onnx' } },
        actor,
      );
      const after = await changes.versions([
        ...scopes,
        'artifact:s3://m/clf/scopes',
      ]);
      expect(after.get('model:default/clf')).toBeGreaterThan(horizon);
      expect(after.get('artifact:s3://m/clf/scopes')).toBeGreaterThan(horizon);
      for (const untouched of ['*', 'model:default/det', 'run:r-scopes']) {
        expect(after.get(untouched)).toBe(before.get(untouched));
      }
      // a registry transaction that says nothing about what it wrote: every answer may change
      await knex.transaction(async tx => {
        await tx('kubeai_model_versions')
          .where({ model_ref: 'model:default/clf' })
          .update({ description: 'raw' });
      });
      await store.changes.trackWrites().transaction(async tx => {
        await tx('kubeai_model_versions')
          .where({ model_ref: 'model:default/clf' })
          .update({ description: 'tracked' });
      });
      expect((await changes.versions(['*'])).get('*')).toBeGreaterThan(
        after.get('model:default/clf')!,
      );
      expect(await changes.horizon()).toBe(
        Math.max(
          ...(await changes.versions(['*', 'model:default/clf'])).values(),
        ),
      );
    });

    it('does not change for a catalog entity created or removed through the portal', async () => {
      const before = await store.changeToken();
      const horizon = await store.changes.horizon();
      const entity = {
        apiVersion: 'kubeai.io/v1alpha1',
        kind: 'Model',
        metadata: { name: 'portal-made', namespace: 'default' },
        spec: { owner: 'group:default/cv-team' },
      } as any;
      await store.portalEntities.upsertPortalEntity(entity, actor);
      await store.portalEntities.upsertPortalEntity(entity, actor);
      expect(
        await store.portalEntities.deletePortalEntity(
          'model:default/portal-made',
        ),
      ).toBe(true);
      await new Promise(resolve => setTimeout(resolve, 50));
      expect(await store.changeToken()).toBe(before);
      expect(await store.changes.horizon()).toBe(horizon);
    });

    it('does not change for a failed (rolled back) write', async () => {
      const before = await store.changeToken();
      await expect(
        store.createModelVersion(
          'model:default/clf',
          { artifact, runId: '00000000-0000-4000-8000-000000000000' },
          actor,
        ),
      ).rejects.toThrow(/run/);
      expect(await store.changeToken()).toBe(before);
    });

    if (databaseId !== 'SQLITE_3') {
      it('changes for every replica sharing the database', async () => {
        // a second backend replica: its own client (pool) on the same database
        const replica = knexFactory({
          client: 'pg',
          connection: knex.client.config.connection,
        });
        try {
          const other = new RegistryStore(replica);
          const before = await other.changeToken();
          await store.createModelVersion(
            'model:default/det',
            { artifact },
            actor,
          );
          expect(await other.changeToken()).not.toBe(before);
          const mine = await store.changeToken();
          await other.createModelVersion(
            'model:default/det',
            { artifact },
            actor,
          );
          expect(await store.changeToken()).not.toBe(mine);
        } finally {
          await replica.destroy();
        }
      });
    }
  },
);
