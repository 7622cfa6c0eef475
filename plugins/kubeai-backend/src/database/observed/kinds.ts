/**
 * The kinds the cluster informers list and watch: every kind the portal creates (the workload
 * table of `@kubeai/plugin-kubeai-common` and its data objects). Each is served under one of
 * `versions` (picked by discovery); kinds a cluster does not serve (CRD not installed) are skipped.
 */
import {
  CLUSTER_KINDS,
  clusterKindSpec,
  isWorkloadKind,
  KUBEAI_LABELS,
  KUBEAI_MANAGER,
  WORKLOADS,
  type ClusterKind,
  type ObservedRole,
} from '@kubeai/plugin-kubeai-common';

/** The portal's label selector: `app.kubernetes.io/managed-by=kubeai`. */
export const MANAGED_SELECTOR = `${KUBEAI_LABELS.managedBy}=${KUBEAI_MANAGER}`;

export type ObservedKind = ClusterKind;

/**
 * What the registry makes of an object of the kind:
 * - `run`: a run (training task, notebook session, pipeline run);
 * - `schedule`: a CronJob / CronWorkflow, whose spawned objects are runs of the schedule;
 * - `service`: an InferenceService (the observed state of a deployment; discovery);
 * - `object`: observed state only (Fluid Dataset cache, PVC).
 */
export type KindRole = ObservedRole;

export interface KindSpec {
  kind: ObservedKind;
  group: string;
  /** Preferred versions, in order. */
  versions: string[];
  /** Label selector of the list / watch; none: every object of the kind (discovery). */
  selector?: string;
  role: KindRole;
  /** `kind` of the registry run, for `run` kinds. */
  runKind?: 'training' | 'notebook' | 'pipeline';
}

/** The observed kinds, from the workload table (in its order), then the data objects. */
export const OBSERVED_KINDS: readonly KindSpec[] = CLUSTER_KINDS.map(kind => {
  const spec = clusterKindSpec(kind)!;
  const role = isWorkloadKind(kind) ? WORKLOADS[kind].role : undefined;
  return {
    kind,
    group: spec.group,
    versions: [...spec.versions],
    ...(spec.watch === 'managed' ? { selector: MANAGED_SELECTOR } : {}),
    role: spec.observed,
    ...(spec.observed === 'run' && role && role !== 'serving'
      ? { runKind: role }
      : {}),
  };
});

const BY_KIND = new Map(OBSERVED_KINDS.map(k => [k.kind, k]));

/** The spec of an observed kind. */
export function kindSpec(kind: string): KindSpec | undefined {
  return BY_KIND.get(kind as ObservedKind);
}
