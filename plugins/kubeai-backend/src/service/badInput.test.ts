/*
 * The bad-input sweep: malformed requests GENERATED from src/schema/openapi.yaml at test time.
 *
 * For every operation that takes a request body or path parameters, the sweep walks the body
 * schema (every field, nested objects and the objects of arrays) and sends the operation's valid
 * sample body with one field broken at a time: deleted (when required), null, of the wrong type,
 * 70,000 characters long, 5,000 items long, negative / fractional where a non-negative integer is
 * expected, injection strings (shell, SQL, path traversal, newlines, Argo placeholders, unicode
 * and right-to-left marks) where a name or reference is expected; then whole bodies that are not
 * JSON, a bare string, an array, 5 MB, nested 5,000 deep; then path segments with traversal, 300
 * characters, NUL and the injection strings.
 *
 * Every answer must be a 4xx naming the field or parameter (a clear message for bodies that are
 * not JSON or too large); nothing may change in the registry or in the target namespace of the
 * local cluster. Every mutating operation answers 401 without a token and with a forged one
 * (the backend runs without default credentials). The cluster tokens appear in no answer and no
 * log line of the run.
 *
 * Needs PostgreSQL (`eval "$(bash scripts/postgres.sh start)"`) and the local cluster
 * (`yarn cluster:start`).
 */
import {
  coreServices,
  createServiceFactory,
  RootLoggerService,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { Knex } from 'knex';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { format, inspect } from 'node:util';
import request from 'supertest';
import YAML from 'yaml';
import {
  createTestDatabases,
  POSTGRES_ID,
  postgresSupport,
  snapshotRegistry,
} from '../__testUtils__/databases';
import { kubeaiPlugin } from '../plugin';
import {
  deleteNamespace,
  listCreated,
  localClusterState,
  localKubernetesConfig,
  testGateway,
} from './__testUtils__/clusterRoutes';

// The first import() of @kubernetes/client-node under jest's VM modules takes seconds.
jest.setTimeout(300_000);

const API = '/api/kubeai';
/** Where the cluster operations point: it stays empty. */
const BAD_NS = `kubeai-sweep-${randomBytes(3).toString('hex')}`;
/** Parallel requests per batch. */
const BATCH = 8;

// ------------------------------------------------------------------ the spec

type Schema = Record<string, any>;
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

const doc = YAML.parse(
  readFileSync(resolve(__dirname, '../schema/openapi.yaml'), 'utf8'),
);

/** Follows `$ref`s of `#/components/...`. */
function deref(schema: Schema | undefined): Schema {
  let current = schema ?? {};
  for (let i = 0; current.$ref && i < 20; i++) {
    current = current.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce((node: any, key: string) => node?.[key], doc);
  }
  return current;
}

const typesOf = (schema: Schema): string[] => {
  if (Array.isArray(schema.type)) return schema.type;
  if (schema.type) return [schema.type];
  if (schema.enum) {
    return [...new Set<string>(schema.enum.map((v: unknown) => typeof v))];
  }
  if (schema.properties) return ['object'];
  return [];
};

interface Operation {
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
const swept = operations.filter(o => o.body || o.pathParams.length > 0);
const mutating = operations.filter(o =>
  ['post', 'put', 'patch', 'delete'].includes(o.method),
);

// ------------------------------------------------------------------ samples

/** Registered by the seeding: the run the registry bodies point at. */
const seed = { runId: '' };

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
const BODIES: Record<string, () => any> = {
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
        registry: {
          url: 'http://backstage.backstage:7007/api/kubeai',
          tokenSecret: { name: 'kubeai-token', key: 'token' },
        },
        artifact: { uri: 's3://models/clf/new/model.onnx', format: 'onnx' },
        framework: 'pytorch',
        aliases: ['candidate'],
        metricsFrom: { step: 'prep', parameter: 'accuracy' },
      },
    ],
  }),
};

/** Valid path parameters of each operation with path parameters. */
const PATHS: Record<string, () => Record<string, string>> = {};
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

const urlOf = (op: Operation, params: Record<string, string>) =>
  API +
  op.path.replace(/\{([^}]+)\}/g, (_m, name) => {
    if (!(name in params)) throw new Error(`${op.id}: no sample for ${name}`);
    return params[name];
  });

