/*
 * End to end: a backend with the scaffolder, this module, the KubeAI plugin, the catalog (with
 * the templates of templates/ and the KubeAI catalog module), against the local kube-apiserver.
 * A task started through `POST /api/scaffolder/v2/tasks` creates the notebook; the dataset
 * template's entity reaches the catalog; every template dry-runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import YAML from 'yaml';
import {
  createNamespace,
  deleteNamespace,
  readObject,
} from './__testUtils__/localCluster';
import {
  eventually,
  startScaffolderBackend,
} from './__testUtils__/scaffolderBackend';

jest.setTimeout(300_000);
const suffix = randomBytes(3).toString('hex');
const NS = `kubeai-e2e-${suffix}`;

/** The catalog the templates refer to: owners, a model, a dataset. */
const catalogEntities = `
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: ml-platform }
spec: { type: team, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: data-engineering }
spec: { type: team, children: [] }
---
apiVersion: kubeai.io/v1alpha1
kind: Model
metadata: { name: e2e-model }
spec:
  type: classification
  framework: pytorch
  owner: group:default/ml-platform
  lifecycle: experimental
---
apiVersion: kubeai.io/v1alpha1
kind: Dataset
metadata: { name: e2e-images }
spec:
  owner: group:default/data-engineering
  lifecycle: experimental
  source: { type: pvc, claimName: e2e-images, namespace: ${NS} }
`;

