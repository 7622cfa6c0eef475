import { mockServices } from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import type { EntityProviderConnection } from '@backstage/plugin-catalog-node';
import { KubeaiPortalEntityProvider } from './KubeaiPortalEntityProvider';

const dataset = (name: string): Entity => ({
  apiVersion: 'kubeai.io/v1alpha1',
  kind: 'Dataset',
  metadata: {
    name,
    namespace: 'default',
    annotations: { 'kubeai.io/cluster': 'local' },
  },
  spec: {
    owner: 'group:default/x',
    lifecycle: 'experimental',
    source: { type: 'table' },
  },
});

function setup(entities: Entity[]) {
  const calls: Array<{ limit?: number; offset?: number; token?: string }> = [];
  const client = {
    listPortalEntities: jest.fn(async (query: any, options: any) => {
      calls.push({ ...query, token: options?.token });
      const offset = query?.offset ?? 0;
      const items = entities.slice(offset, offset + (query?.limit ?? 100));
      return { items: items as any, totalItems: entities.length };
    }),
  };
  const connection: EntityProviderConnection = {
    applyMutation: jest.fn(),
    refresh: jest.fn(),
  };
  const provider = new KubeaiPortalEntityProvider({
    client,
    auth: mockServices.auth(),
    logger: mockServices.logger.mock(),
  });
  return { provider, connection, client, calls };
}

describe('KubeaiPortalEntityProvider', () => {
  it('publishes everything the KubeAI backend lists as one full mutation, with location annotations', async () => {
    const { provider, connection, calls } = setup([dataset('a'), dataset('b')]);
    await provider.connect(connection);
    expect(await provider.refresh()).toBe(2);
    expect(calls[0]).toMatchObject({ limit: 1000, offset: 0 });
    expect(calls[0].token).toBeTruthy();
    expect(connection.applyMutation).toHaveBeenCalledWith({
      type: 'full',
      entities: [
        {
          locationKey: 'kubeai-portal:dataset:default/a',
          entity: expect.objectContaining({
            metadata: {
              name: 'a',
              namespace: 'default',
              annotations: {
                'kubeai.io/cluster': 'local',
                'backstage.io/managed-by-location':
                  'kubeai-portal:dataset:default/a',
                'backstage.io/managed-by-origin-location':
                  'kubeai-portal:dataset:default/a',
              },
            },
          }),
        },
        expect.objectContaining({
          locationKey: 'kubeai-portal:dataset:default/b',
        }),
      ],
    });
  });

  it('pages through large lists', async () => {
    const many = Array.from({ length: 2500 }, (_, i) => dataset(`d${i}`));
    const { provider, connection, calls } = setup(many);
    await provider.connect(connection);
    expect(await provider.refresh()).toBe(2500);
    expect(calls.map(c => c.offset)).toEqual([0, 1000, 2000]);
  });

  it('adds an announced entity at once as a delta, and ignores announcements before connecting', async () => {
    const { provider, connection } = setup([]);
    await provider.addEntity(dataset('early'));
    await provider.connect(connection);
    await provider.addEntity(dataset('new'));
    expect(connection.applyMutation).toHaveBeenCalledTimes(1);
    expect(connection.applyMutation).toHaveBeenCalledWith({
      type: 'delta',
      added: [
        expect.objectContaining({
          locationKey: 'kubeai-portal:dataset:default/new',
        }),
      ],
      removed: [],
    });
  });

  it('removes an entity whose object was deleted at once, as a delta', async () => {
    const { provider, connection } = setup([]);
    await provider.removeEntity('dataset:default/early');
    await provider.connect(connection);
    await provider.removeEntity('Dataset:default/Gone');
    expect(connection.applyMutation).toHaveBeenCalledTimes(1);
    expect(connection.applyMutation).toHaveBeenCalledWith({
      type: 'delta',
      added: [],
      removed: [
        {
          entityRef: 'dataset:default/gone',
          locationKey: 'kubeai-portal:dataset:default/gone',
        },
      ],
    });
  });

  it('refuses to refresh before it is connected', async () => {
    const { provider } = setup([]);
    await expect(provider.refresh()).rejects.toThrow('is not connected yet');
  });
});
