/**
 * The workload table: every Kubernetes kind the portal creates, once, read by the backend (API
 * routes, manifest builders' dispatch, cluster informers, run logs, deletes) and the frontend.
 *
 * Adding a training kind is a row here plus its builder (plugins/kubeai-backend/src/manifests
 * /training.ts), the OpenAPI enums (`TrainingKind`, `ObservedKind`: a test compares them with this
 * table), a minimal CRD for the local control plane (scripts/cluster/crds) and the template
 * option. The rows are `as const` and `satisfies` {@link WorkloadSpec}: a row without a field does
 * not compile, and the types derived from the table (e.g. {@link TrainingWorkloadKind}) make every
 * map keyed by kind incomplete until it has the new kind.
 *
 * @packageDocumentation
 */

/** What a kind is for: the API routes it belongs to (`/jobs`, `/notebooks`, `/pipelines`, `/inference-services`). */
export type WorkloadRole = 'training' | 'notebook' | 'pipeline' | 'serving';

/**
 * What the registry makes of an object of the kind (the cluster informers):
 * - `run`: a run (training task, notebook session, pipeline run);
 * - `schedule`: a CronJob / CronWorkflow, whose spawned objects are runs of the schedule;
 * - `service`: an InferenceService (the observed state of a deployment; discovery);
 * - `object`: observed state only (Fluid Dataset cache, PVC).
 */
export type ObservedRole = 'run' | 'schedule' | 'service' | 'object';

/**
 * How an object's status becomes a phase. The parsers live in the backend, keyed by these names
 * (informers/observe.ts for the registry, service/cluster/objects.ts for the status routes).
 */
export type WorkloadStatusParser =
  | 'job'
  | 'schedule'
  | 'trainingOperator'
  | 'trainJob'
  | 'notebook'
  | 'workflow'
  | 'inferenceService'
  | 'fluidDataset'
  | 'persistentVolumeClaim'
  | 'kueueWorkload'
  | 'clusterQueue';

/** An object created with another, deleted with it (when KubeAI manages it). */
export interface WorkloadCompanion {
  group: string;
  version: string;
  kind: string;
  /** Its name is the object's name plus this suffix (`''`: the same name). */
  nameSuffix: string;
  /**
   * Only when the object's pod template (`spec.template.spec.volumes`) mounts it as a claim: a
   * workspace the create route made, not an existing claim the object was given.
   */
  onlyIfMounted: boolean;
}

/** The replicas of a distributed training kind. */
export interface WorkloadReplicas {
  /** The spec field that maps replica types to replica specs, e.g. `tfReplicaSpecs`. */
  field: string;
  /** The replica types, in spec order. */
  types: readonly [string, ...string[]];
  /**
   * The replica type whose success is the job's: the first of these the job has (else the last).
   * E.g. TFJob: `Chief`, else `Worker`.
   */
  main: readonly [string, ...string[]];
  /** The container name the operator expects in every replica. */
  container: string;
}

/** What the portal knows of a kind it creates or watches in the clusters. */
export interface ClusterKindSpec {
  /** API group (`''`: the core group). */
  group: string;
  /** Served versions KubeAI reads and writes, preferred first (discovery picks the first served). */
  versions: readonly [string, ...string[]];
  /** Resource name, as in `<plural>.<group>`. */
  plural: string;
  /** What the registry makes of its objects (the informers). */
  observed: ObservedRole;
  /** Which objects the informers list and watch: only those KubeAI manages, or all (discovery). */
  watch: 'managed' | 'all';
  /** How its status becomes a phase. */
  status: WorkloadStatusParser;
  /** Pod labels whose value is the object's name (how the pods of an object are found, for logs). */
  podLabels: readonly string[];
  /** What a delete removes with it. */
  companions: readonly WorkloadCompanion[];
}

