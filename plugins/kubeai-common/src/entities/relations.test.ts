import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import {
  getKubeaiEntityRelations,
  isDatasetEntity,
  formatDatasetSource,
  isDatasetSourceOfType,
  isInferenceServiceEntity,
  isKubeaiEntity,
  isModelEntity,
  KUBEAI_RELATION_PAIRS,
  RELATION_SERVED_BY,
  RELATION_SERVES_MODEL,
  RELATION_TRAINED_ON,
  RELATION_TRAINING_DATA_OF,
} from '..';

/** `source type target`, with full refs, for readable expectations. */
function describeRelations(entity: Entity): string[] {
  return getKubeaiEntityRelations(entity).map(
    r =>
      `${stringifyEntityRef(r.source)} ${r.type} ${stringifyEntityRef(
        r.target,
      )}`,
  );
}

describe('getKubeaiEntityRelations', () => {
  it('emits every Model relation in both directions', () => {
    const model: Entity = {
      apiVersion: 'kubeai.io/v1alpha1',
      kind: 'Model',
      metadata: { name: 'fraud-xgb', namespace: 'risk' },
      spec: {
        type: 'classification',
        framework: 'xgboost',
        owner: 'risk-ml',
        lifecycle: 'production',
        system: 'risk-control',
        trainedOn: ['fraud-features', 'dataset:shared/chargebacks'],
        dependsOn: ['resource:default/feature-store'],
      },
    };
    expect(describeRelations(model)).toEqual([
      'model:risk/fraud-xgb ownedBy group:risk/risk-ml',
      'group:risk/risk-ml ownerOf model:risk/fraud-xgb',
      'model:risk/fraud-xgb partOf system:risk/risk-control',
      'system:risk/risk-control hasPart model:risk/fraud-xgb',
      'model:risk/fraud-xgb trainedOn dataset:risk/fraud-features',
      'dataset:risk/fraud-features trainingDataOf model:risk/fraud-xgb',
      'model:risk/fraud-xgb trainedOn dataset:shared/chargebacks',
      'dataset:shared/chargebacks trainingDataOf model:risk/fraud-xgb',
      'model:risk/fraud-xgb dependsOn resource:default/feature-store',
      'resource:default/feature-store dependencyOf model:risk/fraud-xgb',
    ]);
  });

  it('emits servesModel / servedBy and providesApi / apiProvidedBy for an InferenceService', () => {
    const service: Entity = {
      apiVersion: 'kubeai.io/v1alpha1',
      kind: 'InferenceService',
      metadata: { name: 'ranking-serving' },
      spec: {
        owner: 'user:jane',
        lifecycle: 'production',
        model: 'ranking-dnn',
        providesApis: ['ranking-api'],
      },
    };
    expect(describeRelations(service)).toEqual([
      'inferenceservice:default/ranking-serving ownedBy user:default/jane',
      'user:default/jane ownerOf inferenceservice:default/ranking-serving',
      'inferenceservice:default/ranking-serving servesModel model:default/ranking-dnn',
      'model:default/ranking-dnn servedBy inferenceservice:default/ranking-serving',
      'inferenceservice:default/ranking-serving providesApi api:default/ranking-api',
      'api:default/ranking-api apiProvidedBy inferenceservice:default/ranking-serving',
    ]);
  });

  it('emits nothing for other kinds', () => {
    expect(
      getKubeaiEntityRelations({
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Component',
        metadata: { name: 'x' },
        spec: { owner: 'team' },
      }),
    ).toEqual([]);
  });

  it('pairs the new relations for the catalog graph', () => {
    expect(KUBEAI_RELATION_PAIRS).toEqual([
      [RELATION_TRAINED_ON, RELATION_TRAINING_DATA_OF],
      [RELATION_SERVES_MODEL, RELATION_SERVED_BY],
    ]);
  });
});

describe('type guards', () => {
  const of = (apiVersion: string, kind: string): Entity => ({
    apiVersion,
    kind,
    metadata: { name: 'x' },
  });

  it('recognise the kinds of kubeai.io, in any case', () => {
    expect(isModelEntity(of('kubeai.io/v1alpha1', 'Model'))).toBe(true);
    expect(isModelEntity(of('kubeai.io/v1alpha1', 'model'))).toBe(true);
    expect(isDatasetEntity(of('kubeai.io/v1alpha1', 'Dataset'))).toBe(true);
    expect(
      isInferenceServiceEntity(of('kubeai.io/v1alpha1', 'InferenceService')),
    ).toBe(true);
    expect(isKubeaiEntity(of('kubeai.io/v1alpha1', 'Dataset'))).toBe(true);
  });

  it('reject other groups and kinds', () => {
    expect(isModelEntity(of('example.com/v1', 'Model'))).toBe(false);
    expect(isKubeaiEntity(of('backstage.io/v1alpha1', 'Component'))).toBe(
      false,
    );
  });

  it('narrow a dataset source by type', () => {
    const source = {
      type: 'table' as const,
      engine: 'odps' as const,
      project: 'p',
      table: 't',
    };
    expect(isDatasetSourceOfType(source, 'table') && source.table).toBe('t');
    expect(isDatasetSourceOfType(source, 'pvc')).toBe(false);
  });
});

describe('formatDatasetSource', () => {
  it.each([
    [
      {
        type: 'table',
        engine: 'odps',
        project: 'dw',
        table: 'clicks',
        partition: 'ds=${bizdate}',
      },
      'odps://dw.clicks (ds=${bizdate})',
    ],
    [
      { type: 'pvc', claimName: 'imgs', namespace: 'cv', cluster: 'local' },
      'pvc://local/cv/imgs',
    ],
    [
      { type: 'nas', server: 'nas01', path: '/exports/imgs' },
      'nas://nas01/exports/imgs',
    ],
    [
      { type: 'oss', bucket: 'risk', prefix: 'features/' },
      'oss://risk/features/',
    ],
  ] as const)('formats %j as %s', (source, text) => {
    expect(formatDatasetSource(source)).toBe(text);
  });
});
