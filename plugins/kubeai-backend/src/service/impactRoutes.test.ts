/*
 * GET /impact and the archive refusal on SQLite and PostgreSQL: a dataset, a dataset version, a
 * model and a model version, with recorded deployments, observed and discovered services, a
 * periodic task whose executions read the dataset, and catalog models trained on the dataset or
 * depending on a model (the catalog mock holds the relations its processor would emit).
 */
import {
  mockServices,
  startTestBackend,
  TestDatabaseId,
} from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { randomUUID } from 'node:crypto';
import { Knex } from 'knex';
import request from 'supertest';
import {
  createTestDatabases,
  postgresSupport,
  snapshotRegistry,
} from '../__testUtils__/databases';
import { kubeaiPlugin } from '../plugin';

jest.setTimeout(120_000);

const databases = createTestDatabases();

const entity = (
  kind: string,
  name: string,
  relations: [string, string][] = [],
): Entity => ({
  apiVersion: 'kubeai.io/v1alpha1',
  kind,
  metadata: { name, namespace: 'default' },
  spec: {},
  relations: relations.map(([type, targetRef]) => ({ type, targetRef })),
});

/** The catalog, with both directions of each relation as the KubeAI processor emits them. */
const entities = [
  entity('Dataset', 'images', [
    ['trainingDataOf', 'model:default/catalog-only'],
  ]),
  entity('Dataset', 'logs'),
  // clf's lineage to images is in the registry only (its runs), not in its catalog entity
  entity('Model', 'clf', [
    ['dependencyOf', 'model:default/ranker'],
    ['dependencyOf', 'component:default/not-a-model'],
    ['servedBy', 'inferenceservice:default/svc'],
  ]),
  entity('Model', 'ranker', [
    ['dependsOn', 'model:default/clf'],
    ['dependencyOf', 'model:default/blender'],
    ['servedBy', 'inferenceservice:default/ranker-api'],
  ]),
  entity('Model', 'blender', [['dependsOn', 'model:default/ranker']]),
  entity('Model', 'catalog-only', [['trainedOn', 'dataset:default/images']]),
  entity('Model', 'det'),
  entity('InferenceService', 'svc'),
  entity('InferenceService', 'svc2'),
  entity('InferenceService', 'ranker-api'),
];

const API = '/api/kubeai';
const CLF = `${API}/models/default/clf`;
const artifact = (n: number) => ({
  uri: `s3://models/clf/${n}/`,
  format: 'onnx',
});
const now = () => new Date().toISOString();

function runRow(fields: Record<string, unknown>) {
  return {
    id: randomUUID(),
    kind: 'training',
    cluster: 'local',
    namespace: 'team-a',
    phase: 'Succeeded',
    params: '{}',
    created_by: 'kubeai-informer',
    child_count: 0,
    parent_run_id: null,
    schedule: null,
    created_at: now(),
    updated_at: now(),
    ...fields,
  };
}

