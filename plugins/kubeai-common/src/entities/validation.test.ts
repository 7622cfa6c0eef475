import { Entity } from '@backstage/catalog-model';
import {
  DatasetEntityV1alpha1,
  getKubeaiEntityIssues,
  InferenceServiceEntityV1alpha1,
  KubeaiEntityValidationError,
  ModelEntityV1alpha1,
  validateKubeaiEntity,
} from '..';

const model: ModelEntityV1alpha1 = {
  apiVersion: 'kubeai.io/v1alpha1',
  kind: 'Model',
  metadata: {
    name: 'search-ranking-dnn',
    annotations: { 'kubeai.io/training-schedule': '0 3 * * *' },
  },
  spec: {
    type: 'ranking',
    framework: 'tensorflow',
    owner: 'group:default/search-reco',
    lifecycle: 'production',
    system: 'search-recommendation',
    trainedOn: ['search-click-logs', 'dataset:default/search-item-features'],
    dependsOn: ['resource:default/feature-store'],
  },
};

const dataset: DatasetEntityV1alpha1 = {
  apiVersion: 'kubeai.io/v1alpha1',
  kind: 'Dataset',
  metadata: { name: 'search-click-logs' },
  spec: {
    owner: 'search-reco',
    lifecycle: 'production',
    source: {
      type: 'table',
      engine: 'odps',
      project: 'search_dw',
      table: 'dwd_search_click_log_di',
      partition: 'ds=${bizdate}',
    },
    format: 'orc',
    cache: { engine: 'alluxio', capacity: '500Gi', medium: 'SSD' },
  },
};

const inferenceService: InferenceServiceEntityV1alpha1 = {
  apiVersion: 'kubeai.io/v1alpha1',
  kind: 'InferenceService',
  metadata: { name: 'search-ranking-serving' },
  spec: {
    owner: 'search-reco',
    lifecycle: 'production',
    model: 'search-ranking-dnn',
    modelVersion: 'champion',
    runtime: { modelFormat: 'tensorflow', protocol: 'grpc-v2' },
    deployment: { cluster: 'local', namespace: 'search', name: 'ranking' },
    providesApis: ['search-ranking-api'],
  },
};

/** Returns a deep copy of `entity` with `change` applied to it. */
function edit<T extends Entity>(entity: T, change: (e: any) => void): Entity {
  const copy = JSON.parse(JSON.stringify(entity));
  change(copy);
  return copy;
}

describe('valid KubeAI entities', () => {
  it.each([
    ['Model', model],
    ['Dataset', dataset],
    ['InferenceService', inferenceService],
  ])('accepts a complete %s', (_kind, entity) => {
    expect(validateKubeaiEntity(entity)).toBe(entity);
    expect(getKubeaiEntityIssues(entity)).toEqual([]);
  });

  it.each([
    ['pvc', { type: 'pvc', claimName: 'shoe-images', namespace: 'cv' }],
    ['nas', { type: 'nas', server: '10.0.3.12', path: '/exports/images' }],
    ['s3', { type: 's3', bucket: 'risk-data', prefix: 'features/' }],
    [
      'oss',
      {
        type: 'oss',
        bucket: 'risk-data',
        endpoint: 'https://oss-cn-hangzhou.aliyuncs.com',
      },
    ],
    [
      'table (hive)',
      { type: 'table', engine: 'hive', project: 'dw', table: 't' },
    ],
  ])('accepts a %s source', (_name, source) => {
    const entity = edit(dataset, e => {
      e.spec.source = source;
    });
    expect(getKubeaiEntityIssues(entity)).toEqual([]);
  });

  it.each(['100Gi', '1.5Ti', '500M', '2048', '0.5Gi'])(
    'accepts cache capacity %s',
    capacity => {
      const entity = edit(dataset, e => {
        e.spec.cache.capacity = capacity;
      });
      expect(getKubeaiEntityIssues(entity)).toEqual([]);
    },
  );

  it('accepts a numeric model version and a minimal spec', () => {
    const entity = edit(inferenceService, e => {
      e.spec = { owner: 'user:jane', lifecycle: 'experimental', model: 'm' };
      e.spec.modelVersion = 3;
    });
    expect(getKubeaiEntityIssues(entity)).toEqual([]);
  });

  it('leaves other kinds alone', () => {
    const component = {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: { name: 'x' },
      spec: {},
    };
    expect(validateKubeaiEntity(component)).toBe(false);
    expect(getKubeaiEntityIssues(component)).toEqual([]);
  });
});

