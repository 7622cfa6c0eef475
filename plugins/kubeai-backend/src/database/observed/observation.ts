/**
 * What the registry records of one cluster object: the {@link Observation} the cluster informers
 * (src/informers/observe.ts) make of an object and the observed store writes. Types and pure
 * predicates only, so that the database side needs nothing of the informers.
 */
import type { KindSpec, ObservedKind } from './kinds';

/** Run phases the registry knows. */
export type ObservedRunPhase =
  | 'Pending'
  | 'Running'
  | 'Succeeded'
  | 'Failed'
  | 'Stopped'
  | 'Unknown';

/** What the registry records of one object. */
export interface Observation {
  cluster: string;
  kind: ObservedKind;
  apiVersion: string;
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
  /** `metadata.creationTimestamp`. */
  createdAt?: string;
  /** Deleted in the cluster (a DELETED event, or missing from a relist). */
  deleted: boolean;
  /** Carries `app.kubernetes.io/managed-by: kubeai`. */
  managed: boolean;
  /** `kubeai.io/entity-ref` (the full catalog entity ref), lower case. */
  entityRef?: string;
  /** `kubeai.io/model-ref`, lower case. */
  modelRef?: string;
  /** `kubeai.io/model-version`. */
  modelVersion?: string;
  /** `kubeai.io/run`. */
  runLabel?: string;
  /** The controlling owner (`ownerReferences` with `controller: true`, else the first). */
  owner?: { kind: string; name: string; uid?: string };
  /** The CronJob / CronWorkflow that spawned it. */
  schedule?: { kind: 'CronJob' | 'CronWorkflow'; name: string };
  /** Run phase for runs; the object's own phase for the other kinds. */
  phase: string;
  reason?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  ready?: boolean;
  url?: string;
  /** InferenceService: the storageUri of the predictor. */
  storageUri?: string;
  /** Kind-specific summary (conditions, cache states, traffic, …). */
  details: Record<string, unknown>;
  /** Runs: what their pod templates may read (resolved to dataset inputs when the run is created). */
  inputs?: ObservedInputs;
}

/** What the pod templates of a run mount and say about their data. */
export interface ObservedInputs {
  /** The PVCs mounted (a Fluid Dataset's PVC has the dataset's name), with the mount's subPath. */
  claims: { claimName: string; subPath?: string }[];
  /**
   * Values of env vars naming datasets (`KUBEAI_DATASET`, `KUBEAI_DATASETS`, `KUBEAI_DATASET_*`:
   * `dataset:<ns>/<name>[@<version>]`, comma separated) and of any env var holding a location
   * (`<scheme>://…`), which may be where a registered dataset version is.
   */
  env: string[];
}

/**
 * Whether the object is a run of its own: `run` kinds, except Jobs controlled by something other
 * than a CronJob (those belong to their owner's run, e.g. a JobSet of a TrainJob).
 */
export function isRun(spec: KindSpec, observation: Observation): boolean {
  if (spec.role !== 'run') return false;
  if (
    spec.kind === 'Job' &&
    observation.owner &&
    observation.owner.kind !== 'CronJob'
  ) {
    return false;
  }
  return true;
}

/**
 * The reason of a run stopped because its object was deleted through the portal (DELETE routes):
 * the informers keep that run's phase, reason and message ("… deleted from the portal by <user>")
 * when they then see the object terminate and go.
 */
export const RUN_DELETED_FROM_PORTAL = 'DeletedFromPortal';

/** Succeeded / Failed / Stopped: the phases nothing changes any more. */
export function isFinalPhase(phase: string): boolean {
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Stopped';
}
