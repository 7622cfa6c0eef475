/**
 * The `kubeai:*` actions, defined once and used twice:
 *
 * - as scaffolder template actions (`@kubeai/plugin-scaffolder-backend-module-kubeai`, ids
 *   `kubeai:notebook:create`, …), calling the KubeAI API with the token of the user running the
 *   template;
 * - in the actions registry of the kubeai backend plugin (ids `kubeai:create-notebook`, …;
 *   MCP tools `kubeai.create-notebook`, …), calling the API on behalf of the caller.
 *
 * Each definition has zod input / output schemas (as functions of the `z` the host passes, the
 * zod v3 API), examples, and `run`, which maps the input to one KubeAI API call. Validation of the
 * content (names, quantities, cron, references, permissions) is the API's: the schemas here
 * describe the fields for forms and tools, and the API answers a 4xx naming the field. The fields
 * an action shares with its request body are built from the spec's component schemas
 * (`schemas.generated.ts`, via `specZod.ts`); actions.test.ts fails when one drifts from the spec.
 *
 * @packageDocumentation
 */
import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  ResponseError,
} from '@backstage/errors';
import type { z as zod } from 'zod/v3';
import { TRAINING_WORKLOAD_KINDS, WORKLOADS } from '../workloads';
import type { KubeaiApi } from './KubeaiApi';
import type { KubeaiSchemaName } from './schemas.generated';
import {
  specComponent,
  specDescription,
  specFields,
  specSchema,
  type SpecZodOptions,
} from './specZod';
import type {
  ClusterObjectRef,
  ClusterWriteResult,
  DatasetMount,
} from './types.generated';

type Z = typeof zod;
type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** How an action calls the API. */
export interface KubeaiActionRunOptions {
  /** A token for the KubeAI backend, on behalf of the user (sent as a Bearer token). */
  token?: string;
  /** Validate only (server-side dry run); nothing is written. */
  dryRun?: boolean;
}

/** One `kubeai:*` action. */
export interface KubeaiActionDefinition {
  /** Scaffolder action id, e.g. `kubeai:notebook:create`. */
  id: string;
  /** Name in the actions registry of the kubeai plugin (id `kubeai:<name>`), e.g. `create-notebook`. */
  name: string;
  title: string;
  description: string;
  /** Inputs of an example, with a short description. */
  examples: Array<{ title: string; input: Record<string, JsonValue> }>;
  /** Whether the action only reads (the registry's `readOnly` attribute). */
  readOnly?: boolean;
  input: (z: Z) => zod.AnyZodObject;
  output: (z: Z) => zod.AnyZodObject;
  /** Calls the KubeAI API; returns the action's outputs. */
  run(
    client: KubeaiApi,
    input: Record<string, any>,
    options: KubeaiActionRunOptions,
  ): Promise<Record<string, JsonValue>>;
}

// ---------------------------------------------------------------- schema parts
// The fields an action shares with its request body are built from the spec (specZod.ts): types,
// enums and descriptions are the API's; the content checks (patterns, ranges) are left to the API.

/** Where a datasets list may name a Dataset entity by its ref alone (the DatasetPicker field). */
const datasetMountOrRef: SpecZodOptions['refs'] = {
  DatasetMount: z =>
    z
      .union([
        specSchema(z, 'DatasetRef').describe(
          `A Dataset entity ref (the DatasetPicker field). ${specDescription(
            specComponent('DatasetRef'),
          )}`,
        ),
        specSchema(z, 'DatasetMount').describe(
          `A dataset with mount options. ${specDescription(
            specComponent('DatasetMount'),
          )}`,
        ),
      ])
      .describe('A Dataset entity ref, or a dataset with mount options.'),
};

