/*
 * The kubeai:* actions in the actions registry of the kubeai plugin: listed with their schemas,
 * and invoked on behalf of the caller they create the object (read back from the local
 * apiserver) through the plugin's own API; every write action with dryRun answers what it would
 * change and changes nothing; the read actions answer from the API; a service caller gets the
 * reads only.
 */
import { createServiceFactory } from '@backstage/backend-plugin-api';
import { actionsRegistryServiceRef } from '@backstage/backend-plugin-api/alpha';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { actionsRegistryServiceMock } from '@backstage/backend-test-utils/alpha';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { kubeaiPlugin } from '../plugin';
import {
  deleteNamespace,
  listCreated,
  localKubernetesConfig,
  testGateway,
} from './__testUtils__/clusterRoutes';

jest.setTimeout(180_000);

const NS = `kubeai-registry-${randomBytes(3).toString('hex')}`;
const WRITE_ACTIONS = [
  'create-notebook',
  'create-training-job',
  'create-dataset',
  'register-model-version',
  'deploy-inference-service',
  'promote-inference-service',
  'rollback-inference-service',
  'create-pipeline',
  'apply-pools',
];
const READ_ACTIONS = [
  'list-model-versions',
  'list-deployments',
  'get-lineage',
  'get-impact',
  'get-run',
  'get-team-usage',
];
const gateway = testGateway();

