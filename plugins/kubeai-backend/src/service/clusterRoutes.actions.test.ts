/*
 * The kubeai:* actions in the actions registry of the kubeai plugin: listed with their schemas,
 * and invoked on behalf of the caller they create the object (read back from the local
 * apiserver) through the plugin's own API.
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
import { kubeaiPlugin } from '../plugin';
import {
  deleteNamespace,
  localKubernetesConfig,
  testGateway,
} from './__testUtils__/clusterRoutes';

jest.setTimeout(180_000);

const NS = `kubeai-registry-${randomBytes(3).toString('hex')}`;
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

  it('lists the eight actions with titles, descriptions and JSON schemas', async () => {
    const { actions } = await registry.list();
    expect(actions.map(a => a.name)).toEqual([
      'create-notebook',
      'create-training-job',
      'create-dataset',
      'register-model-version',
      'deploy-inference-service',
      'promote-inference-service',
      'rollback-inference-service',
      'create-pipeline',
    ]);
    for (const action of actions) {
      expect(action.title).toBeTruthy();
      expect(action.description).toMatch(/Scaffolder action: kubeai:/);
      expect(action.schema.input).toMatchObject({ type: 'object' });
      expect(action.schema.output).toMatchObject({ type: 'object' });
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
});
