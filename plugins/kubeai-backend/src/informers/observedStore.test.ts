/*
 * The informers' writes and reads of the registry, on SQLite and PostgreSQL: idempotent relists,
 * stale events, how objects find their runs and deployments, deletions, sweeps, discovery.
 */
import { TestDatabaseId } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import {
  createTestDatabases,
  postgresSupport,
} from '../__testUtils__/databases';
import { RegistryStore } from '../database/RegistryStore';
import { kubeaiMetadata } from '../manifests/labels';
import { kindSpec } from './kinds';
import { observe, RUN_DELETED_FROM_PORTAL, type Observation } from './observe';

jest.setTimeout(120_000);

const databases = createTestDatabases();
const USER = 'user:default/alice';
const MODEL = 'model:default/clf';

let seq = 100;
function job(
  name: string,
  status: Record<string, unknown> = {},
  options: {
    uid?: string;
    rv?: number;
    runId?: string;
    deleted?: boolean;
    ns?: string;
    owner?: any;
  } = {},
): Observation {
  return observe(
    'local',
    kindSpec('Job')!,
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        ...kubeaiMetadata(name, options.ns ?? 'team-a', {
          runId: options.runId,
          modelRef: MODEL,
        }),
        uid: options.uid ?? `uid-${name}`,
        resourceVersion: String(options.rv ?? ++seq),
        creationTimestamp: '2026-11-20T08:00:00Z',
        ...(options.owner ? { ownerReferences: [options.owner] } : {}),
      },
      status,
    },
    { deleted: options.deleted },
  );
}
const running = { active: 1, startTime: '2026-11-20T08:01:00Z' };
const succeeded = {
  conditions: [{ type: 'Complete', status: 'True' }],
  completionTime: '2026-11-20T09:00:00Z',
};

function isvc(
  name: string,
  storageUri: string,
  options: { managed?: boolean; rv?: number; ready?: boolean } = {},
) {
  const managed = options.managed ?? true;
  return observe('local', kindSpec('InferenceService')!, {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: {
      ...(managed
        ? kubeaiMetadata(name, 'serving', {
            entityRef: `inferenceservice:default/${name}`,
            modelRef: MODEL,
          })
        : { name, namespace: 'serving' }),
      uid: `uid-${name}`,
      resourceVersion: String(options.rv ?? ++seq),
    },
    spec: {
      predictor: { model: { modelFormat: { name: 'onnx' }, storageUri } },
    },
    status: options.ready
      ? {
          conditions: [{ type: 'Ready', status: 'True' }],
          url: `http://${name}`,
        }
      : {},
  });
}

