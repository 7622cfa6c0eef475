/**
 * What an audit event says about a request: a one-line summary and where it happened (cluster,
 * namespace, catalog entities, runs, model version), from the operation's path parameters, body
 * and answer, and what its handler added ({@link AuditDetails}).
 *
 * The body of a refused request may be anything (that is why it was refused), so the fields are
 * read as `unknown` and kept only when they have the expected type; names are shortened, and
 * clusters, namespaces, refs and run ids not of their spec's shape are left out of the event.
 */
import type {
  ApplyPoolsRequest,
  ClusterBatchWriteResult,
  ClusterDeleteResult,
  ClusterWriteResult,
  CreateDatasetRequest,
  CreateDatasetVersionRequest,
  CreateDeploymentRequest,
  CreateJobRequest,
  CreateJobsRequest,
  CreateModelVersionRequest,
  CreateNotebookRequest,
  CreatePipelineRequest,
  CreateRunRequest,
  DeployInferenceServiceRequest,
  Deployment,
  ModelVersion,
  RollbackInferenceServiceRequest,
  Run,
  UpdateDeploymentRequest,
  UpdateModelVersionRequest,
  UpdateRunRequest,
} from '@kubeai/plugin-kubeai-common';
import { normalizeRef } from '../../refs';

/** What a handler knows that the request and its answer do not say (see `noteAudit`). */
export interface AuditDetails {
  entityRefs?: Array<string | undefined>;
  runIds?: Array<string | undefined>;
  /** The model of the version below (added to the entities). */
  modelRef?: string;
  /** The model version the request resolved (a deploy by alias, a promote). */
  modelVersion?: number | string;
}

/** One request, as the audit sees it. */
export interface AuditFacts {
  operationId: string;
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
  /** The JSON answer of a request that succeeded. */
  response: unknown;
  details: AuditDetails;
}

/** The summary and the place of an event. */
export interface AuditDescription {
  summary: string;
  dryRun: boolean;
  cluster?: string;
  namespace?: string;
  entityRefs: string[];
  runIds: string[];
  modelVersion?: number;
}

/** What one operation says: the verb (asked, done) and its object. */
interface Told {
  verb: [string, string];
  what: string;
  /** The object when it succeeded, if it says more (a batch: how many were created). */
  whatDone?: string;
  cluster?: unknown;
  namespace?: unknown;
  entityRefs?: unknown[];
  runIds?: unknown[];
  modelVersion?: unknown;
}

/** The fields of a request or answer type, each of unknown value (see the module comment). */
type Part<T> = { readonly [K in keyof T]?: unknown };

// ------------------------------------------------------------------ reading unknown values

const MAX_TEXT = 80;

/** A string field, shortened for a summary line. */
function text(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return undefined;
  // control characters (newlines of an injection attempt) would break the one line
  const flat = [...value.slice(0, MAX_TEXT + 1)]
    .map(c => (c < ' ' || (c >= '\u007f' && c <= '\u009f') ? ' ' : c))
    .join('');
  return flat.length > MAX_TEXT ? `${flat.slice(0, MAX_TEXT)}…` : flat;
}

function int(value: unknown): number | undefined {
  return typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= 0 &&
    value <= 2147483647
    ? value
    : undefined;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function object<T>(value: unknown): Part<T> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Part<T>)
    : {};
}

