/*
 * The rows of the tenancy matrix (../tenancy.test.ts): every mutating operation of the KubeAI API
 * and every kubeai:* scaffolder action, each with what it writes — the namespace, the catalog
 * entity (model, dataset or inference service), or neither — what must exist before it (created
 * through the allow-all portal, as the owner would), and the request of one cell.
 *
 * Two teams, each with its namespace (labelled `kubeai.io/owner`) and its entities; a cell points
 * the write at one team's namespace and one team's entities.
 */
/**
 * What a write is decided on under the `ownership` policy; `platform`: the platform's own objects
 * (pools and quotas, `kubeai.pool.update`), platform admins only.
 */
export type Place = 'namespace' | 'entity' | 'platform';

export interface Team {
  /** `cv`, `search`. */
  id: string;
  group: string;
  /** The member who acts for the team. */
  user: string;
  namespace: string;
  /** Entity names in the `default` namespace. */
  model: string;
  dataset: string;
}

/** One write of the matrix: who, where. */
export interface Cell {
  /** `<row key>-<column key>`: unique, a DNS label (object names are built from it). */
  key: string;
  actor: string;
  /** Whose namespace the write goes to. */
  ns: Team;
  /** Whose entities it writes. */
  entity: Team;
  /** The InferenceService entity of the cell (owned by `entity`'s group), for rows that need one. */
  service: string;
}

/** What a row's setup created for one cell (ids the request needs). */
export type Fixture = Record<string, string>;

/** Requests of a row's setup: through the allow-all portal, 2xx or the test fails. */
export type Setup = (
  user: string,
  method: 'post' | 'patch',
  path: string,
  body: unknown,
) => Promise<any>;

interface RowBase {
  /** Short, DNS-safe (object and entity names of its cells are built from it). */
  key: string;
  /** The places the ownership policy decides the write on (empty: every user may). */
  writes: Place[];
  /** The kind of the entity it writes, when `writes` has `entity`. */
  entity?: 'model' | 'dataset' | 'inferenceservice';
  /** Why, when the row is not (or not only) decided on its namespace and entity. */
  note?: string;
  /** Whether each cell needs its own InferenceService entity in the catalog. */
  service?: boolean;
  setup?(cell: Cell, setup: Setup): Promise<Fixture>;
}

/** A route of the spec: method and path come from the served OpenAPI document. */
export interface RouteRow extends RowBase {
  operationId: string;
  request(
    cell: Cell,
    fixture: Fixture,
  ): { params: Record<string, string>; body?: unknown };
}

/** A kubeai:* scaffolder action, run as a task of a one-step template. */
export interface ActionRow extends RowBase {
  action: string;
  /** The step's input fields (the template passes `${{ parameters.<key> }}` for each). */
  keys: string[];
  input(cell: Cell, fixture: Fixture): Record<string, unknown>;
}

export type Row = RouteRow | ActionRow;

export const isActionRow = (row: Row): row is ActionRow => 'action' in row;

// ------------------------------------------------------------------ bodies

const CLUSTER = 'local';
const modelRef = (team: Team) => `model:default/${team.model}`;
const datasetRef = (team: Team) => `dataset:default/${team.dataset}`;
const serviceRef = (cell: Cell) => `inferenceservice:default/${cell.service}`;
const at = (cell: Cell, name: string) => ({
  cluster: CLUSTER,
  namespace: cell.ns.namespace,
  name,
});

const notebook = (cell: Cell, name: string) => ({
  ...at(cell, name),
  image: 'jupyter/base-notebook:latest',
});
const job = (cell: Cell, name: string) => ({
  ...at(cell, name),
  kind: 'Job',
  image: 'ghcr.io/acme/trainer:1.2',
  command: ['python', '-m', 'train'],
});
const dataset = (cell: Cell, name: string) => ({
  ...at(cell, name),
  source: { type: 'pvc', size: '1Gi' },
  datasetRef: datasetRef(cell.entity),
});
const deploy = (cell: Cell, modelVersion: number, canary?: number) => ({
  ...at(cell, cell.service),
  model: modelRef(cell.entity),
  modelVersion,
  serviceRef: serviceRef(cell),
  ...(canary !== undefined ? { canaryTrafficPercent: canary } : {}),
});
/** A pipeline that registers versions of the entity team's model when it runs. */
const pipeline = (cell: Cell, name: string) => ({
  ...at(cell, name),
  modelRef: modelRef(cell.entity),
  steps: [
    {
      name: 'train',
      type: 'container',
      image: 'python:3.11-slim',
      command: ['python', '-c', 'print(1)'],
    },
  ],
});
const deployment = (cell: Cell) => ({
  serviceRef: serviceRef(cell),
  ...at(cell, cell.service),
  modelRef: modelRef(cell.entity),
  traffic: [{ version: 1, percent: 100 }],
});
/** Pools and quotas of a cell: a ClusterQueue `tenancy-<key>` and its LocalQueue in the cell's namespace. */
export const POOLS_PREFIX = 'tenancy-';
const pools = (cell: Cell) => ({
  cluster: 'local',
  teams: [
    {
      name: `${POOLS_PREFIX}${cell.key}`.slice(0, 63).replace(/-+$/, ''),
      namespaces: [cell.ns.namespace],
      quotas: [{ flavor: 'tenancy-pool', nominal: { cpu: '1' } }],
    },
  ],
});

