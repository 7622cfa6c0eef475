/*
 * Child runs and derived inputs in the registry, on SQLite and PostgreSQL: the Jobs a periodic
 * task's CronJob starts become executions of its run (counted on the parent, listed newest first,
 * paged, out of the top-level listing) in a bounded number of statements per batch; runs the
 * informers create get the dataset inputs their volumes and env show, when the registry knows them.
 */
import { TestDatabaseId } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import {
  createTestDatabases,
  postgresSupport,
} from '../__testUtils__/databases';
import { RegistryStore } from '../database/RegistryStore';
import { kubeaiMetadata } from '../manifests/labels';
import { tableInputEnv } from '../manifests/tableInputs';
import { kindSpec } from './kinds';
import { observe } from './observe';

jest.setTimeout(120_000);

const databases = createTestDatabases();
const USER = 'user:default/alice';
const CRON_UID = '5d6c7b8a-1111-4c55-9d7e-0a8b1f2c3d4e';

let seq = 1000;
function cronJob(name: string, uid: string, ns = 'forecast') {
  return observe('local', kindSpec('CronJob')!, {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: {
      ...kubeaiMetadata(name, ns, {}),
      uid,
      resourceVersion: String(++seq),
    },
    spec: { schedule: '*/5 * * * *' },
  });
}

function job(
  name: string,
  options: {
    ns?: string;
    cron?: { name: string; uid: string };
    status?: Record<string, unknown>;
    created?: string;
    volumes?: any[];
    mounts?: any[];
    env?: any[];
    uid?: string;
  } = {},
) {
  return observe('local', kindSpec('Job')!, {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      ...kubeaiMetadata(name, options.ns ?? 'forecast', {}),
      uid: options.uid ?? `uid-${name}`,
      resourceVersion: String(++seq),
      creationTimestamp: options.created ?? '2026-12-01T00:00:00Z',
      ...(options.cron
        ? {
            ownerReferences: [
              {
                apiVersion: 'batch/v1',
                kind: 'CronJob',
                name: options.cron.name,
                uid: options.cron.uid,
                controller: true,
              },
            ],
          }
        : {}),
    },
    spec: {
      template: {
        spec: {
          restartPolicy: 'Never',
          volumes: options.volumes ?? [],
          containers: [
            {
              name: 'main',
              image: 'busybox',
              volumeMounts: options.mounts ?? [],
              env: options.env ?? [],
            },
          ],
        },
      },
    },
    status: options.status ?? {},
  });
}

const t = (minute: number) =>
  `2026-12-01T00:${String(minute).padStart(2, '0')}:00.000Z`;
const succeeded = (start: number, end: number) => ({
  startTime: t(start),
  completionTime: t(end),
  succeeded: 1,
  conditions: [{ type: 'Complete', status: 'True' }],
});
const failed = (start: number, end: number) => ({
  startTime: t(start),
  failed: 1,
  conditions: [
    {
      type: 'Failed',
      status: 'True',
      reason: 'BackoffLimitExceeded',
      lastTransitionTime: t(end),
    },
  ],
});

