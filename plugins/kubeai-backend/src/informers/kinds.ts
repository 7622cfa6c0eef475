/**
 * The kinds the cluster informers list and watch: every kind the portal creates. Each is served
 * under one of `versions` (picked by discovery); kinds a cluster does not serve (CRD not
 * installed) are skipped.
 */
import { KUBEAI_LABELS, KUBEAI_MANAGER } from '@kubeai/plugin-kubeai-common';

/** The portal's label selector: `app.kubernetes.io/managed-by=kubeai`. */
export const MANAGED_SELECTOR = `${KUBEAI_LABELS.managedBy}=${KUBEAI_MANAGER}`;

export type ObservedKind =
  | 'Job'
  | 'CronJob'
  | 'TFJob'
  | 'PyTorchJob'
  | 'XGBoostJob'
  | 'TrainJob'
  | 'Notebook'
  | 'InferenceService'
  | 'Workflow'
  | 'CronWorkflow'
  | 'Dataset'
  | 'PersistentVolumeClaim';

/**
 * What the registry makes of an object of the kind:
 * - `run`: a run (training task, notebook session, pipeline run);
 * - `schedule`: a CronJob / CronWorkflow, whose spawned objects are runs of the schedule;
 * - `service`: an InferenceService (the observed state of a deployment; discovery);
 * - `object`: observed state only (Fluid Dataset cache, PVC).
 */
export type KindRole = 'run' | 'schedule' | 'service' | 'object';

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

export const OBSERVED_KINDS: readonly KindSpec[] = [
  {
    kind: 'Job',
    group: 'batch',
    versions: ['v1'],
    selector: MANAGED_SELECTOR,
    role: 'run',
    runKind: 'training',
  },
  {
    kind: 'CronJob',
    group: 'batch',
    versions: ['v1', 'v1beta1'],
    selector: MANAGED_SELECTOR,
    role: 'schedule',
  },
  {
    kind: 'TFJob',
    group: 'kubeflow.org',
    versions: ['v1'],
    selector: MANAGED_SELECTOR,
    role: 'run',
    runKind: 'training',
  },
  {
    kind: 'PyTorchJob',
    group: 'kubeflow.org',
    versions: ['v1'],
    selector: MANAGED_SELECTOR,
    role: 'run',
    runKind: 'training',
  },
  {
    kind: 'XGBoostJob',
    group: 'kubeflow.org',
    versions: ['v1'],
    selector: MANAGED_SELECTOR,
    role: 'run',
    runKind: 'training',
  },
  {
    kind: 'TrainJob',
    group: 'trainer.kubeflow.org',
    versions: ['v1alpha1'],
    selector: MANAGED_SELECTOR,
    role: 'run',
    runKind: 'training',
  },
  {
    kind: 'Notebook',
    group: 'kubeflow.org',
    versions: ['v1', 'v1beta1'],
    selector: MANAGED_SELECTOR,
    role: 'run',
    runKind: 'notebook',
  },
  {
    // all of them: services the portal did not create are matched against registered artifacts
    kind: 'InferenceService',
    group: 'serving.kserve.io',
    versions: ['v1beta1'],
    role: 'service',
  },
  {
    kind: 'Workflow',
    group: 'argoproj.io',
    versions: ['v1alpha1'],
    selector: MANAGED_SELECTOR,
    role: 'run',
    runKind: 'pipeline',
  },
  {
    kind: 'CronWorkflow',
    group: 'argoproj.io',
    versions: ['v1alpha1'],
    selector: MANAGED_SELECTOR,
    role: 'schedule',
  },
  {
    kind: 'Dataset',
    group: 'data.fluid.io',
    versions: ['v1alpha1'],
    selector: MANAGED_SELECTOR,
    role: 'object',
  },
  {
    kind: 'PersistentVolumeClaim',
    group: '',
    versions: ['v1'],
    selector: MANAGED_SELECTOR,
    role: 'object',
  },
];

const BY_KIND = new Map(OBSERVED_KINDS.map(k => [k.kind, k]));

/** The spec of an observed kind. */
export function kindSpec(kind: string): KindSpec | undefined {
  return BY_KIND.get(kind as ObservedKind);
}