// ------------------------------------------------------------------ the bad values

const HUGE = 'a'.repeat(70_000);
/** Must be refused wherever a name, reference, quantity or other token is expected. */
const INJECTIONS = [
  '$(rm -rf /)',
  '`rm -rf /`',
  'x; drop table kubeai_runs',
  "' OR 1=1 --",
  '../../etc/passwd',
  'name\nInjected: header',
  '{{workflow.parameters.x}}',
  'evil\u202egpj.exe',
  'nаme', // Cyrillic а
  '名前',
  'a\u0000b',
];
/** Must be refused where a path inside a volume or a container is expected. */
const TRAVERSALS = [
  '../../etc/passwd',
  'a/../../etc',
  '/data/../../etc',
  '..',
  'a\u0000b',
  'a\nb',
  'evil\u202egpj.exe',
];
/** Path segments (already encoded). */
const BAD_SEGMENTS = [
  // each is used where the parameter's schema refuses it
  '..%2F..',
  '..%2F..%2F..%2Fetc%2Fpasswd',
  '%2E%2E',
  'a'.repeat(300),
  '%00',
  'a%00b',
  '%E2%80%AEevil',
  encodeURIComponent('$(rm -rf /)'),
  encodeURIComponent("' OR 1=1 --"),
  encodeURIComponent('x; drop table kubeai_runs'),
  encodeURIComponent('{{workflow.parameters.x}}'),
  'UPPER',
];
const BAD_NUMBERS = ['0', '-1', '1.5', 'abc', '99999999999999999999'];

/** Keys whose strings become names, references, images or other tokens (never free text). */
const NAME_LIKE =
  /(name|Name|Ref|ref|Key|Class|Policy)$|^(cluster|namespace|image|kubectl|python|version|alias|aliases|uid|runtime|inferenceService|step|key|kind|type|owner|system|lifecycle|toVersion|modelVersion|model|schedule|timeZone|parameter|queue|bucket|endpoint|region|server|format|framework|digest|uri|url|storageUri|tags|dependsOn|accessModes|medium|phase|state|protocolVersion|nprocPerNode|restartPolicy|cpu|memory|cpuLimit|memoryLimit|size|quota|shmSize|startedAt|finishedAt|toVersion)$/;
/** Keys whose strings are paths inside a volume or a container. */
const PATH_LIKE = /^(path|subPath|mountPath|workingDir)$/;

interface Case {
  label: string;
  method: Method;
  url: string;
  body?: unknown;
  /** Raw body and content type, instead of JSON. */
  raw?: { type: string; data: string };
  headers?: Record<string, string>;
  /** Substrings the error message must contain (the field / parameter). */
  names: string[];
}

const clone = <T>(value: T): T => structuredClone(value);

function setAt(body: any, path: (string | number)[], value: unknown) {
  const copy = clone(body);
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key];
  node[path[path.length - 1]] = value;
  return copy;
}

function deleteAt(body: any, path: (string | number)[]) {
  const copy = clone(body);
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key];
  delete node[path[path.length - 1]];
  return copy;
}

/** JSON text nested `depth` deep (built as text: JSON.stringify would overflow the stack). */
const deepJson = (depth: number, array = false) =>
  array
    ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
/** Stands for {@link deepJson} in a body until it is sent. */
const DEEP = '__kubeai_sweep_deep_value__';

/** A value of another JSON type than the schema allows. */
function wrongType(schema: Schema): unknown {
  const types = typesOf(schema);
  const candidates: [string[], unknown][] = [
    [['string'], 12345],
    [['integer', 'number'], 'twelve'],
    [['boolean'], 'yes'],
    [['object'], 'not-an-object'],
    [['array'], { not: 'an array' }],
  ];
  const accepts = (value: unknown) => {
    if (value === null) return types.includes('null');
    if (Array.isArray(value)) return types.includes('array');
    if (typeof value === 'number')
      return types.includes('number') || types.includes('integer');
    return types.includes(typeof value);
  };
  for (const [, value] of candidates) {
    if (!accepts(value)) return value;
  }
  for (const value of [true, [], {}, 'x', 1.5]) {
    if (!accepts(value)) return value;
  }
  return undefined;
}