/** Descriptions of the shared fields the spec leaves undescribed, or where a form hint helps. */
const fieldDescriptions: Record<string, string> = {
  cluster:
    'Cluster to create the object in, as `GET /api/kubeai/clusters` lists it (the ClusterPicker field).',
  namespace: 'Kubernetes namespace (the NamespacePicker field).',
  datasets:
    'Registered datasets to mount read-only (and record as the run inputs); null or empty for none.',
  env: 'Environment variables.',
  description: 'A description.',
  message: 'Why, recorded with the revision.',
  tags: 'Tags.',
  timeZone: 'IANA time zone of the schedule.',
};

/**
 * Fields `keys` of the request body `body`, from the spec (datasets may be plain entity refs).
 * `descriptions` replace the spec's.
 */
function bodyFields<K extends string>(
  z: Z,
  body: KubeaiSchemaName,
  keys: readonly K[],
  descriptions: Record<string, string> = {},
) {
  return specFields(z, body, keys, {
    refs: datasetMountOrRef,
    descriptions: { ...fieldDescriptions, ...descriptions },
  });
}

/** cluster / namespace / name of the object (the path parameters of promote and rollback). */
const target = (z: Z, body: KubeaiSchemaName = 'CreateNotebookRequest') =>
  bodyFields(z, body, ['cluster', 'namespace', 'name']);

const dryRun = (z: Z) =>
  specSchema(z, 'DryRun')
    .optional()
    .describe(
      `${specDescription(specComponent('DryRun'))} Template dry runs set it.`,
    );

const catalogEntityDescription = (kind: string) =>
  `Register a ${kind} entity in the catalog for it (published by the kubeai entity provider).`;

const writeOutput = (z: Z) =>
  z.object({
    objectRef: z
      .string()
      .describe(
        'The object, `<kind>:<cluster>/<namespace>/<name>` (e.g. "notebook:local/team-a/explore").',
      ),
    object: z
      .object({
        cluster: z.string(),
        apiVersion: z.string(),
        kind: z.string(),
        namespace: z.string().optional(),
        name: z.string(),
        uid: z.string().optional(),
      })
      .describe('The object as the cluster knows it.'),
    url: z
      .string()
      .describe(
        'Portal link (the entity page, or the KubeAI page), for `output.links`.',
      ),
    entityRef: z
      .string()
      .optional()
      .describe('The catalog entity the object belongs to.'),
    runId: z
      .string()
      .optional()
      .describe(
        'The run recorded in the registry (notebooks, jobs, pipelines).',
      ),
    deploymentRevision: z
      .number()
      .optional()
      .describe('The deployment revision recorded (inference services).'),
    datasetVersion: z
      .string()
      .optional()
      .describe('The dataset version recorded (datasets).'),
    manifests: z
      .array(z.record(z.string(), z.unknown()))
      .describe(
        'The Kubernetes manifests (with dryRun: as the dry run answered).',
      ),
    message: z.string().describe('What was done, in one line.'),
    dryRun: z.boolean().describe('True when nothing was written.'),
  });

// ---------------------------------------------------------------- helpers

/** `a, b or c`. */
function orList(items: readonly string[]): string {
  return items.length > 1
    ? `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`
    : items.join('');
}

/** The replica types of the training kinds, e.g. `TFJob: Chief / PS / Worker / Evaluator; PyTorchJob, XGBoostJob: Master / Worker.` */
function replicaTypesText(): string {
  const byTypes = new Map<string, string[]>();
  for (const kind of TRAINING_WORKLOAD_KINDS) {
    const replicas = WORKLOADS[kind].replicas;
    if (!replicas) continue;
    const types = replicas.types.join(' / ');
    byTypes.set(types, [...(byTypes.get(types) ?? []), kind]);
  }
  return `${[...byTypes]
    .map(([types, kinds]) => `${kinds.join(', ')}: ${types}`)
    .join('; ')}.`;
}

/**
 * An API refusal as an error whose message is the API's own (`request/body/name must match
 * pattern …`), of the matching @backstage/errors class (so the actions registry answers the same
 * status).
 */
