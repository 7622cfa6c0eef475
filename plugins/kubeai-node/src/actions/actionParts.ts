/**
 * What the `kubeai:*` action definitions share (see actions.ts): the definition type, the fields
 * built from the spec, the write output, and the helpers that turn an action input into a request
 * body and an API answer into an action output.
 */
import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  ResponseError,
} from '@backstage/errors';
import type { z as zod } from 'zod/v3';
import {
  TRAINING_WORKLOAD_KINDS,
  WORKLOADS,
  type ClusterObjectRef,
  type ClusterWriteResult,
  type DatasetMount,
  type KubeaiApi,
} from '@kubeai/plugin-kubeai-common';
import {
  specComponent,
  specDescription,
  specFields,
  specSchema,
  type KubeaiSchemaName,
  type SpecZodOptions,
} from './specZod';

export type Z = typeof zod;
export type JsonValue =
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
export const datasetMountOrRef: SpecZodOptions['refs'] = {
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
export const fieldDescriptions: Record<string, string> = {
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
export function bodyFields<K extends string>(
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
export const target = (
  z: Z,
  body: KubeaiSchemaName = 'CreateNotebookRequest',
) => bodyFields(z, body, ['cluster', 'namespace', 'name']);

export const dryRun = (z: Z) =>
  specSchema(z, 'DryRun')
    .optional()
    .describe(
      `${specDescription(specComponent('DryRun'))} Template dry runs set it.`,
    );

export const catalogEntityDescription = (kind: string) =>
  `Register a ${kind} entity in the catalog for it (published by the kubeai entity provider).`;

export const writeOutput = (z: Z) =>
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
export function orList(items: readonly string[]): string {
  return items.length > 1
    ? `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`
    : items.join('');
}

/** The replica types of the training kinds, e.g. `TFJob: Chief / PS / Worker / Evaluator; PyTorchJob, XGBoostJob: Master / Worker.` */
export function replicaTypesText(): string {
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

export function datasetMounts(
  list: Array<string | DatasetMount> | undefined,
): DatasetMount[] | undefined {
  if (!list || list.length === 0) return undefined;
  return list.map(d => (typeof d === 'string' ? { datasetRef: d } : d));
}

/** The request body of an action input: empty values pruned, `dryRun` from the host. */
export function bodyOf(
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

export function writeOutputOf(
  result: ClusterWriteResult,
): Record<string, JsonValue> {
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

export function parseRef(
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
