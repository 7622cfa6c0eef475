import { TestDatabaseId } from '@backstage/backend-test-utils';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import { Knex } from 'knex';
import {
  createTestDatabases,
  postgresSupport,
  snapshotRegistry,
} from '../__testUtils__/databases';
import { UnprocessableEntityError } from '../errors';
import { RegistryStore } from './RegistryStore';

jest.setTimeout(120_000);

const databases = createTestDatabases();

const MODEL = 'model:default/shoe-classifier';
const OTHER_MODEL = 'model:default/price-ranker';
const DATASET = 'dataset:default/shoe-images';
const SERVICE = 'inferenceservice:default/shoe-api';
const USER = 'user:default/alice';
const artifact = (n: number) => ({
  uri: `s3://models/shoe-classifier/${n}/model.onnx`,
  format: 'onnx',
});

/** Deletes every row, children first. */
async function clear(knex: Knex) {
  for (const table of [
    'kubeai_deployment_revisions',
    'kubeai_deployment_traffic',
    'kubeai_deployments',
    'kubeai_model_aliases',
    'kubeai_model_versions',
    'kubeai_run_inputs',
    'kubeai_dataset_versions',
    'kubeai_runs',
  ]) {
    await knex(table).delete();
  }
}

it('runs against SQLite and PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

describe.each(databases.eachSupportedId())(
  'RegistryStore on %p',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let store: RegistryStore;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      await RegistryStore.migrate(knex);
    });

    beforeEach(async () => {
      await clear(knex);
      store = new RegistryStore(knex);
    });

    describe('the pool of an object run', () => {
      const job = (flavor: string, uid = 'uid-1') => ({
        kind: 'training' as const,
        cluster: 'local',
        namespace: 'cv',
        name: 'train',
        uid,
        clusterQueue: 'cv-team',
        flavor,
      });
      const pool = (id: string) =>
        knex('kubeai_runs')
          .where({ id })
          .first('cluster_queue', 'flavor', 'admission');

      it('keeps where Kueue admitted it when the same object is applied again', async () => {
        const { run } = await store.upsertObjectRun(job('elastic'), USER);
        expect(await pool(run.id)).toEqual({
          cluster_queue: 'cv-team',
          flavor: 'elastic',
          admission: null,
        });
        // not admitted yet: routing may still change it
        await store.upsertObjectRun(job('gpu'), USER);
        expect((await pool(run.id)).flavor).toBe('gpu');
        // Kueue admitted it elsewhere (as the informers record it)
        const admission = JSON.stringify({ state: 'admitted' });
        await knex('kubeai_runs')
          .where({ id: run.id })
          .update({ cluster_queue: 'shared', flavor: 'regular', admission });
        await store.upsertObjectRun(job('elastic'), USER);
        expect(await pool(run.id)).toEqual({
          cluster_queue: 'shared',
          flavor: 'regular',
          admission,
        });
        // the object re-created under the run's id: a new Workload will be admitted afresh
        await store.upsertObjectRun(
          { ...job('elastic', 'uid-2'), id: run.id },
          USER,
        );
        expect(await pool(run.id)).toEqual({
          cluster_queue: 'cv-team',
          flavor: 'elastic',
          admission: null,
        });
      });
    });

    describe('model versions', () => {
      it('numbers versions 1, 2, 3… per model and stores every field', async () => {
        const v1 = await store.createModelVersion(
          'Model:default/Shoe-Classifier',
          {
            artifact: {
              ...artifact(1),
              digest: `sha256:${'a'.repeat(64)}`,
              size: 5_000_000_000,
            },
            framework: 'pytorch',
            metrics: { auc: 0.91, f1: 0.8 },
            curves: {
              roc: [
                { fpr: 0, tpr: 0 },
                { fpr: 1, tpr: 1, threshold: 0.5 },
              ],
            },
            params: { lr: 0.001, optimizer: 'adam', shuffle: true },
            tags: ['resnet'],
            aliases: ['canary'],
          },
          USER,
        );
        const v2 = await store.createModelVersion(
          MODEL,
          { artifact: artifact(2) },
          USER,
        );
        const other = await store.createModelVersion(
          OTHER_MODEL,
          { artifact: artifact(1) },
          USER,
        );

        expect(v1).toEqual({
          modelRef: MODEL,
          version: 1,
          artifact: {
            ...artifact(1),
            digest: `sha256:${'a'.repeat(64)}`,
            size: 5_000_000_000,
          },
          framework: 'pytorch',
          metrics: { auc: 0.91, f1: 0.8 },
          curves: {
            roc: [
              { fpr: 0, tpr: 0 },
              { fpr: 1, tpr: 1, threshold: 0.5 },
            ],
          },
          params: { lr: 0.001, optimizer: 'adam', shuffle: true },
          tags: ['resnet'],
          aliases: ['canary'],
          state: 'live',
          createdBy: USER,
          createdAt: expect.stringMatching(/Z$/),
          updatedAt: v1.createdAt,
        });
        expect(v2).toMatchObject({ version: 2, metrics: {}, aliases: [] });
        expect(other.version).toBe(1);
        expect(await store.getModelVersion(MODEL, 1)).toEqual(v1);
        expect(await store.getModelVersion(MODEL, 3)).toBeUndefined();
      });

      it('gives exactly 1..100 to 100 concurrent registrations, also across replicas', async () => {
        // Four stores on one database behave like four backend replicas: their in-process queues
        // do not see each other, so the unique index and the retry must do the work.
        const replicas = [0, 1, 2, 3].map(() => new RegistryStore(knex));
        const results = await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            replicas[i % 4].createModelVersion(
              MODEL,
              { artifact: artifact(i), params: { request: i } },
              USER,
            ),
          ),
        );

        const numbers = results.map(r => r.version).sort((a, b) => a - b);
        expect(numbers).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
        const stored = await knex('kubeai_model_versions')
          .where({ model_ref: MODEL })
          .select('version', 'params');
        expect(stored).toHaveLength(100);
        // none lost: every request's params is stored once
        expect(
          stored.map(r => JSON.parse(r.params).request).sort((a, b) => a - b),
        ).toEqual(Array.from({ length: 100 }, (_, i) => i));
      });

      it('moves an alias atomically: one version per alias', async () => {
        await store.createModelVersion(
          MODEL,
          { artifact: artifact(1), aliases: ['production', 'canary'] },
          USER,
        );
        const v2 = await store.createModelVersion(
          MODEL,
          { artifact: artifact(2), aliases: ['canary'] },
          USER,
        );
        expect(v2.aliases).toEqual(['canary']);
        expect((await store.getModelVersion(MODEL, 1))?.aliases).toEqual([
          'production',
        ]);

        // promote v2: it holds exactly production afterwards, canary is dropped
        const promoted = await store.updateModelVersion(
          MODEL,
          2,
          { aliases: ['production'] },
          USER,
        );
        expect(promoted.aliases).toEqual(['production']);
        expect((await store.getModelVersion(MODEL, 1))?.aliases).toEqual([]);
        expect(
          (await store.getModelVersionByAlias(MODEL, 'production'))?.version,
        ).toBe(2);
        expect(
          await store.getModelVersionByAlias(MODEL, 'canary'),
        ).toBeUndefined();
      });

      it('keeps one version per alias under concurrent moves', async () => {
        for (let i = 1; i <= 10; i++) {
          await store.createModelVersion(
            MODEL,
            { artifact: artifact(i) },
            USER,
          );
        }
        const replicas = [0, 1].map(() => new RegistryStore(knex));
        await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            replicas[i % 2].updateModelVersion(
              MODEL,
              i + 1,
              { aliases: ['production'] },
              USER,
            ),
          ),
        );
        const rows = await knex('kubeai_model_aliases').where({
          model_ref: MODEL,
          alias: 'production',
        });
        expect(rows).toHaveLength(1);
      });

      it('answers latest with the newest live version and refuses to assign it', async () => {
        await store.createModelVersion(MODEL, { artifact: artifact(1) }, USER);
        await store.createModelVersion(MODEL, { artifact: artifact(2) }, USER);
        await store.updateModelVersion(MODEL, 2, { state: 'archived' }, USER);
        expect(
          (await store.getModelVersionByAlias(MODEL, 'latest'))?.version,
        ).toBe(1);
        await expect(
          store.createModelVersion(
            MODEL,
            { artifact: artifact(3), aliases: ['canary', 'latest'] },
            USER,
          ),
        ).rejects.toThrow(
          new InputError(
            "request/body/aliases/1: 'latest' is reserved (it always means the newest live version)",
          ),
        );
        expect(await knex('kubeai_model_versions')).toHaveLength(2);
      });

      it('archives a version only without aliases', async () => {
        await store.createModelVersion(
          MODEL,
          { artifact: artifact(1), aliases: ['production'] },
          USER,
        );
        await expect(
          store.updateModelVersion(MODEL, 1, { state: 'archived' }, USER),
        ).rejects.toThrow(ConflictError);
        const archived = await store.updateModelVersion(
          MODEL,
          1,
          { state: 'archived', aliases: [], tags: ['old'] },
          USER,
        );
        expect(archived).toMatchObject({
          state: 'archived',
          aliases: [],
          tags: ['old'],
        });
        await expect(
          store.updateModelVersion(MODEL, 1, { aliases: ['canary'] }, USER),
        ).rejects.toThrow(ConflictError);
        await expect(
          store.updateModelVersion(MODEL, 7, { tags: [] }, USER),
        ).rejects.toThrow(NotFoundError);
      });

      it('lists newest first, by state and tag, with paging', async () => {
        for (let i = 1; i <= 5; i++) {
          await store.createModelVersion(
            MODEL,
            { artifact: artifact(i), tags: i % 2 ? ['odd_one'] : ['even'] },
            USER,
          );
        }
        await store.updateModelVersion(MODEL, 1, { state: 'archived' }, USER);
        const page = await store.listModelVersions(MODEL, {
          limit: 2,
          offset: 1,
        });
        expect(page.totalItems).toBe(5);
        expect(page.items.map(v => v.version)).toEqual([4, 3]);
        const odd = await store.listModelVersions(MODEL, {
          tag: 'odd_one',
          state: 'live',
        });
        expect(odd.items.map(v => v.version)).toEqual([5, 3]);
        // `_` is not a wildcard
        expect(
          (await store.listModelVersions(MODEL, { tag: 'oddXone' })).totalItems,
        ).toBe(0);
      });

      it('refuses an unknown run and writes nothing', async () => {
        const before = await snapshotRegistry(knex);
        await expect(
          store.createModelVersion(
            MODEL,
            {
              artifact: artifact(1),
              runId: '00000000-0000-4000-8000-000000000000',
            },
            USER,
          ),
        ).rejects.toThrow(UnprocessableEntityError);
        expect(await snapshotRegistry(knex)).toEqual(before);
      });
    });

    describe('runs and datasets', () => {
      it('records a run with inputs; its outputs are the versions it produced', async () => {
        await store.createDatasetVersion(
          DATASET,
          { version: 'v1', uri: 's3://datasets/shoe-images/v1/', size: 10 },
          USER,
        );
        const run = await store.createRun(
          {
            kind: 'training',
            cluster: 'prod',
            namespace: 'team-cv',
            name: 'train-1',
            uid: '6f1c2a0e-3b7d-4c55-9d7e-0a8b1f2c3d4e',
            modelRef: MODEL,
            startedAt: '2026-11-20T09:00:00+01:00',
            inputs: [
              { datasetRef: 'Dataset:default/shoe-images', version: 'v1' },
              { datasetRef: DATASET, version: 'v1' },
              { datasetRef: 'dataset:default/raw-clicks' },
            ],
            params: { epochs: 3 },
          },
          USER,
        );
        expect(run).toEqual({
          id: expect.stringMatching(/^[0-9a-f-]{36}$/),
          kind: 'training',
          cluster: 'prod',
          namespace: 'team-cv',
          name: 'train-1',
          uid: '6f1c2a0e-3b7d-4c55-9d7e-0a8b1f2c3d4e',
          modelRef: MODEL,
          phase: 'Pending',
          startedAt: '2026-11-20T08:00:00.000Z',
          inputs: [
            { datasetRef: DATASET, version: 'v1' },
            { datasetRef: 'dataset:default/raw-clicks' },
          ],
          outputs: [],
          params: { epochs: 3 },
          createdBy: USER,
          createdAt: expect.any(String),
          updatedAt: expect.any(String),
        });

        await store.createModelVersion(
          MODEL,
          { artifact: artifact(1), runId: run.id },
          USER,
        );
        const updated = await store.updateRun(run.id, {
          phase: 'Succeeded',
          params: { loss: 0.1 },
          inputs: [{ datasetRef: DATASET, version: 'v1' }],
        });
        expect(updated).toMatchObject({
          phase: 'Succeeded',
          params: { epochs: 3, loss: 0.1 },
          inputs: [{ datasetRef: DATASET, version: 'v1' }],
          outputs: [{ modelRef: MODEL, version: 1 }],
        });

        expect((await store.listRuns({ dataset: DATASET })).totalItems).toBe(1);
        expect((await store.listRuns({ model: OTHER_MODEL })).totalItems).toBe(
          0,
        );
        expect(
          (await store.listRuns({ phase: 'Succeeded', kind: 'training' }))
            .items[0].id,
        ).toBe(run.id);
      });

      it('refuses unknown dataset versions and duplicate uids, writing nothing', async () => {
        await store.createRun(
          {
            kind: 'notebook',
            cluster: 'prod',
            namespace: 'team-cv',
            name: 'nb',
            uid: '6f1c2a0e-3b7d-4c55-9d7e-0a8b1f2c3d4e',
          },
          USER,
        );
        const before = await snapshotRegistry(knex);
        await expect(
          store.createRun(
            {
              kind: 'training',
              cluster: 'prod',
              namespace: 'team-cv',
              name: 'train',
              inputs: [{ datasetRef: DATASET, version: 'v9' }],
            },
            USER,
          ),
        ).rejects.toThrow(
          'request/body/inputs/0/version: dataset:default/shoe-images has no version v9',
        );
        await expect(
          store.createRun(
            {
              kind: 'notebook',
              cluster: 'prod',
              namespace: 'team-cv',
              name: 'nb-again',
              uid: '6f1c2a0e-3b7d-4c55-9d7e-0a8b1f2c3d4e',
            },
            USER,
          ),
        ).rejects.toThrow(ConflictError);
        expect(await snapshotRegistry(knex)).toEqual(before);
      });

      it('keeps dataset version names unique per dataset', async () => {
        await store.createDatasetVersion(
          DATASET,
          { version: 'v1', uri: 's3://a/v1' },
          USER,
        );
        await store.createDatasetVersion(
          'dataset:default/other',
          { version: 'v1', uri: 's3://b/v1' },
          USER,
        );
        await expect(
          store.createDatasetVersion(
            DATASET,
            { version: 'v1', uri: 's3://a/again' },
            USER,
          ),
        ).rejects.toThrow(ConflictError);
        const list = await store.listDatasetVersions(DATASET);
        expect(list).toEqual({
          items: [
            {
              datasetRef: DATASET,
              version: 'v1',
              uri: 's3://a/v1',
              createdBy: USER,
              createdAt: expect.any(String),
            },
          ],
          totalItems: 1,
        });
      });
    });

    describe('deployments', () => {
      beforeEach(async () => {
        for (let i = 1; i <= 3; i++) {
          await store.createModelVersion(
            MODEL,
            { artifact: artifact(i) },
            USER,
          );
        }
      });

      const create = () =>
        store.createDeployment(
          {
            serviceRef: SERVICE,
            cluster: 'prod',
            namespace: 'team-cv',
            name: 'shoe-api',
            modelRef: MODEL,
            traffic: [
              { version: 1, percent: 90 },
              { version: 2, percent: 10 },
            ],
            desired: { replicas: 2 },
          },
          USER,
        );

      it('stores revision 1, then a revision per change, with history', async () => {
        const created = await create();
        expect(created).toEqual({
          serviceRef: SERVICE,
          cluster: 'prod',
          namespace: 'team-cv',
          name: 'shoe-api',
          modelRef: MODEL,
          traffic: [
            { version: 1, percent: 90 },
            { version: 2, percent: 10 },
          ],
          revision: 1,
          desired: { replicas: 2 },
          observed: null,
          observedAt: null,
          createdAt: expect.any(String),
          updatedAt: expect.any(String),
          updatedBy: USER,
        });
        await expect(create()).rejects.toThrow(ConflictError);

        const updated = await store.updateDeployment(
          SERVICE,
          { traffic: [{ version: 2, percent: 100 }], message: 'promote v2' },
          'user:default/bob',
        );
        expect(updated).toMatchObject({
          revision: 2,
          traffic: [{ version: 2, percent: 100 }],
          desired: { replicas: 2 },
          updatedBy: 'user:default/bob',
        });
        const history = await store.listDeploymentRevisions(SERVICE);
        expect(history?.items.map(r => [r.revision, r.message])).toEqual([
          [2, 'promote v2'],
          [1, undefined],
        ]);

        // which services run which version
        expect(
          (await store.listDeployments({ model: MODEL, version: 1 }))
            .totalItems,
        ).toBe(0);
        expect(
          (await store.listDeployments({ model: MODEL, version: 2 })).items[0]
            .serviceRef,
        ).toBe(SERVICE);
        expect(
          (await store.listDeployments({ service: SERVICE })).totalItems,
        ).toBe(1);

        // the cluster informers write observed state without a new revision
        expect(
          await store.setObserved(SERVICE, { phase: 'Ready' }, new Date(0)),
        ).toBe(true);
        expect(await store.getDeployment(SERVICE)).toMatchObject({
          revision: 2,
          observed: { phase: 'Ready' },
          observedAt: '1970-01-01T00:00:00.000Z',
        });
      });

      it('checks the traffic split', async () => {
        const base = {
          serviceRef: SERVICE,
          cluster: 'prod',
          namespace: 'team-cv',
          name: 'shoe-api',
          modelRef: MODEL,
        };
        await store.updateModelVersion(MODEL, 3, { state: 'archived' }, USER);
        const cases: [{ version: number; percent: number }[], string][] = [
          [
            [{ version: 1, percent: 50 }],
            'request/body/traffic: the percents add up to 50, not 100',
          ],
          [
            [
              { version: 1, percent: 50 },
              { version: 1, percent: 50 },
            ],
            'request/body/traffic/1/version: version 1 is listed twice',
          ],
          [
            [{ version: 9, percent: 100 }],
            `request/body/traffic/0/version: ${MODEL} has no version 9`,
          ],
          [
            [{ version: 3, percent: 100 }],
            `request/body/traffic/0/version: version 3 of ${MODEL} is archived`,
          ],
        ];
        const before = await snapshotRegistry(knex);
        for (const [traffic, message] of cases) {
          await expect(
            store.createDeployment({ ...base, traffic }, USER),
          ).rejects.toThrow(new UnprocessableEntityError(message));
        }
        expect(await snapshotRegistry(knex)).toEqual(before);
      });

      it('serializes concurrent updates into consecutive revisions', async () => {
        await create();
        const replicas = [0, 1, 2].map(() => new RegistryStore(knex));
        await Promise.all(
          Array.from({ length: 9 }, (_, i) =>
            replicas[i % 3].updateDeployment(
              SERVICE,
              { desired: { replicas: i } },
              USER,
            ),
          ),
        );
        const history = await store.listDeploymentRevisions(SERVICE);
        expect(history?.items.map(r => r.revision)).toEqual([
          10, 9, 8, 7, 6, 5, 4, 3, 2, 1,
        ]);
        expect((await store.getDeployment(SERVICE))?.revision).toBe(10);
      });
    });
  },
);
