/**
 * The training input (see ./training.ts): one schema per training kind, discriminated by `kind`,
 * and what the input says about replicas (replica types, pod counts, the replica type whose
 * success is the job's).
 */
import {
  TRAINING_WORKLOAD_KINDS,
  WORKLOADS,
  type ReplicatedWorkloadKind,
  type TrainingWorkloadKind,
} from '@kubeai/plugin-kubeai-common';
import { z } from 'zod';
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
import { tableEnvNames, tableInputsSchema } from './tableInputs';

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
    /** Warehouse tables read, given as env `KUBEAI_INPUT_<NAME>_…` (see ./tableInputs.ts). */
    tables: tableInputsSchema.optional(),
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
    const tableEnv = new Set((input.tables ?? []).flatMap(tableEnvNames));
    (input.env ?? []).forEach((e, i) => {
      if (tableEnv.has(e.name)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['env', i, 'name'],
          message: `"${e.name}" is set by a table input`,
        });
      }
    });
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
export type ReplicatedInput = Extract<
  ParsedTrainingInput,
  { kind: ReplicatedWorkloadKind }
>;

/** The replica counts of a replicated kind, by type. */
export function replicaCounts(input: ReplicatedInput): Record<string, number> {
  return input.replicas as Record<string, number>;
}

/** Number of pods one run starts, where known (undefined for TrainJob: runtime-defined). */
export function trainingPodCount(
  input: ParsedTrainingInput,
): number | undefined {
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
export function isReplicated(
  input: ParsedTrainingInput,
): input is ReplicatedInput {
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
