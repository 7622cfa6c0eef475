/**
 * What the training builders (see ./training.ts) share: the options that come from the cluster,
 * the workload's apiVersion, its labels, and the training container with its pod template.
 */
import { preferredApiVersion } from '@kubeai/plugin-kubeai-common';
import {
  compact,
  containerEnv,
  containerResources,
  datasetVolumes,
  VOLCANO,
} from './common';
import { kubeaiLabels, type KubeaiLabelInput } from './labels';
import { tableInputArgs, tableInputEnv } from './tableInputs';
import type { ParsedTrainingInput, TrainingKind } from './trainingInput';
import type { Container, PodSpec, PodTemplate, Volume } from './types';

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
export function workloadApiVersion(
  kind: TrainingKind,
  options: TrainingBuildOptions,
): string {
  return (
    options.apiVersion ??
    (kind === 'CronJob' ? options.cronJobApiVersion : undefined) ??
    preferredApiVersion(kind)
  );
}

/** The KubeAI labels of the run's objects. */
export function labelInput(input: ParsedTrainingInput): KubeaiLabelInput {
  return {
    entityRef: input.entityRef,
    modelRef: input.modelRef,
    modelVersion: input.modelVersion,
    runId: input.runId,
  };
}

/** The single training container plus the pod-level volumes it needs. */
export function trainingContainer(
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
  // tables are read by the code itself: it is told where through env (and args when asked)
  const env = [
    ...(containerEnv(input.env) ?? []),
    ...tableInputEnv(input.tables),
  ];
  const args = [...(input.args ?? []), ...tableInputArgs(input.tables)];
  const container: Container = compact({
    name: containerName,
    image: input.image,
    command: input.command,
    args: input.args || args.length > 0 ? args : undefined,
    workingDir: input.workingDir,
    env: env.length > 0 ? env : undefined,
    resources: containerResources(resources),
    volumeMounts: volumeMounts.length > 0 ? volumeMounts : undefined,
  });
  return { container, volumes };
}

/** Pod template of the plain Kubernetes kinds and the Training Operator replicas. */
export function podTemplate(
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
