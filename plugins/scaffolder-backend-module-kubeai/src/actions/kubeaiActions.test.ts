/*
 * Each kubeai:* template action against a running KubeAI backend (the real plugin, a mock
 * catalog) and the real local kube-apiserver: the action calls the API with a token on behalf of
 * the user running the template, and the object it creates is read back from the apiserver.
 */
import {
  createMockDirectory,
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
// the end-to-end tests run the KubeAI backend plugin the actions call
// eslint-disable-next-line @backstage/no-mixed-plugin-imports
import kubeaiPlugin from '@kubeai/plugin-kubeai-backend';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import {
  createNamespace,
  deleteNamespace,
  listNames,
  localKubernetesConfig,
  readObject,
} from '../__testUtils__/localCluster';
import { createKubeaiTemplateActions } from './kubeaiActions';

jest.setTimeout(180_000);

const suffix = randomBytes(3).toString('hex');
// One workspace for every action run, removed after the file: a context of its own per run left
// an empty directory in the system's temporary directory each time, and with CI set Backstage's
// mock directories are never removed by themselves.
const workspace = createMockDirectory();
afterAll(() => workspace.remove());
const NS = `kubeai-actions-${suffix}`;

const entities: Entity[] = [
  {
    apiVersion: 'kubeai.io/v1alpha1',
    kind: 'Model',
    metadata: { name: 'shoe-brand', namespace: 'default' },
    spec: {},
  },
  {
    apiVersion: 'kubeai.io/v1alpha1',
    kind: 'Dataset',
    metadata: { name: 'shoe-images', namespace: 'default' },
    spec: { source: { type: 'pvc', claimName: 'shoe-images', namespace: NS } },
  },
];

async function startKubeai(features: any[] = []) {
  const backend = await startTestBackend({
    features: [
      kubeaiPlugin,
      catalogServiceMock.factory({ entities }),
      mockServices.rootConfig.factory({
        data: {
          kubeai: { informers: { enabled: false } },
          kubernetes: localKubernetesConfig(),
        },
      }),
      ...features,
    ],
  });
  const baseUrl = `http://localhost:${backend.server.port()}/api`;
  const discovery = {
    getBaseUrl: async (pluginId: string) => `${baseUrl}/${pluginId}`,
    getExternalBaseUrl: async (pluginId: string) => `${baseUrl}/${pluginId}`,
  };
  return { backend, discovery };
}

describe('kubeai:* template actions', () => {
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  let actions: ReturnType<typeof createKubeaiTemplateActions>;

  const action = (id: string) => {
    const found = actions.find(a => a.id === id);
    if (!found) throw new Error(`no action ${id}`);
    return found;
  };

  /** Runs an action as the mock user; returns its outputs. */
  async function run(
    id: string,
    input: Record<string, unknown>,
    dryRun = false,
  ) {
    const ctx = {
      ...createMockActionContext({
        input: input as any,
        workspacePath: workspace.path,
      }),
      isDryRun: dryRun,
    };
    await action(id).handler(ctx as any);
    return Object.fromEntries(
      (ctx.output as jest.Mock).mock.calls.map(([k, v]) => [k, v]),
    ) as Record<string, any>;
  }

  beforeAll(async () => {
    await createNamespace(NS);
    const started = await startKubeai();
    backend = started.backend;
    actions = createKubeaiTemplateActions({
      auth: mockServices.auth(),
      discovery: started.discovery,
    });
  });

  afterAll(async () => {
    await backend?.stop();
    await deleteNamespace(NS);
  });

  it('are the nine kubeai actions, each with a described schema, examples and dry-run support', () => {
    expect(actions.map(a => a.id)).toEqual([
      'kubeai:notebook:create',
      'kubeai:job:create',
      'kubeai:dataset:create',
      'kubeai:model:register',
      'kubeai:inference-service:deploy',
      'kubeai:inference-service:promote',
      'kubeai:inference-service:rollback',
      'kubeai:pipeline:create',
      'kubeai:pools:apply',
    ]);
    for (const a of actions) {
      expect(a.supportsDryRun).toBe(true);
      expect(a.examples?.length).toBeGreaterThan(0);
      expect(a.examples![0].example).toContain(`action: ${a.id}`);
      const input = a.schema?.input as any;
      expect(input.type).toBe('object');
      for (const [key, property] of Object.entries<any>(input.properties)) {
        expect([
          key,
          property.description ?? property.anyOf?.[0]?.description,
        ]).toEqual([key, expect.any(String)]);
      }
      expect(
        (a.schema?.output as any).properties.url ??
          (a.schema?.output as any).properties.modelRef,
      ).toBeDefined();
    }
  });

  it('kubeai:notebook:create creates the notebook with its GPU and dataset as the user, and dry-runs', async () => {
    const input = {
      cluster: 'local',
      namespace: NS,
      name: 'explore',
      image: 'kubeflownotebookswg/jupyter-scipy:v1.9.0',
      resources: { cpu: '1', memory: '2Gi', gpu: 1 },
      workspaceSize: '1Gi',
      datasets: ['dataset:default/shoe-images'],
      modelRef: 'model:default/shoe-brand',
    };
    const dry = await run(
      'kubeai:notebook:create',
      { ...input, name: 'explore-dry' },
      true,
    );
    expect(dry).toMatchObject({
      dryRun: true,
      objectRef: `notebook:local/${NS}/explore-dry`,
    });
    expect(dry.manifests).toHaveLength(2);
    expect(await readObject('Notebook', NS, 'explore-dry')).toBeUndefined();

    const out = await run('kubeai:notebook:create', input);
    expect(out).toMatchObject({
      objectRef: `notebook:local/${NS}/explore`,
      url: '/catalog/default/model/shoe-brand',
      dryRun: false,
      runId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    const notebook = await readObject('Notebook', NS, 'explore');
    const pod = notebook.spec.template.spec;
    expect(pod.containers[0].resources.limits['nvidia.com/gpu']).toBe('1');
    expect(
      pod.volumes
        .filter((v: any) => v.persistentVolumeClaim)
        .map((v: any) => v.persistentVolumeClaim.claimName),
    ).toEqual(['explore-workspace', 'shoe-images']);
    const run1 = await request(backend.server).get(
      `/api/kubeai/runs/${out.runId}`,
    );
    expect(run1.body).toMatchObject({
      createdBy: 'user:default/mock',
      inputs: [{ datasetRef: 'dataset:default/shoe-images' }],
    });
    const again = await run('kubeai:notebook:create', input);
    expect(again.runId).toBe(out.runId);
    expect(
      (await listNames('Notebook', NS)).filter(n => n === 'explore'),
    ).toHaveLength(1);
  });

  it('kubeai:job:create creates a periodic forecast CronJob in the queue', async () => {
    const out = await run('kubeai:job:create', {
      cluster: 'local',
      namespace: NS,
      name: 'forecast-store-1',
      kind: 'CronJob',
      schedule: '0 6 * * *',
      image: 'ghcr.io/acme/prophet-forecast:1.2',
      command: ['python', '-m', 'forecast'],
      args: ['--series', 'store-1'],
      resources: { cpu: '500m', memory: '1Gi', gpu: 0 },
      queue: { name: 'team-a-queue' },
      datasets: [],
      modelRef: '',
      options: { successfulJobsHistoryLimit: 1 },
    });
    expect(out.objectRef).toBe(`cronjob:local/${NS}/forecast-store-1`);
    const cron = await readObject('CronJob', NS, 'forecast-store-1');
    expect(cron.spec.schedule).toBe('0 6 * * *');
    expect(cron.spec.successfulJobsHistoryLimit).toBe(1);
    expect(
      cron.spec.jobTemplate.metadata.labels['kueue.x-k8s.io/queue-name'],
    ).toBe('team-a-queue');
  });

  it('kubeai:dataset:create creates a PVC, records version v1 and registers the Dataset entity', async () => {
    const out = await run('kubeai:dataset:create', {
      cluster: 'local',
      namespace: NS,
      name: 'history',
      source: { type: 'pvc', size: '1Gi' },
      catalogEntity: {
        owner: 'group:default/biz-forecasting',
        description: 'Sales history',
      },
    });
    expect(out).toMatchObject({
      objectRef: `persistentvolumeclaim:local/${NS}/history`,
      entityRef: 'dataset:default/history',
      datasetVersion: 'v1',
      url: '/catalog/default/dataset/history',
    });
    const pvc = await readObject('PersistentVolumeClaim', NS, 'history');
    expect(pvc.spec.resources.requests.storage).toBe('1Gi');
    const portal = await request(backend.server).get(
      '/api/kubeai/catalog-entities',
    );
    expect(portal.body.items.map((e: any) => e.metadata.name)).toContain(
      'history',
    );
  });

  it('kubeai:model:register registers versions (dry run predicts the number)', async () => {
    const input = {
      model: 'model:default/shoe-brand',
      artifact: { uri: 's3://models/shoe-brand/1/model.onnx', format: 'onnx' },
      framework: 'pytorch',
      metrics: { auc: 0.91 },
      aliases: [],
    };
    const dry = await run('kubeai:model:register', input, true);
    expect(dry).toMatchObject({
      dryRun: true,
      objectRef: 'model:default/shoe-brand@1',
    });
    const first = await run('kubeai:model:register', input);
    expect(first).toMatchObject({
      modelRef: 'model:default/shoe-brand',
      version: 1,
      url: '/catalog/default/model/shoe-brand/versions',
    });
    const second = await run('kubeai:model:register', {
      ...input,
      artifact: { uri: 's3://models/shoe-brand/2/model.onnx', format: 'onnx' },
      aliases: ['candidate'],
    });
    expect(second.version).toBe(2);
  });

  it('kubeai:inference-service:deploy, :promote and :rollback roll a version out as a canary and back', async () => {
    const target = { cluster: 'local', namespace: NS, name: 'shoe-brand' };
    const deployed = await run('kubeai:inference-service:deploy', {
      ...target,
      model: 'model:default/shoe-brand',
      modelVersion: '1',
      resources: { cpu: '1', memory: '2Gi' },
      minReplicas: 1,
      maxReplicas: 2,
      catalogEntity: { owner: 'group:default/cv-team' },
    });
    expect(deployed).toMatchObject({
      entityRef: 'inferenceservice:default/shoe-brand',
      url: '/catalog/default/inferenceservice/shoe-brand',
      deploymentRevision: 1,
    });
    let isvc = await readObject('InferenceService', NS, 'shoe-brand');
    expect(isvc.spec.predictor.model.storageUri).toBe(
      's3://models/shoe-brand/1/model.onnx',
    );
    expect(isvc.spec.predictor.maxReplicas).toBe(2);

    const canary = await run('kubeai:inference-service:deploy', {
      ...target,
      model: 'model:default/shoe-brand',
      modelVersion: 'candidate',
      canaryTrafficPercent: 10,
    });
    expect(canary.deploymentRevision).toBe(2);
    isvc = await readObject('InferenceService', NS, 'shoe-brand');
    expect(isvc.spec.predictor.canaryTrafficPercent).toBe(10);
    expect(isvc.spec.predictor.model.storageUri).toBe(
      's3://models/shoe-brand/2/model.onnx',
    );

    const dryPromote = await run(
      'kubeai:inference-service:promote',
      target,
      true,
    );
    expect(dryPromote.dryRun).toBe(true);
    expect(
      (await readObject('InferenceService', NS, 'shoe-brand')).spec.predictor
        .canaryTrafficPercent,
    ).toBe(10);

    const promoted = await run('kubeai:inference-service:promote', {
      ...target,
      message: 'looks good',
    });
    expect(promoted.deploymentRevision).toBe(3);
    isvc = await readObject('InferenceService', NS, 'shoe-brand');
    expect(isvc.spec.predictor.canaryTrafficPercent).toBeUndefined();

    const rolledBack = await run('kubeai:inference-service:rollback', {
      ...target,
      toVersion: '1',
    });
    expect(rolledBack.deploymentRevision).toBe(4);
    isvc = await readObject('InferenceService', NS, 'shoe-brand');
    expect(isvc.spec.predictor.model.storageUri).toBe(
      's3://models/shoe-brand/1/model.onnx',
    );
  });

  it('kubeai:pipeline:create creates a Workflow that records its run', async () => {
    const out = await run('kubeai:pipeline:create', {
      cluster: 'local',
      namespace: NS,
      name: 'retrain-once',
      modelRef: 'model:default/shoe-brand',
      steps: [
        {
          name: 'train',
          type: 'training',
          training: {
            kind: 'PyTorchJob',
            image: 'ghcr.io/acme/shoe-trainer:1.4',
            command: ['python', '-m', 'train'],
            replicas: { Worker: 1 },
            datasets: [{ datasetRef: 'dataset:default/shoe-images' }],
          },
        },
        {
          name: 'evaluate',
          type: 'container',
          dependsOn: ['train'],
          image: 'ghcr.io/acme/shoe-trainer:1.4',
          command: ['python', '-m', 'evaluate'],
          datasets: ['dataset:default/shoe-images'],
        },
      ],
    });
    expect(out.objectRef).toBe(`workflow:local/${NS}/retrain-once`);
    const workflow = await readObject('Workflow', NS, 'retrain-once');
    expect(workflow.spec.templates.map((t: any) => t.name)).toEqual(
      expect.arrayContaining(['main', 'train', 'evaluate']),
    );
    const run1 = await request(backend.server).get(
      `/api/kubeai/runs/${out.runId}`,
    );
    expect(run1.body).toMatchObject({
      kind: 'pipeline',
      modelRef: 'model:default/shoe-brand',
    });
  });

  it('report API refusals naming the field, creating nothing', async () => {
    await expect(
      run('kubeai:notebook:create', {
        cluster: 'local',
        namespace: NS,
        name: 'Bad_Name',
        image: 'jupyter/base-notebook:latest',
      }),
    ).rejects.toThrow(
      /^KubeAI API 400: request\/body\/name must match pattern/,
    );
    await expect(
      run('kubeai:job:create', {
        cluster: 'local',
        namespace: NS,
        name: 'bad-cron',
        kind: 'CronJob',
        schedule: '0 25 * * *',
        image: 'python:3.12',
      }),
    ).rejects.toThrow(/request\/body\/schedule hour value 25 is out of range/);
    expect(await listNames('CronJob', NS)).not.toContain('bad-cron');
  });
});

describe('kubeai:* template actions as a user the permission policy denies', () => {
  it('fail with 403 and create nothing', async () => {
    const ns = `kubeai-denied-${suffix}`;
    await createNamespace(ns);
    const { backend, discovery } = await startKubeai([
      mockServices.permissions.factory({ result: AuthorizeResult.DENY }),
    ]);
    try {
      const [notebook] = createKubeaiTemplateActions({
        auth: mockServices.auth(),
        discovery,
      });
      const ctx = createMockActionContext({
        workspacePath: workspace.path,
        input: {
          cluster: 'local',
          namespace: ns,
          name: 'denied',
          image: 'jupyter/base-notebook:latest',
        },
        getInitiatorCredentials: async () =>
          mockCredentials.user('user:default/intern'),
      });
      await expect(notebook.handler(ctx as any)).rejects.toThrow(
        'KubeAI API 403: kubeai.cluster.object.create denied',
      );
      expect(await listNames('Notebook', ns)).toEqual([]);
    } finally {
      await backend.stop();
      await deleteNamespace(ns);
    }
  });
});
