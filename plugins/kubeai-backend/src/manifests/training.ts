/**
 * Training workloads: one-off `Job`, periodic `CronJob`, Kubeflow Training Operator v1 `TFJob`
 * (Chief / PS / Worker / Evaluator), `PyTorchJob` (Master / Worker), `XGBoostJob`
 * (Master / Worker), MPI operator v2 `MPIJob` (Launcher / Worker, `slotsPerWorker`), and Kubeflow
 * Trainer v2 `TrainJob` (a `runtimeRef` to a training runtime). Groups, versions, replica types and
 * container names come from the workload table of `@kubeai/plugin-kubeai-common`.
 *
 * All of them take the same container settings (image, command + args as argv arrays, env,
 * resources, read-only dataset mounts), Kueue admission (`kueue.x-k8s.io/queue-name`, priority
 * class) and optional Volcano gang scheduling (`schedulerName: volcano` and a PodGroup
 * `minMember`; for the Training Operator kinds and MPIJob through `runPolicy.schedulingPolicy`, from
 * which the operator creates the PodGroup itself).
 */
import {
  preferredApiVersion,
  TRAINING_WORKLOAD_KINDS,
  WORKLOADS,
  type ReplicatedWorkloadKind,
  type TrainingWorkloadKind,
} from '@kubeai/plugin-kubeai-common';
import { z } from 'zod';
import {
  compact,
  containerEnv,
  containerResources,
  datasetVolumes,
  kueueLabels,
  VOLCANO,
} from './common';
import {
  argvSchema,
  commandSchema,
  cronScheduleSchema,
  datasetMountsSchema,
  dnsLabelSchema,
  envSchema,
  gangSchema,
  identitySchema,
  imageSchema,
  kueueSchema,
  labelValueSchema,
  memoryQuantitySchema,
  modelRefSchema,
  modelVersionSchema,
  mountPathSchema,
  podOptionsSchema,
  resourcesSchema,
  storageUriSchema,
  timeZoneSchema,
} from './inputs';
import { kubeaiLabels, kubeaiMetadata, type KubeaiLabelInput } from './labels';
import type {
  Container,
  KubeObject,
  PodSpec,
  PodTemplate,
  Volume,
} from './types';

/** The training kinds KubeAI builds: those of the workload table (`@kubeai/plugin-kubeai-common`). */
export const TRAINING_KINDS = TRAINING_WORKLOAD_KINDS;
export type TrainingKind = TrainingWorkloadKind;

const replicaCount = z.number().int().min(0).max(10000);
const restartPolicySchema = z.enum([
  'Never',
  'OnFailure',
  'ExitCode',
  'Always',
]);

/** Settings every training kind shares. */
const trainingBaseSchema = identitySchema
  .extend({
    /** Model being trained (label `kubeai.io/model`). */
    modelRef: modelRefSchema.optional(),
    /** Version this run produces (label `kubeai.io/model-version`). */
    modelVersion: modelVersionSchema.optional(),
    /** Run id (label `kubeai.io/run`). */
    runId: labelValueSchema.optional(),
    image: imageSchema,
    /** The program and its fixed arguments, as an argv array (no shell). */
    command: commandSchema.optional(),
    /** Further arguments, as an argv array. */
    args: argvSchema.optional(),
    workingDir: mountPathSchema.optional(),
    env: envSchema.optional(),
    resources: resourcesSchema.optional(),
    /** Datasets, mounted read-only (default `/data/<name>`). */
    datasets: datasetMountsSchema.optional(),
    /** Size of a memory-backed `/dev/shm` (PyTorch data loaders need more than the default). */
    shmSize: memoryQuantitySchema.optional(),
    /** Kueue LocalQueue (and WorkloadPriorityClass). */
    queue: kueueSchema.optional(),
    /** Volcano gang scheduling. */
    gang: gangSchema.optional(),
    backoffLimit: z.number().int().min(0).max(1000).optional(),
    activeDeadlineSeconds: z.number().int().min(1).optional(),
    ttlSecondsAfterFinished: z.number().int().min(0).optional(),
  })
  .merge(podOptionsSchema);