export function apiError(error: unknown): unknown {
  if (!(error instanceof ResponseError)) return error;
  const status = error.response.status;
  const message = `KubeAI API ${status}: ${
    error.body?.error?.message ?? error.message
  }`;
  switch (status) {
    case 400:
    case 413:
    case 422:
      return new InputError(message);
    case 401:
    case 403:
      return new NotAllowedError(message);
    case 404:
      return new NotFoundError(message);
    case 409:
      return new ConflictError(message);
    default:
      return new Error(message);
  }
}

/** Drops empty strings, nulls and undefined (unset template parameters) recursively. */
export function pruneEmpty<T>(value: T): T {
  if (Array.isArray(value)) {
    return value
      .map(pruneEmpty)
      .filter(v => v !== undefined && v !== null && v !== '') as T;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      const pruned = pruneEmpty(v);
      if (pruned === undefined || pruned === null || pruned === '') continue;
      if (
        typeof pruned === 'object' &&
        !Array.isArray(pruned) &&
        Object.keys(pruned as object).length === 0
      ) {
        continue;
      }
      out[key] = pruned;
    }
    return out as T;
  }
  return value;
}

function datasetMounts(
  list: Array<string | DatasetMount> | undefined,
): DatasetMount[] | undefined {
  if (!list || list.length === 0) return undefined;
  return list.map(d => (typeof d === 'string' ? { datasetRef: d } : d));
}

/** The request body of an action input: empty values pruned, `dryRun` from the host. */
function bodyOf(
  input: Record<string, any>,
  options: KubeaiActionRunOptions,
): Record<string, any> {
  const body = pruneEmpty({ ...input });
  if (options.dryRun || input.dryRun) {
    body.dryRun = true;
  } else {
    delete body.dryRun;
  }
  return body;
}

export function objectRefString(object: ClusterObjectRef): string {
  return `${object.kind.toLocaleLowerCase('en-US')}:${object.cluster}/${
    object.namespace ? `${object.namespace}/` : ''
  }${object.name}`;
}

function writeOutputOf(result: ClusterWriteResult): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {
    objectRef: objectRefString(result.object),
    object: result.object as unknown as JsonValue,
    url: result.url,
    manifests: result.manifests as unknown as JsonValue,
    message: result.message,
    dryRun: result.dryRun,
  };
  if (result.entityRef) out.entityRef = result.entityRef;
  if (result.run) out.runId = result.run.id;
  if (result.deployment) out.deploymentRevision = result.deployment.revision;
  if (result.datasetVersion) out.datasetVersion = result.datasetVersion.version;
  return out;
}

function parseRef(
  ref: string,
  kind: string,
): { namespace: string; name: string } {
  const m = /^(?:([^:/]+):)?(?:([^/]+)\/)?([^/]+)$/.exec(ref.trim());
  if (!m || (m[1] && m[1].toLocaleLowerCase('en-US') !== kind)) {
    throw new Error(
      `"${ref}" is not a ${kind} reference such as "${kind}:default/name"`,
    );
  }
  return { namespace: m[2] ?? 'default', name: m[3] };
}

// ---------------------------------------------------------------- the actions