const REF =
  /^[a-z0-9]([-_.a-z0-9]*[a-z0-9])?:[a-z0-9]([-_.a-z0-9]*[a-z0-9])?\/[a-z0-9]([-_.a-z0-9]*[a-z0-9])?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CLUSTER = /^[a-zA-Z0-9]([-_.a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function refOf(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 255) return undefined;
  const ref = normalizeRef(value);
  return REF.test(ref) ? ref : undefined;
}

/** `model:default/shoe-brand` → `shoe-brand`; another namespace stays: `team-a/shoe-brand`. */
function short(ref: unknown): string | undefined {
  const known = refOf(ref);
  if (!known) return text(ref);
  const [namespace, name] = known.slice(known.indexOf(':') + 1).split('/');
  return namespace === 'default' ? name : `${namespace}/${name}`;
}

/** A version number (`v7`) or an alias (`'candidate'`). */
function versionText(value: unknown): string | undefined {
  const n = int(value);
  if (n !== undefined) return `v${n}`;
  if (typeof value === 'string' && /^[0-9]+$/.test(value)) return `v${value}`;
  const alias = text(value);
  return alias ? `'${alias}'` : undefined;
}

function traffic(value: unknown): string | undefined {
  const parts = list(value).flatMap(t => {
    const { version, percent } = object<{ version: number; percent: number }>(
      t,
    );
    return int(version) !== undefined && int(percent) !== undefined
      ? [`v${version} ${percent} %`]
      : [];
  });
  return parts.length ? parts.join(', ') : undefined;
}

const plural = (n: number, one: string, many = `${one}s`) =>
  `${n} ${n === 1 ? one : many}`;

// ------------------------------------------------------------------ the operations

const modelOfPath = (p: Record<string, string>) =>
  `model:${p.namespace}/${p.name}`;

const DELETED_KINDS: Record<string, string> = {
  deleteNotebook: 'notebook',
  deleteJob: 'training task',
  deleteDataset: 'dataset',
  deleteInferenceService: 'inference service',
  deletePipeline: 'pipeline',
};

function deleted(kind: string) {
  return (f: AuditFacts): Told => {
    const r = object<ClusterDeleteResult>(f.response);
    const deployment = object<Deployment>(r.deployment);
    return {
      verb: ['delete', 'deleted'],
      what: `${kind} ${text(f.params.name)}`,
      cluster: f.params.cluster,
      namespace: f.params.namespace,
      entityRefs: [r.removedEntityRef, deployment.serviceRef],
      runIds: [object<Run>(r.run).id],
    };
  };
}

/** A create route of the cluster: where the body says, what its answer registered. */
function created(f: AuditFacts, what: string, refs: unknown[] = []): Told {
  const b = object<CreateJobRequest>(f.body);
  const r = object<ClusterWriteResult>(f.response);
  return {
    verb: ['create', 'created'],
    what,
    cluster: b.cluster,
    namespace: b.namespace,
    entityRefs: [b.entityRef, b.modelRef, r.entityRef, ...refs],
    runIds: [object<Run>(r.run).id],
  };
}

const OPERATIONS: Record<string, (f: AuditFacts) => Told> = {
  createModelVersion: f => {
    const b = object<CreateModelVersionRequest>(f.body);
    const r = object<ModelVersion>(f.response);
    const model = modelOfPath(f.params);
    const version = int(r.version);
    return {
      verb: ['register', 'registered'],
      what:
        version !== undefined
          ? `${short(model)} v${version}`
          : `a version of ${short(model)}`,
      entityRefs: [model],
      runIds: [b.runId, r.runId],
      modelVersion: version,
    };
  },

  updateModelVersion: f => {
    const b = object<UpdateModelVersionRequest>(f.body);
    const model = modelOfPath(f.params);
    const changes = [
      text(b.state) && `state ${text(b.state)}`,
      Array.isArray(b.aliases) &&
        `aliases ${b.aliases.map(text).filter(Boolean).join(', ') || 'none'}`,
      Array.isArray(b.tags) && 'tags',
      b.description !== undefined && 'description',
    ].filter(Boolean);
    return {
      verb: ['update', 'updated'],
      what: `${short(model)} v${text(f.params.version)}${
        changes.length ? ` (${changes.join(', ')})` : ''
      }`,
      entityRefs: [model],
      modelVersion: Number(f.params.version),
    };
  },

  createRun: f => {
    const b = object<CreateRunRequest>(f.body);
    const r = object<Run>(f.response);
    return {
      verb: ['record', 'recorded'],
      what: `${text(b.kind) ?? 'a'} run ${text(b.name) ?? ''}`.trim(),
      cluster: b.cluster,
      namespace: b.namespace,
      entityRefs: [b.modelRef],
      runIds: [r.id],
    };
  },

  updateRun: f => {
    const b = object<UpdateRunRequest>(f.body);
    const r = object<Run>(f.response);
    return {
      verb: ['update', 'updated'],
      what: `run ${text(r.name) ?? text(f.params.id)}${
        text(b.phase) ? ` (phase ${text(b.phase)})` : ''
      }`,
      cluster: r.cluster,
      namespace: r.namespace,
      entityRefs: [r.modelRef],
      runIds: [f.params.id],
    };
  },

  createDatasetVersion: f => {
    const b = object<CreateDatasetVersionRequest>(f.body);
    const dataset = `dataset:${f.params.namespace}/${f.params.name}`;
    return {
      verb: ['register', 'registered'],
      what: `${short(dataset)} version ${text(b.version) ?? '?'}`,
      entityRefs: [dataset],
    };
  },

  createDeployment: f => {
    const b = object<CreateDeploymentRequest>(f.body);
    const split = traffic(b.traffic);
    const versions = list(b.traffic);
    return {
      verb: ['record', 'recorded'],
      what: `the deployment of ${short(b.serviceRef)}${
        split ? ` (${split})` : ''
      }`,
      cluster: b.cluster,
      namespace: b.namespace,
      entityRefs: [b.serviceRef, b.modelRef],
      modelVersion:
        versions.length === 1
          ? object<{ version: number }>(versions[0]).version
          : undefined,
    };
  },

  updateDeployment: f => {
    const b = object<UpdateDeploymentRequest>(f.body);
    const r = object<Deployment>(f.response);
    const service = `inferenceservice:${f.params.namespace}/${f.params.name}`;
    const split = traffic(b.traffic);
    return {
      verb: ['update', 'updated'],
      what: `the deployment of ${short(service)}${split ? ` (${split})` : ''}`,
      cluster: r.cluster,
      namespace: r.namespace,
      entityRefs: [service, b.modelRef, r.modelRef],
    };
  },

  applyPools: f => {
    const b = object<ApplyPoolsRequest>(f.body);
    const names = (items: unknown) =>
      list(items)
        .map(i => text(object<{ name: string }>(i).name))
        .filter(Boolean)
        .join(', ');
    const parts = [
      names(b.flavors) && `flavors ${names(b.flavors)}`,
      names(b.teams) && `team queues ${names(b.teams)}`,
      names(b.priorityClasses) &&
        `priority classes ${names(b.priorityClasses)}`,
    ].filter(Boolean);
    return {
      verb: ['apply', 'applied'],
      what: `pools and quotas${parts.length ? ` (${parts.join('; ')})` : ''}`,
      cluster: b.cluster,
    };
  },

  createNotebook: f => {
    const b = object<CreateNotebookRequest>(f.body);
    return created(f, `notebook ${text(b.name)}`);
  },

  createJob: f => {
    const b = object<CreateJobRequest>(f.body);
    const kind = text(b.kind);
    return created(
      f,
      `training task ${text(b.name)}${kind ? ` (${kind})` : ''}`,
    );
  },

  createJobs: f => {
    const items = list(object<CreateJobsRequest>(f.body).items).map(i =>
      object<CreateJobRequest>(i),
    );
    const r = object<ClusterBatchWriteResult>(f.response);
    const only = (values: unknown[]) =>
      new Set(values).size === 1 ? values[0] : undefined;
    const createdCount = int(r.created);
    const refused = int(r.failed) ?? 0;
    return {
      verb: ['create', 'created'],
      what: plural(items.length, 'training task'),
      whatDone:
        createdCount !== undefined
          ? `${createdCount} of ${plural(items.length, 'training task')}${
              refused ? ` (${refused} refused by the cluster)` : ''
            }`
          : undefined,
      cluster: only(items.map(i => i.cluster)),
      namespace: only(items.map(i => i.namespace)),
      entityRefs: [
        ...new Set(items.flatMap(i => [i.entityRef, i.modelRef])),
      ].slice(0, 100),
      runIds: list(r.items).map(i => object<{ runId: string }>(i).runId),
    };
  },

  createDataset: f => {
    const b = object<CreateDatasetRequest>(f.body);
    const source = text(object<{ type: string }>(b.source).type);
    const cache = text(object<{ runtime: string }>(b.cache).runtime);
    const told = created(
      f,
      `dataset ${text(b.name)}${
        source ? ` (${source}${cache ? `, ${cache} cache` : ''})` : ''
      }`,
      [b.datasetRef],
    );
    const version = object<{ version: string }>(
      object<ClusterWriteResult>(f.response).datasetVersion,
    ).version;
    return version
      ? { ...told, whatDone: `${told.what}, version ${text(version)}` }
      : told;
  },

  deployInferenceService: f => {
    const b = object<DeployInferenceServiceRequest>(f.body);
    const r = object<ClusterWriteResult>(f.response);
    const version = f.details.modelVersion ?? b.modelVersion;
    const canary = int(b.canaryTrafficPercent);
    return {
      verb: ['deploy', 'deployed'],
      what: [
        short(b.model) ?? 'a model',
        versionText(version),
        `to ${text(b.name) ?? '?'}`,
        canary !== undefined ? `as canary ${canary} %` : undefined,
      ]
        .filter(Boolean)
        .join(' '),
      cluster: b.cluster,
      namespace: b.namespace,
      entityRefs: [
        r.entityRef ??
          b.serviceRef ??
          (typeof b.name === 'string'
            ? `inferenceservice:default/${b.name}`
            : undefined),
        b.model,
      ],
      modelVersion: version,
    };
  },

  promoteInferenceService: f => {
    const { modelRef, modelVersion } = f.details;
    const version = versionText(modelVersion);
    return {
      verb: ['promote', 'promoted'],
      what:
        modelRef && version
          ? `${short(modelRef)} ${version} on ${text(f.params.name)} to 100 %`
          : `the canary of ${text(f.params.name)}`,
      cluster: f.params.cluster,
      namespace: f.params.namespace,
      entityRefs: [object<ClusterWriteResult>(f.response).entityRef],
      modelVersion,
    };
  },

  rollbackInferenceService: f => {
    const b = object<RollbackInferenceServiceRequest>(f.body);
    const { modelRef, modelVersion } = f.details;
    const to =
      modelRef && modelVersion !== undefined
        ? `${short(modelRef)} ${versionText(modelVersion)}`
        : versionText(b.toVersion) ?? 'the previous version';
    return {
      verb: ['roll back', 'rolled back'],
      what: `${text(f.params.name)} to ${to}`,
      cluster: f.params.cluster,
      namespace: f.params.namespace,
      entityRefs: [object<ClusterWriteResult>(f.response).entityRef],
      modelVersion,
    };
  },

  createPipeline: f => {
    const b = object<CreatePipelineRequest>(f.body);
    const schedule = text(b.schedule);
    return created(
      f,
      `pipeline ${text(b.name)}${schedule ? ` (schedule ${schedule})` : ''}`,
    );
  },

  ...Object.fromEntries(
    Object.entries(DELETED_KINDS).map(([id, kind]) => [id, deleted(kind)]),
  ),
};

/** The operations with a summary of their own (the rest get their operationId). */
export const describedOperations = Object.keys(OPERATIONS);

/** The summary and place of a request that `succeeded` or not. */
export function describe(
  facts: AuditFacts,
  succeeded: boolean,
): AuditDescription {
  const told: Told = OPERATIONS[facts.operationId]?.(facts) ?? {
    verb: [facts.operationId, facts.operationId],
    what: '',
  };
  const body = object<{ dryRun: boolean }>(facts.body);
  const dryRun =
    body.dryRun === true ||
    facts.query.dryRun === true ||
    facts.query.dryRun === 'true';
  const verb = succeeded && !dryRun ? told.verb[1] : told.verb[0];
  const what = (succeeded && told.whatDone) || told.what;
  const { details } = facts;
  const refs = [
    ...(told.entityRefs ?? []),
    ...(details.entityRefs ?? []),
    details.modelRef,
  ]
    .map(refOf)
    .filter((r): r is string => r !== undefined);
  const runIds = [...(told.runIds ?? []), ...(details.runIds ?? [])].filter(
    (id): id is string => typeof id === 'string' && UUID.test(id),
  );
  const version = int(
    typeof told.modelVersion === 'string' && /^[0-9]+$/.test(told.modelVersion)
      ? Number(told.modelVersion)
      : told.modelVersion,
  );
  const where = (value: unknown, pattern: RegExp) =>
    typeof value === 'string' && value.length <= 63 && pattern.test(value)
      ? value
      : undefined;
  return {
    summary: `${dryRun ? 'dry run: ' : ''}${verb}${what ? ` ${what}` : ''}`,
    dryRun,
    ...optional('cluster', where(told.cluster, CLUSTER)),
    ...optional('namespace', where(told.namespace, NAMESPACE)),
    entityRefs: [...new Set(refs)],
    runIds: [...new Set(runIds)],
    ...optional('modelVersion', version || undefined),
  };
}

function optional<K extends string, V>(
  key: K,
  value: V | undefined,
): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
