/**
 * What an object in a cluster says, reduced to what the registry records: an {@link Observation}.
 * Pure functions of the object (no I/O), one per status parser of the workload table
 * (`@kubeai/plugin-kubeai-common`, the `status` of each kind):
 *
 * - Job: `Complete` / `Failed` conditions, `active` pods; spawned by a CronJob → a run of it.
 * - TFJob / PyTorchJob / XGBoostJob (kubeflow.org/v1): the `Succeeded` / `Failed` / `Running` /
 *   `Restarting` / `Created` conditions.
 * - TrainJob (trainer.kubeflow.org): `Complete` / `Failed` conditions, active jobs.
 * - Workflow (Argo): `status.phase`; spawned by a CronWorkflow → a run of it.
 * - Notebook (Kubeflow): ready replicas, container state, the `kubeflow-resource-stopped`
 *   annotation; URL from a template.
 * - InferenceService (KServe): the `Ready` condition, URL, storageUri, traffic per revision.
 * - Fluid Dataset: `status.phase` and the cache states; PVC: `status.phase`, capacity.
 * - CronJob / CronWorkflow: suspended or not, active runs, last schedule time.
 */
import {
  clusterKindSpec,
  KUBEAI_LABELS,
  KUBEAI_MANAGER,
  type WorkloadStatusParser,
} from '@kubeai/plugin-kubeai-common';
import { KUBEAI_ANNOTATIONS } from '../manifests/labels';
import type { KubeObject } from '../manifests/types';
import type { KindSpec } from './kinds';
import { podInputs } from './podInputs';
import {
  clusterQueueSummary,
  workloadSummary,
  type Condition,
} from '../database/observed/kueue';
import type {
  Observation,
  ObservedRunPhase,
} from '../database/observed/observation';

// the registry's model of an observation lives with its store (imports run informers → database)
export {
  isFinalPhase,
  isRun,
  RUN_DELETED_FROM_PORTAL,
  type Observation,
  type ObservedRunPhase,
} from '../database/observed/observation';

/** Options of {@link observe}. */
export interface ObserveOptions {
  /** URL of a notebook: `{namespace}` and `{name}` are replaced. Default `/notebook/{namespace}/{name}/`. */
  notebookUrlTemplate?: string;
}

const NOTEBOOK_STOPPED_ANNOTATION = 'kubeflow-resource-stopped';
const CRON_WORKFLOW_LABEL = 'workflows.argoproj.io/cron-workflow';
const MESSAGE_LIMIT = 4000;

function trimMessage(message: unknown): string | undefined {
  if (typeof message !== 'string' || message === '') return undefined;
  return message.length > MESSAGE_LIMIT
    ? `${message.slice(0, MESSAGE_LIMIT - 1)}…`
    : message;
}

