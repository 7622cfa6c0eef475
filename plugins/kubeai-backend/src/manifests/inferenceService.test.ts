import {
  buildInferenceService,
  canary,
  inferenceServiceInputSchema,
  kserveModelFormat,
  promote,
  rollback,
  stableModelVersion,
} from './inferenceService';
import { validateAgainstAllCrdSets } from './__testUtils__/crdSchemas';
import type { InferenceServiceObject } from './types';

const v3 = {
  version: '3',
  artifact: { uri: 's3://models/shoe-brand/3/model.onnx', format: 'onnx' },
};
const v4 = {
  version: '4',
  artifact: {
    uri: 's3://models/shoe-brand/4/model.onnx',
    format: 'onnx',
    digest: 'sha256:abc',
  },
};
const input = {
  name: 'shoe-brand',
  namespace: 'team-a',
  entityRef: 'component:default/shoe-brand-api',
  modelRef: 'model:default/shoe-brand',
  version: v3,
  resources: { cpu: '1', memory: '2Gi' },
  minReplicas: 1,
  maxReplicas: 3,
};

/** What the cluster would return: the applied object plus server fields. */
function fromCluster(object: InferenceServiceObject): InferenceServiceObject {
  return {
    ...structuredClone(object),
    metadata: {
      ...structuredClone(object.metadata),
      uid: 'u-1',
      resourceVersion: '42',
      generation: 2,
      managedFields: [{ manager: 'kubeai' }],
      labels: {
        ...object.metadata.labels,
        'serving.knative.dev/visibility': 'cluster-local',
      },
      annotations: {
        ...object.metadata.annotations,
        'kubectl.kubernetes.io/last-applied-configuration': '{}',
      },
    },
    status: { url: 'http://shoe-brand.team-a.example.com' },
  };
}

