/**
 * Drift between what the registry declares for a deployment (its traffic split over model
 * versions) and what the cluster serves (the deployment's `observed` state, written by the
 * informers). Pure functions.
 */
import type { Drift, DriftType } from '@kubeai/plugin-kubeai-common';

/** One share of the traffic as the cluster serves it. */
export interface ObservedTrafficTarget {
  /** The registered version of the deployment's model with this artifact; null: none has it. */
  version: number | null;
  percent: number;
  storageUri?: string;
  /** KServe revision, when the status names it. */
  revision?: string;
  /** The newest revision (the one the current spec describes). */
  latest?: boolean;
}

/** The `observed` state of a deployment (JSON in `kubeai_deployments.observed`). */
export interface DeploymentObserved {
  /** `Ready`, `NotReady`, `Pending`; `Deleted` (gone from the cluster), `NotFound` (never seen there). */
  phase: string;
  ready: boolean;
  url?: string;
  cluster?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
  /** Carries the portal's managed-by label. */
  managed?: boolean;
  storageUri?: string;
  /** The version the current spec serves (matched by storageUri, else the model-version label). */
  servedVersion?: number | null;
  traffic?: ObservedTrafficTarget[];
  reason?: string;
  message?: string;
  deleted?: boolean;
  deletedAt?: string;
  conditions?: unknown[];
  [key: string]: unknown;
}

/**
 * Whether and why a deployment drifted, as the API shows it (`unknown`: nothing observed yet — no
 * informer for the cluster, or not synced).
 */
export type { Drift, DriftType };

const describe = (traffic: Map<string, number>) =>
  [...traffic.entries()]
    .map(([version, percent]) =>
      version === 'null'
        ? `an unregistered artifact (${percent}%)`
        : `version ${version} (${percent}%)`,
    )
    .join(', ') || 'nothing';

function shares(
  traffic: { version: number | null; percent: number }[],
): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of traffic) {
    if (t.percent <= 0) continue;
    const key = String(t.version);
    out.set(key, (out.get(key) ?? 0) + t.percent);
  }
  return new Map([...out.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * The drift of a deployment: `deleted` / `missing` when the InferenceService is gone from (or not
 * in) its cluster; `version` when the versions served differ from the declared ones (including an
 * artifact that is no registered version); `traffic` when the same versions get other shares.
 */
export function computeDrift(
  declared: { version: number; percent: number }[],
  observed: DeploymentObserved | null | undefined,
): Drift {
  if (!observed || typeof observed !== 'object') {
    return { status: 'unknown', reasons: [] };
  }
  const where = observed.name
    ? `InferenceService ${observed.namespace}/${observed.name}${
        observed.cluster ? ` in cluster ${observed.cluster}` : ''
      }`
    : 'the InferenceService';
  if (observed.deleted || observed.phase === 'Deleted') {
    return {
      status: 'drifted',
      reasons: [
        {
          type: 'deleted',
          message: `${where} was deleted outside the portal${
            observed.deletedAt ? ` (seen ${observed.deletedAt})` : ''
          }`,
        },
      ],
    };
  }
  if (observed.phase === 'NotFound') {
    return {
      status: 'drifted',
      reasons: [
        { type: 'missing', message: `${where} does not exist in the cluster` },
      ],
    };
  }
  if (!Array.isArray(observed.traffic) || observed.traffic.length === 0) {
    return { status: 'unknown', reasons: [] };
  }
  const want = shares(declared);
  const have = shares(observed.traffic);
  const sameVersions =
    want.size === have.size && [...want.keys()].every(v => have.has(v));
  if (!sameVersions) {
    const unregistered = observed.traffic.find(
      t => t.version === null && t.percent > 0,
    );
    return {
      status: 'drifted',
      reasons: [
        {
          type: 'version',
          message: `declared ${describe(
            want,
          )}, but the cluster serves ${describe(have)}${
            unregistered?.storageUri
              ? ` (${unregistered.storageUri} is no registered version)`
              : ''
          }`,
        },
      ],
    };
  }
  const sameShares = [...want.entries()].every(([v, p]) => have.get(v) === p);
  if (!sameShares) {
    return {
      status: 'drifted',
      reasons: [
        {
          type: 'traffic',
          message: `declared ${describe(
            want,
          )}, but the cluster splits ${describe(have)}`,
        },
      ],
    };
  }
  return { status: 'inSync', reasons: [] };
}

/**
 * The traffic an InferenceService serves, per model version: from KServe's status traffic
 * (latest revision → the current spec's artifact, the others → the stable one of the
 * `kubeai.io/stable-*` annotations) when the status has it, else from the spec
 * (`canaryTrafficPercent`).
 */
export function observedTraffic(
  current: { storageUri?: string; version: number | null },
  stable: { storageUri?: string; version: number | null } | undefined,
  details: {
    canaryTrafficPercent?: number;
    statusTraffic?: {
      revisionName?: string;
      percent?: number;
      latestRevision?: boolean;
    }[];
  },
): ObservedTrafficTarget[] {
  const out: ObservedTrafficTarget[] = [];
  const target = (
    version: { storageUri?: string; version: number | null },
    percent: number,
    extra: Partial<ObservedTrafficTarget> = {},
  ): ObservedTrafficTarget => {
    const t: ObservedTrafficTarget = { version: version.version, percent };
    if (version.storageUri) t.storageUri = version.storageUri;
    return { ...t, ...extra };
  };
  if (Array.isArray(details.statusTraffic) && details.statusTraffic.length) {
    for (const t of details.statusTraffic) {
      const percent = Number(t.percent ?? 0);
      const source = t.latestRevision
        ? current
        : stable ?? { version: null, storageUri: undefined };
      out.push(
        target(source, percent, {
          ...(t.revisionName ? { revision: t.revisionName } : {}),
          latest: Boolean(t.latestRevision),
        }),
      );
    }
    return out;
  }
  const canary = details.canaryTrafficPercent;
  if (
    typeof canary === 'number' &&
    canary < 100 &&
    stable &&
    stable.storageUri !== current.storageUri
  ) {
    out.push(target(current, canary, { latest: true }));
    out.push(target(stable, 100 - canary, { latest: false }));
    return out;
  }
  out.push(target(current, 100, { latest: true }));
  return out;
}
