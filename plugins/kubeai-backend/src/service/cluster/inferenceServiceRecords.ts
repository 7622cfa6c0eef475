/**
 * What the inference service routes (./inferenceServices.ts, ./inferenceServiceDeploy.ts) share:
 * reading the live InferenceService, recording deployment revisions, and the canary overrides.
 */
import type { Deployment, TrafficTarget } from '@kubeai/plugin-kubeai-common';
import type { ClusterGateway } from '../../cluster';
import type { RegistryStore } from '../../database/RegistryStore';
import {
  KUBEAI_ANNOTATIONS,
  KUBEAI_LABELS,
  type InferenceServiceObject,
} from '../../manifests';

/** The InferenceService `namespace/name` of `cluster`, or undefined when there is none. */
export async function readInferenceService(
  gateway: ClusterGateway,
  cluster: string,
  namespace: string,
  name: string,
): Promise<InferenceServiceObject | undefined> {
  try {
    return (await gateway.get(cluster, {
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      namespace,
      name,
    })) as InferenceServiceObject;
  } catch (error) {
    if ((error as Error)?.name === 'NotFoundError') return undefined;
    throw error;
  }
}

/** Creates the deployment, or adds a revision when the desired state changed. */
export async function recordDeployment(
  store: RegistryStore,
  serviceRef: string,
  current: Deployment | undefined,
  next: {
    cluster: string;
    namespace: string;
    name: string;
    modelRef: string;
    traffic: TrafficTarget[];
    desired: Record<string, unknown>;
    message: string;
  },
  actor: string,
): Promise<Deployment> {
  const latest = current ?? (await store.getDeployment(serviceRef));
  if (!latest) {
    try {
      return await store.createDeployment(
        {
          serviceRef,
          cluster: next.cluster,
          namespace: next.namespace,
          name: next.name,
          modelRef: next.modelRef,
          traffic: next.traffic,
          desired: next.desired,
          message: next.message,
        },
        actor,
      );
    } catch (error) {
      // a concurrent identical request recorded it first
      const again = await store.getDeployment(serviceRef);
      if (!again) throw error;
      return recordDeployment(store, serviceRef, again, next, actor);
    }
  }
  const same =
    latest.modelRef === next.modelRef &&
    stableJson(sortTraffic(latest.traffic)) ===
      stableJson(sortTraffic(next.traffic)) &&
    stableJson(latest.desired) === stableJson(next.desired);
  if (same) return latest;
  return store.updateDeployment(
    serviceRef,
    {
      modelRef: next.modelRef,
      traffic: next.traffic,
      desired: next.desired,
      message: next.message,
    },
    actor,
  );
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

function sortTraffic(traffic: TrafficTarget[]): TrafficTarget[] {
  return [...traffic].sort((a, b) => a.version - b.version);
}

export function formatTraffic(traffic: TrafficTarget[]): string {
  return traffic.map(t => `v${t.version} ${t.percent}%`).join(', ');
}

/**
 * A canary keeps what the live object says; the request's settings (replicas, resources,
 * runtime, service account, env) still apply.
 */
export function withOverrides(
  object: InferenceServiceObject,
  fresh: InferenceServiceObject,
  body: {
    resources?: unknown;
    env?: unknown;
    minReplicas?: number;
    maxReplicas?: number;
    runtime?: string;
    protocolVersion?: string;
    serviceAccountName?: string;
  },
): InferenceServiceObject {
  const predictor = { ...object.spec.predictor };
  const model = { ...predictor.model };
  const freshPredictor = fresh.spec.predictor;
  if (body.minReplicas !== undefined)
    predictor.minReplicas = freshPredictor.minReplicas;
  if (body.maxReplicas !== undefined)
    predictor.maxReplicas = freshPredictor.maxReplicas;
  if (body.serviceAccountName !== undefined) {
    predictor.serviceAccountName = freshPredictor.serviceAccountName;
  }
  if (body.resources !== undefined)
    model.resources = freshPredictor.model.resources;
  if (body.env !== undefined) model.env = freshPredictor.model.env;
  if (body.runtime !== undefined) model.runtime = freshPredictor.model.runtime;
  if (body.protocolVersion !== undefined) {
    model.protocolVersion = freshPredictor.model.protocolVersion;
  }
  predictor.model = model;
  return {
    ...object,
    metadata: {
      ...object.metadata,
      labels: {
        ...object.metadata.labels,
        [KUBEAI_LABELS.entity]: fresh.metadata.labels![KUBEAI_LABELS.entity],
      },
      annotations: {
        ...object.metadata.annotations,
        [KUBEAI_ANNOTATIONS.entityRef]:
          fresh.metadata.annotations![KUBEAI_ANNOTATIONS.entityRef],
      },
    },
    spec: { ...object.spec, predictor },
  };
}