/** A sample item of an array field (the base's first item, else a value of the item type). */
function sampleItem(schema: Schema, base: unknown[] | undefined): unknown {
  if (base && base.length > 0) return base[0];
  const items = deref(schema.items);
  const types = typesOf(items);
  if (items.enum) return items.enum[0];
  if (types.includes('object')) return {};
  if (types.includes('integer') || types.includes('number')) return 1;
  return 'a';
}

/** Every malformed variant of one field of `body` at `path`. */
function fieldCases(
  op: Operation,
  url: string,
  body: any,
  path: (string | number)[],
  rawSchema: Schema,
  required: boolean,
  parentValue: any,
): Case[] {
  const schema = deref(rawSchema);
  const key = String(path[path.length - 1]);
  const field = path.join('/');
  const stringKeys = path.filter(p => typeof p === 'string') as string[];
  const names = stringKeys.length > 1 ? [stringKeys[0], key] : [key];
  const types = typesOf(schema);
  const current = parentValue?.[path[path.length - 1]];
  const out: Case[] = [];
  const add = (what: string, value: unknown) =>
    out.push({
      label: `${op.id} ${field}: ${what}`,
      method: op.method,
      url,
      body: setAt(body, path, value),
      names,
    });

  if (required) {
    out.push({
      label: `${op.id} ${field}: deleted`,
      method: op.method,
      url,
      body: deleteAt(body, path),
      names,
    });
  }
  add('null', null);
  const wrong = wrongType(schema);
  if (wrong !== undefined) add(`wrong type ${JSON.stringify(wrong)}`, wrong);

  if (types.includes('string')) {
    add('70,000 characters', HUGE);
    const pipelineText =
      op.id === 'createPipeline' && path[0] === 'steps' && !schema.enum;
    if (PATH_LIKE.test(key)) {
      for (const traversal of TRAVERSALS) {
        add(`traversal ${JSON.stringify(traversal)}`, traversal);
      }
    } else if (NAME_LIKE.test(key) || schema.pattern || schema.enum) {
      for (const injection of INJECTIONS) {
        add(`injection ${JSON.stringify(injection)}`, injection);
      }
    } else if (pipelineText) {
      add('undeclared Argo placeholder', '{{workflow.parameters.x}}');
      add('unknown Argo placeholder', '{{inputs.parameters.secret}}');
    }
  }
  if (types.includes('integer') || types.includes('number')) {
    const minimum = schema.minimum ?? schema.exclusiveMinimum;
    if (minimum !== undefined && minimum >= 0) add('negative', -1);
    if (types.includes('integer')) add('fractional', 1.5);
    if (schema.maximum !== undefined) add('above the maximum', 1e20);
  }
  if (types.includes('array')) {
    const item = sampleItem(schema, Array.isArray(current) ? current : []);
    add(
      '5,000 items',
      Array.from({ length: 5000 }, () => clone(item)),
    );
    const items = deref(schema.items);
    const itemTypes = typesOf(items);
    if (itemTypes.includes('string')) {
      add('an item of 70,000 characters', [HUGE]);
      add('a null item', [null]);
      if (NAME_LIKE.test(key) || items.pattern || items.enum) {
        for (const injection of INJECTIONS) {
          add(`an item ${JSON.stringify(injection)}`, [injection]);
        }
      } else if (op.id === 'createPipeline' && path[0] === 'steps') {
        add('an undeclared Argo placeholder item', [
          '{{workflow.parameters.x}}',
        ]);
      }
    } else if (itemTypes.includes('object')) {
      add('a null item', [null]);
      add('a string item', ['item']);
    }
  }
  if (types.includes('object') && !schema.properties) {
    // maps and free-form objects
    add(
      '5,000 properties',
      Object.fromEntries(
        Array.from({ length: 5000 }, (_, i) => [`k${i}`, 'v']),
      ),
    );
    add('a key "$(rm -rf /)"', { '$(rm -rf /)': 'v' });
    add('a key of 70,000 characters', { [HUGE]: 'v' });
    add('a value nested 5,000 deep', { deep: DEEP });
    add('a value of 70,000 characters', { big: HUGE });
  }
  return out;
}