const notebookCreate: KubeaiActionDefinition = {
  id: 'kubeai:notebook:create',
  name: 'create-notebook',
  title: 'Create a notebook',
  description:
    'Creates (or updates) a Kubeflow Notebook with CPU, memory and GPUs, a workspace volume and registered datasets mounted read-only, through the KubeAI API (`POST /api/kubeai/notebooks`), and records its run. Running it again changes nothing.',
  examples: [
    {
      title: 'A GPU notebook on the shoe images',
      input: {
        cluster: 'local',
        namespace: 'team-a',
        name: 'shoe-brand-explore',
        image: 'kubeflownotebookswg/jupyter-pytorch-cuda-full:v1.9.0',
        resources: { cpu: '2', memory: '8Gi', gpu: 1 },
        workspaceSize: '20Gi',
        datasets: ['dataset:default/shoe-images'],
        modelRef: 'model:default/shoe-brand-classifier',
      },
    },
  ],
  input: z =>
    z.object({
      ...bodyFields(z, 'CreateNotebookRequest', [
        'cluster',
        'namespace',
        'name',
        'image',
        'resources',
      ]),
      // action-only: the spec's `workspace: { size, existingClaim }`, flat for template forms
      workspaceSize: specSchema(z, 'MemoryQuantity')
        .optional()
        .describe('Size of a new workspace volume, e.g. "20Gi".'),
      workspaceClaim: specSchema(z, 'DnsSubdomain')
        .optional()
        .describe('An existing PVC to use as the workspace instead.'),
      ...bodyFields(
        z,
        'CreateNotebookRequest',
        ['datasets', 'modelRef', 'entityRef', 'env', 'serviceAccountName'],
        { serviceAccountName: 'ServiceAccount of the notebook pod.' },
      ),
      dryRun: dryRun(z),
    }),
  output: writeOutput,
  async run(client, input, options) {
    const {
      workspaceSize,
      workspaceClaim,
      datasets: ds,
      ...rest
    } = bodyOf(input, options);
    const result = await client.createNotebook(
      {
        ...(rest as any),
        datasets: datasetMounts(ds),
        workspace:
          workspaceSize || workspaceClaim
            ? pruneEmpty({ size: workspaceSize, existingClaim: workspaceClaim })
            : undefined,
      },
      { token: options.token },
    );
    return writeOutputOf(result);
  },
};

const jobCreate: KubeaiActionDefinition = {
  id: 'kubeai:job:create',
  name: 'create-training-job',
  title: 'Create a training task',
  description: `Creates (or updates) a training task — ${orList(
    TRAINING_WORKLOAD_KINDS.map(kind =>
      kind === 'CronJob' ? 'CronJob (periodic, `schedule`)' : kind,
    ),
  )} — with resources, GPUs, registered datasets, Kueue queue and Volcano gang scheduling, through the KubeAI API (\`POST /api/kubeai/jobs\`), and records its run. Running it again changes nothing.`,
  examples: [
    {
      title: 'A daily Prophet forecast (CronJob) in the team queue',
      input: {
        cluster: 'local',
        namespace: 'team-a',
        name: 'sales-forecast-store-17',
        kind: 'CronJob',
        schedule: '0 6 * * *',
        image: 'ghcr.io/acme/prophet-forecast:1.2',
        command: ['python', '-m', 'forecast'],
        args: ['--series', 'store-17'],
        resources: { cpu: '500m', memory: '1Gi' },
        queue: { name: 'team-a-queue' },
        modelRef: 'model:default/sales-forecast',
      },
    },
    {
      title: 'A distributed PyTorchJob with 2 GPU workers',
      input: {
        cluster: 'local',
        namespace: 'team-a',
        name: 'train-shoe-brand',
        kind: 'PyTorchJob',
        image: 'ghcr.io/acme/shoe-trainer:1.4',
        command: ['torchrun', 'train.py'],
        replicas: { Worker: 2 },
        resources: { cpu: '4', memory: '16Gi', gpu: 1 },
        datasets: ['dataset:default/shoe-images'],
      },
    },
  ],
  input: z =>
    z.object({
      ...bodyFields(
        z,
        'CreateJobRequest',
        [
          'cluster',
          'namespace',
          'name',
          'kind',
          'image',
          'command',
          'args',
          'resources',
          'datasets',
          'schedule',
          'timeZone',
          'replicas',
          'queue',
          'gang',
          'env',
          'modelRef',
          'entityRef',
          'params',
        ],
        {
          kind: 'The workload kind.',
          schedule: 'CronJob: cron schedule, e.g. "0 6 * * *".',
          timeZone: 'CronJob: IANA time zone.',
          replicas: `Replicas per type: ${replicaTypesText()}`,
        },
      ),
      // action-only: the other fields of the request body, passed through
      options: z
        .record(z.string(), z.unknown())
        .optional()
        .describe(
          'Further fields of `POST /api/kubeai/jobs` (backoffLimit, parallelism, nprocPerNode, runtimeRef, …).',
        ),
      dryRun: dryRun(z),
    }),
  output: writeOutput,
  async run(client, input, options) {
    const { options: more, datasets: ds, ...rest } = bodyOf(input, options);
    const result = await client.createJob(
      { ...(more ?? {}), ...(rest as any), datasets: datasetMounts(ds) },
      { token: options.token },
    );
    return writeOutputOf(result);
  },
};

