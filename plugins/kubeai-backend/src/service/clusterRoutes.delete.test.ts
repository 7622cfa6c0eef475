/*
 * The delete routes against the real local kube-apiserver 1.20 with the real CRDs
 * (`yarn cluster:start`): what the portal created is deleted with what belongs to it, its run
 * stopped and its portal entity removed; a dry run deletes nothing; objects KubeAI does not
 * manage, unknown objects and the refusals of the restricted cluster user reach the caller.
 */
import request from 'supertest';
import {
  API,
  ARTIFACT,
  clusterRoutesSuite,
} from './__testUtils__/clusterRoutesSuite';

// The first import() of @kubernetes/client-node under jest's VM modules takes seconds.
jest.setTimeout(180_000);

const { NS, startBackend, databases, gateway, readBack } =
  clusterRoutesSuite('routesdel');

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