/** Walks the body schema along the sample body: every field, nested objects and array items. */
function bodyCases(
  op: Operation,
  url: string,
  body: any,
  rawSchema: Schema,
  path: (string | number)[] = [],
  value: any = body,
): Case[] {
  const schema = deref(rawSchema);
  if (!schema.properties) return [];
  const out: Case[] = [];
  for (const [key, propSchema] of Object.entries<Schema>(schema.properties)) {
    const required = (schema.required ?? []).includes(key);
    out.push(
      ...fieldCases(op, url, body, [...path, key], propSchema, required, value),
    );
    const inner = value?.[key];
    const prop = deref(propSchema);
    if (inner && typeof inner === 'object' && !Array.isArray(inner)) {
      out.push(...bodyCases(op, url, body, prop, [...path, key], inner));
    } else if (
      Array.isArray(inner) &&
      inner[0] &&
      typeof inner[0] === 'object'
    ) {
      out.push(
        ...bodyCases(
          op,
          url,
          body,
          deref(prop.items),
          [...path, key, 0],
          inner[0],
        ),
      );
    }
  }
  return out;
}

/** Whole bodies that are no valid request at all. */
function wholeBodyCases(op: Operation, url: string, body: any): Case[] {
  const json = 'application/json';
  const clear = ['request/body'];
  return [
    {
      label: `${op.id}: not JSON`,
      method: op.method,
      url,
      raw: { type: json, data: '{"name": "x",' },
      names: clear,
    },
    {
      label: `${op.id}: text/plain`,
      method: op.method,
      url,
      raw: { type: 'text/plain', data: 'rm -rf /' },
      names: clear,
    },
    {
      label: `${op.id}: a bare string`,
      method: op.method,
      url,
      raw: { type: json, data: '"hello"' },
      names: clear,
    },
    {
      label: `${op.id}: null`,
      method: op.method,
      url,
      raw: { type: json, data: 'null' },
      names: clear,
    },
    {
      label: `${op.id}: an array`,
      method: op.method,
      url,
      raw: { type: json, data: JSON.stringify([body]) },
      names: clear,
    },
    {
      label: `${op.id}: 5 MB`,
      method: op.method,
      url,
      raw: {
        type: json,
        data: JSON.stringify({ ...body, padding: 'x'.repeat(5 * 1024 * 1024) }),
      },
      names: ['request/body is larger than the limit'],
    },
    {
      label: `${op.id}: an object nested 5,000 deep`,
      method: op.method,
      url,
      raw: { type: json, data: deepJson(5000) },
      names: clear,
    },
    {
      label: `${op.id}: an array nested 5,000 deep`,
      method: op.method,
      url,
      raw: { type: json, data: deepJson(5000, true) },
      names: clear,
    },
    {
      label: `${op.id}: an unknown field`,
      method: op.method,
      url,
      body: { ...body, 'evil$(rm -rf /)': true },
      names: ['evil$(rm -rf /)'],
    },
  ];
}

/** Whether a path parameter's schema accepts a (encoded) segment. */
function acceptsSegment(schema: Schema, segment: string): boolean {
  const value = decodeURIComponent(segment);
  if (typesOf(schema).includes('integer')) {
    const n = Number(value);
    return (
      /^-?[0-9]+$/.test(value) &&
      n >= (schema.minimum ?? -Infinity) &&
      n <= (schema.maximum ?? Infinity)
    );
  }
  return (
    value.length >= (schema.minLength ?? 0) &&
    value.length <= (schema.maxLength ?? Infinity) &&
    (!schema.pattern || new RegExp(schema.pattern, 'u').test(value))
  );
}

/** Every path parameter replaced by bad segments. */
function pathCases(op: Operation, params: Record<string, string>, body: any) {
  const out: Case[] = [];
  for (const { name, schema } of op.pathParams) {
    const numeric = typesOf(schema).includes('integer');
    for (const segment of [...BAD_SEGMENTS, ...(numeric ? BAD_NUMBERS : [])]) {
      if (acceptsSegment(schema, segment)) continue;
      out.push({
        label: `${op.id} path ${name}=${segment.slice(0, 40)}`,
        method: op.method,
        url: urlOf(op, { ...params, [name]: segment }),
        body,
        names: [name],
      });
    }
  }
  return out;
}