const datasetCreate: KubeaiActionDefinition = {
  id: 'kubeai:dataset:create',
  name: 'create-dataset',
  title: 'Create a dataset',
  description:
    'Creates a dataset in a cluster — a PVC, or a Fluid Dataset with an Alluxio / JuiceFS cache over OSS, S3, NAS or a PVC (a table is only registered) — through the KubeAI API (`POST /api/kubeai/datasets`), records its version and, with `catalogEntity`, registers the Dataset entity in the catalog.',
  examples: [
    {
      title:
        'Shoe images on OSS behind an Alluxio cache, registered in the catalog',
      input: {
        cluster: 'local',
        namespace: 'team-a',
        name: 'shoe-images',
        source: {
          type: 'oss',
          bucket: 'shoe-data',
          path: 'images/v3',
          endpoint: 'oss-cn-hangzhou.aliyuncs.com',
          credentials: { secretName: 'oss-creds' },
        },
        cache: { runtime: 'alluxio', quota: '20Gi' },
        catalogEntity: { owner: 'group:default/cv-team' },
      },
    },
  ],
  input: z =>
    z.object({
      ...bodyFields(
        z,
        'CreateDatasetRequest',
        [
          'cluster',
          'namespace',
          'name',
          'source',
          'cache',
          'datasetRef',
          'catalogEntity',
          'version',
          'description',
        ],
        {
          datasetRef: 'An existing Dataset entity to record the version under.',
          catalogEntity: catalogEntityDescription('Dataset'),
          version: 'Version name (default: the next v<n>).',
        },
      ),
      dryRun: dryRun(z),
    }),
  output: writeOutput,
  async run(client, input, options) {
    const result = await client.createDataset(bodyOf(input, options) as any, {
      token: options.token,
    });
    return writeOutputOf(result);
  },
};

