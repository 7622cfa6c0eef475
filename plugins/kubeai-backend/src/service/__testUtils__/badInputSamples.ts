/*
 * The bad-input sweep's view of src/schema/openapi.yaml (its operations, path parameters and body
 * schemas) and a valid sample of every operation's body and path parameters, all pointing at
 * BAD_NS. Each jest test file loads its own copy of this module, so BAD_NS is one per file.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import YAML from 'yaml';

export const API = '/api/kubeai';
/** Where the cluster operations point: it stays empty. */
export const BAD_NS = `kubeai-sweep-${randomBytes(3).toString('hex')}`;

// ------------------------------------------------------------------ the spec

export type Schema = Record<string, any>;
export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

const doc = YAML.parse(
  readFileSync(resolve(__dirname, '../../schema/openapi.yaml'), 'utf8'),
);

/** Follows `$ref`s of `#/components/...`. */
export function deref(schema: Schema | undefined): Schema {
  let current = schema ?? {};
  for (let i = 0; current.$ref && i < 20; i++) {
    current = current.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce((node: any, key: string) => node?.[key], doc);
  }
  return current;
}

export const typesOf = (schema: Schema): string[] => {
  if (Array.isArray(schema.type)) return schema.type;
  if (schema.type) return [schema.type];
  if (schema.enum) {
    return [...new Set<string>(schema.enum.map((v: unknown) => typeof v))];
  }
  if (schema.properties) return ['object'];
  return [];
};

export interface Operation {
  id: string;
  method: Method;
  path: string;
  pathParams: { name: string; schema: Schema }[];
  body?: Schema;
}

const operations: Operation[] = Object.entries(doc.paths).flatMap(
  ([path, item]: [string, any]) =>
    (['get', 'post', 'put', 'patch', 'delete'] as Method[])
      .filter(method => item[method])
      .map(method => {
        const op = item[method];
        const params = [...(item.parameters ?? []), ...(op.parameters ?? [])]
          .map(deref)
          .filter(p => p.in === 'path');
        return {
          id: op.operationId as string,
          method,
          path,
          pathParams: params.map(p => ({
            name: p.name,
            schema: deref(p.schema),
          })),
          body: op.requestBody?.content?.['application/json']?.schema,
        };
      }),
);

/** Operations the sweep covers: a body or path parameters. */
export const swept = operations.filter(o => o.body || o.pathParams.length > 0);
export const mutating = operations.filter(o =>
  ['post', 'put', 'patch', 'delete'].includes(o.method),
);

// ------------------------------------------------------------------ samples

/** Registered by the seeding: the run the registry bodies point at. */
export const seed = { runId: '' };

const DIGEST = `sha256:${'a'.repeat(64)}`;
const resources = {
  cpu: '1',
  memory: '1Gi',
  gpu: 0,
  cpuLimit: '2',
  memoryLimit: '2Gi',
};
const env = [
  { name: 'MODE', value: 'train' },
  { name: 'TOKEN', secretKeyRef: { name: 'creds', key: 'token' } },
];
const datasets = [
  {
    datasetRef: 'dataset:default/images',
    version: 'v1',
    name: 'images',
    claimName: 'images-claim',
    mountPath: '/data/images',
    subPath: 'train',
  },
];
const job = (name: string) => ({
  cluster: 'local',
  namespace: BAD_NS,
  name,
  kind: 'Job',
  image: 'ghcr.io/acme/trainer:1.2',
  command: ['python', '-m', 'train'],
  args: ['--epochs', '3'],
  workingDir: '/work',
  env,
  resources,
  datasets,
  shmSize: '1Gi',
  queue: { name: 'team-queue', priorityClass: 'low' },
  backoffLimit: 1,
  activeDeadlineSeconds: 3600,
  ttlSecondsAfterFinished: 600,
  serviceAccountName: 'default',
  priorityClassName: 'low',
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  modelRef: 'model:default/clf',
  entityRef: 'component:default/trainer',
  parallelism: 1,
  completions: 1,
  params: { lr: 0.01, optimizer: 'adam', shuffle: true },
});