const objectParams = (cell: Cell, name: string) => ({
  cluster: CLUSTER,
  namespace: cell.ns.namespace,
  name,
});

/** The live service of a cell: v1 deployed, v2 as a 10 % canary (promote / rollback). */
async function canaryService(cell: Cell, setup: Setup): Promise<Fixture> {
  await setup(cell.entity.user, 'post', '/inference-services', deploy(cell, 1));
  await setup(
    cell.entity.user,
    'post',
    '/inference-services',
    deploy(cell, 2, 10),
  );
  return {};
}

const RUN_NOTE =
  "a run record: decided on the namespace it names (kubeai.run.* are cluster-namespace permissions; a PATCH on the stored run's); the model it names is only linked, not written";

// ------------------------------------------------------------------ routes

export const ROUTE_ROWS: RouteRow[] = [
  {
    operationId: 'createModelVersion',
    key: 'mvc',
    entity: 'model',
    writes: ['entity'],
    request: cell => ({
      params: { namespace: 'default', name: cell.entity.model },
      body: {
        artifact: { uri: `s3://models/${cell.key}/model.onnx`, format: 'onnx' },
      },
    }),
  },
  {
    operationId: 'updateModelVersion',
    key: 'mvu',
    entity: 'model',
    writes: ['entity'],
    request: cell => ({
      params: { namespace: 'default', name: cell.entity.model, version: '1' },
      body: { description: `changed in ${cell.key}` },
    }),
  },
  {
    operationId: 'createRun',
    key: 'runc',
    writes: ['namespace'],
    note: RUN_NOTE,
    request: cell => ({
      params: {},
      body: {
        kind: 'training',
        ...at(cell, `run-${cell.key}`),
        modelRef: modelRef(cell.entity),
      },
    }),
  },
  {
    operationId: 'updateRun',
    key: 'runu',
    writes: ['namespace'],
    note: RUN_NOTE,
    async setup(cell, setup) {
      const run = await setup(cell.ns.user, 'post', '/runs', {
        kind: 'training',
        ...at(cell, `run-${cell.key}`),
        modelRef: modelRef(cell.entity),
      });
      return { id: run.id };
    },
    request: (cell, fixture) => ({
      params: { id: fixture.id },
      body: { phase: 'Running', message: `changed in ${cell.key}` },
    }),
  },
  {
    operationId: 'createDatasetVersion',
    key: 'dsvc',
    entity: 'dataset',
    writes: ['entity'],
    request: cell => ({
      params: { namespace: 'default', name: cell.entity.dataset },
      body: { version: cell.key, uri: `s3://datasets/${cell.key}/` },
    }),
  },
  {
    operationId: 'createDeployment',
    key: 'depc',
    entity: 'inferenceservice',
    writes: ['entity'],
    service: true,
    note: 'a registry record: decided on the InferenceService entity; the namespace it names is not written',
    request: cell => ({ params: {}, body: deployment(cell) }),
  },
  {
    operationId: 'updateDeployment',
    key: 'depu',
    entity: 'inferenceservice',
    writes: ['entity'],
    service: true,
    note: 'a registry record: decided on the InferenceService entity',
    async setup(cell, setup) {
      await setup(cell.entity.user, 'post', '/deployments', deployment(cell));
      return {};
    },
    request: cell => ({
      params: { namespace: 'default', name: cell.service },
      body: {
        traffic: [{ version: 2, percent: 100 }],
        message: `changed in ${cell.key}`,
      },
    }),
  },
  {
    operationId: 'createNotebook',
    key: 'nbc',
    writes: ['namespace'],
    request: cell => ({ params: {}, body: notebook(cell, `nb-${cell.key}`) }),
  },
  {
    operationId: 'createJob',
    key: 'jobc',
    writes: ['namespace'],
    request: cell => ({ params: {}, body: job(cell, `job-${cell.key}`) }),
  },
  {
    operationId: 'createJobs',
    key: 'jobb',
    writes: ['namespace'],
    request: cell => ({
      params: {},
      body: {
        items: [job(cell, `jb1-${cell.key}`), job(cell, `jb2-${cell.key}`)],
      },
    }),
  },
  {
    operationId: 'createDataset',
    key: 'dsc',
    entity: 'dataset',
    writes: ['namespace', 'entity'],
    request: cell => ({ params: {}, body: dataset(cell, `ds-${cell.key}`) }),
  },
  {
    operationId: 'deployInferenceService',
    key: 'isd',
    entity: 'inferenceservice',
    writes: ['namespace', 'entity'],
    service: true,
    request: cell => ({ params: {}, body: deploy(cell, 1) }),
  },
  {
    operationId: 'promoteInferenceService',
    key: 'isp',
    entity: 'inferenceservice',
    writes: ['namespace', 'entity'],
    service: true,
    setup: canaryService,
    request: cell => ({ params: objectParams(cell, cell.service), body: {} }),
  },
  {
    operationId: 'rollbackInferenceService',
    key: 'isr',
    entity: 'inferenceservice',
    writes: ['namespace', 'entity'],
    service: true,
    setup: canaryService,
    request: cell => ({ params: objectParams(cell, cell.service), body: {} }),
  },
  {
    operationId: 'applyPools',
    key: 'pool',
    writes: ['platform'],
    note: 'the platform: kubeai.pool.update, platform admins only',
    request: cell => ({ params: {}, body: pools(cell) }),
  },
  {
    operationId: 'createPipeline',
    key: 'plc',
    entity: 'model',
    writes: ['namespace', 'entity'],
    note: 'the entity: the model its runs register versions of (kubeai.model.version.create)',
    request: cell => ({ params: {}, body: pipeline(cell, `pl-${cell.key}`) }),
  },
  {
    operationId: 'deleteNotebook',
    key: 'nbd',
    writes: ['namespace'],
    async setup(cell, setup) {
      await setup(
        cell.ns.user,
        'post',
        '/notebooks',
        notebook(cell, `nb-${cell.key}`),
      );
      return {};
    },
    request: cell => ({ params: objectParams(cell, `nb-${cell.key}`) }),
  },
  {
    operationId: 'deleteJob',
    key: 'jobd',
    writes: ['namespace'],
    async setup(cell, setup) {
      await setup(cell.ns.user, 'post', '/jobs', job(cell, `job-${cell.key}`));
      return {};
    },
    request: cell => ({ params: objectParams(cell, `job-${cell.key}`) }),
  },
  {
    operationId: 'deleteDataset',
    key: 'dsd',
    writes: ['namespace'],
    note: 'the dataset versions stay in the registry: only the namespace is written',
    async setup(cell, setup) {
      await setup(
        cell.entity.user,
        'post',
        '/datasets',
        dataset(cell, `ds-${cell.key}`),
      );
      return {};
    },
    request: cell => ({ params: objectParams(cell, `ds-${cell.key}`) }),
  },
  {
    operationId: 'deleteInferenceService',
    key: 'isdel',
    entity: 'inferenceservice',
    writes: ['namespace', 'entity'],
    service: true,
    note: 'ends the service its InferenceService entity describes: kubeai.deployment.update on that entity too (the deployment history stays in the registry)',
    async setup(cell, setup) {
      await setup(
        cell.entity.user,
        'post',
        '/inference-services',
        deploy(cell, 1),
      );
      return {};
    },
    request: cell => ({ params: objectParams(cell, cell.service) }),
  },
  {
    operationId: 'deletePipeline',
    key: 'pld',
    writes: ['namespace'],
    async setup(cell, setup) {
      await setup(
        cell.ns.user,
        'post',
        '/pipelines',
        pipeline(cell, `pl-${cell.key}`),
      );
      return {};
    },
    request: cell => ({ params: objectParams(cell, `pl-${cell.key}`) }),
  },
];