const jobSchema = trainingBaseSchema
  .extend({
    kind: z.literal('Job'),
    parallelism: z.number().int().min(1).max(10000).optional(),
    completions: z.number().int().min(1).max(10000).optional(),
  })
  .strict();

const cronJobSchema = trainingBaseSchema
  .extend({
    kind: z.literal('CronJob'),
    schedule: cronScheduleSchema,
    /** CronJob `timeZone` (served from Kubernetes 1.24 on; older servers drop it). */
    timeZone: timeZoneSchema.optional(),
    concurrencyPolicy: z.enum(['Allow', 'Forbid', 'Replace']).default('Forbid'),
    suspend: z.boolean().optional(),
    startingDeadlineSeconds: z.number().int().min(1).optional(),
    successfulJobsHistoryLimit: z.number().int().min(0).max(100).optional(),
    failedJobsHistoryLimit: z.number().int().min(0).max(100).optional(),
  })
  .strict();

const replicaResourcesSchema = <K extends string>(keys: readonly [K, ...K[]]) =>
  z
    .record(z.enum(keys), resourcesSchema)
    .optional()
    .describe('per replica type resources, replacing `resources`');

const tfJobSchema = trainingBaseSchema
  .extend({
    kind: z.literal('TFJob'),
    replicas: z
      .object({
        Chief: z.number().int().min(0).max(1).optional(),
        PS: replicaCount.optional(),
        Worker: replicaCount.optional(),
        Evaluator: z.number().int().min(0).max(1).optional(),
      })
      .strict(),
    replicaResources: replicaResourcesSchema([
      'Chief',
      'PS',
      'Worker',
      'Evaluator',
    ]),
    restartPolicy: restartPolicySchema.default('OnFailure'),
  })
  .strict();

const pyTorchJobSchema = trainingBaseSchema
  .extend({
    kind: z.literal('PyTorchJob'),
    replicas: z
      .object({
        Master: z.literal(1).default(1),
        Worker: replicaCount.optional(),
      })
      .strict(),
    replicaResources: replicaResourcesSchema(['Master', 'Worker']),
    /** torchrun processes per node: `auto`, `cpu`, `gpu` or a number. */
    nprocPerNode: z
      .string()
      .regex(
        /^(auto|cpu|gpu|[1-9][0-9]{0,3})$/,
        'must be auto, cpu, gpu or a number',
      )
      .optional(),
    restartPolicy: restartPolicySchema.default('OnFailure'),
  })
  .strict();

const xgBoostJobSchema = trainingBaseSchema
  .extend({
    kind: z.literal('XGBoostJob'),
    replicas: z
      .object({
        Master: z.literal(1).default(1),
        Worker: replicaCount.optional(),
      })
      .strict(),
    replicaResources: replicaResourcesSchema(['Master', 'Worker']),
    restartPolicy: restartPolicySchema.default('OnFailure'),
  })
  .strict();

const mpiJobSchema = trainingBaseSchema
  .extend({
    kind: z.literal('MPIJob'),
    replicas: z
      .object({
        Launcher: z.literal(1).default(1),
        Worker: replicaCount.optional(),
      })
      .strict(),
    replicaResources: replicaResourcesSchema(['Launcher', 'Worker']),
    /** MPI slots per worker in the hostfile (processes per worker; e.g. its GPUs). */
    slotsPerWorker: z.number().int().min(1).max(1024).optional(),
    // the launcher runs as a batch Job, whose pods cannot restart Always
    restartPolicy: z
      .enum(['Never', 'OnFailure', 'ExitCode'])
      .default('OnFailure'),
  })
  .strict();

const trainJobSchema = trainingBaseSchema
  .extend({
    kind: z.literal('TrainJob'),
    /** Image of the trainer; the runtime's image when omitted. */
    image: imageSchema.optional(),
    runtimeRef: z
      .object({
        name: dnsLabelSchema,
        kind: z
          .enum(['ClusterTrainingRuntime', 'TrainingRuntime'])
          .default('ClusterTrainingRuntime'),
      })
      .strict(),
    numNodes: z.number().int().min(1).max(10000).optional(),
    numProcPerNode: z.number().int().min(1).max(1024).optional(),
    initializer: z
      .object({
        dataset: z.object({ storageUri: storageUriSchema }).strict().optional(),
        model: z.object({ storageUri: storageUriSchema }).strict().optional(),
      })
      .strict()
      .optional(),
    /** The runtime's replicated job and container that run the trainer (`node` in the stock runtimes). */
    trainerJobName: dnsLabelSchema.default('node'),
    trainerContainerName: dnsLabelSchema.default('node'),
  })
  .strict();

