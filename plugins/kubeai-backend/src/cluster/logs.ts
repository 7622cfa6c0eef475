/**
 * Pod logs of a run, through the cluster gateway: find the pods of the run's workload by the labels
 * their controllers put on them, then stream `GET /api/v1/namespaces/{ns}/pods/{pod}/log`.
 *
 * The apiserver proxies the log request to the kubelet of the pod's node. Its failures are mapped
 * to errors that name the reason: the pod is not scheduled yet (409), its node is not registered
 * or its kubelet cannot be reached (503), the container does not exist (400).
 */
import {
  ConflictError,
  InputError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import type { IncomingMessage } from 'node:http';
import {
  isWorkloadKind,
  KUBEAI_LABELS,
  WORKLOAD_KINDS,
  WORKLOADS,
} from '@kubeai/plugin-kubeai-common';
import type { ClusterGateway } from './ClusterGateway';
import { StreamHttpError } from './stream';

/** The object a run is, as far as logs are concerned. */
export interface RunWorkload {
  runId: string;
  cluster: string;
  namespace: string;
  name: string;
  /** A workload kind whose objects are runs, e.g. Job, TFJob, Workflow, Notebook (unknown: all selectors). */
  kind?: string;
}

/** A pod of a run. */
export interface RunPod {
  name: string;
  nodeName?: string;
  phase?: string;
  containers: string[];
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * Label selectors that find the pods of a workload (the controllers' labels, `podLabels` of the
 * workload table, and `kubeai.io/run`).
 */
export function podSelectors(workload: RunWorkload): string[] {
  const keys: readonly string[] = workload.kind
    ? (isWorkloadKind(workload.kind) && WORKLOADS[workload.kind].podLabels) ||
      []
    : [...new Set(WORKLOAD_KINDS.flatMap(kind => WORKLOADS[kind].podLabels))];
  const selectors: string[] = [];
  if (workload.name.length <= 63 && LABEL_VALUE.test(workload.name)) {
    selectors.push(...keys.map(key => `${key}=${workload.name}`));
  }
  selectors.push(`${KUBEAI_LABELS.run}=${workload.runId}`);
  return selectors;
}

/** The run's pods (all selectors, deduplicated), optionally only `podName`. */
export async function findRunPods(
  gateway: ClusterGateway,
  workload: RunWorkload,
  podName?: string,
): Promise<{ pods: RunPod[]; selectors: string[] }> {
  const selectors = podSelectors(workload);
  const pods = new Map<string, RunPod>();
  for (const labelSelector of selectors) {
    const items = await gateway.list(workload.cluster, {
      apiVersion: 'v1',
      kind: 'Pod',
      namespace: workload.namespace,
      labelSelector,
    });
    for (const item of items as any[]) {
      const name = item.metadata?.name;
      if (!name || pods.has(name)) continue;
      pods.set(name, {
        name,
        nodeName: item.spec?.nodeName || undefined,
        phase: item.status?.phase,
        containers: (item.spec?.containers ?? []).map((c: any) => c.name),
      });
    }
  }
  let list = [...pods.values()].sort((a, b) => a.name.localeCompare(b.name));
  if (podName) list = list.filter(p => p.name === podName);
  return { pods: list, selectors };
}

/** The container to read: the asked one, the only one, `main`, else the first. */
export function logContainer(pod: RunPod, container?: string): string {
  if (container) {
    if (!pod.containers.includes(container)) {
      throw new InputError(
        `request/query/container: pod ${
          pod.name
        } has no container "${container}" (it has ${pod.containers.join(
          ', ',
        )})`,
      );
    }
    return container;
  }
  if (pod.containers.length === 1) return pod.containers[0];
  return pod.containers.includes('main') ? 'main' : pod.containers[0];
}

/**
 * Opens the log of one container of a pod; the body streams the lines (with `follow`, until the
 * container ends or `signal` aborts). Fails with an error that names the reason.
 */
export async function openPodLog(
  gateway: ClusterGateway,
  cluster: string,
  namespace: string,
  pod: RunPod,
  options: {
    container?: string;
    tailLines: number;
    follow: boolean;
    signal?: AbortSignal;
  },
): Promise<IncomingMessage> {
  if (!pod.nodeName) {
    throw new ConflictError(
      `pod ${pod.name} is not scheduled to a node yet (phase ${
        pod.phase ?? 'unknown'
      }): it has no logs`,
    );
  }
  const container = logContainer(pod, options.container);
  try {
    return await gateway.stream(
      cluster,
      `/api/v1/namespaces/${encodeURIComponent(
        namespace,
      )}/pods/${encodeURIComponent(pod.name)}/log`,
      {
        container,
        tailLines: options.tailLines,
        follow: options.follow ? 'true' : undefined,
      },
      { signal: options.signal, connectTimeoutMs: 30_000 },
    );
  } catch (error) {
    throw logError(gateway, cluster, namespace, pod, error);
  }
}

function logError(
  gateway: ClusterGateway,
  cluster: string,
  namespace: string,
  pod: RunPod,
  error: unknown,
): Error {
  const what = `the logs of pod ${namespace}/${pod.name} in cluster ${cluster}`;
  if (error instanceof StreamHttpError) {
    const body = (error.body ?? {}) as {
      message?: string;
      details?: { name?: string; kind?: string };
    };
    const message = String(body.message ?? '').slice(0, 500);
    if (error.code === 404) {
      if (body.details?.name && body.details.name !== pod.name) {
        // the apiserver looks the node up to reach its kubelet
        return new ServiceUnavailableError(
          `cannot read ${what}: its node ${pod.nodeName} is not registered with the apiserver (no kubelet answers for it)`,
        );
      }
      return new NotFoundError(
        `cannot read ${what}: ${message || 'not found'}`,
      );
    }
    if (error.code === 400) {
      return new ConflictError(`cannot read ${what}: ${message}`);
    }
    if (error.code >= 500) {
      const kubelet =
        /dial tcp|connection refused|no route to host|i\/o timeout|kubelet/i.test(
          message,
        );
      return new ServiceUnavailableError(
        kubelet
          ? `cannot read ${what}: the kubelet of node ${pod.nodeName} is unreachable (${message})`
          : `cannot read ${what}: the apiserver answered ${error.code}${
              message ? ` (${message})` : ''
            }`,
      );
    }
  }
  return gateway.toError(error, {
    cluster,
    verb: 'read logs of',
    kind: 'Pod',
    namespace,
    name: pod.name,
  });
}