// ------------------------------------------------------------------ scaffolder actions

export const ACTION_ROWS: ActionRow[] = [
  {
    action: 'kubeai:notebook:create',
    key: 'anb',
    writes: ['namespace'],
    keys: ['cluster', 'namespace', 'name', 'image'],
    input: cell => notebook(cell, `anb-${cell.key}`),
  },
  {
    action: 'kubeai:job:create',
    key: 'ajob',
    writes: ['namespace'],
    keys: ['cluster', 'namespace', 'name', 'kind', 'image', 'command'],
    input: cell => job(cell, `ajob-${cell.key}`),
  },
  {
    action: 'kubeai:dataset:create',
    key: 'ads',
    entity: 'dataset',
    writes: ['namespace', 'entity'],
    keys: ['cluster', 'namespace', 'name', 'source', 'datasetRef'],
    input: cell => dataset(cell, `ads-${cell.key}`),
  },
  {
    action: 'kubeai:model:register',
    key: 'amr',
    entity: 'model',
    writes: ['entity'],
    keys: ['model', 'artifact'],
    input: cell => ({
      model: modelRef(cell.entity),
      artifact: { uri: `s3://models/${cell.key}/model.onnx`, format: 'onnx' },
    }),
  },
  {
    action: 'kubeai:inference-service:deploy',
    key: 'aisd',
    entity: 'inferenceservice',
    writes: ['namespace', 'entity'],
    service: true,
    keys: [
      'cluster',
      'namespace',
      'name',
      'model',
      'modelVersion',
      'serviceRef',
    ],
    input: cell => deploy(cell, 1),
  },
  {
    action: 'kubeai:inference-service:promote',
    key: 'aisp',
    entity: 'inferenceservice',
    writes: ['namespace', 'entity'],
    service: true,
    setup: canaryService,
    keys: ['cluster', 'namespace', 'name'],
    input: cell => objectParams(cell, cell.service),
  },
  {
    action: 'kubeai:inference-service:rollback',
    key: 'aisr',
    entity: 'inferenceservice',
    writes: ['namespace', 'entity'],
    service: true,
    setup: canaryService,
    keys: ['cluster', 'namespace', 'name'],
    input: cell => objectParams(cell, cell.service),
  },
  {
    action: 'kubeai:pipeline:create',
    key: 'apl',
    entity: 'model',
    writes: ['namespace', 'entity'],
    keys: ['cluster', 'namespace', 'name', 'modelRef', 'steps'],
    input: cell => pipeline(cell, `apl-${cell.key}`),
  },
  {
    action: 'kubeai:pools:apply',
    key: 'apool',
    writes: ['platform'],
    note: 'the platform: kubeai.pool.update, platform admins only',
    keys: ['cluster', 'teams'],
    input: cell => pools(cell),
  },
];