const modelRegister: KubeaiActionDefinition = {
  id: 'kubeai:model:register',
  name: 'register-model-version',
  title: 'Register a model version',
  description:
    'Registers the next version of a Model in the KubeAI registry (`POST /api/kubeai/models/{namespace}/{name}/versions`): artifact, framework, metrics, parameters, tags and aliases. With dryRun it only checks that the model exists.',
  examples: [
    {
      title: 'Register an ONNX artifact as the canary',
      input: {
        model: 'model:default/shoe-brand-classifier',
        artifact: {
          uri: 's3://models/shoe-brand/8/model.onnx',
          format: 'onnx',
        },
        framework: 'pytorch',
        metrics: { auc: 0.95 },
        aliases: ['canary'],
      },
    },
  ],
  input: z =>
    z.object({
      // action-only: the path parameters of the request, as one entity ref
      model: specSchema(z, 'ModelRef').describe(
        `The Model entity. ${specDescription(specComponent('ModelRef'))}`,
      ),
      ...bodyFields(
        z,
        'CreateModelVersionRequest',
        [
          'artifact',
          'framework',
          'description',
          'metrics',
          'params',
          'tags',
          'aliases',
          'runId',
        ],
        { aliases: 'Aliases moved to the new version (e.g. "canary").' },
      ),
      dryRun: dryRun(z),
    }),
  output: z =>
    z.object({
      modelRef: z.string(),
      version: z
        .number()
        .optional()
        .describe('The assigned version number (absent on dry runs).'),
      objectRef: z.string().describe('`model:<namespace>/<name>@<version>`.'),
      url: z.string().describe('The model versions page.'),
      message: z.string(),
      dryRun: z.boolean(),
    }),
  async run(client, input, options): Promise<Record<string, JsonValue>> {
    const { model, dryRun: _d, ...request } = bodyOf(input, options);
    const entity = parseRef(String(input.model), 'model');
    const modelRef =
      `model:${entity.namespace}/${entity.name}`.toLocaleLowerCase('en-US');
    const url = `/catalog/${entity.namespace}/model/${entity.name}/versions`;
    if (options.dryRun || input.dryRun) {
      const list = await client.listModelVersions(
        entity,
        { limit: 1 },
        {
          token: options.token,
        },
      );
      const next = (list.items[0]?.version ?? 0) + 1;
      return {
        modelRef,
        objectRef: `${modelRef}@${next}`,
        url,
        message: `Would register version ${next} of ${modelRef} (${input.artifact.uri})`,
        dryRun: true,
      };
    }
    const created = await client.createModelVersion(entity, request as any, {
      token: options.token,
    });
    return {
      modelRef: created.modelRef,
      version: created.version,
      objectRef: `${created.modelRef}@${created.version}`,
      url,
      message: `Registered version ${created.version} of ${created.modelRef}`,
      dryRun: false,
    };
  },
};

const inferenceServiceDeploy: KubeaiActionDefinition = {
  id: 'kubeai:inference-service:deploy',
  name: 'deploy-inference-service',
  title: 'Deploy a model version',
  description:
    'Deploys a registered model version (number or alias) as a KServe InferenceService: a new service, a full rollout, or a canary with `canaryTrafficPercent`, through the KubeAI API (`POST /api/kubeai/inference-services`). storageUri and model format come from the registry. Records the deployment revision and, with `catalogEntity`, registers the InferenceService entity.',
  examples: [
    {
      title: 'Deploy version 7 with autoscaling, registering the entity',
      input: {
        cluster: 'local',
        namespace: 'team-a',
        name: 'shoe-brand',
        model: 'model:default/shoe-brand-classifier',
        modelVersion: 7,
        resources: { cpu: '1', memory: '2Gi' },
        minReplicas: 1,
        maxReplicas: 4,
        catalogEntity: { owner: 'group:default/cv-team' },
      },
    },
    {
      title: 'Canary the version aliased "candidate" at 10 %',
      input: {
        cluster: 'local',
        namespace: 'team-a',
        name: 'shoe-brand',
        model: 'model:default/shoe-brand-classifier',
        modelVersion: 'candidate',
        canaryTrafficPercent: 10,
      },
    },
  ],
  input: z =>
    z.object({
      ...bodyFields(
        z,
        'DeployInferenceServiceRequest',
        [
          'cluster',
          'namespace',
          'name',
          'model',
          'modelVersion',
          'canaryTrafficPercent',
          'resources',
          'minReplicas',
          'maxReplicas',
          'runtime',
          'protocolVersion',
          'serviceRef',
          'catalogEntity',
          'message',
        ],
        {
          modelVersion: `${specDescription(
            specComponent('ModelVersionSelector'),
          )} (the ModelVersionPicker field)`,
          minReplicas: 'Fewest predictor replicas (0 scales to zero).',
          maxReplicas: 'Most predictor replicas.',
          runtime: 'A specific (Cluster)ServingRuntime.',
          protocolVersion: 'Inference protocol.',
          serviceRef: `The InferenceService entity (default inferenceservice:default/<name>). ${specDescription(
            specComponent('ServiceRef'),
          )}`,
          catalogEntity: catalogEntityDescription('InferenceService'),
        },
      ),
      dryRun: dryRun(z),
    }),
  output: writeOutput,
  async run(client, input, options) {
    const body = bodyOf(input, options);
    if (
      typeof body.modelVersion === 'string' &&
      /^[0-9]+$/.test(body.modelVersion)
    ) {
      body.modelVersion = Number(body.modelVersion);
    }
    const result = await client.deployInferenceService(body as any, {
      token: options.token,
    });
    return writeOutputOf(result);
  },
};

