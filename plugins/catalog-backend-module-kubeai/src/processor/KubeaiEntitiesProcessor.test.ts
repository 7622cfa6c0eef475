import { Entity } from '@backstage/catalog-model';
import { CatalogProcessorResult } from '@backstage/plugin-catalog-node';
import { KubeaiEntitiesProcessor } from './KubeaiEntitiesProcessor';

const location = { type: 'file', target: '/catalog/ranking.yaml' };

const servingOf = (model: string): Entity => ({
  apiVersion: 'kubeai.io/v1alpha1',
  kind: 'InferenceService',
  metadata: { name: 'search-ranking-serving' },
  spec: {
    owner: 'search-reco',
    lifecycle: 'production',
    model,
    providesApis: ['search-ranking-api'],
  },
});

describe('KubeaiEntitiesProcessor', () => {
  const processor = new KubeaiEntitiesProcessor();

  it('leaves the built-in kinds to the other processors', async () => {
    await expect(
      processor.validateEntityKind({
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Component',
        metadata: { name: 'search-gateway' },
        spec: {
          type: 'service',
          owner: 'search-reco',
          lifecycle: 'production',
        },
      }),
    ).resolves.toBe(false);
  });

  it('accepts a valid InferenceService', async () => {
    await expect(
      processor.validateEntityKind(servingOf('search-ranking-dnn')),
    ).resolves.toBe(true);
  });

  it('rejects a model reference to a Component, naming the entity, the field and the reason', async () => {
    await expect(
      processor.validateEntityKind(
        servingOf('component:default/search-gateway'),
      ),
    ).rejects.toThrow(
      'Invalid InferenceService entity inferenceservice:default/search-ranking-serving: ' +
        '/spec/model must reference a Model, not a component (got "component:default/search-gateway")',
    );
  });

  it('rejects a Dataset with an unknown source type', async () => {
    await expect(
      processor.validateEntityKind({
        apiVersion: 'kubeai.io/v1alpha1',
        kind: 'Dataset',
        metadata: { name: 'clicks' },
        spec: {
          owner: 'data-engineering',
          lifecycle: 'production',
          source: { type: 'ftp' },
        },
      }),
    ).rejects.toThrow(
      '/spec/source/type must be one of "pvc", "nas", "s3", "oss", "table" (got "ftp")',
    );
  });

  it('emits servesModel / servedBy and the other relations in both directions', async () => {
    const emitted = new Array<CatalogProcessorResult>();
    const entity = servingOf('search-ranking-dnn');
    await expect(
      processor.postProcessEntity(entity, location, r => emitted.push(r)),
    ).resolves.toBe(entity);

    const relations = emitted.map(r =>
      r.type === 'relation'
        ? `${r.relation.source.kind}:${r.relation.source.name} ${r.relation.type} ${r.relation.target.kind}:${r.relation.target.name}`
        : r.type,
    );
    expect(relations).toEqual([
      'InferenceService:search-ranking-serving ownedBy Group:search-reco',
      'Group:search-reco ownerOf InferenceService:search-ranking-serving',
      'InferenceService:search-ranking-serving servesModel Model:search-ranking-dnn',
      'Model:search-ranking-dnn servedBy InferenceService:search-ranking-serving',
      'InferenceService:search-ranking-serving providesApi API:search-ranking-api',
      'API:search-ranking-api apiProvidedBy InferenceService:search-ranking-serving',
    ]);
  });

  it('emits nothing for other kinds', async () => {
    const emitted = new Array<CatalogProcessorResult>();
    await processor.postProcessEntity(
      {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'System',
        metadata: { name: 'search' },
        spec: { owner: 'search-reco' },
      },
      location,
      r => emitted.push(r),
    );
    expect(emitted).toEqual([]);
  });

  it('sorts reference lists, so that reordering them is not a change', async () => {
    const entity: Entity = {
      apiVersion: 'kubeai.io/v1alpha1',
      kind: 'Model',
      metadata: { name: 'ranker' },
      spec: {
        type: 'ranking',
        framework: 'tensorflow',
        owner: 'search-reco',
        lifecycle: 'production',
        trainedOn: ['search-item-features', 'search-click-logs'],
      },
    };
    const result = await processor.preProcessEntity(entity);
    expect(result.spec?.trainedOn).toEqual([
      'search-click-logs',
      'search-item-features',
    ]);
  });
});
