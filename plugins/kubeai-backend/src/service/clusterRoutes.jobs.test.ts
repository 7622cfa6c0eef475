/*
 * The training task routes (Job, CronJob, PyTorchJob, MPIJob, batches of CronJobs) against the
 * real local kube-apiserver 1.20 with the real CRDs (`yarn cluster:start`): what they create is
 * read back from the apiserver, twice gives one object and one run, apiserver validation reaches
 * the caller; a registry failure after the apply is reported and repaired by the same request;
 * the registry on PostgreSQL.
 */
import { TestDatabaseId } from '@backstage/backend-test-utils';
import request from 'supertest';
import { postgresSupport } from '../__testUtils__/databases';
import { listCreated } from './__testUtils__/clusterRoutes';
import { API, clusterRoutesSuite } from './__testUtils__/clusterRoutesSuite';

// The first import() of @kubernetes/client-node under jest's VM modules takes seconds.
jest.setTimeout(180_000);

const { NS, BAD_NS, startBackend, databases, gateway, readBack, seedRegistry } =
  clusterRoutesSuite('routesjobs');

it('has PostgreSQL for the registry side', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

describe('cluster routes (SQLite registry)', () => {
  let server: Awaited<ReturnType<typeof startBackend>>['server'];
  let stop: () => Promise<void>;

  beforeAll(async () => {
    const knex = await databases.init('SQLITE_3');
    const backend = await startBackend(knex);
    server = backend.server;
    stop = () => backend.stop();
    await seedRegistry(server);
  });
  afterAll(() => stop());

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
      // the registry answers reads (the run id is planned before the apply) but refuses the write
      await knex.raw(
        "CREATE TRIGGER registry_down BEFORE INSERT ON kubeai_runs BEGIN SELECT RAISE(ABORT, 'registry down'); END",
      );
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

      await knex.raw('DROP TRIGGER registry_down');
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