describe('the kubeai templates through the scaffolder', () => {
  let backend: Awaited<ReturnType<typeof startScaffolderBackend>>;
  let server: typeof backend.server;
  let runTask: typeof backend.runTask;
  let templatesDir: string;
  let processingErrors: string[];

  beforeAll(async () => {
    await createNamespace(NS);
    backend = await startScaffolderBackend({
      entities: catalogEntities,
      waitFor: ['model:default/e2e-model'],
    });
    ({ server, runTask, templatesDir, processingErrors } = backend);
  });

  afterAll(async () => {
    await backend?.stop();
    await deleteNamespace(NS);
  });

  it('lists the kubeai actions among the scaffolder actions', async () => {
    const res = await request(server).get('/api/scaffolder/v2/actions');
    const ids = res.body.map((a: { id: string }) => a.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'kubeai:notebook:create',
        'kubeai:job:create',
        'kubeai:dataset:create',
        'kubeai:model:register',
        'kubeai:inference-service:deploy',
        'kubeai:inference-service:promote',
        'kubeai:inference-service:rollback',
        'kubeai:pipeline:create',
      ]),
    );
  });

  it('creates the notebook end to end from the notebook template', async () => {
    const task = await runTask('kubeai-notebook', {
      cluster: 'local',
      namespace: NS,
      name: 'e2e-notebook',
      image: 'kubeflownotebookswg/jupyter-scipy:v1.9.0',
      cpu: '1',
      memory: '2Gi',
      gpu: 1,
      workspaceSize: '1Gi',
      datasets: ['dataset:default/e2e-images'],
      modelRef: 'model:default/e2e-model',
    });
    expect(task.createdBy).toBe('user:default/mock');
    const notebook = await readObject('Notebook', NS, 'e2e-notebook');
    expect(notebook).toBeDefined();
    const pod = notebook.spec.template.spec;
    expect(pod.containers[0].image).toBe(
      'kubeflownotebookswg/jupyter-scipy:v1.9.0',
    );
    expect(pod.containers[0].resources.limits['nvidia.com/gpu']).toBe('1');
    expect(
      pod.volumes
        .filter((v: any) => v.persistentVolumeClaim)
        .map((v: any) => v.persistentVolumeClaim.claimName),
    ).toEqual(['e2e-notebook-workspace', 'e2e-images']);
    expect(notebook.metadata.labels['kubeai.io/model']).toBe('e2e-model');
    const runs = await request(server).get('/api/kubeai/runs?kind=notebook');
    expect(runs.body.items).toEqual([
      expect.objectContaining({
        name: 'e2e-notebook',
        uid: notebook.metadata.uid,
        createdBy: 'user:default/mock',
        inputs: [{ datasetRef: 'dataset:default/e2e-images' }],
      }),
    ]);
  });

  it('registers the Dataset entity of the dataset template in the catalog', async () => {
    await runTask('kubeai-dataset', {
      cluster: 'local',
      namespace: NS,
      name: 'e2e-history',
      owner: 'group:default/data-engineering',
      description: 'Sales history',
      sourceType: 'pvc',
      size: '1Gi',
      cacheSize: '10Gi',
    });
    expect(
      await readObject('PersistentVolumeClaim', NS, 'e2e-history'),
    ).toBeDefined();
    const entity = await eventually(async () => {
      const res = await request(server).get(
        '/api/catalog/entities/by-name/dataset/default/e2e-history',
      );
      if (res.status !== 200) {
        throw new Error(
          `entity: ${res.status}; errors: ${processingErrors.join('; ')}`,
        );
      }
      return res.body;
    }, 30_000);
    expect(entity).toMatchObject({
      kind: 'Dataset',
      metadata: {
        description: 'Sales history',
        annotations: expect.objectContaining({
          'backstage.io/managed-by-location':
            'kubeai-portal:dataset:default/e2e-history',
        }),
      },
      spec: {
        owner: 'group:default/data-engineering',
        source: { type: 'pvc', claimName: 'e2e-history', namespace: NS },
      },
    });
  });

  it('deploys with the deploy template (registering the InferenceService), then dry-runs every template', async () => {
    for (const v of [1, 2]) {
      await request(server)
        .post('/api/kubeai/models/default/e2e-model/versions')
        .send({
          artifact: { uri: `s3://models/e2e/${v}/model.onnx`, format: 'onnx' },
          ...(v === 2 ? { aliases: ['candidate'] } : {}),
        })
        .expect(201);
    }
    const deployValues = {
      modelVersion: { model: 'model:default/e2e-model', modelVersion: 1 },
      cluster: 'local',
      namespace: NS,
      name: 'e2e-serving',
      owner: 'group:default/ml-platform',
      cpu: '1',
      memory: '2Gi',
      gpu: 0,
      minReplicas: 1,
      maxReplicas: 2,
    };
    await runTask('kubeai-deploy-inference-service', deployValues);
    await runTask('kubeai-deploy-inference-service', {
      ...deployValues,
      modelVersion: {
        model: 'model:default/e2e-model',
        modelVersion: 'candidate',
      },
      canaryTrafficPercent: 10,
    });
    const isvc = await readObject('InferenceService', NS, 'e2e-serving');
    expect(isvc.spec.predictor.canaryTrafficPercent).toBe(10);
    expect(isvc.spec.predictor.model.storageUri).toBe(
      's3://models/e2e/2/model.onnx',
    );
    await eventually(async () => {
      const res = await request(server).get(
        '/api/catalog/entities/by-name/inferenceservice/default/e2e-serving',
      );
      if (res.status !== 200) {
        throw new Error(
          `entity: ${res.status}; errors: ${processingErrors.join('; ')}`,
        );
      }
    }, 30_000);

    const dryRuns: Array<[string, Record<string, unknown>]> = [
      [
        'notebook',
        {
          cluster: 'local',
          namespace: NS,
          name: 'dry-notebook',
          image: 'kubeflownotebookswg/jupyter-scipy:v1.9.0',
          cpu: '1',
          memory: '1Gi',
          gpu: 0,
          workspaceSize: '1Gi',
        },
      ],
      [
        'training-job',
        {
          cluster: 'local',
          namespace: NS,
          name: 'dry-forecast',
          kind: 'CronJob',
          image: 'ghcr.io/acme/prophet-forecast:1.2',
          command: ['python', '-m', 'forecast'],
          schedule: '0 6 * * *',
          workers: 2,
          cpu: '1',
          memory: '1Gi',
          gpu: 0,
          queue: 'team-queue',
          dataset: 'dataset:default/e2e-images',
          modelRef: 'model:default/e2e-model',
        },
      ],
      [
        'training-job',
        {
          cluster: 'local',
          namespace: NS,
          name: 'dry-pytorch',
          kind: 'PyTorchJob',
          image: 'pytorch/pytorch:2.3.0',
          command: ['torchrun', 'train.py'],
          workers: 2,
          cpu: '1',
          memory: '1Gi',
          gpu: 1,
          queue: 'team-queue',
          // the flavor left unset: only the given fields reach the API
          priorityClass: 'production',
          // a boolean the API accepts (a platform admin's; this test's policy allows everything)
          overrideBudget: true,
        },
      ],
      [
        'dataset',
        {
          cluster: 'local',
          namespace: NS,
          name: 'dry-oss',
          owner: 'group:default/data-engineering',
          sourceType: 'oss',
          bucket: 'shoe-data',
          path: 'images',
          endpoint: 'oss-cn-hangzhou.aliyuncs.com',
          credentialsSecret: 'oss-creds',
          size: '10Gi',
          cacheSize: '5Gi',
        },
      ],
      [
        'register-model-version',
        {
          model: 'model:default/e2e-model',
          uri: 's3://models/e2e/3/model.onnx',
          format: 'onnx',
          alias: 'candidate',
        },
      ],
      ['deploy-inference-service', { ...deployValues, name: 'dry-serving' }],
      [
        'promote-inference-service',
        { cluster: 'local', namespace: NS, name: 'e2e-serving' },
      ],
      [
        'rollback-inference-service',
        { cluster: 'local', namespace: NS, name: 'e2e-serving' },
      ],
      [
        'pipeline-retrain-canary',
        {
          cluster: 'local',
          namespace: NS,
          name: 'dry-retrain',
          schedule: '0 2 * * *',
          model: 'model:default/e2e-model',
          dataset: 'dataset:default/e2e-images',
          trainerImage: 'ghcr.io/acme/trainer:1.0',
          workers: 2,
          gpu: 1,
          artifactPrefix: 's3://models/e2e',
          accuracyThreshold: 0.9,
          service: 'e2e-serving',
          canaryTrafficPercent: 10,
        },
      ],
      [
        'team-pool',
        {
          cluster: 'local',
          team: 'dry-team',
          namespaces: [NS],
          cohort: 'shared',
          elasticCpu: '16',
          elasticMemory: '64Gi',
          regularCpu: '32',
          regularMemory: '128Gi',
          gpus: 1,
          gpuCpu: '8',
          gpuMemory: '64Gi',
          borrowCpu: '16',
          lendCpu: '8',
        },
      ],
    ];
    const failures: string[] = [];
    for (const [dir, values] of dryRuns) {
      const template = YAML.parse(
        fs.readFileSync(path.join(templatesDir, dir, 'template.yaml'), 'utf8'),
      );
      const res = await request(server)
        .post('/api/scaffolder/v2/dry-run')
        .send({ template, values, secrets: {}, directoryContents: [] });
      const log = (res.body.log ?? [])
        .map((l: any) => l.body?.message)
        .filter(Boolean)
        .join('\n');
      // the dry-run answer lists the template's steps; the log says how each went
      const finished = (res.body.steps ?? []).every((step: any) =>
        log.includes(`Finished step ${step.name}`),
      );
      if (
        res.status !== 200 ||
        !finished ||
        !log.includes('(dry run)') ||
        !res.body.output?.links?.[0]?.url
      ) {
        failures.push(
          `${dir}: ${res.status} ${res.body.error?.message ?? ''}\n${log}`,
        );
      }
    }
    expect(failures).toEqual([]);
    // nothing of the dry runs exists
    for (const [kind, name] of [
      ['Notebook', 'dry-notebook'],
      ['CronJob', 'dry-forecast'],
      ['PyTorchJob', 'dry-pytorch'],
      ['Dataset', 'dry-oss'],
      ['InferenceService', 'dry-serving'],
      ['CronWorkflow', 'dry-retrain'],
    ]) {
      expect([kind, await readObject(kind, NS, name)]).toEqual([
        kind,
        undefined,
      ]);
    }
    const stillCanary = await readObject('InferenceService', NS, 'e2e-serving');
    expect(stillCanary.spec.predictor.canaryTrafficPercent).toBe(10);
    const versions = await request(server).get(
      '/api/kubeai/models/default/e2e-model/versions',
    );
    expect(versions.body.totalItems).toBe(2);
  });
});