export const ROWS: Row[] = [...ROUTE_ROWS, ...ACTION_ROWS];

export function rowLabel(row: Row, spec?: SpecOperation): string {
  if (isActionRow(row)) return row.action;
  return spec ? `${spec.method.toUpperCase()} ${spec.path}` : row.operationId;
}

/** The template that runs one action as its only step (`tenancy-<action>`). */
export const templateName = (row: ActionRow) =>
  `tenancy-${row.action.replace(/:/g, '-')}`;

// ------------------------------------------------------------------ the spec

/** A mutating operation of the served OpenAPI document. */
export interface SpecOperation {
  operationId: string;
  method: 'post' | 'put' | 'patch' | 'delete';
  path: string;
}

/**
 * The mutating operations of an OpenAPI document (`GET /api/kubeai/openapi.json`), with paths
 * relative to the plugin (the served document prefixes them with `/api/kubeai`).
 */
export function mutatingOperations(doc: any): SpecOperation[] {
  return Object.entries(doc.paths as Record<string, any>).flatMap(
    ([path, item]) =>
      (['post', 'put', 'patch', 'delete'] as const)
        .filter(method => item[method])
        .map(method => ({
          operationId: item[method].operationId as string,
          method,
          path: path.replace(/^\/api\/kubeai(?=\/)/, ''),
        })),
  );
}

/** The URL of an operation (under /api/kubeai) with its path parameters. */
export function urlOf(
  op: SpecOperation,
  params: Record<string, string>,
): string {
  return `/api/kubeai${op.path.replace(/\{([^}]+)\}/g, (_m, name) => {
    if (!(name in params)) {
      throw new Error(`${op.operationId}: no value for path parameter ${name}`);
    }
    return encodeURIComponent(params[name]);
  })}`;
}