/** Input of {@link buildTraining}: one of the training kinds, discriminated by `kind`. */
export const trainingInputSchema = z
  .discriminatedUnion('kind', [
    jobSchema,
    cronJobSchema,
    tfJobSchema,
    pyTorchJobSchema,
    xgBoostJobSchema,
    mpiJobSchema,
    trainJobSchema,
  ])
  .superRefine((input, ctx) => {
    if (input.kind === 'TrainJob') {
      if (input.gang) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['gang'],
          message:
            "gang scheduling of a TrainJob is set by its training runtime's podGroupPolicy",
        });
      }
      for (const field of [
        'priorityClassName',
        'nodeSelector',
        'backoffLimit',
        'ttlSecondsAfterFinished',
        'shmSize',
      ] as const) {
        if (input[field] !== undefined) {
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: [field],
            message: `${field} of a TrainJob is set by its training runtime`,
          });
        }
      }
    }
    if (
      input.kind === 'TFJob' &&
      !input.replicas.Chief &&
      !input.replicas.Worker
    ) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['replicas'],
        message: 'a TFJob needs a Chief or at least one Worker',
      });
    }
    if (input.kind === 'MPIJob' && !input.replicas.Worker) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['replicas'],
        message: 'an MPIJob needs at least one Worker',
      });
    }
    if (
      input.kind === 'Job' &&
      input.completions &&
      input.parallelism &&
      input.parallelism > input.completions
    ) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['parallelism'],
        message: 'must not exceed completions',
      });
    }
    const totalPods = trainingPodCount(input);
    if (
      input.gang?.minMember &&
      totalPods !== undefined &&
      input.gang.minMember > totalPods
    ) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['gang', 'minMember'],
        message: `must not exceed the job's ${totalPods} pods`,
      });
    }
  });
export type TrainingInput = z.input<typeof trainingInputSchema>;
export type ParsedTrainingInput = z.output<typeof trainingInputSchema>;

/** The input schema has one member per training kind of the workload table, and no other (tsc). */
type SameKinds<A, B> = [A] extends [B]
  ? [B] extends [A]
    ? true
    : false
  : false;
const schemaKindsAreTheTable: SameKinds<
  ParsedTrainingInput['kind'],
  TrainingKind
> = true;
void schemaKindsAreTheTable;

/** The input of the training kinds with replica types (the workload table's `replicas`). */
type ReplicatedInput = Extract<
  ParsedTrainingInput,
  { kind: ReplicatedWorkloadKind }
>;

/** Options of {@link buildTraining} that come from the cluster rather than the user. */
export interface TrainingBuildOptions {
  /**
   * apiVersion for CronJob: `batch/v1` (Kubernetes ≥ 1.21) or `batch/v1beta1` (1.20); resolve it
   * with `ClusterGateway.resolveApiVersion(cluster, 'batch', 'CronJob', ['v1', 'v1beta1'])`.
   * Default `batch/v1`.
   */
  cronJobApiVersion?: 'batch/v1' | 'batch/v1beta1';
  /**
   * The apiVersion of the workload, for kinds the workload table serves in several versions (the
   * cluster's, found by discovery); default the table's preferred version. Overrides
   * `cronJobApiVersion`.
   */
  apiVersion?: string;
}

/** The apiVersion of the workload: the discovered one, else the workload table's preferred. */
function workloadApiVersion(
  kind: TrainingKind,
  options: TrainingBuildOptions,
): string {
  return (
    options.apiVersion ??
    (kind === 'CronJob' ? options.cronJobApiVersion : undefined) ??
    preferredApiVersion(kind)
  );
}