/** A workload kind: a row of {@link WORKLOADS}. */
export interface WorkloadSpec extends ClusterKindSpec {
  role: WorkloadRole;
  /** The replica types of a distributed training kind; null for the others. */
  replicas: WorkloadReplicas | null;
}

/** The Volcano PodGroup of gang scheduling, named as its job. */
const PODGROUP: WorkloadCompanion = {
  group: 'scheduling.volcano.sh',
  version: 'v1beta1',
  kind: 'PodGroup',
  nameSuffix: '',
  onlyIfMounted: false,
};

const TRAINING_OPERATOR_POD_LABELS = [
  'training.kubeflow.org/job-name',
] as const;

/** The workloads, in the order the informers list and watch them. */
export const WORKLOADS = {
  Job: {
    group: 'batch',
    versions: ['v1'],
    plural: 'jobs',
    role: 'training',
    observed: 'run',
    watch: 'managed',
    status: 'job',
    replicas: null,
    podLabels: ['job-name', 'batch.kubernetes.io/job-name'],
    companions: [PODGROUP],
  },
  CronJob: {
    group: 'batch',
    // batch/v1 from Kubernetes 1.21, batch/v1beta1 on 1.20 (chosen by discovery)
    versions: ['v1', 'v1beta1'],
    plural: 'cronjobs',
    role: 'training',
    observed: 'schedule',
    watch: 'managed',
    status: 'schedule',
    replicas: null,
    // its Jobs are runs of their own
    podLabels: [],
    companions: [PODGROUP],
  },
  TFJob: {
    group: 'kubeflow.org',
    versions: ['v1'],
    plural: 'tfjobs',
    role: 'training',
    observed: 'run',
    watch: 'managed',
    status: 'trainingOperator',
    replicas: {
      field: 'tfReplicaSpecs',
      types: ['Chief', 'PS', 'Worker', 'Evaluator'],
      main: ['Chief', 'Worker'],
      container: 'tensorflow',
    },
    podLabels: TRAINING_OPERATOR_POD_LABELS,
    companions: [PODGROUP],
  },
  PyTorchJob: {
    group: 'kubeflow.org',
    versions: ['v1'],
    plural: 'pytorchjobs',
    role: 'training',
    observed: 'run',
    watch: 'managed',
    status: 'trainingOperator',
    replicas: {
      field: 'pytorchReplicaSpecs',
      types: ['Master', 'Worker'],
      main: ['Master'],
      container: 'pytorch',
    },
    podLabels: TRAINING_OPERATOR_POD_LABELS,
    companions: [PODGROUP],
  },
  XGBoostJob: {
    group: 'kubeflow.org',
    versions: ['v1'],
    plural: 'xgboostjobs',
    role: 'training',
    observed: 'run',
    watch: 'managed',
    status: 'trainingOperator',
    replicas: {
      field: 'xgbReplicaSpecs',
      types: ['Master', 'Worker'],
      main: ['Master'],
      container: 'xgboost',
    },
    podLabels: TRAINING_OPERATOR_POD_LABELS,
    companions: [PODGROUP],
  },
  MPIJob: {
    // the Kubeflow MPI operator (v2: a launcher Job running mpirun over SSH into the workers)
    group: 'kubeflow.org',
    versions: ['v2beta1'],
    plural: 'mpijobs',
    role: 'training',
    observed: 'run',
    watch: 'managed',
    status: 'trainingOperator',
    replicas: {
      field: 'mpiReplicaSpecs',
      types: ['Launcher', 'Worker'],
      main: ['Launcher'],
      container: 'mpi',
    },
    podLabels: TRAINING_OPERATOR_POD_LABELS,
    companions: [PODGROUP],
  },
  TrainJob: {
    group: 'trainer.kubeflow.org',
    versions: ['v1alpha1'],
    plural: 'trainjobs',
    role: 'training',
    observed: 'run',
    watch: 'managed',
    status: 'trainJob',
    // replicated jobs of its training runtime
    replicas: null,
    podLabels: ['jobset.sigs.k8s.io/jobset-name'],
    companions: [PODGROUP],
  },
  Notebook: {
    group: 'kubeflow.org',
    versions: ['v1', 'v1beta1'],
    plural: 'notebooks',
    role: 'notebook',
    observed: 'run',
    watch: 'managed',
    status: 'notebook',
    replicas: null,
    podLabels: ['notebook-name'],
    companions: [
      {
        group: '',
        version: 'v1',
        kind: 'PersistentVolumeClaim',
        nameSuffix: '-workspace',
        onlyIfMounted: true,
      },
    ],
  },
  InferenceService: {
    group: 'serving.kserve.io',
    versions: ['v1beta1'],
    plural: 'inferenceservices',
    role: 'serving',
    observed: 'service',
    // all of them: services the portal did not create are matched against registered artifacts
    watch: 'all',
    status: 'inferenceService',
    replicas: null,
    podLabels: [],
    companions: [],
  },
  Workflow: {
    group: 'argoproj.io',
    versions: ['v1alpha1'],
    plural: 'workflows',
    role: 'pipeline',
    observed: 'run',
    watch: 'managed',
    status: 'workflow',
    replicas: null,
    podLabels: ['workflows.argoproj.io/workflow'],
    companions: [],
  },
  CronWorkflow: {
    group: 'argoproj.io',
    versions: ['v1alpha1'],
    plural: 'cronworkflows',
    role: 'pipeline',
    observed: 'schedule',
    watch: 'managed',
    status: 'schedule',
    replicas: null,
    // its Workflows are runs of their own
    podLabels: [],
    companions: [],
  },
} as const satisfies Record<string, WorkloadSpec>;

