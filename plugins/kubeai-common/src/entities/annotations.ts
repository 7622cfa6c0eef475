/**
 * Annotations that KubeAI entities may carry (`metadata.annotations`).
 * Values that have a format (the cron schedule) are validated with the kind's schema.
 */
import {
  TRAINING_WORKLOAD_KINDS,
  type TrainingWorkloadKind,
} from '../workloads';

/** Cron schedule (5 fields, UTC) of the periodic training task of a Model, e.g. `0 2 * * *`. */
export const ANNOTATION_KUBEAI_TRAINING_SCHEDULE =
  'kubeai.io/training-schedule';

/**
 * Kubernetes workload that trains a Model: a training kind of the workload table
 * ({@link TRAINING_JOB_KINDS}), e.g. `PyTorchJob`, `TFJob`, `Job` or `CronJob`.
 */
export const ANNOTATION_KUBEAI_TRAINING_JOB_KIND =
  'kubeai.io/training-job-kind';

/** Distributed training topology of a Model, e.g. `ps-worker`, `allreduce`, `single`. */
export const ANNOTATION_KUBEAI_TRAINING_TOPOLOGY =
  'kubeai.io/training-topology';

/** Kubernetes namespace the entity's workloads run in. */
export const ANNOTATION_KUBEAI_NAMESPACE = 'kubeai.io/namespace';

/** Name of the cluster (as in the `kubernetes:` app-config) the entity's workloads run in. */
export const ANNOTATION_KUBEAI_CLUSTER = 'kubeai.io/cluster';

/** Name of the model in the model registry, when it differs from `metadata.name`. */
export const ANNOTATION_KUBEAI_REGISTRY_NAME = 'kubeai.io/registry-name';

/** Every annotation that KubeAI defines. */
export const KUBEAI_ANNOTATIONS = [
  ANNOTATION_KUBEAI_TRAINING_SCHEDULE,
  ANNOTATION_KUBEAI_TRAINING_JOB_KIND,
  ANNOTATION_KUBEAI_TRAINING_TOPOLOGY,
  ANNOTATION_KUBEAI_NAMESPACE,
  ANNOTATION_KUBEAI_CLUSTER,
  ANNOTATION_KUBEAI_REGISTRY_NAME,
] as const;

/** Training job kinds accepted in {@link ANNOTATION_KUBEAI_TRAINING_JOB_KIND}: the training kinds of the workload table. */
export const TRAINING_JOB_KINDS: readonly TrainingWorkloadKind[] =
  TRAINING_WORKLOAD_KINDS;
