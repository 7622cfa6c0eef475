import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crdsDir, findCrd, validateAgainstCrd } from './crdSchemas';

describe('crdSchemas helper', () => {
  it('finds the pinned CRDs in the verified cache by kind and group', () => {
    expect(fs.existsSync(path.join(crdsDir(), 'newest'))).toBe(true);
    expect(
      findCrd('serving.kserve.io/v1beta1', 'InferenceService', 'top')?.file,
    ).toMatch(/serving\.kserve\.io_inferenceservices\.yaml$/);
    expect(findCrd('batch.volcano.sh/v1alpha1', 'Job', 'top')).toBeDefined();
    expect(findCrd('kubeflow.org/v2beta1', 'MPIJob', 'top')).toBeDefined();
    expect(findCrd('batch/v1', 'Job', 'top')).toBeUndefined();
    expect(
      findCrd('trainer.kubeflow.org/v1alpha1', 'TrainJob', 'top'),
    ).toBeUndefined();
    expect(
      findCrd('trainer.kubeflow.org/v1alpha1', 'TrainJob', 'newest'),
    ).toBeDefined();
    expect(
      findCrd('kueue.x-k8s.io/v1beta2', 'Workload', 'newest'),
    ).toBeDefined();
  });

  it('fails loudly when the cache is incomplete and no mirror can fill it', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-crds-empty-'));
    try {
      expect(() =>
        crdsDir({
          cache: empty,
          env: { KUBEAI_CRDS_DIR: '/nonexistent/crds' },
        }),
      ).toThrow(
        /CRD schemas not found: kubeai crds: 35 CRD files missing .*KUBEAI_CRDS_DIR=\/nonexistent\/crds does not exist; downloads disabled \(offline\).*set KUBEAI_CRDS_DIR=.*run 'yarn crds:fetch'/,
      );
      expect(fs.readdirSync(empty)).toEqual([]);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
    // the filesystem's root: no repository above it (the suites' TMPDIR is inside this one)
    expect(() =>
      crdsDir({ searchFrom: path.parse(process.cwd()).root }),
    ).toThrow(
      /CRD schemas not found: no repository with scripts\/crds\/crds\.mjs/,
    );
    expect(() =>
      validateAgainstCrd(
        { apiVersion: 'example.com/v1', kind: 'Nothing' },
        'top',
      ),
    ).toThrow(/no CRD for example.com\/v1 Nothing/);
  });

  it('refuses a changed cached file and repairs the cache from a mirror', () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-crds-copy-'));
    try {
      fs.cpSync(crdsDir(), cache, { recursive: true });
      const changed = path.join(cache, 'newest', 'kubeflow.org_notebooks.yaml');
      fs.appendFileSync(changed, '#');
      expect(() =>
        crdsDir({ cache, env: { KUBEAI_CRDS_DIR: '/nonexistent/crds' } }),
      ).toThrow(
        /cached newest\/kubeflow\.org_notebooks\.yaml has sha256 [0-9a-f]{64}, expected [0-9a-f]{64}; replacing it.*1 CRD file missing/,
      );
      // The verified cache serves as the mirror (same layout): copied, verified, replaced.
      expect(crdsDir({ cache, env: { KUBEAI_CRDS_DIR: crdsDir() } })).toBe(
        cache,
      );
      expect(fs.readFileSync(changed, 'utf8').endsWith('#')).toBe(false);
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
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
