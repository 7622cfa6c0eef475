/*
 * The cluster gateway against the real local kube-apiserver 1.20 (`yarn cluster:start`), with
 * every manifest builder's output (TrainJob excepted: Trainer v2 installs on no 1.20 cluster; it
 * is validated offline in ../manifests/training.test.ts).
 */
import { ConfigReader } from '@backstage/config';
import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  serializeError,
} from '@backstage/errors';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';
import {
  buildDataset,
  buildInferenceService,
  buildNotebook,
  buildPipeline,
  buildTraining,
  canary,
  kubeaiSelector,
  promote,
  rollback,
  type InferenceServiceObject,
  type KubeObject,
} from '../manifests';
import {
  localClusterState,
  purgeNamespaces,
} from '../__testUtils__/localCluster';
import { ClusterGateway } from './ClusterGateway';
import { ClusterInputError } from './errors';

// The first import() of @kubernetes/client-node under jest's VM modules takes seconds on a busy machine.
jest.setTimeout(60_000);

const suffix = randomBytes(3).toString('hex');
const namespace = `kubeai-gw-${suffix}`;
const entityRef = `component:default/gw-test-${suffix}`;
const selector = kubeaiSelector({ entityRef });

describe('ClusterGateway on the local control plane', () => {
  const state = localClusterState();
  const logs: string[] = [];
  const record =
    (level: string) => (message: string, meta?: Record<string, unknown>) =>
      logs.push(`${level} ${message} ${meta ? JSON.stringify(meta) : ''}`);
  const logger = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
  const errors: unknown[] = [];
  /** Runs `call`, expecting it to fail; keeps the error for the token check. */
  async function failure(call: () => Promise<unknown>): Promise<any> {
    try {
      await call();
    } catch (error) {
      errors.push(error);
      return error;
    }
    throw new Error('expected the call to fail');
  }

  const config = new ConfigReader({
    kubernetes: {
      clusterLocatorMethods: [
        {
          type: 'config',
          clusters: [
            {
              name: 'local',
              url: state.server,
              authProvider: 'serviceAccount',
              serviceAccountToken: state.adminToken,
              caData: fs.readFileSync(state.caFile!).toString('base64'),
            },
            {
              name: 'local-restricted',
              url: state.server,
              authProvider: 'serviceAccount',
              serviceAccountToken: state.restrictedToken,
              skipTLSVerify: true,
            },
          ],
        },
        { type: 'catalog' },
      ],
    },
  });
  const gateway = ClusterGateway.fromConfig(config, {
    logger,
    retry: { baseDelayMs: 10 },
  });
  const appliedInTeamA: KubeObject[] = [];

  beforeAll(async () => {
    await gateway.apply('local', [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    ]);
  });

  afterAll(async () => {
    for (const object of appliedInTeamA) {
      await gateway
        .delete('local', {
          ...object,
          name: object.metadata.name!,
          namespace: 'team-a',
        })
        .catch(() => undefined);
    }
    // Everything in it, then the namespace (no namespace controller runs to do it).
    await purgeNamespaces(namespace);
  });

  it('lists the configured clusters without credentials', () => {
    const clusters = gateway.listClusters();
    expect(clusters).toEqual([
      { name: 'local', url: state.server },
      { name: 'local-restricted', url: state.server },
    ]);
    const text = JSON.stringify({ clusters, gateway });
    expect(text).not.toContain(state.adminToken);
    expect(text).not.toContain(state.restrictedToken);
  });

  it('rejects an unknown cluster with an InputError naming it', async () => {
    const error = await failure(() => gateway.namespaces('nope'));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(
      'unknown cluster "nope" (configured: local, local-restricted)',
    );
  });

  it('lists namespaces', async () => {
    const names = await gateway.namespaces('local-restricted');
    expect(names).toEqual(
      expect.arrayContaining(['default', 'team-a', namespace]),
    );
  });

  it('keeps one connection to a cluster for sequential calls', async () => {
    const connect = jest.spyOn(tls, 'connect');
    try {
      for (let i = 0; i < 10; i++) {
        await gateway.namespaces('local-restricted');
      }
      // client-node alone opens a TLS connection per call
      expect(connect.mock.calls.length).toBeLessThanOrEqual(1);
    } finally {
      connect.mockRestore();
    }
  });

  it('resolves CronJob to batch/v1beta1 on this 1.20 server by discovery, and applies it', async () => {
    const apiVersion = await gateway.resolveApiVersion(
      'local',
      'batch',
      'CronJob',
      ['v1', 'v1beta1'],
    );
    expect(apiVersion).toBe('batch/v1beta1');
    expect(
      await gateway.resolveApiVersion('local', 'batch', 'Job', ['v1']),
    ).toBe('batch/v1');
    expect(
      await gateway.resolveApiVersion('local', '', 'ConfigMap', ['v1']),
    ).toBe('v1');
    expect(
      await gateway.resolveApiVersion(
        'local',
        'serving.kserve.io',
        'InferenceService',
        ['v1', 'v1beta1'],
      ),
    ).toBe('serving.kserve.io/v1beta1');
    const missing = await failure(() =>
      gateway.resolveApiVersion('local', 'trainer.kubeflow.org', 'TrainJob', [
        'v1alpha1',
      ]),
    );
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing.message).toContain(
      'serves TrainJob in none of trainer.kubeflow.org/v1alpha1',
    );

    const cronJob = buildTraining(
      {
        kind: 'CronJob',
        name: 'nightly',
        namespace,
        entityRef,
        image: 'python:3.12',
        command: ['python', '-c', 'print("train")'],
        schedule: '0 3 * * *',
        queue: { name: 'team-a-queue' },
      },
      { cronJobApiVersion: apiVersion as 'batch/v1beta1' },
    );
    const [stored] = await gateway.apply('local', cronJob);
    expect(stored.apiVersion).toBe('batch/v1beta1');
    expect((stored as any).spec.concurrencyPolicy).toBe('Forbid');
  });

  const objectsByFamily: Array<[string, () => KubeObject[]]> = [
    [
      'notebook',
      () =>
        buildNotebook({
          name: 'nb',
          namespace,
          entityRef,
          image: 'kubeflownotebookswg/jupyter-scipy:v1.9.0',
          resources: { cpu: '1', memory: '2Gi', gpu: 1 },
          workspace: { size: '5Gi' },
          datasets: [{ name: 'shoes', claimName: 'shoes' }],
        }),
    ],
    [
      'Job with Volcano gang scheduling and Kueue',
      () =>
        buildTraining({
          kind: 'Job',
          name: 'train-job',
          namespace,
          entityRef,
          runId: 'run-1',
          image: 'python:3.12',
          command: ['python', '-m', 'train'],
          args: ['--epochs', '3'],
          env: [
            { name: 'TOKEN', secretKeyRef: { name: 'creds', key: 'token' } },
          ],
          resources: { cpu: '500m', memory: '1Gi' },
          datasets: [{ name: 'shoes', claimName: 'shoes' }],
          queue: { name: 'team-a-queue', priorityClass: 'high' },
          parallelism: 2,
          gang: { queue: 'default' },
        }),
    ],
    [
      'TFJob',
      () =>
        buildTraining({
          kind: 'TFJob',
          name: 'train-tf',
          namespace,
          entityRef,
          image: 'tensorflow/tensorflow:2.15.0',
          command: ['python', 'train.py'],
          env: [{ name: 'EPOCHS', value: '3' }],
          replicas: { Chief: 1, PS: 1, Worker: 2 },
          resources: { cpu: '1', memory: '2Gi', gpu: 1 },
          gang: {},
          queue: { name: 'team-a-queue' },
        }),
    ],
    [
      'PyTorchJob',
      () =>
        buildTraining({
          kind: 'PyTorchJob',
          name: 'train-pt',
          namespace,
          entityRef,
          image: 'pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime',
          command: ['torchrun', 'train.py'],
          replicas: { Worker: 2 },
          nprocPerNode: 'gpu',
          shmSize: '1Gi',
          datasets: [{ name: 'shoes', claimName: 'shoes' }],
        }),
    ],
    [
      'XGBoostJob',
      () =>
        buildTraining({
          kind: 'XGBoostJob',
          name: 'train-xgb',
          namespace,
          entityRef,
          image: 'docker.io/kubeflow/xgboost-dist-iris:latest',
          replicas: { Worker: 1 },
        }),
    ],
    [
      'PVC dataset',
      () =>
        buildDataset({
          name: 'shoes',
          namespace,
          entityRef,
          source: { type: 'pvc', size: '10Gi' },
        }).objects,
    ],
    [
      'Fluid Dataset with AlluxioRuntime',
      () =>
        buildDataset({
          name: 'shoes-oss',
          namespace,
          entityRef,
          source: {
            type: 'oss',
            bucket: 'shoe-data',
            path: 'v3',
            endpoint: 'oss-cn-hangzhou.aliyuncs.com',
            credentials: { secretName: 'oss-creds' },
          },
          cache: { runtime: 'alluxio', quota: '2Gi' },
        }).objects,
    ],
    [
      'Fluid Dataset with JuiceFSRuntime',
      () =>
        buildDataset({
          name: 'shoes-jfs',
          namespace,
          entityRef,
          source: {
            type: 's3',
            bucket: 'shoe-data',
            region: 'eu-west-1',
            credentials: { secretName: 's3-creds' },
          },
          cache: {
            runtime: 'juicefs',
            quota: '2Gi',
            medium: 'SSD',
            metaUrl: { secretName: 'jfs' },
          },
        }).objects,
    ],
    [
      'InferenceService',
      () => [
        buildInferenceService({
          name: 'shoe-brand',
          namespace,
          entityRef,
          modelRef: 'model:default/shoe-brand',
          version: {
            version: '3',
            artifact: { uri: 's3://models/shoe-brand/3', format: 'onnx' },
          },
          resources: { cpu: '1', memory: '2Gi' },
          minReplicas: 1,
          maxReplicas: 2,
        }),
      ],
    ],
    [
      'pipeline (Workflow and CronWorkflow)',
      () => {
        const spec = {
          namespace,
          entityRef,
          modelRef: 'model:default/shoe-brand',
          steps: [
            {
              name: 'train',
              type: 'training' as const,
              training: {
                kind: 'PyTorchJob',
                image: 'pytorch/pytorch:2.3.0',
                command: ['torchrun', 'train.py'],
                replicas: { Worker: 1 },
              },
            },
            {
              name: 'canary',
              type: 'deployCanary' as const,
              dependsOn: ['train'],
              inferenceService: {
                name: 'shoe-brand',
                modelVersion: 'candidate',
                canaryTrafficPercent: 10,
              },
            },
          ],
        };
        return [
          buildPipeline({ ...spec, name: 'retrain-once', runId: 'manual-1' }),
          buildPipeline({
            ...spec,
            name: 'retrain-nightly',
            schedule: '@daily',
          }),
        ];
      },
    ],
  ];

  it.each(objectsByFamily)(
    'applies the %s objects idempotently (same uid, no new generation, no duplicate)',
    async (_family, build) => {
      const objects = build();
      const first = await gateway.apply('local', objects);
      expect(first.map(o => o.kind)).toEqual(objects.map(o => o.kind));
      for (const [i, stored] of first.entries()) {
        expect(stored.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
        expect(stored.metadata.labels).toMatchObject(
          objects[i].metadata.labels!,
        );
        expect(
          (stored.metadata.managedFields as any[]).map(f => f.manager),
        ).toContain('kubeai');
        const read = await gateway.get('local', {
          apiVersion: objects[i].apiVersion,
          kind: objects[i].kind,
          namespace,
          name: objects[i].metadata.name!,
        });
        expect(read.metadata.uid).toBe(stored.metadata.uid);
        expect(read).toMatchObject({ spec: expect.anything() });
      }

      const second = await gateway.apply('local', build());
      // resourceVersion is not compared: a 1.20 apiserver refreshes managedFields[].time on a
      // no-op apply when a second has passed (and rewrites PVCs anyway); generation is the
      // spec-change counter.
      for (const [i, again] of second.entries()) {
        expect(again.metadata.uid).toBe(first[i].metadata.uid);
        expect(again.metadata.generation).toBe(first[i].metadata.generation);
        expect((again as any).spec).toEqual((first[i] as any).spec);
        const listed = await gateway.list('local', {
          apiVersion: objects[i].apiVersion,
          kind: objects[i].kind,
          namespace,
          labelSelector: selector,
        });
        expect(
          listed.filter(o => o.metadata.name === objects[i].metadata.name),
        ).toHaveLength(1);
        expect(listed.every(o => o.kind === objects[i].kind)).toBe(true);
      }
    },
  );

  it('rolls an InferenceService out as a canary, promotes and rolls back with server-side apply', async () => {
    const ref = {
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      namespace,
      name: 'rollout',
    };
    const v1 = {
      version: '1',
      artifact: { uri: 's3://models/rollout/1', format: 'onnx' },
    };
    const v2 = {
      version: '2',
      artifact: { uri: 's3://models/rollout/2', format: 'onnx' },
    };
    await gateway.apply('local', [
      buildInferenceService({
        name: 'rollout',
        namespace,
        entityRef,
        modelRef: 'rollout',
        version: v1,
      }),
    ]);
    const live = () =>
      gateway.get('local', ref) as Promise<InferenceServiceObject>;

    await gateway.apply('local', [canary(await live(), v2, 20)]);
    let current = await live();
    expect(current.spec.predictor.canaryTrafficPercent).toBe(20);
    expect(current.spec.predictor.model.storageUri).toBe(v2.artifact.uri);
    expect(current.metadata.labels!['kubeai.io/model-version']).toBe('2');

    await gateway.apply('local', [rollback(current)]);
    current = await live();
    expect(current.spec.predictor).not.toHaveProperty('canaryTrafficPercent');
    expect(current.spec.predictor.model.storageUri).toBe(v1.artifact.uri);
    expect(current.metadata.labels!['kubeai.io/model-version']).toBe('1');

    await gateway.apply('local', [canary(current, v2, 50)]);
    await gateway.apply('local', [promote(await live())]);
    current = await live();
    expect(current.spec.predictor).not.toHaveProperty('canaryTrafficPercent');
    expect(current.spec.predictor.model.storageUri).toBe(v2.artifact.uri);
    expect(
      current.metadata.annotations!['kubeai.io/stable-model-version'],
    ).toBe('2');
  });

  it('creates nothing on a dry run', async () => {
    const [notebook] = buildNotebook({
      name: 'dry',
      namespace,
      entityRef,
      image: 'jupyter/base-notebook:latest',
    });
    const [result] = await gateway.apply('local', [notebook], { dryRun: true });
    expect(result.metadata.name).toBe('dry');
    const missing = await failure(() =>
      gateway.get('local', {
        apiVersion: 'kubeflow.org/v1',
        kind: 'Notebook',
        namespace,
        name: 'dry',
      }),
    );
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing.message).toContain(
      `Notebook "dry" not found in namespace "${namespace}" of cluster "local"`,
    );
    expect(
      await gateway.delete(
        'local',
        { apiVersion: 'v1', kind: 'Namespace', name: namespace },
        { dryRun: true },
      ),
    ).toBe(true);
    expect(await gateway.namespaces('local')).toContain(namespace);
  });

  it('refuses the restricted user outside team-a with a NotAllowedError naming the namespace', async () => {
    const [notebook] = buildNotebook({
      name: 'denied',
      namespace,
      entityRef,
      image: 'jupyter/base-notebook:latest',
    });
    const denied = await failure(() =>
      gateway.apply('local-restricted', [notebook]),
    );
    expect(denied).toBeInstanceOf(NotAllowedError);
    expect(denied.message).toBe(
      `kubeai cannot apply notebooks in namespace "${namespace}" of cluster "local-restricted": forbidden`,
    );

    const inTeamA = buildNotebook({
      name: `allowed-${suffix}`,
      namespace: 'team-a',
      entityRef,
      image: 'jupyter/base-notebook:latest',
    });
    appliedInTeamA.push(...inTeamA);
    const [stored] = await gateway.apply('local-restricted', inTeamA);
    expect(stored.metadata.namespace).toBe('team-a');
    const deleteDenied = await failure(() =>
      gateway.delete('local-restricted', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        namespace: 'default',
        name: 'x',
      }),
    );
    expect(deleteDenied).toBeInstanceOf(NotAllowedError);
    expect(deleteDenied.message).toBe(
      'kubeai cannot delete configmaps in namespace "default" of cluster "local-restricted": forbidden',
    );
    expect(
      await gateway.delete('local-restricted', {
        apiVersion: 'kubeflow.org/v1',
        kind: 'Notebook',
        namespace: 'team-a',
        name: `allowed-${suffix}`,
      }),
    ).toBe(true);
    expect(
      await gateway.delete('local-restricted', {
        apiVersion: 'kubeflow.org/v1',
        kind: 'Notebook',
        namespace: 'team-a',
        name: `allowed-${suffix}`,
      }),
    ).toBe(false);
  });

  it('maps a 422 to an InputError carrying the apiserver field causes', async () => {
    const isvc = buildInferenceService({
      name: 'no-format',
      namespace,
      modelRef: 'shoe-brand',
      version: {
        version: '1',
        artifact: { uri: 's3://models/x/1', format: 'onnx' },
      },
    });
    delete (isvc.spec.predictor.model.modelFormat as { name?: string }).name;
    const invalid = await failure(() => gateway.apply('local', [isvc]));
    expect(invalid).toBeInstanceOf(InputError);
    expect(invalid).toBeInstanceOf(ClusterInputError);
    expect(invalid.causes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          field: 'spec.predictor.model.modelFormat.name',
          message: expect.stringContaining('Required'),
        }),
      ]),
    );
    expect(invalid.message).toContain(
      `InferenceService "no-format" is invalid in namespace "${namespace}" of cluster "local"`,
    );
    expect(serializeError(invalid).causes).toEqual(invalid.causes);
  });

  it('maps a stale resourceVersion to a ConflictError and unknown kinds to NotFoundError', async () => {
    const [pvc] = buildDataset({
      name: 'conflict',
      namespace,
      source: { type: 'pvc', size: '1Gi' },
    }).objects;
    await gateway.apply('local', [pvc]);
    const stale = {
      ...pvc,
      metadata: { ...pvc.metadata, resourceVersion: '1' },
    };
    const conflict = await failure(() => gateway.apply('local', [stale]));
    expect(conflict).toBeInstanceOf(ConflictError);
    expect(conflict.message).toContain(
      `PersistentVolumeClaim "conflict" in namespace "${namespace}" of cluster "local"`,
    );

    const [trainJob] = buildTraining({
      kind: 'TrainJob',
      name: 'tj',
      namespace,
      runtimeRef: { name: 'torch' },
    });
    const notServed = await failure(() => gateway.apply('local', [trainJob]));
    expect(notServed).toBeInstanceOf(NotFoundError);
    expect(notServed.message).toContain(
      'cluster "local" does not serve TrainJob in trainer.kubeflow.org/v1alpha1',
    );
  });

  it('never puts a token into errors or logs', () => {
    expect(errors.length).toBeGreaterThanOrEqual(8);
    const everything = [
      ...errors.map(e =>
        JSON.stringify(serializeError(e as Error, { includeStack: true })),
      ),
      ...logs,
    ].join('\n');
    expect(everything).not.toContain(state.adminToken);
    expect(everything).not.toContain(state.restrictedToken);
    expect(logs.some(l => l.includes('kubeai applied'))).toBe(true);
  });
});