it('runs against SQLite and PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

describe.each(databases.eachSupportedId())(
  'GET /impact on %p',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let server: Awaited<ReturnType<typeof startTestBackend>>['server'];
    let stop = async () => {};
    const ids = {} as Record<'train' | 'task' | 'child1' | 'child2', string>;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      const backend = await startTestBackend({
        features: [
          kubeaiPlugin,
          mockServices.database.factory({ knex }),
          catalogServiceMock.factory({ entities }),
          mockServices.rootConfig.factory({
            data: { kubeai: { registry: { validateResponses: true } } },
          }),
        ],
      });
      server = backend.server;
      stop = () => backend.stop();

      const ok = async (res: request.Test, status = 201) => {
        const answer = await res;
        expect({ status: answer.status, body: answer.body }).toMatchObject({
          status,
        });
        return answer.body;
      };
      await ok(
        request(server)
          .post(`${API}/datasets/default/images/versions`)
          .send({ version: 'v1', uri: 's3://data/images/v1' }),
      );
      // a training run reading images@v1, which produced clf v1
      ids.train = (
        await ok(
          request(server)
            .post(`${API}/runs`)
            .send({
              kind: 'training',
              cluster: 'local',
              namespace: 'team-a',
              name: 'train-clf',
              modelRef: 'model:default/clf',
              inputs: [{ datasetRef: 'dataset:default/images', version: 'v1' }],
            }),
        )
      ).id;
      // a periodic task (CronJob) whose two executions read images (no version), as the informers record them
      const task = runRow({
        name: 'nightly-clf',
        model_ref: 'model:default/clf',
        schedule: JSON.stringify({ kind: 'CronJob', name: 'nightly-clf' }),
        child_count: 2,
      });
      const children = [1, 2].map(i =>
        runRow({
          name: `nightly-clf-${i}`,
          model_ref: 'model:default/clf',
          parent_run_id: task.id,
        }),
      );
      await knex('kubeai_runs').insert([task, ...children]);
      await knex('kubeai_run_inputs').insert(
        children.map(c => ({
          run_id: c.id,
          dataset_ref: 'dataset:default/images',
          dataset_version: null,
        })),
      );
      // the retrain pipeline of ranker (a model depending on clf)
      await knex('kubeai_runs').insert(
        runRow({
          name: 'retrain-ranker',
          kind: 'pipeline',
          model_ref: 'model:default/ranker',
        }),
      );
      ids.task = task.id;
      ids.child1 = children[0].id;
      ids.child2 = children[1].id;

      await ok(
        request(server)
          .post(`${CLF}/versions`)
          .send({ artifact: artifact(1), runId: ids.train }),
      );
      await ok(
        request(server)
          .post(`${CLF}/versions`)
          .send({ artifact: artifact(2) }),
      );
      await ok(
        request(server)
          .post(`${CLF}/versions`)
          .send({ artifact: artifact(3), runId: ids.child1 }),
      );
      await ok(
        request(server)
          .post(`${CLF}/versions`)
          .send({ artifact: artifact(4) }),
      );
      await ok(
        request(server)
          .post(`${API}/models/default/det/versions`)
          .send({ artifact: { uri: 's3://models/det/1', format: 'onnx' } }),
      );

      // svc serves v1; svc2 is recorded on v1 too, but the cluster serves v2 there (observed)
      for (const [name, ns] of [
        ['svc', 'team-a'],
        ['svc2', 'team-b'],
      ]) {
        await ok(
          request(server)
            .post(`${API}/deployments`)
            .send({
              serviceRef: `inferenceservice:default/${name}`,
              cluster: 'local',
              namespace: ns,
              name,
              modelRef: 'model:default/clf',
              traffic: [{ version: 1, percent: 100 }],
            }),
        );
      }
      await knex('kubeai_deployments')
        .where({ service_ref: 'inferenceservice:default/svc2' })
        .update({
          observed: JSON.stringify({
            phase: 'Ready',
            ready: true,
            traffic: [{ version: 2, percent: 100 }],
          }),
          observed_at: now(),
        });
      // an InferenceService nobody deployed through the portal serving v3's artifact (no trailing slash)
      await knex('kubeai_cluster_objects').insert({
        cluster: 'local',
        kind: 'InferenceService',
        api_version: 'serving.kserve.io/v1beta1',
        namespace: 'adhoc',
        name: 'clf-experiment',
        uid: randomUUID(),
        resource_version: '1',
        managed: false,
        entity_ref: 'inferenceservice:default/local.adhoc.clf-experiment',
        phase: 'Ready',
        ready: true,
        storage_uri: 's3://models/clf/3',
        observed: '{}',
        observed_at: now(),
      });
      // and one that is gone from the cluster, serving v4: no longer a service
      await knex('kubeai_cluster_objects').insert({
        cluster: 'local',
        kind: 'InferenceService',
        api_version: 'serving.kserve.io/v1beta1',
        namespace: 'adhoc',
        name: 'clf-gone',
        uid: randomUUID(),
        resource_version: '2',
        managed: false,
        entity_ref: 'inferenceservice:default/local.adhoc.clf-gone',
        phase: 'Deleted',
        ready: false,
        storage_uri: 's3://models/clf/4/',
        observed: '{}',
        observed_at: now(),
        deleted_at: now(),
      });
    });
    afterAll(() => stop());

    const impact = async (query: Record<string, string>, status = 200) => {
      const res = await request(server).get(`${API}/impact`).query(query);
      expect({ status: res.status, body: res.body }).toMatchObject({ status });
      return res.body;
    };
    const services = (body: any) =>
      body.services.map((s: any) => ({
        ref: s.serviceRef,
        sources: s.sources,
        versions: s.versions,
      }));

    it('of a dataset: its runs, periodic tasks, the versions they produced, their services and downstream models', async () => {
      const body = await impact({ entityRef: 'Dataset:default/images' });
      expect(body.entityRef).toBe('dataset:default/images');
      expect(body.runs).toEqual([
        expect.objectContaining({
          id: ids.train,
          name: 'train-clf',
          periodic: false,
          via: 'dataset:default/images',
        }),
      ]);
      // the executions count on their periodic task; ranker's pipeline is there through the catalog
      expect(
        body.pipelines.map((p: any) => [
          p.name,
          p.periodic,
          p.childRuns,
          p.via,
        ]),
      ).toEqual(
        expect.arrayContaining([
          ['nightly-clf', true, 2, 'dataset:default/images'],
          ['retrain-ranker', false, 0, 'model:default/ranker'],
        ]),
      );
      expect(body.pipelines).toHaveLength(2);
      expect(
        body.modelVersions.map((v: any) => [v.version, v.via]).sort(),
      ).toEqual([
        [1, `run:${ids.train}`],
        [3, `run:${ids.child1}`],
      ]);
      expect(
        body.models.map((m: any) => [m.entityRef, m.relation, m.via]),
      ).toEqual(
        expect.arrayContaining([
          ['model:default/clf', 'produced', expect.stringMatching(/^run:/)],
          ['model:default/catalog-only', 'trainedOn', 'dataset:default/images'],
          ['model:default/ranker', 'dependsOn', 'model:default/clf'],
          ['model:default/blender', 'dependsOn', 'model:default/ranker'],
        ]),
      );
      expect(body.models).toHaveLength(4);
      expect(services(body)).toEqual([
        {
          ref: 'inferenceservice:default/local.adhoc.clf-experiment',
          sources: ['discovered'],
          versions: [{ version: 3, percent: 100, source: 'discovered' }],
        },
        {
          ref: 'inferenceservice:default/ranker-api',
          sources: ['catalog'],
          versions: [],
        },
        {
          ref: 'inferenceservice:default/svc',
          sources: ['recorded'],
          versions: [{ version: 1, percent: 100, source: 'recorded' }],
        },
        {
          // recorded on v1 (reached); what it really serves, v2, is no version of the dataset's runs
          ref: 'inferenceservice:default/svc2',
          sources: ['recorded'],
          versions: [{ version: 1, percent: 100, source: 'recorded' }],
        },
      ]);
      expect(body.totals).toEqual({
        services: 4,
        pipelines: 2,
        runs: 1,
        modelVersions: 2,
        models: 4,
      });
    });

    it('of a dataset version: only the runs that read that version', async () => {
      const body = await impact({
        entityRef: 'dataset:default/images',
        version: 'v1',
      });
      expect(body.version).toBe('v1');
      expect(body.runs.map((r: any) => r.id)).toEqual([ids.train]);
      expect(body.modelVersions.map((v: any) => v.version)).toEqual([1]);
      expect(body.pipelines.map((p: any) => p.name)).toEqual([
        'retrain-ranker',
      ]);
      expect(services(body).map((s: any) => s.ref)).toEqual([
        'inferenceservice:default/ranker-api',
        'inferenceservice:default/svc',
        'inferenceservice:default/svc2',
      ]);
    });

    it('of a model version: recorded, observed and discovered services, and the catalog dependents', async () => {
      const v1 = await impact({ entityRef: 'model:default/clf', version: '1' });
      expect(services(v1).filter((s: any) => s.ref.includes('/svc'))).toEqual([
        {
          ref: 'inferenceservice:default/svc',
          sources: ['recorded'],
          versions: [{ version: 1, percent: 100, source: 'recorded' }],
        },
        {
          ref: 'inferenceservice:default/svc2',
          sources: ['recorded'],
          versions: [{ version: 1, percent: 100, source: 'recorded' }],
        },
      ]);
      const v2 = await impact({ entityRef: 'model:default/clf', version: '2' });
      expect(v2.services).toEqual(
        expect.arrayContaining([
          {
            serviceRef: 'inferenceservice:default/svc2',
            cluster: 'local',
            namespace: 'team-b',
            name: 'svc2',
            modelRef: 'model:default/clf',
            phase: 'Ready',
            sources: ['observed'],
            versions: [{ version: 2, percent: 100, source: 'observed' }],
            via: 'model:default/clf@2',
          },
        ]),
      );
      const v3 = await impact({ entityRef: 'model:default/clf', version: '3' });
      expect(services(v3)[0]).toEqual({
        ref: 'inferenceservice:default/local.adhoc.clf-experiment',
        sources: ['discovered'],
        versions: [{ version: 3, percent: 100, source: 'discovered' }],
      });
      // v4's InferenceService is deleted: only the dependents' catalog services are left
      const v4 = await impact({ entityRef: 'model:default/clf', version: '4' });
      expect(services(v4).map((s: any) => s.ref)).toEqual([
        'inferenceservice:default/ranker-api',
      ]);
      expect(v4.models.map((m: any) => m.entityRef)).toEqual([
        'model:default/ranker',
        'model:default/blender',
      ]);
      expect(v4.runs).toEqual([]);
    });

    it('of a whole model: every version served, its catalog services and its periodic tasks', async () => {
      const body = await impact({ entityRef: 'model:default/clf' });
      const svc2 = body.services.find(
        (s: any) => s.serviceRef === 'inferenceservice:default/svc2',
      );
      expect(svc2.sources).toEqual(['recorded', 'observed']);
      const svc = body.services.find(
        (s: any) => s.serviceRef === 'inferenceservice:default/svc',
      );
      expect(svc.sources).toEqual(['catalog', 'recorded']);
      expect(body.pipelines.map((p: any) => [p.name, p.via])).toEqual(
        expect.arrayContaining([
          ['nightly-clf', 'model:default/clf'],
          ['retrain-ranker', 'model:default/ranker'],
        ]),
      );
      expect(body.pipelines).toHaveLength(2);
      // a model only in the catalog, with no registry data, has an (empty) impact
      const det = await impact({ entityRef: 'model:default/catalog-only' });
      expect(det.totals).toEqual({
        services: 0,
        pipelines: 0,
        runs: 0,
        modelVersions: 0,
        models: 0,
      });
    });

    it('answers at most 200 items per list and counts them all', async () => {
      const runs = Array.from({ length: 201 }, (_, i) =>
        runRow({ name: `read-logs-${i}` }),
      );
      await knex.batchInsert('kubeai_runs', runs, 50);
      await knex.batchInsert(
        'kubeai_run_inputs',
        runs.map(r => ({
          run_id: r.id,
          dataset_ref: 'dataset:default/logs',
          dataset_version: null,
        })),
        50,
      );
      try {
        const body = await impact({ entityRef: 'dataset:default/logs' });
        expect(body.runs).toHaveLength(200);
        expect(body.totals.runs).toBe(201);
      } finally {
        await knex('kubeai_runs')
          .whereIn(
            'id',
            runs.map(r => r.id),
          )
          .delete();
      }
    });

    it('refuses what it cannot answer', async () => {
      const ghost = await impact({ entityRef: 'dataset:default/ghost' }, 404);
      expect(ghost.error.message).toBe(
        'dataset:default/ghost not found in the catalog',
      );
      const noVersion = await impact(
        { entityRef: 'model:default/clf', version: '9' },
        404,
      );
      expect(noVersion.error.message).toBe(
        'model:default/clf has no version 9',
      );
      const notNumber = await impact(
        { entityRef: 'model:default/clf', version: 'v1' },
        400,
      );
      expect(notNumber.error.message).toContain('request/query/version');
      const service = await impact(
        { entityRef: 'inferenceservice:default/svc' },
        400,
      );
      expect(service.error.message).toContain('request/query/entityRef');
      const missing = await impact({}, 400);
      expect(missing.error.message).toContain('entityRef');
    });

    it('refuses to archive a version anything serves, naming the services, and writes nothing', async () => {
      const before = await snapshotRegistry(knex);
      const archive = (version: number) =>
        request(server)
          .patch(`${CLF}/versions/${version}`)
          .send({ state: 'archived' });
      const recorded = await archive(1);
      expect(recorded.status).toBe(409);
      expect(recorded.body.error.message).toBe(
        'request/body/state: version 1 of model:default/clf cannot be archived while it serves traffic: ' +
          'team-a/svc in cluster local (inferenceservice:default/svc, 100%), ' +
          'team-b/svc2 in cluster local (inferenceservice:default/svc2, 100%); ' +
          'move the traffic to another version first (deploy, promote or roll back)',
      );
      const observed = await archive(2);
      expect(observed.status).toBe(409);
      expect(observed.body.error.message).toContain(
        'serves traffic: team-b/svc2 in cluster local (inferenceservice:default/svc2, 100% as observed in the cluster);',
      );
      const discovered = await archive(3);
      expect(discovered.status).toBe(409);
      expect(discovered.body.error.message).toContain(
        'serves traffic: adhoc/clf-experiment in cluster local (inferenceservice:default/local.adhoc.clf-experiment, 100% as observed, not deployed through the portal);',
      );
      expect(await snapshotRegistry(knex)).toEqual(before);

      // a version nothing serves (its InferenceService is deleted) is archived
      const archived = await archive(4);
      expect(archived.status).toBe(200);
      expect(archived.body.state).toBe('archived');
      await request(server)
        .patch(`${CLF}/versions/4`)
        .send({ state: 'live' })
        .expect(200);
    });
  },
);