const rolloutInput = (z: Z) => ({
  ...target(z, 'DeployInferenceServiceRequest'),
  ...bodyFields(z, 'PromoteInferenceServiceRequest', ['message']),
  dryRun: dryRun(z),
});

const inferenceServicePromote: KubeaiActionDefinition = {
  id: 'kubeai:inference-service:promote',
  name: 'promote-inference-service',
  title: 'Promote a canary',
  description:
    'Gives the canary of an InferenceService all the traffic (`POST /api/kubeai/inference-services/{cluster}/{namespace}/{name}/promote`) and records the revision.',
  examples: [
    {
      title: 'Promote the canary of shoe-brand',
      input: { cluster: 'local', namespace: 'team-a', name: 'shoe-brand' },
    },
  ],
  input: z => z.object(rolloutInput(z)),
  output: writeOutput,
  async run(client, input, options) {
    const { cluster, namespace, name, ...rest } = bodyOf(input, options);
    const result = await client.promoteInferenceService(
      { cluster, namespace, name },
      rest,
      { token: options.token },
    );
    return writeOutputOf(result);
  },
};

const inferenceServiceRollback: KubeaiActionDefinition = {
  id: 'kubeai:inference-service:rollback',
  name: 'rollback-inference-service',
  title: 'Roll back an inference service',
  description:
    'Rolls an InferenceService back to its stable version, or to `toVersion` (`POST /api/kubeai/inference-services/{cluster}/{namespace}/{name}/rollback`), with all the traffic, and records the revision.',
  examples: [
    {
      title: 'Roll shoe-brand back to the stable version',
      input: {
        cluster: 'local',
        namespace: 'team-a',
        name: 'shoe-brand',
        message: 'error rate up',
      },
    },
  ],
  input: z =>
    z.object({
      ...rolloutInput(z),
      ...bodyFields(z, 'RollbackInferenceServiceRequest', ['toVersion']),
    }),
  output: writeOutput,
  async run(client, input, options) {
    const { cluster, namespace, name, ...rest } = bodyOf(input, options);
    if (typeof rest.toVersion === 'string' && /^[0-9]+$/.test(rest.toVersion)) {
      rest.toVersion = Number(rest.toVersion);
    }
    const result = await client.rollbackInferenceService(
      { cluster, namespace, name },
      rest,
      { token: options.token },
    );
    return writeOutputOf(result);
  },
};

