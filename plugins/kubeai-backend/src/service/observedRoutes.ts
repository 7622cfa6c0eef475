/**
 * The observed-state routes of the KubeAI API, registered on the typed router of ./router.ts:
 *
 * - `GET /clusters/status`: health of the cluster informers (per cluster and kind);
 * - `GET /observed/objects`: objects as the informers last saw them (also discovered services);
 * - `GET /runs/{id}/logs`: the logs of a run's pods, `tail` lines, `follow` as a stream
 *   (permission `kubeai.run.logs.read`, checked before anything else is read).
 *
 * Observed fields of runs, deployments and lineage are answered by the registry routes themselves.
 */
import type { ApiRouter } from '@backstage/backend-openapi-utils';
import type { LoggerService } from '@backstage/backend-plugin-api';
import { NotFoundError, ServiceUnavailableError } from '@backstage/errors';
import {
  kubeaiRunLogsReadPermission,
  WORKLOAD_KINDS,
  WORKLOADS,
} from '@kubeai/plugin-kubeai-common';
import type { KubeaiOpenApiSpec } from '@kubeai/plugin-kubeai-node';
import type { Request, Response } from 'express';
import type { IncomingMessage } from 'node:http';
import { createInterface } from 'node:readline';
import type { ClusterGateway } from '../cluster/ClusterGateway';
import { findRunPods, openPodLog, type RunPod } from '../cluster/logs';
import type { RegistryStore } from '../database/RegistryStore';
import type { InformerManager } from '../informers/InformerManager';
import type { Access } from './access/Access';

/** What the plugin gives the observed routes (see plugin.ts). */
export interface ObservedRoutesOptions {
  /** The running informers; without them `GET /clusters/status` says they are disabled. */
  informers?: InformerManager;
}

/** Everything {@link registerObservedRoutes} needs. */
export interface ObservedRoutesContext extends ObservedRoutesOptions {
  store: RegistryStore;
  access: Access;
  logger: LoggerService;
  gateway?: ClusterGateway;
}

/** The kinds whose objects are runs (the workload table): the object of a run, for its pods. */
const RUN_KINDS = new Set<string>(
  WORKLOAD_KINDS.filter(kind => WORKLOADS[kind].observed === 'run'),
);

export function registerObservedRoutes(
  api: ApiRouter<KubeaiOpenApiSpec>,
  context: ObservedRoutesContext,
): void {
  const { store, access } = context;

  api.get('/clusters/status', async (_req, res) => {
    const informers = context.informers;
    if (!informers) {
      res.json({ informersEnabled: false, items: [] });
      return;
    }
    const counts = await store.countObservedObjects();
    const items = informers.status().map(cluster => ({
      ...cluster,
      kinds: cluster.kinds.map(kind => ({
        ...kind,
        objects: counts.get(`${cluster.name}|${kind.kind}`) ?? 0,
      })),
    }));
    res.json({ informersEnabled: true, items });
  });

  // everyone reads (like GET /clusters/{cluster}/pools); from the observed Workloads and ClusterQueues
  api.get('/pools/usage', async (req, res) => {
    const { cluster, team } = req.query;
    if (
      cluster &&
      context.gateway &&
      !context.gateway.listClusters().some(c => c.name === cluster)
    ) {
      throw new NotFoundError(`cluster "${cluster}" is not configured`);
    }
    res.json({ items: await store.observed.queueUsage({ cluster, team }) });
  });

  api.get('/observed/objects', async (req, res) => {
    res.json(await store.listObservedObjects(req.query));
  });

  api.get('/runs/:id/logs', async (req, res) => {
    const credentials = await access.credentials(req);
    await access.authorize(credentials, [
      { permission: kubeaiRunLogsReadPermission },
    ]);
    const run = await store.getRun(req.params.id);
    if (!run) {
      throw new NotFoundError(`run ${req.params.id} not found`);
    }
    const gateway = context.gateway;
    if (!gateway || !gateway.listClusters().some(c => c.name === run.cluster)) {
      throw new ServiceUnavailableError(
        `cannot read the logs of run ${run.id}: cluster "${run.cluster}" is not configured`,
      );
    }
    const objects = await store.observedObjectsOfRun(run.id);
    const kind =
      objects.find(o => RUN_KINDS.has(o.kind))?.kind ??
      (run.observed?.kind && RUN_KINDS.has(run.observed.kind)
        ? run.observed.kind
        : undefined);
    const workload = {
      runId: run.id,
      cluster: run.cluster,
      namespace: run.namespace,
      name: run.name,
      kind,
    };
    const { pods, selectors } = await findRunPods(
      gateway,
      workload,
      req.query.pod,
    );
    if (pods.length === 0) {
      throw new NotFoundError(
        req.query.pod
          ? `run ${run.id} has no pod ${
              req.query.pod
            } (its pods match ${selectors.join(' or ')} in namespace ${
              run.namespace
            } of cluster ${run.cluster})`
          : `run ${run.id} (${kind ?? 'object'} ${run.namespace}/${
              run.name
            } in cluster ${
              run.cluster
            }) has no pods: none matches ${selectors.join(' or ')}`,
      );
    }
    const abort = new AbortController();
    const onClose = () => abort.abort();
    req.on('close', onClose);
    res.on('close', onClose);
    const follow = req.query.follow ?? false;
    const tailLines = req.query.tail ?? 100;
    // open every log before answering: a failure is an error answer, not a cut stream
    const streams: { pod: RunPod; body: IncomingMessage }[] = [];
    try {
      for (const pod of pods) {
        streams.push({
          pod,
          body: await openPodLog(gateway, run.cluster, run.namespace, pod, {
            container: req.query.container,
            tailLines,
            follow,
            signal: abort.signal,
          }),
        });
      }
    } catch (error) {
      abort.abort();
      throw error;
    }
    await streamLogs(req, res, streams, follow, abort);
  });
}

/** Writes the logs: one pod as it is, several with `[pod] ` before each line. */
async function streamLogs(
  _req: Request<any, any, any, any>,
  res: Response,
  streams: { pod: RunPod; body: IncomingMessage }[],
  follow: boolean,
  abort: AbortController,
): Promise<void> {
  res.status(200);
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-store');
  if (follow) res.flushHeaders();
  const write = (text: string) =>
    new Promise<void>(resolve => {
      if (res.write(text)) resolve();
      else res.once('drain', () => resolve());
    });
  const pipeOne = async ({ pod, body }: (typeof streams)[number]) => {
    if (streams.length === 1) {
      for await (const chunk of body) {
        if (abort.signal.aborted) break;
        await write(chunk.toString('utf8'));
      }
      return;
    }
    const lines = createInterface({ input: body, crlfDelay: Infinity });
    lines.on('error', () => lines.close());
    for await (const line of lines) {
      if (abort.signal.aborted) break;
      await write(`[${pod.name}] ${line}\n`);
    }
  };
  try {
    if (follow) {
      await Promise.all(streams.map(s => pipeOne(s).catch(() => undefined)));
    } else {
      for (const s of streams) {
        await pipeOne(s).catch(() => undefined);
      }
    }
  } finally {
    abort.abort();
    for (const s of streams) s.body.destroy();
    if (!res.writableEnded) res.end();
  }
}