describe('invalid KubeAI entities', () => {
  // [description, entity, expected path, expected reason (substring)]
  const cases: Array<[string, Entity, string, string]> = [
    [
      'Model without owner',
      edit(model, e => delete e.spec.owner),
      '/spec/owner',
      'is required',
    ],
    [
      'Dataset without owner',
      edit(dataset, e => delete e.spec.owner),
      '/spec/owner',
      'is required',
    ],
    [
      'InferenceService without model',
      edit(inferenceService, e => delete e.spec.model),
      '/spec/model',
      'is required',
    ],
    [
      'Model without lifecycle',
      edit(model, e => delete e.spec.lifecycle),
      '/spec/lifecycle',
      'is required',
    ],
    [
      'Model with an empty owner',
      edit(model, e => {
        e.spec.owner = '';
      }),
      '/spec/owner',
      'must not be empty',
    ],
    [
      'Model with an unknown type',
      edit(model, e => {
        e.spec.type = 'magic';
      }),
      '/spec/type',
      'must be one of "classification"',
    ],
    [
      'Model with an unknown framework',
      edit(model, e => {
        e.spec.framework = 'caffe3';
      }),
      '/spec/framework',
      'got "caffe3"',
    ],
    [
      'Model with trainedOn as a string instead of a list',
      edit(model, e => {
        e.spec.trainedOn = 'search-click-logs';
      }),
      '/spec/trainedOn',
      'must be an array',
    ],
    [
      'Model with a number in trainedOn',
      edit(model, e => {
        e.spec.trainedOn = [42];
      }),
      '/spec/trainedOn/0',
      'must be a string',
    ],
    [
      'Model trained on a Component',
      edit(model, e => {
        e.spec.trainedOn = ['component:default/search-frontend'];
      }),
      '/spec/trainedOn/0',
      'must reference a Dataset, not a component',
    ],
    [
      'Model with dependsOn without kind',
      edit(model, e => {
        e.spec.dependsOn = ['feature-store'];
      }),
      '/spec/dependsOn/0',
      'must be an entity reference with a kind',
    ],
    [
      'Model owned by a System',
      edit(model, e => {
        e.spec.owner = 'system:search-recommendation';
      }),
      '/spec/owner',
      'must reference a Group or a User, not a system',
    ],
    [
      'Model part of a Domain instead of a System',
      edit(model, e => {
        e.spec.system = 'domain:commerce';
      }),
      '/spec/system',
      'must reference a System',
    ],
    [
      'Model with a bad training schedule',
      edit(model, e => {
        e.metadata.annotations['kubeai.io/training-schedule'] = 'every day';
      }),
      '/metadata/annotations/kubeai.io~1training-schedule',
      'must be a 5-field cron expression',
    ],
    [
      'Model with a bad apiVersion',
      edit(model, e => {
        e.apiVersion = 'backstage.io/v1alpha1';
      }),
      '/apiVersion',
      'must be "kubeai.io/v1alpha1" (got "backstage.io/v1alpha1")',
    ],
    [
      'Dataset with an unknown apiVersion version',
      edit(dataset, e => {
        e.apiVersion = 'kubeai.io/v2';
      }),
      '/apiVersion',
      'must be "kubeai.io/v1alpha1"',
    ],
    [
      'Model without spec',
      edit(model, e => delete e.spec),
      '/spec',
      'is required',
    ],
    [
      'Dataset with a spec that is a list',
      edit(dataset, e => {
        e.spec = [];
      }),
      '/spec',
      'must be an object',
    ],
    [
      'Dataset without source',
      edit(dataset, e => delete e.spec.source),
      '/spec/source',
      'is required',
    ],
    [
      'Dataset with an unknown source type',
      edit(dataset, e => {
        e.spec.source = { type: 'ftp', server: 'x' };
      }),
      '/spec/source/type',
      'must be one of "pvc", "nas", "s3", "oss", "table" (got "ftp")',
    ],
    [
      'Dataset source without type',
      edit(dataset, e => delete e.spec.source.type),
      '/spec/source/type',
      'is required',
    ],
    [
      'table source without table',
      edit(dataset, e => delete e.spec.source.table),
      '/spec/source/table',
      'is required (source type "table")',
    ],
    [
      'table source with an unknown engine',
      edit(dataset, e => {
        e.spec.source.engine = 'mysql';
      }),
      '/spec/source/engine',
      'must be one of "odps", "hive", "maxcompute"',
    ],
    [
      'pvc source without claimName',
      edit(dataset, e => {
        e.spec.source = { type: 'pvc', namespace: 'cv' };
      }),
      '/spec/source/claimName',
      'is required (source type "pvc")',
    ],
    [
      'pvc source with an invalid claim name',
      edit(dataset, e => {
        e.spec.source = {
          type: 'pvc',
          claimName: 'Shoe_Images',
          namespace: 'cv',
        };
      }),
      '/spec/source/claimName',
      'must be a PersistentVolumeClaim name',
    ],
    [
      'nas source with a relative path',
      edit(dataset, e => {
        e.spec.source = {
          type: 'nas',
          server: 'nas01',
          path: 'exports/images',
        };
      }),
      '/spec/source/path',
      'must be an absolute path',
    ],
    [
      'oss source without bucket',
      edit(dataset, e => {
        e.spec.source = { type: 'oss', prefix: 'risk/' };
      }),
      '/spec/source/bucket',
      'is required (source type "oss")',
    ],
    [
      's3 source with a table field',
      edit(dataset, e => {
        e.spec.source = { type: 's3', bucket: 'risk-data', table: 'x' };
      }),
      '/spec/source/table',
      'is not allowed for source type "s3"',
    ],
    [
      'negative cache capacity',
      edit(dataset, e => {
        e.spec.cache.capacity = '-100Gi';
      }),
      '/spec/cache/capacity',
      'must be a positive Kubernetes quantity',
    ],
    [
      'zero cache capacity',
      edit(dataset, e => {
        e.spec.cache.capacity = '0Gi';
      }),
      '/spec/cache/capacity',
      'must be a positive Kubernetes quantity',
    ],
    [
      'cache capacity as a number',
      edit(dataset, e => {
        e.spec.cache.capacity = 100;
      }),
      '/spec/cache/capacity',
      'must be a string (got 100)',
    ],
    [
      'unknown cache engine',
      edit(dataset, e => {
        e.spec.cache.engine = 'redis';
      }),
      '/spec/cache/engine',
      'must be one of "alluxio", "juicefs"',
    ],
    [
      'cache without capacity',
      edit(dataset, e => delete e.spec.cache.capacity),
      '/spec/cache/capacity',
      'is required',
    ],
    [
      'InferenceService serving a Component',
      edit(inferenceService, e => {
        e.spec.model = 'component:default/search-frontend';
      }),
      '/spec/model',
      'must reference a Model, not a component',
    ],
    [
      'InferenceService with model version 0',
      edit(inferenceService, e => {
        e.spec.modelVersion = 0;
      }),
      '/spec/modelVersion',
      'must be a version number',
    ],
    [
      'InferenceService with a boolean model version',
      edit(inferenceService, e => {
        e.spec.modelVersion = true;
      }),
      '/spec/modelVersion',
      'must be a version number',
    ],
    [
      'InferenceService with an unknown protocol',
      edit(inferenceService, e => {
        e.spec.runtime.protocol = 'soap';
      }),
      '/spec/runtime/protocol',
      'must be one of',
    ],
    [
      'InferenceService deployment without namespace',
      edit(inferenceService, e => delete e.spec.deployment.namespace),
      '/spec/deployment/namespace',
      'is required',
    ],
    [
      'InferenceService providing a Component as API',
      edit(inferenceService, e => {
        e.spec.providesApis = ['component:search-frontend'];
      }),
      '/spec/providesApis/0',
      'must reference an API',
    ],
    [
      'InferenceService with a malformed model ref',
      edit(inferenceService, e => {
        e.spec.model = 'model:';
      }),
      '/spec/model',
      'is not a valid entity reference',
    ],
    [
      'Model without metadata.name',
      edit(model, e => delete e.metadata.name),
      '/metadata/name',
      'is required',
    ],
    [
      'Model with tags that are not a list (base Entity schema)',
      edit(model, e => {
        e.metadata.tags = 'ml';
      }),
      '/metadata/tags',
      'must be array',
    ],
  ];

  it.each(cases)('rejects %s', (_description, entity, path, reason) => {
    const issues = getKubeaiEntityIssues(entity);
    expect(issues).toContainEqual({
      path,
      message: expect.stringContaining(reason),
    });
    expect(() => validateKubeaiEntity(entity)).toThrow(
      KubeaiEntityValidationError,
    );
  });

  it('has at least 20 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  it('names the entity ref, the field path and the reason in the error', () => {
    const entity = edit(dataset, e => {
      e.metadata.name = 'click-logs';
      delete e.spec.source.table;
      e.spec.cache.capacity = '-1Gi';
    });
    expect(() => validateKubeaiEntity(entity)).toThrow(
      'Invalid Dataset entity dataset:default/click-logs: ' +
        '/spec/source/table is required (source type "table"); ' +
        '/spec/cache/capacity must be a positive Kubernetes quantity such as "100Gi" or "1.5Ti" (no sign, no milli, no exponent) (got "-1Gi")',
    );
  });

  it('reports every problem, with its own path', () => {
    const entity = edit(model, e => {
      delete e.spec.owner;
      e.spec.framework = 'caffe3';
      e.spec.trainedOn = ['component:x'];
    });
    expect(getKubeaiEntityIssues(entity).map(i => i.path)).toEqual([
      '/spec/owner',
      '/spec/framework',
      '/spec/trainedOn/0',
    ]);
  });
});