const pipelineCreate: KubeaiActionDefinition = {
  id: 'kubeai:pipeline:create',
  name: 'create-pipeline',
  title: 'Create a pipeline',
  description:
    'Creates an Argo Workflow (or, with `schedule`, a CronWorkflow) of KubeAI steps — container, training, registerModelVersion, deployCanary, promote — through the KubeAI API (`POST /api/kubeai/pipelines`), and records its run. E.g. retrain → evaluate → register → canary.',
  examples: [
    {
      title: 'Nightly retrain → evaluate → register → 10 % canary',
      input: {
        cluster: 'local',
        namespace: 'team-a',
        name: 'shoe-brand-retrain',
        modelRef: 'model:default/shoe-brand-classifier',
        schedule: '0 2 * * *',
        steps: [
          {
            name: 'retrain',
            type: 'training',
            training: {
              kind: 'PyTorchJob',
              image: 'ghcr.io/acme/shoe-trainer:1.4',
              command: ['python', '-m', 'shoe.train'],
              replicas: { Worker: 2 },
            },
          },
          {
            name: 'evaluate',
            type: 'container',
            dependsOn: ['retrain'],
            image: 'ghcr.io/acme/shoe-trainer:1.4',
            command: ['python', '-m', 'shoe.evaluate'],
            outputs: [{ name: 'accuracy', path: '/tmp/accuracy' }],
          },
        ],
      },
    },
  ],
  input: z =>
    z.object({
      ...bodyFields(
        z,
        'CreatePipelineRequest',
        [
          'cluster',
          'namespace',
          'name',
          'modelRef',
          'entityRef',
          'schedule',
          'timeZone',
          'parameters',
          'serviceAccountName',
          'steps',
        ],
        {
          schedule: 'Cron schedule: a CronWorkflow instead of one Workflow.',
          parameters: 'Workflow parameters ({{workflow.parameters.<name>}}).',
          serviceAccountName: 'ServiceAccount the pods run as.',
          steps: `The steps; see POST /api/kubeai/pipelines. ${specDescription(
            specComponent('PipelineStepInput'),
          )}`,
        },
      ),
      dryRun: dryRun(z),
    }),
  output: writeOutput,
  async run(client, input, options) {
    const body = bodyOf(input, options);
    body.steps = (body.steps ?? []).map((step: Record<string, any>) =>
      step.datasets
        ? { ...step, datasets: datasetMounts(step.datasets) }
        : step,
    );
    const result = await client.createPipeline(body as any, {
      token: options.token,
    });
    return writeOutputOf(result);
  },
};

/** Every `kubeai:*` action (API refusals rethrown with the API's message, see {@link apiError}). */
export const kubeaiActions: KubeaiActionDefinition[] = [
  notebookCreate,
  jobCreate,
  datasetCreate,
  modelRegister,
  inferenceServiceDeploy,
  inferenceServicePromote,
  inferenceServiceRollback,
  pipelineCreate,
].map(definition => ({
  ...definition,
  async run(client, input, options) {
    try {
      return await definition.run(client, input, options);
    } catch (error) {
      throw apiError(error);
    }
  },
}));

/** A template step of an example, as YAML (for the scaffolder's action examples). */
export function exampleStepYaml(
  action: KubeaiActionDefinition,
  input: Record<string, JsonValue>,
): string {
  const step = {
    steps: [
      {
        id: action.id.split(':').slice(1).join('-'),
        name: action.title,
        action: action.id,
        input,
      },
    ],
  };
  return toYaml(step, 0).trimEnd();
}

function scalar(value: JsonValue): string {
  if (typeof value === 'string') {
    return /^[A-Za-z0-9_./@-][A-Za-z0-9 _./@:-]*$/.test(value) &&
      !/^(true|false|null|yes|no|[0-9.]+)$/i.test(value) &&
      !value.endsWith(' ') &&
      !value.includes(': ')
      ? value
      : JSON.stringify(value);
  }
  return JSON.stringify(value);
}

function toYaml(value: JsonValue, indent: number): string {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return `${pad}[]\n`;
    return value
      .map(item => {
        if (item && typeof item === 'object') {
          const inner = toYaml(item, indent + 2);
          return `${pad}- ${inner.slice(indent + 2)}`;
        }
        return `${pad}- ${scalar(item)}\n`;
      })
      .join('');
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return `${pad}{}\n`;
    return entries
      .map(([key, item]) => {
        if (
          item &&
          typeof item === 'object' &&
          (Array.isArray(item) ? item.length : Object.keys(item).length)
        ) {
          return `${pad}${key}:\n${toYaml(item, indent + 2)}`;
        }
        let text = scalar(item);
        if (item && typeof item === 'object') {
          text = Array.isArray(item) ? '[]' : '{}';
        }
        return `${pad}${key}: ${text}\n`;
      })
      .join('');
  }
  return `${pad}${scalar(value)}\n`;
}