/** The replica counts of a replicated kind, by type. */
function replicaCounts(input: ReplicatedInput): Record<string, number> {
  return input.replicas as Record<string, number>;
}

/** Number of pods one run starts, where known (undefined for TrainJob: runtime-defined). */
function trainingPodCount(input: ParsedTrainingInput): number | undefined {
  switch (input.kind) {
    case 'Job':
    case 'CronJob':
      return input.kind === 'Job' ? input.parallelism ?? 1 : 1;
    default:
      if (isReplicated(input)) {
        return Object.values(replicaCounts(input)).reduce<number>(
          (a, b) => a + (b ?? 0),
          0,
        );
      }
      return undefined;
  }
}

/** Whether the input is of a kind with replica types (the workload table's `replicas`). */
function isReplicated(input: ParsedTrainingInput): input is ReplicatedInput {
  return WORKLOADS[input.kind].replicas !== null;
}

/**
 * The replica type whose success means the job succeeded (replicated kinds): the first of the
 * workload table's `main` types the job has, else the last of them.
 */
export function mainReplicaType(
  input: ParsedTrainingInput,
): string | undefined {
  const replicas = WORKLOADS[input.kind].replicas;
  if (!replicas || !isReplicated(input)) return undefined;
  const counts = replicaCounts(input);
  return (
    replicas.main.find(type => (counts[type] ?? 0) > 0) ??
    replicas.main[replicas.main.length - 1]
  );
}

function labelInput(input: ParsedTrainingInput): KubeaiLabelInput {
  return {
    entityRef: input.entityRef,
    modelRef: input.modelRef,
    modelVersion: input.modelVersion,
    runId: input.runId,
  };
}

/** The single training container plus the pod-level volumes it needs. */
function trainingContainer(
  input: ParsedTrainingInput,
  containerName: string,
  resources = input.resources,
): { container: Container; volumes: Volume[] } {
  const datasets = datasetVolumes(input.datasets);
  const volumes: Volume[] = [...datasets.volumes];
  const volumeMounts: NonNullable<Container['volumeMounts']> = [
    ...datasets.volumeMounts,
  ];
  if (input.shmSize) {
    volumes.push({
      name: 'dshm',
      emptyDir: { medium: 'Memory', sizeLimit: input.shmSize },
    });
    volumeMounts.push({ name: 'dshm', mountPath: '/dev/shm' });
  }
  const container: Container = compact({
    name: containerName,
    image: input.image,
    command: input.command,
    args: input.args,
    workingDir: input.workingDir,
    env: containerEnv(input.env),
    resources: containerResources(resources),
    volumeMounts: volumeMounts.length > 0 ? volumeMounts : undefined,
  });
  return { container, volumes };
}

/** Pod template of the plain Kubernetes kinds and the Training Operator replicas. */
function podTemplate(
  input: ParsedTrainingInput,
  containerName: string,
  restartPolicy: string,
  options: {
    resources?: ParsedTrainingInput['resources'];
    podGroupName?: string;
  } = {},
): PodTemplate {
  const { container, volumes } = trainingContainer(
    input,
    containerName,
    options.resources ?? input.resources,
  );
  const spec: PodSpec = compact({
    restartPolicy,
    containers: [container],
    volumes: volumes.length > 0 ? volumes : undefined,
    serviceAccountName: input.serviceAccountName,
    priorityClassName: input.priorityClassName,
    nodeSelector: input.nodeSelector,
    schedulerName: input.gang ? VOLCANO.schedulerName : undefined,
  });
  return {
    metadata: compact({
      labels: kubeaiLabels(labelInput(input)),
      annotations: options.podGroupName
        ? { [VOLCANO.groupNameAnnotation]: options.podGroupName }
        : undefined,
    }),
    spec,
  };
}

function jobSpec(
  input: Extract<ParsedTrainingInput, { kind: 'Job' | 'CronJob' }>,
  podGroupName?: string,
) {
  return compact({
    backoffLimit: input.backoffLimit,
    activeDeadlineSeconds: input.activeDeadlineSeconds,
    ttlSecondsAfterFinished: input.ttlSecondsAfterFinished,
    parallelism: input.kind === 'Job' ? input.parallelism : undefined,
    completions: input.kind === 'Job' ? input.completions : undefined,
    template: podTemplate(input, 'trainer', 'Never', { podGroupName }),
  });
}

