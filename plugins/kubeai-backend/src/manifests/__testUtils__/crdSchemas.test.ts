import os from 'node:os';
import { crdsDir, findCrd, validateAgainstCrd } from './crdSchemas';

describe('crdSchemas helper', () => {
  it('finds the shared CRDs by kind and group', () => {
    expect(crdsDir()).toMatch(/crds$/);
    expect(
      findCrd('serving.kserve.io/v1beta1', 'InferenceService', 'top')?.file,
    ).toMatch(/serving\.kserve\.io_inferenceservices\.yaml$/);
    expect(findCrd('batch.volcano.sh/v1alpha1', 'Job', 'top')).toBeDefined();
    expect(findCrd('batch/v1', 'Job', 'top')).toBeUndefined();
    expect(
      findCrd('trainer.kubeflow.org/v1alpha1', 'TrainJob', 'top'),
    ).toBeUndefined();
    expect(
      findCrd('trainer.kubeflow.org/v1alpha1', 'TrainJob', 'newest'),
    ).toBeDefined();
  });

  it('fails loudly when the CRD folder is missing', () => {
    expect(() => crdsDir({ env: '/nonexistent/crds' })).toThrow(
      'KUBEAI_CRDS_DIR=/nonexistent/crds: no CRD folder there',
    );
    expect(() => crdsDir({ env: undefined, searchFrom: os.tmpdir() })).toThrow(
      /CRD schemas not found .*set KUBEAI_CRDS_DIR/,
    );
    expect(() =>
      validateAgainstCrd(
        { apiVersion: 'example.com/v1', kind: 'Nothing' },
        'top',
      ),
    ).toThrow(/no CRD for example.com\/v1 Nothing/);
  });

  const isvc = (predictor: Record<string, unknown>) => ({
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: { name: 'x' },
    spec: { predictor },
  });

  it('detects type errors, missing required fields and pruned fields', () => {
    const good = validateAgainstCrd(
      isvc({
        model: { modelFormat: { name: 'onnx' }, storageUri: 's3://a/b' },
      }),
      'top',
    );
    expect(good).toMatchObject({ valid: true, errors: [], pruned: [] });

    const missing = validateAgainstCrd(
      isvc({ model: { modelFormat: {}, storageUri: 's3://a/b' } }),
      'top',
    );
    expect(missing.valid).toBe(false);
    expect(missing.errors.join()).toContain(
      '/spec/predictor/model/modelFormat must have required property',
    );

    const wrongType = validateAgainstCrd(
      isvc({ minReplicas: '1', model: { modelFormat: { name: 'onnx' } } }),
      'newest',
    );
    expect(wrongType.errors.join()).toContain(
      '/spec/predictor/minReplicas must be integer',
    );

    const pruned = validateAgainstCrd(
      isvc({
        storageUri: 's3://a/b',
        model: { modelFormat: { name: 'onnx' } },
      }),
      'top',
    );
    expect(pruned.pruned).toEqual(['/spec/predictor/storageUri']);
  });

  it('knows int-or-string and list-map keys', () => {
    const container = (extra: Record<string, unknown>) => ({
      name: 'c',
      image: 'i',
      ...extra,
    });
    const notebook = (containers: unknown[]) => ({
      apiVersion: 'kubeflow.org/v1',
      kind: 'Notebook',
      metadata: { name: 'n' },
      spec: { template: { spec: { containers } } },
    });
    expect(
      validateAgainstCrd(
        notebook([
          container({ resources: { limits: { cpu: 2, memory: '1Gi' } } }),
        ]),
        'top',
      ).valid,
    ).toBe(true);
    expect(
      validateAgainstCrd(
        notebook([container({ resources: { limits: { cpu: 1.5 } } })]),
        'top',
      ).valid,
    ).toBe(false);
    expect(
      validateAgainstCrd(
        notebook([container({ resources: { limits: { cpu: true } } })]),
        'top',
      ).valid,
    ).toBe(false);
    const ports = [
      { containerPort: 80, protocol: 'TCP' },
      { containerPort: 80, protocol: 'TCP' },
    ];
    expect(
      validateAgainstCrd(notebook([container({ ports })]), 'newest').valid,
    ).toBe(false);
    expect(
      validateAgainstCrd(notebook([container({ ports: [ports[0]] })]), 'newest')
        .valid,
    ).toBe(true);
  });
});