/** The kinds of data the portal creates (`POST /datasets`) and watches, besides the workloads. */
export const DATA_OBJECTS = {
  Dataset: {
    group: 'data.fluid.io',
    versions: ['v1alpha1'],
    plural: 'datasets',
    observed: 'object',
    watch: 'managed',
    status: 'fluidDataset',
    podLabels: [],
    companions: ['AlluxioRuntime', 'JuiceFSRuntime'].map(kind => ({
      group: 'data.fluid.io',
      version: 'v1alpha1',
      kind,
      nameSuffix: '',
      onlyIfMounted: false,
    })),
  },
  PersistentVolumeClaim: {
    group: '',
    versions: ['v1'],
    plural: 'persistentvolumeclaims',
    observed: 'object',
    watch: 'managed',
    status: 'persistentVolumeClaim',
    podLabels: [],
    companions: [],
  },
} as const satisfies Record<string, ClusterKindSpec>;

/**
 * Kueue's objects the informers watch besides (not created by the portal): a `Workload` is Kueue's
 * admission of a run (its ClusterQueue, flavors, why it waits), a `ClusterQueue` a team's quota —
 * together a run's admission and a team's usage. All of them, not only the portal's: usage counts
 * every workload of a queue.
 */
export const QUEUE_OBJECTS = {
  Workload: {
    group: 'kueue.x-k8s.io',
    versions: ['v1beta2'],
    plural: 'workloads',
    observed: 'object',
    watch: 'all',
    status: 'kueueWorkload',
    podLabels: [],
    companions: [],
  },
  ClusterQueue: {
    group: 'kueue.x-k8s.io',
    versions: ['v1beta2'],
    plural: 'clusterqueues',
    observed: 'object',
    watch: 'all',
    status: 'clusterQueue',
    podLabels: [],
    companions: [],
  },
} as const satisfies Record<string, ClusterKindSpec>;

/** A kind of {@link QUEUE_OBJECTS}. */
export type QueueObjectKind = keyof typeof QUEUE_OBJECTS;

/** A kind of {@link WORKLOADS}. */
export type WorkloadKind = keyof typeof WORKLOADS;