/** A valid body of each operation with a body (each answers 2xx as it is, with `dryRun`). */
export const BODIES: Record<string, () => any> = {
  createModelVersion: () => ({
    artifact: {
      uri: 's3://models/clf/2/model.onnx',
      format: 'onnx',
      digest: DIGEST,
      size: 1024,
    },
    framework: 'pytorch',
    description: 'second try',
    metrics: { auc: 0.93, f1: 0.8 },
    curves: {
      roc: [{ fpr: 0.1, tpr: 0.9, threshold: 0.5 }],
      pr: [{ precision: 0.9, recall: 0.8, threshold: 0.5 }],
    },
    params: { lr: 0.01, optimizer: 'adam', shuffle: true },
    tags: ['resnet50'],
    aliases: ['canary'],
    runId: seed.runId,
  }),
  updateModelVersion: () => ({
    aliases: ['production'],
    state: 'live',
    tags: ['baseline'],
    description: 'the first',
  }),
  createRun: () => ({
    kind: 'training',
    cluster: 'local',
    namespace: BAD_NS,
    name: 'train-clf-2',
    uid: randomUUID(),
    modelRef: 'model:default/clf',
    phase: 'Running',
    message: 'started',
    startedAt: '2026-01-01T08:00:00Z',
    finishedAt: '2026-01-01T09:00:00Z',
    inputs: [{ datasetRef: 'dataset:default/images', version: 'v1' }],
    params: { lr: 0.01 },
  }),
  updateRun: () => ({
    phase: 'Succeeded',
    message: 'done',
    startedAt: '2026-01-01T08:00:00Z',
    finishedAt: '2026-01-01T09:00:00Z',
    inputs: [{ datasetRef: 'dataset:default/images', version: 'v1' }],
    params: { epochs: 3 },
  }),
  createDatasetVersion: () => ({
    version: 'v2',
    uri: 's3://datasets/images/v2/',
    digest: DIGEST,
    size: 2048,
    description: 'more images',
  }),
  createDeployment: () => ({
    serviceRef: 'inferenceservice:default/svc2',
    cluster: 'local',
    namespace: BAD_NS,
    name: 'svc2',
    modelRef: 'model:default/clf',
    traffic: [{ version: 1, percent: 100 }],
    desired: { replicas: 1 },
    message: 'first rollout',
  }),
  updateDeployment: () => ({
    modelRef: 'model:default/clf',
    traffic: [{ version: 1, percent: 100 }],
    desired: { replicas: 2 },
    message: 'scale up',
  }),
  createNotebook: () => ({
    cluster: 'local',
    namespace: BAD_NS,
    name: 'explore',
    image: 'kubeflownotebookswg/jupyter-scipy:v1.9.0',
    resources,
    env,
    workspace: {
      size: '1Gi',
      storageClassName: 'standard',
      mountPath: '/home/jovyan',
    },
    datasets,
    modelRef: 'model:default/clf',
    entityRef: 'component:default/explorer',
    serviceAccountName: 'default-editor',
    priorityClassName: 'low',
    nodeSelector: { 'kubernetes.io/os': 'linux' },
  }),
  createJob: () => job('train'),
  createJobs: () => ({ items: [job('train-a')] }),
  createDataset: () => ({
    cluster: 'local',
    namespace: BAD_NS,
    name: 'images',
    source: {
      type: 'oss',
      bucket: 'shoe-data',
      path: 'images/v3',
      endpoint: 'oss-cn-hangzhou.aliyuncs.com',
      credentials: {
        secretName: 'oss-creds',
        accessKeyIdKey: 'id',
        secretAccessKeyKey: 'secret',
      },
    },
    cache: {
      runtime: 'alluxio',
      replicas: 1,
      medium: 'MEM',
      quota: '2Gi',
      path: '/dev/shm',
    },
    catalogEntity: {
      name: 'images-sweep',
      namespace: 'default',
      title: 'Images',
      description: 'shoe images',
      owner: 'group:default/cv',
      lifecycle: 'experimental',
      system: 'system:default/shoes',
      tags: ['images'],
    },
    version: 'v3',
    description: 'cached images',
  }),
  deployInferenceService: () => ({
    cluster: 'local',
    namespace: BAD_NS,
    name: 'isvc',
    model: 'model:default/clf',
    modelVersion: 1,
    resources,
    env: [{ name: 'MODE', value: 'serve' }],
    minReplicas: 1,
    maxReplicas: 2,
    runtime: 'kserve-sklearnserver',
    protocolVersion: 'v2',
    serviceAccountName: 'default',
    serviceRef: 'inferenceservice:default/isvc',
    message: 'first',
  }),
  promoteInferenceService: () => ({ message: 'looks good' }),
  rollbackInferenceService: () => ({ toVersion: 1, message: 'worse' }),
  createPipeline: () => ({
    cluster: 'local',
    namespace: BAD_NS,
    name: 'retrain',
    entityRef: 'component:default/retrain',
    modelRef: 'model:default/clf',
    parameters: [{ name: 'lr', value: '0.01' }],
    schedule: '0 3 * * *',
    timeZone: 'Europe/Berlin',
    concurrencyPolicy: 'Forbid',
    serviceAccountName: 'argo-workflow',
    activeDeadlineSeconds: 3600,
    images: { kubectl: 'bitnami/kubectl:1.20', python: 'python:3.11-slim' },
    steps: [
      {
        name: 'prep',
        type: 'container',
        image: 'python:3.11-slim',
        command: ['python', '-c', 'print(1)'],
        args: ['{{workflow.parameters.lr}}'],
        env: [{ name: 'MODE', value: 'prep' }],
        resources: { cpu: '1', memory: '1Gi' },
        outputs: [{ name: 'accuracy', path: '/tmp/accuracy' }],
      },
      {
        name: 'register',
        type: 'registerModelVersion',
        dependsOn: ['prep'],
        when: '{{tasks.prep.outputs.parameters.accuracy}} >= 0.9',
        artifact: { uri: 's3://models/clf/new/model.onnx', format: 'onnx' },
        framework: 'pytorch',
        aliases: ['candidate'],
        metricsFrom: { step: 'prep', parameter: 'accuracy' },
      },
    ],
  }),
  applyPools: () => ({
    cluster: 'local',
    flavors: [{ name: 'bad-elastic', nodeLabels: { pool: 'elastic' } }],
    priorityClasses: [
      { name: 'bad-production', value: 1000, description: 'x' },
    ],
    teams: [
      {
        name: 'bad-team',
        cohort: 'shared',
        namespaces: [BAD_NS],
        localQueue: 'bad-queue',
        quotas: [
          {
            flavor: 'bad-elastic',
            nominal: { cpu: '1', memory: '1Gi', gpu: 0 },
            borrowingLimit: { cpu: '1' },
            lendingLimit: { cpu: '1' },
          },
        ],
      },
    ],
  }),
};