describe('InferenceService builders', () => {
  it('serves the registry artifact with model format, storageUri, resources and replicas', () => {
    const isvc = buildInferenceService(input);
    expect(isvc).toEqual({
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: {
        name: 'shoe-brand',
        namespace: 'team-a',
        labels: {
          'app.kubernetes.io/managed-by': 'kubeai',
          'kubeai.io/entity': 'component.default.shoe-brand-api',
          'kubeai.io/model': 'shoe-brand',
          'kubeai.io/model-version': '3',
        },
        annotations: {
          'kubeai.io/entity-ref': 'component:default/shoe-brand-api',
          'kubeai.io/model-ref': 'model:default/shoe-brand',
          'kubeai.io/stable-model-version': '3',
          'kubeai.io/stable-storage-uri': 's3://models/shoe-brand/3/model.onnx',
          'kubeai.io/stable-model-format': 'onnx',
        },
      },
      spec: {
        predictor: {
          minReplicas: 1,
          maxReplicas: 3,
          model: {
            modelFormat: { name: 'onnx' },
            storageUri: 's3://models/shoe-brand/3/model.onnx',
            resources: {
              requests: { cpu: '1', memory: '2Gi' },
              limits: { memory: '2Gi' },
            },
          },
        },
      },
    });
  });

  it('maps registry serialization formats to KServe model formats', () => {
    expect(kserveModelFormat('onnx')).toBe('onnx');
    expect(kserveModelFormat('savedmodel')).toBe('tensorflow');
    expect(kserveModelFormat('torchscript')).toBe('pytorch');
    expect(kserveModelFormat('safetensors')).toBe('huggingface');
    expect(kserveModelFormat('pickle')).toBe('sklearn');
    expect(kserveModelFormat('joblib', 'xgboost')).toBe('xgboost');
    expect(kserveModelFormat('json', 'xgboost')).toBe('xgboost');
    expect(kserveModelFormat('vLLM')).toBe('vllm');
    const isvc = buildInferenceService({
      ...input,
      version: {
        ...v3,
        artifact: { uri: 'gs://m/1', format: 'pickle', formatVersion: '1' },
        framework: 'lightgbm',
      },
    });
    expect(isvc.spec.predictor.model.modelFormat).toEqual({
      name: 'lightgbm',
      version: '1',
    });
  });

  it('never takes an image: the model comes from storageUri', () => {
    expect(
      inferenceServiceInputSchema.safeParse({
        ...input,
        image: 'acme/model-baked:3',
      }).success,
    ).toBe(false);
    expect(
      inferenceServiceInputSchema.safeParse({
        ...input,
        version: {
          ...v3,
          artifact: { ...v3.artifact, uri: 'docker://acme/x' },
        },
      }).success,
    ).toBe(false);
    expect(
      inferenceServiceInputSchema.safeParse({
        ...input,
        minReplicas: 3,
        maxReplicas: 2,
      }).error?.issues[0].path,
    ).toEqual(['maxReplicas']);
    expect(
      inferenceServiceInputSchema.safeParse({
        ...input,
        canaryTrafficPercent: 101,
      }).success,
    ).toBe(false);
  });

  it('rolls a new version out as a canary, then promotes it', () => {
    const running = fromCluster(buildInferenceService(input));
    const canaryIsvc = canary(running, v4, 10);
    expect(canaryIsvc.spec.predictor.canaryTrafficPercent).toBe(10);
    expect(canaryIsvc.spec.predictor.model.storageUri).toBe(v4.artifact.uri);
    expect(canaryIsvc.metadata.labels!['kubeai.io/model-version']).toBe('4');
    expect(
      canaryIsvc.metadata.annotations!['kubeai.io/stable-model-version'],
    ).toBe('3');
    expect(
      canaryIsvc.metadata.annotations!['kubeai.io/stable-storage-uri'],
    ).toBe(v3.artifact.uri);
    // apply intent only: no server fields, no foreign labels or annotations, no status
    expect(canaryIsvc.metadata).not.toHaveProperty('uid');
    expect(canaryIsvc.metadata).not.toHaveProperty('managedFields');
    expect(canaryIsvc.metadata).not.toHaveProperty('resourceVersion');
    expect(canaryIsvc).not.toHaveProperty('status');
    expect(canaryIsvc.metadata.labels).not.toHaveProperty(
      'serving.knative.dev/visibility',
    );
    expect(canaryIsvc.metadata.annotations).not.toHaveProperty(
      'kubectl.kubernetes.io/last-applied-configuration',
    );
    expect(canaryIsvc.spec.predictor.minReplicas).toBe(1);
    expect(canaryIsvc.spec.predictor.model.resources).toEqual(
      running.spec.predictor.model.resources,
    );

    // a second canary while the first is running keeps the stable version
    const v5 = {
      version: '5',
      artifact: { uri: 's3://models/shoe-brand/5/model.onnx', format: 'onnx' },
    };
    const second = canary(fromCluster(canaryIsvc), v5, 20);
    expect(stableModelVersion(second)?.version).toBe('3');

    const promoted = promote(fromCluster(canaryIsvc));
    expect(promoted.spec.predictor).not.toHaveProperty('canaryTrafficPercent');
    expect(promoted.spec.predictor.model.storageUri).toBe(v4.artifact.uri);
    expect(promoted.metadata.labels!['kubeai.io/model-version']).toBe('4');
    expect(stableModelVersion(promoted)).toEqual({
      version: '4',
      artifact: { uri: v4.artifact.uri, format: 'onnx' },
    });
  });

  it('rolls back to the previous revision', () => {
    const canaryIsvc = fromCluster(
      canary(fromCluster(buildInferenceService(input)), v4, 25),
    );
    const back = rollback(canaryIsvc);
    expect(back.spec.predictor).not.toHaveProperty('canaryTrafficPercent');
    expect(back.spec.predictor.model).toMatchObject({
      storageUri: v3.artifact.uri,
      modelFormat: { name: 'onnx' },
    });
    expect(back.metadata.labels!['kubeai.io/model-version']).toBe('3');
    expect(stableModelVersion(back)?.version).toBe('3');

    // after a promote, rolling back needs the previous revision from the registry
    const promoted = fromCluster(promote(canaryIsvc));
    const explicit = rollback(promoted, v3);
    expect(explicit.spec.predictor.model.storageUri).toBe(v3.artifact.uri);
    expect(explicit.metadata.labels!['kubeai.io/model-version']).toBe('3');

    const bare = fromCluster(buildInferenceService(input));
    delete bare.metadata.annotations;
    expect(() => rollback(bare)).toThrow(/no previous version/);
    expect(() => promote({ kind: 'Deployment' } as any)).toThrow(
      /InferenceService/,
    );
  });

  it('validates every stage against the KServe CRD schemas (v0.8 and v0.20)', () => {
    const first = buildInferenceService({
      ...input,
      runtime: 'kserve-onnxruntime',
      protocolVersion: 'v2',
      env: [{ name: 'X', value: '1' }],
      serviceAccountName: 'models-reader',
    });
    const canaryIsvc = canary(fromCluster(first), v4, 10);
    for (const object of [
      first,
      canaryIsvc,
      promote(fromCluster(canaryIsvc)),
      rollback(fromCluster(canaryIsvc)),
    ]) {
      const { sets, report } = validateAgainstAllCrdSets(object);
      expect(sets).toEqual(['top', 'newest']);
      expect(report).toBe('');
    }
  });
});