// ------------------------------------------------------------------ the backend

/** Every log line of the backend (and every console line) of the run. */
const logLines: string[] = [];
/** Every answer of the run. */
const answers: string[] = [];

function collectingLogger(fields: object = {}): RootLoggerService {
  const write = (level: string) => (message: string, meta?: Error | object) => {
    logLines.push(
      `${level} ${JSON.stringify(fields)} ${message}${
        meta === undefined ? '' : ` ${inspect(meta, { depth: 20 })}`
      }`,
    );
  };
  return {
    error: write('error'),
    warn: write('warn'),
    info: write('info'),
    debug: write('debug'),
    child: (meta: object) => collectingLogger({ ...fields, ...meta }),
  };
}

const entity = (kind: string, name: string): Entity => ({
  apiVersion: 'kubeai.io/v1alpha1',
  kind,
  metadata: { name, namespace: 'default' },
  spec: {},
});

const entities: Entity[] = [
  entity('Model', 'clf'),
  entity('Dataset', 'images'),
  entity('InferenceService', 'svc'),
  entity('InferenceService', 'svc2'),
  entity('InferenceService', 'isvc'),
  entity('Component', 'trainer'),
  entity('Component', 'explorer'),
  entity('Component', 'retrain'),
  entity('Group', 'cv'),
  entity('System', 'shoes'),
];

const databases = createTestDatabases();
const gateway = testGateway();
const state = localClusterState();
const secrets = [
  state.adminToken,
  state.restrictedToken,
  process.env.KUBEAI_CLUSTER_TOKEN,
].filter((s): s is string => typeof s === 'string' && s.length >= 8);

let server: Awaited<ReturnType<typeof startTestBackend>>['server'];
let stopBackend = async () => {};
let knex: Knex;
const USER = mockCredentials.user.header();

const consoleSpies = (['log', 'info', 'warn', 'error', 'debug'] as const).map(
  level =>
    jest.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      logLines.push(`console.${level} ${format(...args)}`);
    }),
);

beforeAll(async () => {
  await gateway.apply('local', [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: BAD_NS } },
  ]);
  knex = await databases.init(POSTGRES_ID);
  const backend = await startTestBackend({
    features: [
      kubeaiPlugin,
      mockServices.database.factory({ knex }),
      catalogServiceMock.factory({ entities }),
      // tokens are checked: no default credentials, invalid tokens refused
      mockServices.httpAuth.factory({
        defaultCredentials: mockCredentials.none(),
      }),
      createServiceFactory({
        service: coreServices.rootLogger,
        deps: {},
        factory: () => collectingLogger(),
      }),
      mockServices.rootConfig.factory({
        data: {
          backend: { baseUrl: 'http://localhost:7007' },
          kubeai: {
            registry: { maxBodySize: '1mb' },
            informers: { enabled: false },
          },
          kubernetes: localKubernetesConfig(),
        },
      }),
    ],
  });
  server = backend.server;
  stopBackend = () => backend.stop();

  // the registry the samples point at
  const post = (path: string, body: object) =>
    request(server).post(`${API}${path}`).set('Authorization', USER).send(body);
  const expectCreated = (res: request.Response) => {
    if (res.status !== 201) {
      throw new Error(`seeding failed: ${res.status} ${res.text}`);
    }
    return res.body;
  };
  expectCreated(
    await post('/datasets/default/images/versions', {
      version: 'v1',
      uri: 's3://datasets/images/v1/',
    }),
  );
  seed.runId = expectCreated(
    await post('/runs', {
      kind: 'training',
      cluster: 'local',
      namespace: BAD_NS,
      name: 'train-clf-1',
      modelRef: 'model:default/clf',
      inputs: [{ datasetRef: 'dataset:default/images', version: 'v1' }],
    }),
  ).id;
  expectCreated(
    await post('/models/default/clf/versions', {
      artifact: { uri: 's3://models/clf/1/model.onnx', format: 'onnx' },
      aliases: ['production'],
      runId: seed.runId,
    }),
  );
  expectCreated(
    await post('/deployments', {
      serviceRef: 'inferenceservice:default/svc',
      cluster: 'local',
      namespace: BAD_NS,
      name: 'svc',
      modelRef: 'model:default/clf',
      traffic: [{ version: 1, percent: 100 }],
    }),
  );
});