it('runs against SQLite and PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

describe.each(databases.eachSupportedId())(
  'observed state on %p',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let store: RegistryStore;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      await RegistryStore.migrate(knex);
      store = new RegistryStore(knex);
      for (const v of [1, 2, 3]) {
        await store.createModelVersion(
          MODEL,
          { artifact: { uri: `s3://m/${v}`, format: 'onnx' } },
          USER,
        );
      }
    });

    const runsNamed = async (name: string) =>
      (await store.listRuns({ limit: 1000 })).items.filter(
        r => r.name === name,
      );

    it('records a run per object, once, whatever the number of relists', async () => {
      const first = await store.applyObservations([job('a', running)]);
      expect(first).toMatchObject({ objects: 1, runsCreated: 1 });
      const again = await store.applyObservations([
        job('a', running, { rv: seq }),
      ]);
      expect(again).toMatchObject({ objects: 0, skipped: 1, runsCreated: 0 });
      const runs = await runsNamed('a');
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({
        kind: 'training',
        cluster: 'local',
        namespace: 'team-a',
        uid: 'uid-a',
        modelRef: MODEL,
        phase: 'Running',
        startedAt: '2026-11-20T08:01:00.000Z',
        createdAt: '2026-11-20T08:00:00.000Z',
        createdBy: 'kubeai-informer',
        observed: { kind: 'Job', apiVersion: 'batch/v1', uid: 'uid-a' },
      });
    });

    it('never lets an older event overwrite a newer one (a final phase stays)', async () => {
      const done = job('b', succeeded, { rv: 5000 });
      const stale = job('b', running, { rv: 4000 });
      await store.applyObservations([done]);
      const result = await store.applyObservations([stale]);
      expect(result.skipped).toBe(1);
      expect((await runsNamed('b'))[0]).toMatchObject({
        phase: 'Succeeded',
        finishedAt: '2026-11-20T09:00:00.000Z',
      });
      // in one batch the last observation of an object wins
      await store.applyObservations([
        job('b2', running, { rv: 6000 }),
        job('b2', succeeded, { rv: 6001 }),
      ]);
      expect((await runsNamed('b2'))[0].phase).toBe('Succeeded');
    });

    it('finds the run the portal recorded: by kubeai.io/run, by uid, by name', async () => {
      const labelled = await store.createRun(
        { kind: 'training', cluster: 'local', namespace: 'team-a', name: 'c' },
        USER,
      );
      await store.applyObservations([
        job('c', running, { runId: labelled.id }),
      ]);
      expect(await store.getRun(labelled.id)).toMatchObject({
        uid: 'uid-c',
        phase: 'Running',
      });

      const byUid = await store.createRun(
        {
          kind: 'training',
          cluster: 'local',
          namespace: 'team-a',
          name: 'd',
          uid: '6f1c2a0e-3b7d-4c55-9d7e-0a8b1f2c3d4e',
        },
        USER,
      );
      await store.applyObservations([
        job('d', running, { uid: '6f1c2a0e-3b7d-4c55-9d7e-0a8b1f2c3d4e' }),
      ]);
      expect(await store.getRun(byUid.id)).toMatchObject({
        phase: 'Running',
        createdBy: USER,
      });

      const byName = await store.createRun(
        { kind: 'training', cluster: 'local', namespace: 'team-a', name: 'e' },
        USER,
      );
      await store.applyObservations([job('e', running)]);
      expect(await store.getRun(byName.id)).toMatchObject({
        uid: 'uid-e',
        phase: 'Running',
      });

      for (const name of ['c', 'd', 'e'])
        expect(await runsNamed(name)).toHaveLength(1);

      // an unknown run id in the label becomes the id of the recorded run
      const id = '11111111-2222-4333-8444-555555555555';
      await store.applyObservations([job('f', {}, { runId: id })]);
      expect(await store.getRun(id)).toMatchObject({
        name: 'f',
        phase: 'Pending',
      });
    });

    it('keeps the final phase of a deleted object, stops a running one', async () => {
      await store.applyObservations([job('g', succeeded), job('h', running)]);
      await store.applyObservations([
        job('g', succeeded, { deleted: true }),
        job('h', running, { deleted: true }),
      ]);
      expect((await runsNamed('g'))[0]).toMatchObject({
        phase: 'Succeeded',
        observed: { deleted: true },
      });
      expect((await runsNamed('h'))[0]).toMatchObject({
        phase: 'Stopped',
        reason: 'Deleted',
        message: 'Job team-a/h was deleted from cluster local',
        finishedAt: expect.any(String),
      });
      // a new object of the same name is a new run
      await store.applyObservations([job('h', running, { uid: 'uid-h2' })]);
      expect((await runsNamed('h')).map(r => r.phase).sort()).toEqual([
        'Running',
        'Stopped',
      ]);
    });

    it('keeps who stopped a run by deleting its object through the portal', async () => {
      await store.applyObservations([job('p', running)]);
      const [recorded] = await runsNamed('p');
      const message =
        'Job team-a/p deleted from the portal by user:default/ann';
      await store.updateRun(recorded.id, {
        phase: 'Stopped',
        reason: RUN_DELETED_FROM_PORTAL,
        message,
        finishedAt: '2026-11-20T10:00:00Z',
      });
      // the object terminates (still active while its pods go), then is gone
      await store.applyObservations([job('p', running)]);
      await store.applyObservations([job('p', running, { deleted: true })]);
      expect(await store.getRun(recorded.id)).toMatchObject({
        phase: 'Stopped',
        message,
        finishedAt: '2026-11-20T10:00:00.000Z',
        observed: { deleted: true },
      });
    });

    it('sweeps objects a relist no longer has', async () => {
      await store.applyObservations([
        job('i', running, { ns: 'sweep' }),
        job('j', running, { ns: 'sweep' }),
      ]);
      const all = (
        await store.listObservedObjects({ kind: 'Job', limit: 1000 })
      ).items.map(o => `${o.namespace}/${o.name}`);
      const present = new Set(all.filter(k => k !== 'sweep/j'));
      const missing = await store.missingObservedObjects(
        'local',
        'Job',
        present,
      );
      expect(missing.map(m => [m.name, m.deleted])).toEqual([['j', true]]);
      await store.applyObservations(missing);
      expect((await runsNamed('j'))[0]).toMatchObject({
        phase: 'Stopped',
        reason: 'Deleted',
      });
      const deleted = await store.listObservedObjects({
        namespace: 'sweep',
        includeDeleted: true,
      });
      expect(deleted.items.find(o => o.name === 'j')?.deletedAt).toEqual(
        expect.any(String),
      );
      expect(
        (await store.listObservedObjects({ namespace: 'sweep' })).items.map(
          o => o.name,
        ),
      ).toEqual(['i']);
    });

    it('links spawned jobs to their schedule and its recorded run', async () => {
      const cron = observe('local', kindSpec('CronJob')!, {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: {
          ...kubeaiMetadata('nightly', 'team-a', {}),
          uid: '7f1c2a0e-3b7d-4c55-9d7e-0a8b1f2c3d4e',
          resourceVersion: String(++seq),
        },
        spec: { schedule: '0 2 * * *' },
      });
      const scheduleRun = await store.createRun(
        {
          kind: 'training',
          cluster: 'local',
          namespace: 'team-a',
          name: 'nightly',
          uid: '7f1c2a0e-3b7d-4c55-9d7e-0a8b1f2c3d4e',
        },
        USER,
      );
      await store.applyObservations([cron]);
      expect(await store.getRun(scheduleRun.id)).toMatchObject({
        phase: 'Running',
        reason: 'Scheduled',
      });
      await store.applyObservations([
        job('nightly-1', running, {
          owner: {
            kind: 'CronJob',
            name: 'nightly',
            uid: '7f1c2a0e-3b7d-4c55-9d7e-0a8b1f2c3d4e',
            controller: true,
          },
        }),
      ]);
      // an execution of the periodic task: listed under it, not among the top-level runs
      expect(await runsNamed('nightly-1')).toEqual([]);
      const [child] = (await store.listRuns({ parent: scheduleRun.id })).items;
      expect(child).toMatchObject({
        name: 'nightly-1',
        parentRunId: scheduleRun.id,
        schedule: { kind: 'CronJob', name: 'nightly', runId: scheduleRun.id },
      });
    });

    it('writes the observed state of deployments, drift, missing and late deployments', async () => {
      const deploy = (name: string) =>
        store.createDeployment(
          {
            serviceRef: `inferenceservice:default/${name}`,
            cluster: 'local',
            namespace: 'serving',
            name,
            modelRef: MODEL,
            traffic: [{ version: 1, percent: 100 }],
          },
          USER,
        );
      await deploy('svc-a');
      await store.applyObservations([
        isvc('svc-a', 's3://m/1', { ready: true }),
      ]);
      expect(
        await store.getDeployment('inferenceservice:default/svc-a'),
      ).toMatchObject({
        observed: {
          phase: 'Ready',
          ready: true,
          url: 'http://svc-a',
          servedVersion: 1,
        },
        drift: { status: 'inSync', reasons: [] },
      });
      await store.applyObservations([
        isvc('svc-a', 's3://m/2/', { ready: true }),
      ]);
      expect(
        (await store.getDeployment('inferenceservice:default/svc-a'))?.drift,
      ).toEqual({
        status: 'drifted',
        reasons: [
          {
            type: 'version',
            message:
              'declared version 1 (100%), but the cluster serves version 2 (100%)',
          },
        ],
      });

      // a deployment recorded after its service was observed, one whose service is not there
      await store.applyObservations([isvc('svc-late', 's3://m/3')]);
      await deploy('svc-late');
      await deploy('svc-none');
      expect(
        (await store.getDeployment('inferenceservice:default/svc-late'))
          ?.observed,
      ).toBeNull();
      await store.reconcileDeployments(['local']);
      expect(
        await store.getDeployment('inferenceservice:default/svc-late'),
      ).toMatchObject({
        observed: { servedVersion: 3, uid: 'uid-svc-late' },
        drift: { status: 'drifted' },
      });
      expect(
        await store.getDeployment('inferenceservice:default/svc-none'),
      ).toMatchObject({
        observed: { phase: 'NotFound' },
        drift: { status: 'drifted', reasons: [{ type: 'missing' }] },
      });
      const present = new Set(['serving/svc-a', 'serving/svc-late']);
      expect(await store.markMissingDeployments('local', present)).toBe(0);
    });

    it('discovers services the portal did not create that serve a registered artifact', async () => {
      await store.applyObservations([
        isvc('found', 's3://m/3', { managed: false, ready: true }),
        isvc('stranger', 's3://elsewhere', { managed: false }),
      ]);
      const discovered = await store.listObservedObjects({ discovered: true });
      expect(
        discovered.items.map(o => [o.name, o.discovered, o.entityRef]),
      ).toEqual([
        [
          'found',
          { modelRef: MODEL, version: 3 },
          'inferenceservice:default/local.serving.found',
        ],
      ]);
      const graph = await store.lineageWithObserved(
        { type: 'model', ref: MODEL, version: 3 },
        { direction: 'downstream', depth: 3 },
      );
      expect(
        graph?.nodes.find(
          n => n.id === 'inferenceservice:default/local.serving.found',
        ),
      ).toMatchObject({
        type: 'inferenceService',
        discovered: true,
        status: 'Ready',
      });
      expect(graph?.edges).toContainEqual({
        from: `${MODEL}@3`,
        to: 'inferenceservice:default/local.serving.found',
        type: 'servedBy',
      });
      // the served versions of observed deployments
      const svc = await store.lineageWithObserved(
        { type: 'inferenceService', ref: 'inferenceservice:default/svc-a' },
        { direction: 'upstream', depth: 1 },
      );
      expect(svc?.edges).toEqual(
        expect.arrayContaining([
          {
            from: `${MODEL}@1`,
            to: 'inferenceservice:default/svc-a',
            type: 'deployedTo',
            percent: 100,
          },
          {
            from: `${MODEL}@2`,
            to: 'inferenceservice:default/svc-a',
            type: 'servedBy',
            percent: 100,
          },
        ]),
      );
      // the plain walk is untouched
      const plain = await store.lineage(
        { type: 'inferenceService', ref: 'inferenceservice:default/svc-a' },
        { direction: 'upstream', depth: 1 },
      );
      expect(plain?.edges.some(e => e.type === 'servedBy')).toBe(false);
    });

    it('finds discovered services of any version of a model with many versions', async () => {
      // more versions than one query of the walk takes at once
      const big = 'model:default/big';
      await knex.batchInsert(
        'kubeai_model_versions',
        Array.from({ length: 1200 }, (_, i) => ({
          model_ref: big,
          version: i + 1,
          artifact_uri: `s3://big/${i + 1}/`,
          artifact_format: 'onnx',
          metrics: '{}',
          params: '{}',
          tags: '[]',
          state: 'live',
          created_by: 'user:default/test',
          created_at: '2026-11-20T00:00:00.000Z',
          updated_at: '2026-11-20T00:00:00.000Z',
        })),
        100,
      );
      await store.applyObservations([
        isvc('big-first', 's3://big/1', { managed: false, ready: true }),
      ]);
      const graph = await store.lineageWithObserved(
        { type: 'model', ref: big },
        { direction: 'downstream', depth: 1 },
      );
      expect(graph?.edges).toContainEqual({
        from: `${big}@1`,
        to: 'inferenceservice:default/local.serving.big-first',
        type: 'servedBy',
      });
      // upstream walks do not look for them
      const upstream = await store.lineageWithObserved(
        { type: 'model', ref: big },
        { direction: 'upstream', depth: 1 },
      );
      expect(upstream?.edges.some(e => e.type === 'servedBy')).toBe(false);
    });

    it('counts observed objects per cluster and kind', async () => {
      const counts = await store.countObservedObjects();
      expect(counts.get('local|InferenceService')).toBeGreaterThanOrEqual(4);
      expect(counts.get('local|Job')).toBeGreaterThan(5);
    });
  },
);
