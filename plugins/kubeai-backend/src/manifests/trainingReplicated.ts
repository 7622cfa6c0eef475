/**
 * The training kinds with replica types (see ./training.ts): Kubeflow Training Operator v1 TFJob,
 * PyTorchJob and XGBoostJob, and MPI operator v2 MPIJob, built from the workload table.
 */
import {
  WORKLOADS,
  type ReplicatedWorkloadKind,
} from '@kubeai/plugin-kubeai-common';
import { compact, kueueLabels } from './common';
import { kubeaiMetadata } from './labels';
import {
  replicaCounts,
  trainingPodCount,
  type ParsedTrainingInput,
  type ReplicatedInput,
} from './trainingInput';
import {
  labelInput,
  podTemplate,
  workloadApiVersion,
  type TrainingBuildOptions,
} from './trainingPods';
import type { KubeObject } from './types';

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
export function replicatedJob(
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
