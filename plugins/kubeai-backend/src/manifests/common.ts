/**
 * Pieces shared by the workload builders: container resources, env, dataset volumes, Kueue and
 * Volcano settings. Pure functions over already validated inputs.
 */
import type {
  DatasetMountInput,
  EnvVarInput,
  KueueInput,
  ResourcesInput,
} from './inputs';
import type { EnvVar, ResourceRequirements, Volume } from './types';

/** The extended resource name of NVIDIA GPUs. */
export const GPU_RESOURCE = 'nvidia.com/gpu';

/** Kueue label keys. */
export const KUEUE_LABELS = {
  queueName: 'kueue.x-k8s.io/queue-name',
  priorityClass: 'kueue.x-k8s.io/priority-class',
} as const;

/** The scheduler name and pod annotation of Volcano gang scheduling. */
export const VOLCANO = {
  schedulerName: 'volcano',
  groupNameAnnotation: 'scheduling.k8s.io/group-name',
} as const;

/** `resources` of a container from {@link ResourcesInput}; `undefined` when nothing is asked. */
export function containerResources(
  input: ResourcesInput | undefined,
): ResourceRequirements | undefined {
  if (!input) {
    return undefined;
  }
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  if (input.cpu) {
    requests.cpu = input.cpu;
  }
  if (input.memory) {
    requests.memory = input.memory;
  }
  if (input.cpuLimit) {
    limits.cpu = input.cpuLimit;
  }
  if (input.memoryLimit ?? input.memory) {
    limits.memory = (input.memoryLimit ?? input.memory)!;
  }
  if (input.gpu && input.gpu > 0) {
    limits[GPU_RESOURCE] = String(input.gpu);
  }
  const result: ResourceRequirements = {};
  if (Object.keys(requests).length > 0) {
    result.requests = requests;
  }
  if (Object.keys(limits).length > 0) {
    result.limits = limits;
  }
  return Object.keys(result).length > 0 ? result : undefined;
}

/** `env` of a container. */
export function containerEnv(
  env: EnvVarInput[] | undefined,
): EnvVar[] | undefined {
  if (!env || env.length === 0) {
    return undefined;
  }
  return env.map(e =>
    'value' in e
      ? { name: e.name, value: e.value }
      : {
          name: e.name,
          valueFrom: {
            secretKeyRef: {
              name: e.secretKeyRef.name,
              key: e.secretKeyRef.key,
            },
          },
        },
  );
}

/** Volume name used for a dataset mount. */
export function datasetVolumeName(dataset: DatasetMountInput): string {
  return `dataset-${dataset.name}`.slice(0, 63).replace(/-+$/, '');
}

/** Read-only PVC volumes and mounts for datasets. */
export function datasetVolumes(datasets: DatasetMountInput[] | undefined): {
  volumes: Volume[];
  volumeMounts: Array<{
    name: string;
    mountPath: string;
    readOnly: true;
    subPath?: string;
  }>;
} {
  const volumes: Volume[] = [];
  const volumeMounts: Array<{
    name: string;
    mountPath: string;
    readOnly: true;
    subPath?: string;
  }> = [];
  for (const dataset of datasets ?? []) {
    const name = datasetVolumeName(dataset);
    volumes.push({
      name,
      persistentVolumeClaim: { claimName: dataset.claimName, readOnly: true },
    });
    volumeMounts.push({
      name,
      mountPath: dataset.mountPath ?? `/data/${dataset.name}`,
      readOnly: true,
      ...(dataset.subPath ? { subPath: dataset.subPath } : {}),
    });
  }
  return { volumes, volumeMounts };
}

/** Kueue labels for a workload; empty when no queue is given. */
export function kueueLabels(
  queue: KueueInput | undefined,
): Record<string, string> {
  // no queue (a namespace without a LocalQueue): nothing for Kueue, a priority alone means nothing
  if (!queue?.name) {
    return {};
  }
  return {
    [KUEUE_LABELS.queueName]: queue.name,
    ...(queue.priorityClass
      ? { [KUEUE_LABELS.priorityClass]: queue.priorityClass }
      : {}),
  };
}

/** Removes keys whose value is `undefined` (so objects compare and serialise cleanly). */
export function compact<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined),
  ) as T;
}