it('runs against SQLite and PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

describe.each(databases.eachSupportedId())(
  'child runs and derived inputs on %p',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let store: RegistryStore;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      await RegistryStore.migrate(knex);
      store = new RegistryStore(knex);
    });

    async function periodicTask(name: string, uid: string) {
      const run = await store.createRun(
        {
          kind: 'training',
          cluster: 'local',
          namespace: 'forecast',
          name,
          uid,
        },
        USER,
      );
      await store.applyObservations([cronJob(name, uid)]);
      return run;
    }

    it('makes the Jobs of a CronJob executions of its run, with their phases and timing', async () => {
      const parent = await periodicTask('hourly', CRON_UID);
      const cron = { name: 'hourly', uid: CRON_UID };
      await store.applyObservations([
        job('hourly-1', { cron, created: t(0), status: succeeded(0, 4) }),
        job('hourly-2', { cron, created: t(5), status: failed(5, 7) }),
        job('hourly-3', {
          cron,
          created: t(10),
          status: { startTime: t(10), active: 1 },
        }),
      ]);
      const children = await store.listRuns({ parent: parent.id });
      expect(children.totalItems).toBe(3);
      expect(
        children.items.map(r => [
          r.name,
          r.phase,
          r.startedAt,
          r.finishedAt,
          r.parentRunId,
        ]),
      ).toEqual([
        ['hourly-3', 'Running', t(10), undefined, parent.id],
        ['hourly-2', 'Failed', t(5), t(7), parent.id],
        ['hourly-1', 'Succeeded', t(0), t(4), parent.id],
      ]);
      expect(children.items[1].reason).toBe('BackoffLimitExceeded');
      expect(await store.getRun(parent.id)).toMatchObject({ executions: 3 });

      // pages, newest first
      const page = await store.listRuns({
        parent: parent.id,
        limit: 2,
        offset: 2,
      });
      expect(page).toEqual({
        totalItems: 3,
        items: [expect.objectContaining({ name: 'hourly-1' })],
      });
      // executions are not top-level runs; the periodic task is
      const top = (await store.listRuns({ limit: 1000 })).items.map(
        r => r.name,
      );
      expect(top).toContain('hourly');
      expect(top).not.toContain('hourly-1');

      // a status change and a relist change the child, never the count
      await store.applyObservations([
        job('hourly-3', { cron, created: t(10), status: succeeded(10, 12) }),
      ]);
      await store.applyObservations([
        job('hourly-3', { cron, created: t(10), status: succeeded(10, 12) }),
      ]);
      expect(await store.getRun(parent.id)).toMatchObject({ executions: 3 });
      expect(
        (await store.listRuns({ parent: parent.id, limit: 1 })).items[0],
      ).toMatchObject({ name: 'hourly-3', phase: 'Succeeded' });
      // filters apply within the executions
      expect(
        (await store.listRuns({ parent: parent.id, phase: 'Failed' }))
          .totalItems,
      ).toBe(1);
    });

    it('links a Job seen before its periodic task was recorded on its next event', async () => {
      const uid = '5d6c7b8a-2222-4c55-9d7e-0a8b1f2c3d4e';
      const cron = { name: 'late', uid };
      await store.applyObservations([
        job('late-1', { cron, status: { startTime: t(1), active: 1 } }),
      ]);
      const before = (await store.listRuns({ limit: 1000 })).items.find(
        r => r.name === 'late-1',
      );
      expect(before?.parentRunId).toBeUndefined();
      const parent = await periodicTask('late', uid);
      await store.applyObservations([
        job('late-1', { cron, status: succeeded(1, 3) }),
      ]);
      expect(await store.getRun(before!.id)).toMatchObject({
        parentRunId: parent.id,
        phase: 'Succeeded',
      });
      expect(await store.getRun(parent.id)).toMatchObject({ executions: 1 });
    });

    it('writes a batch of executions in a bounded number of statements', async () => {
      const uid = '5d6c7b8a-3333-4c55-9d7e-0a8b1f2c3d4e';
      const parent = await periodicTask('often', uid);
      const cron = { name: 'often', uid };
      const batch = Array.from({ length: 300 }, (_, i) =>
        job(`often-${i}`, {
          cron,
          created: `2026-12-02T${String(Math.floor(i / 60)).padStart(
            2,
            '0',
          )}:${String(i % 60).padStart(2, '0')}:00Z`,
          status: succeeded(0, 1),
          volumes: [
            { name: 'data', persistentVolumeClaim: { claimName: 'nowhere' } },
          ],
          mounts: [{ name: 'data', mountPath: '/data' }],
        }),
      );
      const queries: string[] = [];
      const onQuery = (q: { sql: string }) => queries.push(q.sql);
      knex.on('query', onQuery);
      try {
        await store.applyObservations(batch);
      } finally {
        knex.off('query', onQuery);
      }
      // reads per table, inserts per 40 rows, one count update: not one statement per Job
      expect(queries.length).toBeLessThan(40);
      expect(queries.filter(q => /update .*kubeai_runs/i.test(q))).toHaveLength(
        1,
      );
      expect(await store.getRun(parent.id)).toMatchObject({
        executions: 300,
      });
      const first = await store.listRuns({ parent: parent.id, limit: 5 });
      expect(first.totalItems).toBe(300);
      expect(first.items.map(r => r.name)).toEqual([
        'often-299',
        'often-298',
        'often-297',
        'often-296',
        'often-295',
      ]);
      // an unknown volume is no input
      expect(first.items.every(r => r.inputs.length === 0)).toBe(true);
    });

    it('derives inputs from volumes (PVC, Fluid dataset) and env, when the registry knows them', async () => {
      const ns = 'inputs';
      await store.createDatasetVersion(
        'dataset:default/images',
        { version: 'v1', uri: `pvc://local/${ns}/images-pvc` },
        USER,
      );
      await store.createDatasetVersion(
        'dataset:default/labels',
        { version: '2026-11', uri: `pvc://local/${ns}/shared/labels/2026-11` },
        USER,
      );
      await store.createDatasetVersion(
        'dataset:default/clicks',
        { version: 'a', uri: 's3://logs/clicks/a/' },
        USER,
      );
      await store.createDatasetVersion(
        'dataset:default/clicks',
        { version: 'b', uri: 's3://logs/clicks/b' },
        USER,
      );
      await store.createDatasetVersion(
        'dataset:default/events',
        { version: 'e1', uri: 'oss://events/2026/' },
        USER,
      );
      // a Fluid Dataset the portal created for a Dataset entity, caching s3://logs/clicks/b
      await store.applyObservations([
        observe('local', kindSpec('Dataset')!, {
          apiVersion: 'data.fluid.io/v1alpha1',
          kind: 'Dataset',
          metadata: {
            ...kubeaiMetadata('clicks', ns, {
              entityRef: 'dataset:default/clicks',
            }),
            uid: 'uid-fluid-clicks',
            resourceVersion: String(++seq),
          },
          spec: {
            mounts: [{ name: 'clicks', mountPoint: 's3://logs/clicks/b' }],
          },
          status: { phase: 'Bound' },
        }),
      ]);
      const volume = (name: string, claimName: string) => ({
        name,
        persistentVolumeClaim: { claimName, readOnly: true },
      });
      await store.applyObservations([
        job('reads-all', {
          ns,
          volumes: [
            volume('images', 'images-pvc'),
            volume('shared', 'shared'),
            volume('clicks', 'clicks'),
            volume('scratch', 'scratch-pvc'),
          ],
          mounts: [
            { name: 'images', mountPath: '/data/images' },
            {
              name: 'shared',
              mountPath: '/data/labels',
              subPath: 'labels/2026-11',
            },
            { name: 'clicks', mountPath: '/data/clicks' },
            { name: 'scratch', mountPath: '/scratch' },
          ],
          env: [
            { name: 'KUBEAI_DATASET', value: 'dataset:default/clicks@a' },
            { name: 'KUBEAI_DATASETS', value: 'default/unknown@v1,nope' },
            { name: 'EVENTS', value: 'oss://events/2026' },
            { name: 'API', value: 'https://kubeai.example.com/api' },
          ],
        }),
        job('reads-nothing', {
          ns,
          volumes: [volume('scratch', 'scratch-pvc')],
          mounts: [{ name: 'scratch', mountPath: '/scratch' }],
          env: [{ name: 'KUBEAI_DATASET', value: 'dataset:default/images@v9' }],
        }),
      ]);
      const runs = (await store.listRuns({ limit: 1000 })).items;
      const all = runs.find(r => r.name === 'reads-all')!;
      expect(
        [...all.inputs].sort((a, b) =>
          `${a.datasetRef}@${a.version}`.localeCompare(
            `${b.datasetRef}@${b.version}`,
          ),
        ),
      ).toEqual([
        { datasetRef: 'dataset:default/clicks', version: 'a' },
        { datasetRef: 'dataset:default/clicks', version: 'b' },
        { datasetRef: 'dataset:default/events', version: 'e1' },
        { datasetRef: 'dataset:default/images', version: 'v1' },
        { datasetRef: 'dataset:default/labels', version: '2026-11' },
      ]);
      expect(runs.find(r => r.name === 'reads-nothing')!.inputs).toEqual([]);
      // inputs are derived once, when the run is created: later events add nothing
      await store.applyObservations([
        job('reads-all', { ns, status: { startTime: t(1), active: 1 } }),
      ]);
      expect((await store.getRun(all.id))!.inputs).toHaveLength(5);
      // lineage follows the derived inputs
      expect(
        (await store.listRuns({ dataset: 'dataset:default/events' })).items.map(
          r => r.name,
        ),
      ).toEqual(['reads-all']);
    });

    it("derives a table input from the uri env the portal's table inputs set", async () => {
      const ns = 'tables';
      await store.createDatasetVersion(
        'dataset:default/orders',
        { version: '2026-12-01', uri: 'odps://dw.orders/ds=2026-12-01' },
        USER,
      );
      const env = (partition?: string) =>
        tableInputEnv([
          {
            name: 'orders',
            engine: 'odps',
            project: 'dw',
            table: 'orders',
            ...(partition ? { partition } : {}),
          },
        ]);
      await store.applyObservations([
        job('reads-partition', { ns, env: env('ds=2026-12-01') }),
        // a partition, or the whole table, no version holds is no input
        job('reads-new-partition', { ns, env: env('ds=2026-12-02') }),
        job('reads-whole-table', { ns, env: env() }),
      ]);
      const runs = (await store.listRuns({ limit: 1000 })).items.filter(
        r => r.namespace === ns,
      );
      const inputsOf = (name: string) =>
        runs.find(r => r.name === name)!.inputs;
      expect(inputsOf('reads-partition')).toEqual([
        { datasetRef: 'dataset:default/orders', version: '2026-12-01' },
      ]);
      expect(inputsOf('reads-new-partition')).toEqual([]);
      expect(inputsOf('reads-whole-table')).toEqual([]);
    });
  },
);