function podGroup(input: ParsedTrainingInput, minMember: number): KubeObject {
  return {
    apiVersion: 'scheduling.volcano.sh/v1beta1',
    kind: 'PodGroup',
    metadata: kubeaiMetadata(input.name, input.namespace, labelInput(input)),
    spec: compact({
      minMember,
      queue: input.gang?.queue,
      priorityClassName: input.priorityClassName,
    }),
  };
}

/**
 * Fields of a replicated kind's spec besides its replica specs and `runPolicy`, per kind (keyed by
 * the workload table: a replicated kind without an entry does not compile).
 */
const REPLICATED_SPEC_FIELDS: {
  [K in ReplicatedWorkloadKind]: (
    input: Extract<ParsedTrainingInput, { kind: K }>,
  ) => Record<string, unknown>;
} = {
  TFJob: () => ({}),
  PyTorchJob: input =>
    input.nprocPerNode ? { nprocPerNode: input.nprocPerNode } : {},
  XGBoostJob: () => ({}),
  MPIJob: input =>
    input.slotsPerWorker ? { slotsPerWorker: input.slotsPerWorker } : {},
};

/**
 * A distributed job of a replicated kind (Training Operator v1 TFJob, PyTorchJob, XGBoostJob; MPI
 * operator v2 MPIJob):
 * replica specs, spec field, container name and apiVersion from the workload table.
 */
function replicatedJob(
  input: ReplicatedInput,
  options: TrainingBuildOptions,
): KubeObject {
  const { field: specKey, container: containerName } =
    WORKLOADS[input.kind].replicas;
  const replicaSpecs: Record<string, unknown> = {};
  const replicaResources = (input.replicaResources ?? {}) as Record<
    string,
    ParsedTrainingInput['resources']
  >;
  for (const [type, count] of Object.entries(replicaCounts(input))) {
    if (!count) {
      continue;
    }
    replicaSpecs[type] = {
      replicas: count,
      restartPolicy: input.restartPolicy,
      template: podTemplate(input, containerName, input.restartPolicy, {
        resources: replicaResources[type],
      }),
    };
  }
  const totalPods = trainingPodCount(input) ?? 1;
  const schedulingPolicy =
    input.gang || input.priorityClassName
      ? compact({
          minAvailable: input.gang
            ? input.gang.minMember ?? totalPods
            : undefined,
          queue: input.gang?.queue,
          priorityClass: input.priorityClassName,
        })
      : undefined;
  const runPolicy = compact({
    backoffLimit: input.backoffLimit,
    activeDeadlineSeconds: input.activeDeadlineSeconds,
    ttlSecondsAfterFinished: input.ttlSecondsAfterFinished,
    schedulingPolicy,
  });
  const specFields = REPLICATED_SPEC_FIELDS[input.kind] as (
    input: ReplicatedInput,
  ) => Record<string, unknown>;
  return {
    apiVersion: workloadApiVersion(input.kind, options),
    kind: input.kind,
    metadata: kubeaiMetadata(
      input.name,
      input.namespace,
      labelInput(input),
      kueueLabels(input.queue),
    ),
    spec: compact({
      ...specFields(input),
      runPolicy: Object.keys(runPolicy).length > 0 ? runPolicy : undefined,
      [specKey]: replicaSpecs,
    }),
  };
}

