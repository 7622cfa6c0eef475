/*
 * The dataset, inference service and pipeline routes against the real local kube-apiserver 1.20
 * with the real CRDs (`yarn cluster:start`): PVC and Fluid datasets with their portal entities
 * and versions, a registry version deployed, rolled out as a canary, promoted and rolled back,
 * and the retrain → evaluate → register → canary pipeline; each read back from the apiserver.
 */
import request from 'supertest';
import {
  API,
  ARTIFACT,
  clusterRoutesSuite,
} from './__testUtils__/clusterRoutesSuite';

// The first import() of @kubernetes/client-node under jest's VM modules takes seconds.
jest.setTimeout(180_000);

const { NS, startBackend, databases, readBack, seedRegistry } =
  clusterRoutesSuite('routessrv');

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
            modelVersion: '{{tasks.register.outputs.parameters.version}}',
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
});