/** A kind of {@link DATA_OBJECTS}. */
export type DataObjectKind = keyof typeof DATA_OBJECTS;

/** A kind the cluster informers watch: a workload or a data object (the portal creates them), or a Kueue object. */
export type ClusterKind = WorkloadKind | DataObjectKind | QueueObjectKind;

/** The workload kinds of a role. */
export type WorkloadKindOf<R extends WorkloadRole> = {
  [K in WorkloadKind]: (typeof WORKLOADS)[K]['role'] extends R ? K : never;
}[WorkloadKind];

/** The training kinds (`POST /jobs`). */
export type TrainingWorkloadKind = WorkloadKindOf<'training'>;

/** The training kinds with replica types (distributed training operators). */
export type ReplicatedWorkloadKind = {
  [K in WorkloadKind]: (typeof WORKLOADS)[K]['replicas'] extends null
    ? never
    : K;
}[WorkloadKind];

/** Every workload kind, in table order. */
export const WORKLOAD_KINDS = Object.keys(WORKLOADS) as WorkloadKind[];

/** Every kind of {@link WORKLOADS}, {@link DATA_OBJECTS} and {@link QUEUE_OBJECTS}, in table order (what the informers watch). */
export const CLUSTER_KINDS = [
  ...WORKLOAD_KINDS,
  ...(Object.keys(DATA_OBJECTS) as DataObjectKind[]),
  ...(Object.keys(QUEUE_OBJECTS) as QueueObjectKind[]),
] as ClusterKind[];

/** The workload kinds of a role, in table order. */
export function workloadKinds<R extends WorkloadRole>(
  role: R,
): Array<WorkloadKindOf<R>> {
  return WORKLOAD_KINDS.filter(kind => WORKLOADS[kind].role === role) as Array<
    WorkloadKindOf<R>
  >;
}

/** The training kinds, in table order (a non-empty tuple, for enums). */
export const TRAINING_WORKLOAD_KINDS = workloadKinds('training') as [
  TrainingWorkloadKind,
  ...TrainingWorkloadKind[],
];

/** The roles whose objects are runs (the run kinds of the registry: `training`, `notebook`, `pipeline`). */
export const RUN_ROLES = [
  ...new Set(
    WORKLOAD_KINDS.filter(kind => WORKLOADS[kind].observed === 'run').map(
      kind => WORKLOADS[kind].role,
    ),
  ),
] as WorkloadRole[];

/** True when `kind` is a workload kind. */
export function isWorkloadKind(kind: unknown): kind is WorkloadKind {
  return (
    typeof kind === 'string' &&
    Object.prototype.hasOwnProperty.call(WORKLOADS, kind)
  );
}

/** True when `kind` is a training kind. */
export function isTrainingWorkloadKind(
  kind: unknown,
): kind is TrainingWorkloadKind {
  return isWorkloadKind(kind) && WORKLOADS[kind].role === 'training';
}

/** The spec of a workload or data object kind; undefined for other kinds. */
export function clusterKindSpec(
  kind: string,
): WorkloadSpec | ClusterKindSpec | undefined {
  if (isWorkloadKind(kind)) return WORKLOADS[kind];
  if (Object.prototype.hasOwnProperty.call(DATA_OBJECTS, kind)) {
    return DATA_OBJECTS[kind as DataObjectKind];
  }
  if (Object.prototype.hasOwnProperty.call(QUEUE_OBJECTS, kind)) {
    return QUEUE_OBJECTS[kind as QueueObjectKind];
  }
  return undefined;
}

/** `apiVersion` of a group and version (`v1` for the core group). */
export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

/** The preferred apiVersion of a kind of the table, e.g. `kubeflow.org/v1` for TFJob. */
export function preferredApiVersion(kind: ClusterKind): string {
  const spec = clusterKindSpec(kind)!;
  return apiVersionOf(spec.group, spec.versions[0]);
}