afterAll(async () => {
  await stopBackend();
  await deleteNamespace(gateway, BAD_NS);
  consoleSpies.forEach(spy => spy.mockRestore());
});

let sent = 0;

async function send(c: Case): Promise<request.Response> {
  let req = request(server)[c.method](c.url);
  const headers = c.headers ?? { Authorization: USER };
  for (const [name, value] of Object.entries(headers))
    req = req.set(name, value);
  let res: request.Response;
  const text = c.body === undefined ? '' : JSON.stringify(c.body);
  if (c.raw) {
    res = await req.set('Content-Type', c.raw.type).send(c.raw.data);
  } else if (text.includes(DEEP)) {
    res = await req
      .set('Content-Type', 'application/json')
      .send(text.replace(`"${DEEP}"`, deepJson(5000)));
  } else if (c.body !== undefined) {
    res = await req.send(c.body as object);
  } else {
    res = await req;
  }
  sent += 1;
  answers.push(res.text ?? '');
  return res;
}

/** Sends the cases in batches; returns a line per case answered wrongly. */
async function sweep(cases: Case[]): Promise<string[]> {
  const failures: string[] = [];
  for (let i = 0; i < cases.length; i += BATCH) {
    const batch = cases.slice(i, i + BATCH);
    const responses = await Promise.all(batch.map(send));
    responses.forEach((res, j) => {
      const c = batch[j];
      const message: string = res.body?.error?.message ?? '';
      // a body over the size limit is refused before it is read: a clear message is enough
      const names =
        res.status === 413
          ? ['request/body is larger than the limit']
          : c.names;
      let problem: string | undefined;
      if (res.status < 400 || res.status >= 500) {
        problem = `answered ${res.status}`;
      } else if (!names.every(n => message.includes(n))) {
        problem = `answered ${res.status} without naming ${names.join(' + ')}`;
      }
      if (problem) {
        failures.push(
          `${c.label}: ${problem}: ${(message || res.text || '').slice(
            0,
            300,
          )}`,
        );
      }
    });
  }
  return failures;
}

// ------------------------------------------------------------------ the tests

