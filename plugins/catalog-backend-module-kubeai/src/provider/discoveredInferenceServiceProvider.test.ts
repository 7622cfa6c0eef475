import { mockServices } from '@backstage/backend-test-utils';
import type { EntityProviderConnection } from '@backstage/plugin-catalog-node';
import type { ObservedObject } from '@kubeai/plugin-kubeai-common';
import {
  DiscoveredInferenceServiceProvider,
  readDiscoveredProviderConfig,
} from './discoveredInferenceServiceProvider';

const discovered = (
  name: string,
  extra: Partial<ObservedObject> = {},
): ObservedObject => ({
  cluster: 'local',
  kind: 'InferenceService',
  apiVersion: 'serving.kserve.io/v1beta1',
  namespace: 'serving',
  name,
  uid: `uid-${name}`,
  resourceVersion: '7',
  managed: false,
  entityRef: `inferenceservice:default/local.serving.${name}`,
  phase: 'Ready',
  ready: true,
  storageUri: 's3://m/3',
  details: { modelFormat: 'onnx' },
  observedAt: '2026-11-26T00:00:00.000Z',
  discovered: { modelRef: 'model:default/clf', version: 3 },
  ...extra,
});

function setup(objects: ObservedObject[]) {
  const client = {
    listObservedObjects: jest.fn(async (query: any) => {
      const offset = query?.offset ?? 0;
      return {
        items: objects.slice(offset, offset + (query?.limit ?? 100)),
        totalItems: objects.length,
      };
    }),
  };
  const connection: EntityProviderConnection = {
    applyMutation: jest.fn(),
    refresh: jest.fn(),
  };
  const logger = mockServices.logger.mock();
  const provider = new DiscoveredInferenceServiceProvider({
    client,
    auth: mockServices.auth(),
    logger,
    owner: 'group:default/ml-platform',
  });
  return { provider, connection, client, logger };
}

describe('DiscoveredInferenceServiceProvider', () => {
  it('publishes the discovered services as valid InferenceService entities, replacing the previous set', async () => {
    const { provider, connection, client } = setup([discovered('found')]);
    await provider.connect(connection);
    expect(await provider.refresh()).toBe(1);
    expect(client.listObservedObjects).toHaveBeenCalledWith(
      { discovered: true, limit: 1000, offset: 0 },
      { token: expect.any(String) },
    );
    const location = 'kubeai-discovered:local/serving/found';
    expect(connection.applyMutation).toHaveBeenCalledWith({
      type: 'full',
      entities: [
        {
          locationKey: location,
          entity: {
            apiVersion: 'kubeai.io/v1alpha1',
            kind: 'InferenceService',
            metadata: {
              name: 'local.serving.found',
              namespace: 'default',
              title: 'found (local/serving)',
              description:
                'Discovered in cluster local: an InferenceService not created by the portal that serves model:default/clf version 3.',
              tags: ['discovered'],
              annotations: {
                'kubeai.io/discovered': 'true',
                'kubeai.io/cluster': 'local',
                'kubeai.io/namespace': 'serving',
                'backstage.io/managed-by-location': location,
                'backstage.io/managed-by-origin-location': location,
              },
            },
            spec: {
              owner: 'group:default/ml-platform',
              lifecycle: 'production',
              model: 'model:default/clf',
              modelVersion: 3,
              runtime: { modelFormat: 'onnx' },
              deployment: {
                cluster: 'local',
                namespace: 'serving',
                name: 'found',
              },
            },
          },
        },
      ],
    });
  });

  it('skips objects without a discovered version and entities the kind rejects', async () => {
    const { provider, connection, logger } = setup([
      discovered('plain', { discovered: undefined }),
      discovered('bad', { namespace: 'Not_A_Namespace' }),
    ]);
    await provider.connect(connection);
    expect(await provider.refresh()).toBe(0);
    expect(connection.applyMutation).toHaveBeenCalledWith({
      type: 'full',
      entities: [],
    });
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringContaining(
        'not publishing discovered InferenceService Not_A_Namespace/bad',
      ),
    );
  });

  it('is off unless kubeai.discovery.entityProvider.enabled', () => {
    expect(
      readDiscoveredProviderConfig(mockServices.rootConfig({ data: {} })),
    ).toBeUndefined();
    expect(
      readDiscoveredProviderConfig(
        mockServices.rootConfig({
          data: {
            kubeai: {
              discovery: {
                entityProvider: {
                  enabled: true,
                  owner: 'group:default/x',
                  frequencySeconds: 30,
                },
              },
            },
          },
        }),
      ),
    ).toEqual({
      owner: 'group:default/x',
      lifecycle: undefined,
      frequencySeconds: 30,
    });
  });
});