function trainJob(
  input: Extract<ParsedTrainingInput, { kind: 'TrainJob' }>,
  options: TrainingBuildOptions,
): KubeObject {
  const { container, volumes } = trainingContainer(
    input,
    input.trainerContainerName,
  );
  const trainer = compact({
    image: input.image,
    command: input.command,
    args: input.args,
    env: container.env,
    numNodes: input.numNodes,
    numProcPerNode: input.numProcPerNode,
    resourcesPerNode: container.resources,
  });
  const podPatch = compact({
    serviceAccountName: input.serviceAccountName,
    volumes: volumes.length > 0 ? volumes : undefined,
    containers: container.volumeMounts
      ? [
          {
            name: input.trainerContainerName,
            volumeMounts: container.volumeMounts,
          },
        ]
      : undefined,
  });
  const runtimePatches =
    Object.keys(podPatch).length > 0
      ? [
          {
            manager: 'kubeai.io/kubeai',
            trainingRuntimeSpec: {
              template: {
                spec: {
                  replicatedJobs: [
                    {
                      name: input.trainerJobName,
                      template: {
                        spec: {
                          template: {
                            metadata: {
                              labels: kubeaiLabels(labelInput(input)),
                            },
                            spec: podPatch,
                          },
                        },
                      },
                    },
                  ],
                },
              },
            },
          },
        ]
      : undefined;
  return {
    apiVersion: workloadApiVersion('TrainJob', options),
    kind: 'TrainJob',
    metadata: kubeaiMetadata(
      input.name,
      input.namespace,
      labelInput(input),
      kueueLabels(input.queue),
    ),
    spec: compact({
      runtimeRef: {
        apiGroup: 'trainer.kubeflow.org',
        kind: input.runtimeRef.kind,
        name: input.runtimeRef.name,
      },
      trainer: Object.keys(trainer).length > 0 ? trainer : undefined,
      initializer: input.initializer,
      activeDeadlineSeconds: input.activeDeadlineSeconds,
      runtimePatches,
    }),
  };
}

/** Builders of the training kinds without replica types (the replicated ones: {@link replicatedJob}). */
const BUILDERS: {
  [K in Exclude<TrainingKind, ReplicatedWorkloadKind>]: (
    input: Extract<ParsedTrainingInput, { kind: K }>,
    options: TrainingBuildOptions,
  ) => KubeObject[];
} = {
  Job: (input, options) => {
    const objects: KubeObject[] = [];
    if (input.gang) {
      objects.push(
        podGroup(input, input.gang.minMember ?? input.parallelism ?? 1),
      );
    }
    objects.push({
      apiVersion: workloadApiVersion('Job', options),
      kind: 'Job',
      metadata: kubeaiMetadata(
        input.name,
        input.namespace,
        labelInput(input),
        kueueLabels(input.queue),
      ),
      spec: jobSpec(input, input.gang ? input.name : undefined),
    });
    return objects;
  },
  CronJob: (input, options) => {
    const identity = labelInput(input);
    const objects: KubeObject[] = [];
    if (input.gang) {
      objects.push(podGroup(input, input.gang.minMember ?? 1));
    }
    objects.push({
      apiVersion: workloadApiVersion('CronJob', options),
      kind: 'CronJob',
      metadata: kubeaiMetadata(input.name, input.namespace, identity),
      spec: compact({
        schedule: input.schedule,
        timeZone: input.timeZone,
        concurrencyPolicy: input.concurrencyPolicy,
        suspend: input.suspend,
        startingDeadlineSeconds: input.startingDeadlineSeconds,
        successfulJobsHistoryLimit: input.successfulJobsHistoryLimit,
        failedJobsHistoryLimit: input.failedJobsHistoryLimit,
        jobTemplate: {
          metadata: {
            labels: {
              ...kueueLabels(input.queue),
              ...kubeaiLabels(identity),
            },
          },
          spec: jobSpec(input, input.gang ? input.name : undefined),
        },
      }),
    });
    return objects;
  },
  TrainJob: (input, options) => [trainJob(input, options)],
};

/**
 * Builds the objects of a training run, in apply order: for `Job` / `CronJob` with gang
 * scheduling a Volcano `PodGroup` first, then the workload. The input is validated with
 * {@link trainingInputSchema}.
 */
export function buildTraining(
  rawInput: TrainingInput,
  options: TrainingBuildOptions = {},
): KubeObject[] {
  const input = trainingInputSchema.parse(rawInput);
  if (isReplicated(input)) {
    return [replicatedJob(input, options)];
  }
  const build = BUILDERS[input.kind] as (
    input: ParsedTrainingInput,
    options: TrainingBuildOptions,
  ) => KubeObject[];
  return build(input, options);
}