it('runs against PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

it('has samples for every operation with a body or path parameters', () => {
  const missing = swept.flatMap(op => [
    ...(op.body && !BODIES[op.id] ? [`${op.id}: body`] : []),
    ...(op.pathParams.length && !PATHS[op.id] ? [`${op.id}: path`] : []),
  ]);
  expect(missing).toEqual([]);
  expect(swept.length).toBeGreaterThanOrEqual(20);
});

it('accepts every sample body (dry run where the operation has one)', async () => {
  const failures: string[] = [];
  for (const op of swept.filter(o => o.body)) {
    const schema = deref(op.body);
    // operations without dryRun: their sample is sent after their sweep
    if (!schema.properties?.dryRun) continue;
    const params = PATHS[op.id]?.() ?? {};
    const res = await send({
      label: op.id,
      method: op.method,
      url: urlOf(op, params),
      body: { ...BODIES[op.id](), dryRun: true },
      names: [],
    });
    // promote / rollback of a service that does not exist: 404 naming it
    if (
      res.status >= 300 &&
      !(res.status === 404 && /promote|rollback/.test(op.id))
    ) {
      failures.push(`${op.id}: ${res.status} ${res.text.slice(0, 400)}`);
    }
  }
  expect(failures).toEqual([]);
});

describe.each(swept.map(op => [`${op.method.toUpperCase()} ${op.path}`, op]))(
  '%s',
  (_name, op: Operation) => {
    it('refuses every malformed body and path, naming the field, and writes nothing', async () => {
      const params = PATHS[op.id]?.() ?? {};
      const url = urlOf(op, params);
      const body = op.body ? BODIES[op.id]() : undefined;
      const cases = [
        ...(op.body ? bodyCases(op, url, body, op.body) : []),
        ...(op.body ? wholeBodyCases(op, url, body) : []),
        ...pathCases(op, params, body),
      ];
      const registryBefore = await snapshotRegistry(knex);
      const clusterBefore = await listCreated(gateway, BAD_NS);
      const failures = await sweep(cases);
      expect(failures).toEqual([]);
      expect(await snapshotRegistry(knex)).toEqual(registryBefore);
      expect(
        (await listCreated(gateway, BAD_NS)).map(
          o => `${o.kind} ${o.metadata.name}`,
        ),
      ).toEqual(clusterBefore.map(o => `${o.kind} ${o.metadata.name}`));
      // the sample itself is accepted (so each case above broke one thing only); with dryRun
      // it was checked before the sweep
      let sample = 'accepted';
      if (op.body && !deref(op.body).properties?.dryRun) {
        const res = await send({
          label: op.id,
          method: op.method,
          url,
          body,
          names: [],
        });
        sample = res.status < 300 ? 'accepted' : `${res.status} ${res.text}`;
      }
      expect(sample).toBe('accepted');
    });
  },
);

describe.each(
  mutating.map(op => [`${op.method.toUpperCase()} ${op.path}`, op]),
)('%s', (_name, op: Operation) => {
  it('answers 401 without a token and with a forged one, and writes nothing', async () => {
    const url = urlOf(op, PATHS[op.id]?.() ?? {});
    const body = op.body ? BODIES[op.id]() : undefined;
    const [header, payload] = [
      { alg: 'ES256', kid: 'forged', typ: 'vnd.backstage.user' },
      { sub: 'user:default/admin', ent: ['user:default/admin'] },
    ].map(part => Buffer.from(JSON.stringify(part)).toString('base64url'));
    const forgedJwt = `${header}.${payload}.${Buffer.from(
      'not-a-signature',
    ).toString('base64url')}`;
    const tokens: Record<string, Record<string, string>> = {
      'no token': {},
      'an empty bearer': { Authorization: 'Bearer ' },
      'a JWT with a forged signature': {
        Authorization: `Bearer ${forgedJwt}`,
      },
      'an invalid user token': {
        Authorization: mockCredentials.user.invalidHeader(),
      },
      'an invalid service token': {
        Authorization: mockCredentials.service.invalidHeader(),
      },
      'a Basic header': {
        Authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}`,
      },
    };
    const registryBefore = await snapshotRegistry(knex);
    const clusterBefore = await listCreated(gateway, BAD_NS);
    const statuses: Record<string, number> = {};
    for (const [what, headers] of Object.entries(tokens)) {
      const res = await send({
        label: `${op.id} ${what}`,
        method: op.method,
        url,
        body,
        headers,
        names: [],
      });
      statuses[what] = res.status;
    }
    expect(statuses).toEqual(
      Object.fromEntries(Object.keys(tokens).map(k => [k, 401])),
    );
    expect(await snapshotRegistry(knex)).toEqual(registryBefore);
    expect((await listCreated(gateway, BAD_NS)).length).toBe(
      clusterBefore.length,
    );
  });
});

it('sent at least 300 malformed requests', () => {
  expect(sent).toBeGreaterThanOrEqual(300);
});

it('never shows a cluster token in an answer or a log line', async () => {
  // a few requests that reach the apiserver, refused by it (RBAC of local-restricted)
  for (const c of [
    {
      method: 'post' as const,
      url: `${API}/notebooks`,
      body: {
        ...BODIES.createNotebook(),
        cluster: 'local-restricted',
        dryRun: true,
      },
    },
    {
      method: 'get' as const,
      url: `${API}/clusters/local-restricted/namespaces/${BAD_NS}/notebooks/explore`,
    },
    { method: 'get' as const, url: `${API}/clusters/local/namespaces` },
  ]) {
    await send({ label: c.url, names: [], ...c });
  }
  expect(secrets.length).toBeGreaterThan(0);
  expect(answers.length).toBe(sent);
  expect(logLines.length).toBeGreaterThan(0);

  for (const secret of secrets) {
    expect(answers.filter(a => a.includes(secret))).toEqual([]);
    expect(logLines.filter(l => l.includes(secret))).toEqual([]);
  }
});
