/**
 * Training workloads: one-off `Job`, periodic `CronJob`, Kubeflow Training Operator v1 `TFJob`
 * (Chief / PS / Worker / Evaluator), `PyTorchJob` (Master / Worker), `XGBoostJob`
 * (Master / Worker), and Kubeflow Trainer v2 `TrainJob` (a `runtimeRef` to a training runtime).
 *
 * All of them take the same container settings (image, command + args as argv arrays, env,
 * resources, read-only dataset mounts), Kueue admission (`kueue.x-k8s.io/queue-name`, priority
 * class) and optional Volcano gang scheduling (`schedulerName: volcano` and a PodGroup
 * `minMember`; for the Training Operator kinds through `runPolicy.schedulingPolicy`, from which the
 * operator creates the PodGroup itself).
 */
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

/** The training kinds KubeAI builds. */
export const TRAINING_KINDS = [
  'Job',
  'CronJob',
  'TFJob',
  'PyTorchJob',
  'XGBoostJob',
  'TrainJob',
] as const;
export type TrainingKind = (typeof TRAINING_KINDS)[number];

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

/** Options of {@link buildTraining} that come from the cluster rather than the user. */
export interface TrainingBuildOptions {
  /**
   * apiVersion for CronJob: `batch/v1` (Kubernetes ≥ 1.21) or `batch/v1beta1` (1.20); resolve it
   * with `ClusterGateway.resolveApiVersion(cluster, 'batch', 'CronJob', ['v1', 'v1beta1'])`.
   * Default `batch/v1`.
   */
  cronJobApiVersion?: 'batch/v1' | 'batch/v1beta1';
}

/** Number of pods one run starts, where known (undefined for TrainJob: runtime-defined). */
function trainingPodCount(input: ParsedTrainingInput): number | undefined {
  switch (input.kind) {
    case 'Job':
    case 'CronJob':
      return input.kind === 'Job' ? input.parallelism ?? 1 : 1;
    case 'TFJob':
      return Object.values(input.replicas).reduce<number>(
        (a, b) => a + (b ?? 0),
        0,
      );
    case 'PyTorchJob':
    case 'XGBoostJob':
      return 1 + (input.replicas.Worker ?? 0);
    default:
      return undefined;
  }
}

/** Replica types whose success means the job succeeded, per Training Operator kind. */
export function mainReplicaType(
  input: ParsedTrainingInput,
): string | undefined {
  switch (input.kind) {
    case 'TFJob':
      return input.replicas.Chief ? 'Chief' : 'Worker';
    case 'PyTorchJob':
    case 'XGBoostJob':
      return 'Master';
    default:
      return undefined;
  }
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

function trainingOperatorJob(
  input: Extract<
    ParsedTrainingInput,
    { kind: 'TFJob' | 'PyTorchJob' | 'XGBoostJob' }
  >,
): KubeObject {
  const { specKey, containerName } = {
    TFJob: { specKey: 'tfReplicaSpecs', containerName: 'tensorflow' },
    PyTorchJob: { specKey: 'pytorchReplicaSpecs', containerName: 'pytorch' },
    XGBoostJob: { specKey: 'xgbReplicaSpecs', containerName: 'xgboost' },
  }[input.kind];
  const replicaSpecs: Record<string, unknown> = {};
  const replicaResources = (input.replicaResources ?? {}) as Record<
    string,
    ParsedTrainingInput['resources']
  >;
  for (const [type, count] of Object.entries(input.replicas)) {
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
  return {
    apiVersion: 'kubeflow.org/v1',
    kind: input.kind,
    metadata: kubeaiMetadata(
      input.name,
      input.namespace,
      labelInput(input),
      kueueLabels(input.queue),
    ),
    spec: compact({
      ...(input.kind === 'PyTorchJob' && input.nprocPerNode
        ? { nprocPerNode: input.nprocPerNode }
        : {}),
      runPolicy: Object.keys(runPolicy).length > 0 ? runPolicy : undefined,
      [specKey]: replicaSpecs,
    }),
  };
}

function trainJob(
  input: Extract<ParsedTrainingInput, { kind: 'TrainJob' }>,
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
    apiVersion: 'trainer.kubeflow.org/v1alpha1',
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
  const identity = labelInput(input);
  switch (input.kind) {
    case 'Job': {
      const objects: KubeObject[] = [];
      if (input.gang) {
        objects.push(
          podGroup(input, input.gang.minMember ?? input.parallelism ?? 1),
        );
      }
      objects.push({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: kubeaiMetadata(
          input.name,
          input.namespace,
          identity,
          kueueLabels(input.queue),
        ),
        spec: jobSpec(input, input.gang ? input.name : undefined),
      });
      return objects;
    }
    case 'CronJob': {
      const objects: KubeObject[] = [];
      if (input.gang) {
        objects.push(podGroup(input, input.gang.minMember ?? 1));
      }
      objects.push({
        apiVersion: options.cronJobApiVersion ?? 'batch/v1',
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
    }
    case 'TFJob':
    case 'PyTorchJob':
    case 'XGBoostJob':
      return [trainingOperatorJob(input)];
    case 'TrainJob':
      return [trainJob(input)];
    default:
      throw new Error(`unknown training kind`);
  }
}