/** Valid path parameters of each operation with path parameters. */
export const PATHS: Record<string, () => Record<string, string>> = {};
const registry =
  (name: string, extra: Record<string, string> = {}) =>
  () => ({
    namespace: 'default',
    name,
    ...extra,
  });
const object = (name: string) => () => ({
  cluster: 'local',
  namespace: BAD_NS,
  name,
});
Object.assign(PATHS, {
  createModelVersion: registry('clf'),
  listModelVersions: registry('clf'),
  getModelVersion: registry('clf', { version: '1' }),
  updateModelVersion: registry('clf', { version: '1' }),
  getModelVersionByAlias: registry('clf', { alias: 'production' }),
  listModelDeployments: registry('clf'),
  getRun: () => ({ id: seed.runId }),
  updateRun: () => ({ id: seed.runId }),
  getRunLogs: () => ({ id: seed.runId }),
  createDatasetVersion: registry('images'),
  listDatasetVersions: registry('images'),
  getDatasetVersion: registry('images', { version: 'v1' }),
  getDeployment: registry('svc'),
  updateDeployment: registry('svc'),
  listDeploymentRevisions: registry('svc'),
  listClusterNamespaces: () => ({ cluster: 'local' }),
  listPools: () => ({ cluster: 'local' }),
  promoteInferenceService: object('isvc'),
  rollbackInferenceService: object('isvc'),
  getNotebookStatus: object('explore'),
  deleteNotebook: object('explore'),
  getJobStatus: object('train'),
  deleteJob: object('train'),
  getDatasetStatus: object('images'),
  deleteDataset: object('images'),
  getInferenceServiceStatus: object('isvc'),
  deleteInferenceService: object('isvc'),
  getPipelineStatus: object('retrain'),
  deletePipeline: object('retrain'),
});

export const urlOf = (op: Operation, params: Record<string, string>) =>
  API +
  op.path.replace(/\{([^}]+)\}/g, (_m, name) => {
    if (!(name in params)) throw new Error(`${op.id}: no sample for ${name}`);
    return params[name];
  });

// ------------------------------------------------------------------ the bad values
