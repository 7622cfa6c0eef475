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
 *
 * Files: ./trainingInput.ts (schemas), ./trainingPods.ts (container and pod template),
 * ./trainingReplicated.ts (kinds with replica types); this one builds Job, CronJob and TrainJob.
 */
import type { ReplicatedWorkloadKind } from '@kubeai/plugin-kubeai-common';
import { compact, kueueLabels } from './common';
import { kubeaiLabels, kubeaiMetadata } from './labels';
import {
  isReplicated,
  trainingInputSchema,
  type ParsedTrainingInput,
  type TrainingInput,
  type TrainingKind,
} from './trainingInput';
import {
  labelInput,
  podTemplate,
  trainingContainer,
  workloadApiVersion,
  type TrainingBuildOptions,
} from './trainingPods';
import { replicatedJob } from './trainingReplicated';
import type { KubeObject } from './types';

export {
  mainReplicaType,
  TRAINING_KINDS,
  trainingInputSchema,
  type ParsedTrainingInput,
  type TrainingInput,
  type TrainingKind,
} from './trainingInput';
export type { TrainingBuildOptions } from './trainingPods';

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
    args: container.args,
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