function iso(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function conditionsOf(object: any): Condition[] {
  const conditions = object?.status?.conditions;
  return Array.isArray(conditions) ? conditions : [];
}

function trueCondition(conditions: Condition[], type: string) {
  return conditions.find(c => c.type === type && c.status === 'True');
}

/** type / status / reason / message / time of each condition, for the API. */
function summarizeConditions(conditions: Condition[]) {
  return conditions.map(c => {
    const out: Record<string, string> = {
      type: String(c.type ?? ''),
      status: String(c.status ?? ''),
    };
    if (c.reason) out.reason = String(c.reason);
    const message = trimMessage(c.message);
    if (message) out.message = message;
    if (c.lastTransitionTime)
      out.lastTransitionTime = String(c.lastTransitionTime);
    return out;
  });
}

function controllerOf(object: KubeObject) {
  const refs = (object.metadata as any).ownerReferences;
  if (!Array.isArray(refs) || refs.length === 0) return undefined;
  const ref = refs.find((r: any) => r?.controller) ?? refs[0];
  return ref?.kind && ref?.name
    ? { kind: String(ref.kind), name: String(ref.name), uid: ref.uid }
    : undefined;
}

type Status = Pick<
  Observation,
  | 'phase'
  | 'reason'
  | 'message'
  | 'startedAt'
  | 'finishedAt'
  | 'ready'
  | 'url'
  | 'storageUri'
  | 'details'
>;

function jobStatus(object: any): Status {
  const status = object.status ?? {};
  const conditions = conditionsOf(object);
  const details = {
    active: status.active ?? 0,
    succeeded: status.succeeded ?? 0,
    failed: status.failed ?? 0,
    conditions: summarizeConditions(conditions),
  };
  const startedAt = iso(status.startTime);
  const complete = trueCondition(conditions, 'Complete');
  if (complete) {
    return {
      phase: 'Succeeded',
      reason: complete.reason,
      message: trimMessage(complete.message),
      startedAt,
      finishedAt:
        iso(status.completionTime) ?? iso(complete.lastTransitionTime),
      details,
    };
  }
  const failed = trueCondition(conditions, 'Failed');
  if (failed) {
    return {
      phase: 'Failed',
      reason: failed.reason ?? 'Failed',
      message: trimMessage(failed.message),
      startedAt,
      finishedAt: iso(failed.lastTransitionTime) ?? iso(status.completionTime),
      details,
    };
  }
  const suspended = trueCondition(conditions, 'Suspended');
  if (suspended || object.spec?.suspend === true) {
    return {
      phase: 'Pending',
      reason: 'Suspended',
      message: trimMessage(suspended?.message),
      startedAt,
      details,
    };
  }
  if ((status.active ?? 0) > 0) {
    return { phase: 'Running', startedAt, details };
  }
  return { phase: 'Pending', startedAt, details };
}

/** Kubeflow training-operator jobs (TFJob, PyTorchJob, XGBoostJob): the kubeflow.org JobStatus. */
function kubeflowJobStatus(object: any): Status {
  const status = object.status ?? {};
  const conditions = conditionsOf(object);
  const details = {
    replicaStatuses: status.replicaStatuses ?? {},
    conditions: summarizeConditions(conditions),
  };
  const startedAt = iso(status.startTime);
  const order: [string, ObservedRunPhase][] = [
    ['Failed', 'Failed'],
    ['Succeeded', 'Succeeded'],
    ['Suspended', 'Pending'],
    ['Restarting', 'Running'],
    ['Running', 'Running'],
    ['Created', 'Pending'],
  ];
  for (const [type, phase] of order) {
    const condition = trueCondition(conditions, type);
    if (condition) {
      const terminal = phase === 'Succeeded' || phase === 'Failed';
      return {
        phase,
        reason: condition.reason ?? (type !== phase ? type : undefined),
        message: trimMessage(condition.message),
        startedAt,
        finishedAt: terminal
          ? iso(status.completionTime) ?? iso(condition.lastTransitionTime)
          : undefined,
        details,
      };
    }
  }
  return { phase: 'Pending', startedAt, details };
}

/** Kubeflow Trainer v2 TrainJob. */
function trainJobStatus(object: any): Status {
  const status = object.status ?? {};
  const conditions = conditionsOf(object);
  const jobs: any[] = Array.isArray(status.jobsStatus) ? status.jobsStatus : [];
  const details = {
    jobsStatus: jobs,
    conditions: summarizeConditions(conditions),
  };
  const complete = trueCondition(conditions, 'Complete');
  if (complete) {
    return {
      phase: 'Succeeded',
      reason: complete.reason,
      message: trimMessage(complete.message),
      finishedAt: iso(complete.lastTransitionTime),
      details,
    };
  }
  const failed = trueCondition(conditions, 'Failed');
  if (failed) {
    return {
      phase: 'Failed',
      reason: failed.reason ?? 'Failed',
      message: trimMessage(failed.message),
      finishedAt: iso(failed.lastTransitionTime),
      details,
    };
  }
  const suspended = trueCondition(conditions, 'Suspended');
  if (suspended || object.spec?.suspend === true) {
    return { phase: 'Pending', reason: 'Suspended', details };
  }
  if (jobs.some(j => (j?.active ?? 0) > 0 || (j?.ready ?? 0) > 0)) {
    return { phase: 'Running', details };
  }
  return { phase: 'Pending', details };
}

function workflowStatus(object: any): Status {
  const status = object.status ?? {};
  const argoPhase: string = status.phase ?? '';
  const details = {
    argoPhase: argoPhase || undefined,
    progress: status.progress,
    conditions: summarizeConditions(conditionsOf(object)),
  };
  const base = {
    message: trimMessage(status.message),
    startedAt: iso(status.startedAt),
    details,
  };
  switch (argoPhase) {
    case 'Succeeded':
      return {
        ...base,
        phase: 'Succeeded',
        finishedAt: iso(status.finishedAt),
      };
    case 'Failed':
    case 'Error':
      return {
        ...base,
        phase: 'Failed',
        reason: argoPhase,
        finishedAt: iso(status.finishedAt),
      };
    case 'Running':
      return { ...base, phase: 'Running' };
    default:
      return { ...base, phase: 'Pending' };
  }
}

function notebookStatus(object: any, options: ObserveOptions): Status {
  const status = object.status ?? {};
  const ns = object.metadata.namespace ?? '';
  const name = object.metadata.name ?? '';
  const url = (options.notebookUrlTemplate ?? '/notebook/{namespace}/{name}/')
    .replace(/\{namespace\}/g, ns)
    .replace(/\{name\}/g, name);
  const ready = (status.readyReplicas ?? 0) > 0;
  const state = status.containerState ?? {};
  const details = {
    readyReplicas: status.readyReplicas ?? 0,
    containerState: state,
    conditions: summarizeConditions(conditionsOf(object)),
  };
  const startedAt = iso(state.running?.startedAt);
  if (
    object.metadata.annotations?.[NOTEBOOK_STOPPED_ANNOTATION] !== undefined
  ) {
    return {
      phase: 'Stopped',
      reason: 'Stopped',
      ready: false,
      url,
      details,
      finishedAt: iso(object.metadata.annotations[NOTEBOOK_STOPPED_ANNOTATION]),
    };
  }
  if (ready) {
    return { phase: 'Running', ready, url, startedAt, details };
  }
  if (state.terminated) {
    return {
      phase: 'Failed',
      reason: state.terminated.reason ?? 'Terminated',
      message: trimMessage(state.terminated.message),
      ready,
      url,
      details,
    };
  }
  return {
    phase: 'Pending',
    reason: state.waiting?.reason,
    message: trimMessage(state.waiting?.message),
    ready,
    url,
    startedAt,
    details,
  };
}

/** storageUri of a KServe predictor (`model` or a framework key such as `sklearn`). */
export function predictorStorageUri(object: any): string | undefined {
  const predictor = object?.spec?.predictor ?? {};
  if (typeof predictor.model?.storageUri === 'string') {
    return predictor.model.storageUri;
  }
  for (const value of Object.values(predictor)) {
    const uri = (value as any)?.storageUri;
    if (typeof uri === 'string') return uri;
  }
  return undefined;
}

function inferenceServiceStatus(object: any): Status {
  const status = object.status ?? {};
  const conditions = conditionsOf(object);
  const readyCondition = conditions.find(c => c.type === 'Ready');
  const ready = readyCondition?.status === 'True';
  const predictor = status.components?.predictor ?? {};
  const annotations = object.metadata.annotations ?? {};
  const model = object.spec?.predictor?.model ?? {};
  const details: Record<string, unknown> = {
    modelFormat: model.modelFormat?.name,
    canaryTrafficPercent: object.spec?.predictor?.canaryTrafficPercent,
    stable: annotations[KUBEAI_ANNOTATIONS.stableStorageUri]
      ? {
          version: annotations[KUBEAI_ANNOTATIONS.stableModelVersion],
          storageUri: annotations[KUBEAI_ANNOTATIONS.stableStorageUri],
        }
      : undefined,
    revisions: {
      latestReady: predictor.latestReadyRevision,
      latestCreated: predictor.latestCreatedRevision,
      latestRolledout: predictor.latestRolledoutRevision,
      previousRolledout: predictor.previousRolledoutRevision,
    },
    statusTraffic: Array.isArray(predictor.traffic)
      ? predictor.traffic.map((t: any) => ({
          revisionName: t.revisionName,
          percent: t.percent,
          latestRevision: t.latestRevision,
          tag: t.tag,
        }))
      : undefined,
    generation: object.metadata.generation,
    observedGeneration: status.observedGeneration,
    conditions: summarizeConditions(conditions),
  };
  let phase = 'Pending';
  if (readyCondition) phase = ready ? 'Ready' : 'NotReady';
  return {
    phase,
    reason: ready ? undefined : readyCondition?.reason,
    message: ready ? undefined : trimMessage(readyCondition?.message),
    ready,
    url: status.url ?? status.address?.url ?? predictor.url,
    storageUri: predictorStorageUri(object),
    details,
  };
}

function scheduleStatus(object: any): Status {
  const status = object.status ?? {};
  const active = Array.isArray(status.active) ? status.active.length : 0;
  const suspended = object.spec?.suspend === true;
  let phase = 'Scheduled';
  if (suspended) phase = 'Suspended';
  else if (active > 0) phase = 'Active';
  return {
    phase,
    details: {
      schedule: object.spec?.schedule ?? object.spec?.schedules,
      suspend: suspended,
      active,
      lastScheduleTime: status.lastScheduleTime ?? status.lastScheduledTime,
      lastSuccessfulTime: status.lastSuccessfulTime,
    },
  };
}

function fluidDatasetStatus(object: any): Status {
  const status = object.status ?? {};
  const phase: string = status.phase || 'Pending';
  return {
    phase,
    ready: phase === 'Bound',
    details: {
      cacheStates: status.cacheStates ?? {},
      ufsTotal: status.ufsTotal,
      fileNum: status.fileNum,
      // where the data comes from: matched to registered dataset versions (runs' inputs)
      mountPoints: Array.isArray(object.spec?.mounts)
        ? object.spec.mounts
            .map((m: any) => m?.mountPoint)
            .filter((p: unknown) => typeof p === 'string')
        : undefined,
      runtimes: Array.isArray(status.runtimes)
        ? status.runtimes.map((r: any) => ({ name: r.name, type: r.type }))
        : undefined,
      conditions: summarizeConditions(conditionsOf(object)),
    },
  };
}

function pvcStatus(object: any): Status {
  const status = object.status ?? {};
  const phase: string = status.phase || 'Pending';
  return {
    phase,
    ready: phase === 'Bound',
    details: {
      capacity: status.capacity?.storage,
      requested: object.spec?.resources?.requests?.storage,
      storageClassName: object.spec?.storageClassName,
      accessModes: object.spec?.accessModes,
    },
  };
}

/** Kueue's Workload: its admission state (../database/observed/kueue.ts). */
function kueueWorkloadStatus(object: any): Status {
  const summary = workloadSummary(object);
  return {
    phase: summary.state,
    message: trimMessage(summary.message),
    details: summary as unknown as Record<string, unknown>,
  };
}

/** Kueue's ClusterQueue: its quota; phase from the `Active` condition. */
function clusterQueueStatus(object: any): Status {
  const active = trueCondition(conditionsOf(object), 'Active');
  return {
    phase: active ? 'Active' : 'Inactive',
    details: clusterQueueSummary(object) as unknown as Record<string, unknown>,
  };
}

/** The status parsers, keyed by the workload table's `status`. */
const STATUS_PARSERS: Record<
  WorkloadStatusParser,
  (object: any, options: ObserveOptions) => Status
> = {
  job: jobStatus,
  trainingOperator: kubeflowJobStatus,
  trainJob: trainJobStatus,
  workflow: workflowStatus,
  notebook: notebookStatus,
  inferenceService: inferenceServiceStatus,
  schedule: scheduleStatus,
  fluidDataset: fluidDatasetStatus,
  persistentVolumeClaim: pvcStatus,
  kueueWorkload: kueueWorkloadStatus,
  clusterQueue: clusterQueueStatus,
};

function statusOf(
  spec: KindSpec,
  object: any,
  options: ObserveOptions,
): Status {
  const parser = clusterKindSpec(spec.kind)?.status;
  return parser
    ? STATUS_PARSERS[parser](object, options)
    : { phase: 'Unknown', details: {} };
}

function lower(value: unknown): string | undefined {
  return typeof value === 'string' && value
    ? value.toLocaleLowerCase('en-US')
    : undefined;
}

/** The {@link Observation} of an object of an observed kind. */
export function observe(
  cluster: string,
  spec: KindSpec,
  object: KubeObject,
  options: ObserveOptions & { deleted?: boolean } = {},
): Observation {
  const metadata: any = object.metadata ?? {};
  const labels: Record<string, string> = metadata.labels ?? {};
  const annotations: Record<string, string> = metadata.annotations ?? {};
  const owner = controllerOf(object);
  let schedule: Observation['schedule'];
  if (spec.kind === 'Job' && owner?.kind === 'CronJob') {
    schedule = { kind: 'CronJob', name: owner.name };
  } else if (spec.kind === 'Workflow') {
    const cron =
      labels[CRON_WORKFLOW_LABEL] ??
      (owner?.kind === 'CronWorkflow' ? owner.name : undefined);
    if (cron) schedule = { kind: 'CronWorkflow', name: cron };
  }
  const status = statusOf(spec, object, options);
  const observation: Observation = {
    cluster,
    kind: spec.kind,
    apiVersion: object.apiVersion,
    namespace: metadata.namespace ?? '',
    name: metadata.name ?? '',
    uid: metadata.uid ?? '',
    resourceVersion: String(metadata.resourceVersion ?? ''),
    createdAt: iso(metadata.creationTimestamp),
    deleted: options.deleted ?? false,
    managed: labels[KUBEAI_LABELS.managedBy] === KUBEAI_MANAGER,
    entityRef: lower(annotations[KUBEAI_ANNOTATIONS.entityRef]),
    modelRef: lower(annotations[KUBEAI_ANNOTATIONS.modelRef]),
    modelVersion: labels[KUBEAI_LABELS.modelVersion],
    runLabel: labels[KUBEAI_LABELS.run],
    owner,
    schedule,
    ...status,
    inputs: spec.role === 'run' ? podInputs(object) : undefined,
  };
  for (const key of Object.keys(observation) as (keyof Observation)[]) {
    if (observation[key] === undefined) delete observation[key];
  }
  return observation;
}