describe('the kubeai actions in the actions registry', () => {
  const registry = actionsRegistryServiceMock();
  let backend: Awaited<ReturnType<typeof startTestBackend>>;

  beforeAll(async () => {
    await gateway.apply('local', [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    ]);
    backend = await startTestBackend({
      features: [
        kubeaiPlugin,
        createServiceFactory({
          service: actionsRegistryServiceRef,
          deps: {},
          factory: () => registry,
        }),
        catalogServiceMock.factory({
          entities: [
            {
              apiVersion: 'kubeai.io/v1alpha1',
              kind: 'Model',
              metadata: { name: 'forecast', namespace: 'default' },
              spec: {},
            },
          ],
        }),
        mockServices.rootConfig.factory({
          data: {
            kubeai: { informers: { enabled: false } },
            kubernetes: localKubernetesConfig(),
          },
        }),
      ],
    });
  });

  afterAll(async () => {
    await backend?.stop();
    await deleteNamespace(gateway, NS);
  });

  it('lists the nine write and six read actions with titles, descriptions and JSON schemas', async () => {
    const { actions } = await registry.list();
    expect(actions.map(a => a.name)).toEqual([
      ...WRITE_ACTIONS,
      ...READ_ACTIONS,
    ]);
    for (const action of actions) {
      expect(action.title).toBeTruthy();
      expect(action.schema.input).toMatchObject({ type: 'object' });
      expect(action.schema.output).toMatchObject({ type: 'object' });
    }
    const reads = actions.filter(a => READ_ACTIONS.includes(a.name));
    const writes = actions.filter(a => WRITE_ACTIONS.includes(a.name));
    expect(reads.map(a => a.attributes)).toEqual(
      READ_ACTIONS.map(() => ({
        destructive: false,
        idempotent: true,
        readOnly: true,
      })),
    );
    for (const action of writes) {
      expect(action.description).toMatch(/Scaffolder action: kubeai:/);
      expect(action.description).toContain('dryRun: true');
      expect(action.schema.input).toMatchObject({
        properties: { dryRun: { type: 'boolean' } },
      });
    }
    expect(
      actions.find(a => a.name === 'promote-inference-service')?.attributes,
    ).toEqual({ destructive: true, idempotent: true, readOnly: false });
  });

  it('creates a CronJob on behalf of the caller, and dry-runs', async () => {
    const input = {
      cluster: 'local',
      namespace: NS,
      name: 'forecast-daily',
      kind: 'CronJob',
      schedule: '30 5 * * *',
      image: 'ghcr.io/acme/prophet-forecast:1.2',
      command: ['python', '-m', 'forecast'],
      modelRef: 'model:default/forecast',
    };
    const dry = await registry.invoke({
      id: 'test:create-training-job',
      input: { ...input, name: 'forecast-dry', dryRun: true },
      credentials: mockCredentials.user(),
    });
    expect(dry.output).toMatchObject({ dryRun: true });
    await expect(
      gateway.get('local', {
        apiVersion: 'batch/v1beta1',
        kind: 'CronJob',
        namespace: NS,
        name: 'forecast-dry',
      }),
    ).rejects.toThrow(/not found/);

    const { output } = await registry.invoke({
      id: 'test:create-training-job',
      input,
      credentials: mockCredentials.user('user:default/analyst'),
    });
    expect(output).toMatchObject({
      objectRef: `cronjob:local/${NS}/forecast-daily`,
      url: '/catalog/default/model/forecast',
      dryRun: false,
    });
    const stored: any = await gateway.get('local', {
      apiVersion: 'batch/v1beta1',
      kind: 'CronJob',
      namespace: NS,
      name: 'forecast-daily',
    });
    expect(stored.spec.schedule).toBe('30 5 * * *');
  });

  it('passes the API refusal on, naming the field', async () => {
    await expect(
      registry.invoke({
        id: 'test:create-training-job',
        input: {
          cluster: 'local',
          namespace: NS,
          name: 'bad',
          kind: 'CronJob',
          schedule: 'every day',
          image: 'python:3.12',
        },
        credentials: mockCredentials.user(),
      }),
    ).rejects.toThrow(/KubeAI API 400: request\/body\/schedule/);
  });
  describe('dry runs and reads', () => {
    const MODEL = 'model:default/forecast';
    const at = { cluster: 'local', namespace: NS };
    const invoke = async (
      name: string,
      input: object,
      credentials: any = mockCredentials.user(),
    ) =>
      (await registry.invoke({ id: `test:${name}`, input, credentials }))
        .output as any;
    const api = async (path: string) => {
      const res = await request(backend.server).get(`/api/kubeai${path}`);
      return { status: res.status, body: res.body };
    };
    /** What a write could change: the objects in NS and what the registry answers. */
    const state = async () => ({
      objects: (await listCreated(gateway, NS))
        .map(o => `${o.kind} ${o.metadata.name} ${o.metadata.resourceVersion}`)
        .sort(),
      versions: await api('/models/default/forecast/versions'),
      deployments: await api(`/deployments?model=${MODEL}`),
      runs: await api('/runs?limit=100'),
      entities: await api('/catalog-entities'),
      datasetVersions: await api('/datasets/default/dry-data/versions'),
    });
    let runId: string;

    beforeAll(async () => {
      // v1 served, v2 as a 10 % canary (for promote / rollback), a training run
      for (const v of [1, 2]) {
        await invoke('register-model-version', {
          model: MODEL,
          artifact: {
            uri: `s3://models/forecast/${v}/model.onnx`,
            format: 'onnx',
          },
        });
        await invoke('deploy-inference-service', {
          ...at,
          name: 'forecast-svc',
          model: MODEL,
          modelVersion: v,
          ...(v === 2
            ? { canaryTrafficPercent: 10 }
            : { catalogEntity: { owner: 'group:default/forecasting' } }),
        });
      }
      runId = (
        await invoke('create-training-job', {
          ...at,
          name: 'forecast-train',
          kind: 'Job',
          image: 'python:3.12',
          command: ['python', '-c', 'print(1)'],
          modelRef: MODEL,
        })
      ).runId;
    });

    it('every write action with dryRun says what it would change, and changes nothing', async () => {
      const container = {
        image: 'python:3.12',
        command: ['python', '-c', 'print(1)'],
      };
      const inputs: Record<string, object> = {
        'create-notebook': {
          ...at,
          name: 'nb-dry',
          image: 'jupyter/base-notebook:latest',
        },
        'create-training-job': {
          ...at,
          name: 'job-dry',
          kind: 'Job',
          ...container,
          modelRef: MODEL,
        },
        'create-dataset': {
          ...at,
          name: 'dry-data',
          source: { type: 'pvc', size: '1Gi' },
          catalogEntity: { owner: 'group:default/forecasting' },
        },
        'register-model-version': {
          model: MODEL,
          artifact: {
            uri: 's3://models/forecast/3/model.onnx',
            format: 'onnx',
          },
        },
        'deploy-inference-service': {
          ...at,
          name: 'forecast-svc',
          model: MODEL,
          modelVersion: 2,
        },
        'promote-inference-service': { ...at, name: 'forecast-svc' },
        'rollback-inference-service': { ...at, name: 'forecast-svc' },
        'create-pipeline': {
          ...at,
          name: 'pl-dry',
          modelRef: MODEL,
          steps: [{ name: 'train', type: 'container', ...container }],
        },
        'apply-pools': {
          cluster: 'local',
          flavors: [{ name: 'dry-run-pool' }],
        },
      };
      expect(Object.keys(inputs).sort()).toEqual([...WRITE_ACTIONS].sort());
      const before = await state();
      const answers: Record<string, any> = {};
      for (const name of WRITE_ACTIONS) {
        answers[name] = await invoke(name, { ...inputs[name], dryRun: true });
        expect([name, answers[name].dryRun]).toEqual([name, true]);
        // what it would do, in one line ("Would deploy …", "Would roll back …")
        expect([name, answers[name].message]).toEqual([
          name,
          expect.stringMatching(/^Would /),
        ]);
      }
      expect(await state()).toEqual(before);
      expect(answers['register-model-version']).toMatchObject({
        objectRef: `${MODEL}@3`,
        message: expect.stringMatching(/^Would register version 3 /),
      });
      // the cluster writes answer the manifests the apiserver would store
      const isvc = (name: string) => answers[name].manifests[0].spec.predictor;
      expect(isvc('promote-inference-service').model.storageUri).toBe(
        's3://models/forecast/2/model.onnx',
      );
      expect(
        isvc('promote-inference-service').canaryTrafficPercent,
      ).toBeUndefined();
      expect(isvc('rollback-inference-service').model.storageUri).toBe(
        's3://models/forecast/1/model.onnx',
      );
      for (const name of [
        'create-notebook',
        'create-training-job',
        'create-dataset',
        'create-pipeline',
      ]) {
        expect([name, answers[name].manifests.length > 0]).toEqual([
          name,
          true,
        ]);
      }
    });

    it('answers the read actions from the API', async () => {
      const versions = await invoke('list-model-versions', { model: MODEL });
      expect(versions.items.map((v: any) => v.version)).toEqual([2, 1]);
      expect(versions.summary).toMatch(/newest is 2/);

      const deployments = await invoke('list-deployments', {
        model: MODEL,
        version: 2,
      });
      expect(deployments.items).toEqual([
        expect.objectContaining({
          serviceRef: 'inferenceservice:default/forecast-svc',
          namespace: NS,
          traffic: expect.arrayContaining([{ version: 2, percent: 10 }]),
        }),
      ]);
      expect(
        (await invoke('list-deployments', { model: MODEL, version: 9 }))
          .summary,
      ).toBe(`No service runs ${MODEL} version 9.`);

      const whole = await invoke('get-lineage', { entityRef: MODEL });
      expect(whole.truncated).toBe(false);
      expect(whole.nodes).toHaveLength(whole.totals.nodes);
      const cut = await invoke('get-lineage', {
        entityRef: MODEL,
        maxNodes: 2,
        maxEdges: 1,
      });
      expect(cut).toMatchObject({ truncated: true, totals: whole.totals });
      expect(cut.nodes).toHaveLength(2);
      expect(cut.edges.length).toBeLessThanOrEqual(1);
      // nearest the start first: the model, then a node next to it
      expect(cut.nodes.map((n: any) => n.id)).toContain(cut.roots[0]);

      const impact = await invoke('get-impact', {
        entityRef: MODEL,
        version: '1',
      });
      expect(impact.services.map((s: any) => s.serviceRef)).toContain(
        'inferenceservice:default/forecast-svc',
      );
      expect(impact.summary).toMatch(
        /^Retiring model:default\/forecast version 1 affects 1 service/,
      );

      const run = await invoke('get-run', { runId, tailLines: 20 });
      expect(run.run).toMatchObject({
        id: runId,
        kind: 'training',
        name: 'forecast-train',
      });
      // no kubelet runs pods on the local control plane: the run without its log, and why
      expect(run.logTail).toBeUndefined();
      expect(run.logUnavailable).toMatch(/^KubeAI API 404/);

      await expect(
        invoke('get-impact', { entityRef: 'model:default/nothing-here' }),
      ).rejects.toThrow(/KubeAI API 404/);
    });

    it('lets a service caller read, and refuses it the write actions', async () => {
      const service = mockCredentials.service('external:agent');
      expect(
        (await invoke('list-model-versions', { model: MODEL }, service))
          .totalItems,
      ).toBe(2);
      const before = await state();
      await expect(
        invoke(
          'deploy-inference-service',
          {
            ...at,
            name: 'forecast-svc',
            model: MODEL,
            modelVersion: 2,
            dryRun: true,
          },
          service,
        ),
      ).rejects.toThrow(/acts for a signed-in user/);
      expect(await state()).toEqual(before);
    });
  });
});
