/** The observed state of a deployment (`kubeai_deployments.observed`) from its InferenceService. */
import { fromJson } from '../util';
import { observedTraffic, type DeploymentObserved } from '../drift';
import { bareUri } from './common';
import type { Observation } from './observation';

/** The version to report among several with the same artifact: a declared one, else the newest. */
function pickVersion(
  candidates: number[] | undefined,
  declared: number[],
): number | null {
  if (!candidates || candidates.length === 0) return null;
  const preferred = candidates.filter(v => declared.includes(v));
  return Math.max(...(preferred.length ? preferred : candidates));
}

/** The observed state of a deployment from its InferenceService's observation. */
export function deploymentObserved(
  obs: Observation,
  deployment: { model_ref: string; traffic: string },
  versions: Map<string, number[]>,
  now: string,
  previous?: DeploymentObserved | null,
): DeploymentObserved {
  const declared = fromJson<{ version: number }[]>(deployment.traffic, []).map(
    t => t.version,
  );
  const lookup = (uri: string) =>
    pickVersion(
      versions.get(`${deployment.model_ref}|${bareUri(uri)}`),
      declared,
    );
  const labelVersion =
    obs.modelVersion && /^[1-9][0-9]*$/.test(obs.modelVersion)
      ? Number(obs.modelVersion)
      : null;
  const servedVersion = obs.storageUri ? lookup(obs.storageUri) : labelVersion;
  const details = obs.details as {
    stable?: { version?: string; storageUri?: string };
    canaryTrafficPercent?: number;
    statusTraffic?: [];
    conditions?: unknown[];
    revisions?: Record<string, unknown>;
  };
  const stable = details.stable?.storageUri
    ? {
        storageUri: details.stable.storageUri,
        version: lookup(details.stable.storageUri),
      }
    : undefined;
  const out: DeploymentObserved = {
    phase: obs.deleted ? 'Deleted' : obs.phase,
    ready: !obs.deleted && Boolean(obs.ready),
    cluster: obs.cluster,
    namespace: obs.namespace,
    name: obs.name,
    uid: obs.uid,
    resourceVersion: obs.resourceVersion,
    managed: obs.managed,
    modelRef: deployment.model_ref,
    servedVersion,
    traffic: obs.deleted
      ? []
      : observedTraffic(
          { storageUri: obs.storageUri, version: servedVersion },
          stable,
          details,
        ),
  };
  if (obs.url) out.url = obs.url;
  if (obs.storageUri) out.storageUri = obs.storageUri;
  if (obs.reason) out.reason = obs.reason;
  if (obs.message) out.message = obs.message;
  if (details.revisions) out.revisions = details.revisions;
  if (details.conditions) out.conditions = details.conditions;
  if (obs.deleted) {
    out.deleted = true;
    out.deletedAt =
      previous?.deleted && previous.deletedAt ? previous.deletedAt : now;
  }
  return out;
}
