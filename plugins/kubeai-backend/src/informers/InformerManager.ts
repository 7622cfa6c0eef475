/**
 * The cluster informers of the backend: one {@link KindInformer} per (configured cluster, watched
 * kind), one {@link ObservationWriter} for all of them, and each cluster's health for
 * `GET /clusters/status`. Started by the plugin (config `kubeai.informers.enabled`, default true)
 * and stopped on shutdown. A cluster that cannot be reached is retried and reported as
 * `unreachable`; it never fails the backend.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import type { ClusterSyncStatus as ApiClusterSyncStatus } from '@kubeai/plugin-kubeai-common';
import { ClusterGateway } from '../cluster/ClusterGateway';
import { OBSERVED_KINDS, type KindSpec } from './kinds';
import {
  isUnreachable,
  KindInformer,
  type HealthReporter,
  type InformerTiming,
  type KindInformerStatus,
} from './KindInformer';
import type { ObserveOptions } from './observe';
import { ObservationWriter, type ObservationStore } from './ObservationWriter';

type Logger = Pick<LoggerService, 'debug' | 'info' | 'warn' | 'error'>;

/** Health of one cluster's informers: the spec's ClusterSyncStatus, its kinds without counts. */
export type ClusterSyncStatus = Omit<ApiClusterSyncStatus, 'kinds'> & {
  kinds: KindInformerStatus[];
};

class ClusterHealth implements HealthReporter {
  reachable: boolean | undefined;
  lastContactAt: string | undefined;
  lastError: string | undefined;
  lastErrorAt: string | undefined;

  constructor(
    private readonly cluster: string,
    private readonly logger: Logger,
    /** Called when the cluster answers again after being unreachable. */
    private readonly onReachableAgain: () => void = () => {},
  ) {}

  success(): void {
    if (this.reachable === false) {
      this.logger.info(
        `kubeai informers: cluster ${this.cluster} is reachable again`,
      );
      this.reachable = true;
      // the other kinds need not wait for the rest of their backoff (e.g. an apiserver restarted)
      this.onReachableAgain();
    }
    this.reachable = true;
    this.lastContactAt = new Date().toISOString();
  }

  failure(kind: string, error: unknown): void {
    const message = String((error as Error)?.message ?? error).slice(0, 500);
    this.lastError = `${kind}: ${message}`;
    this.lastErrorAt = new Date().toISOString();
    if (isUnreachable(error)) {
      if (this.reachable !== false) {
        this.logger.warn(
          `kubeai informers: cluster ${this.cluster} is unreachable (${message}); retrying with backoff`,
        );
      }
      this.reachable = false;
    }
  }
}

export interface InformerManagerOptions extends InformerTiming {
  gateway: ClusterGateway;
  store: ObservationStore;
  logger: Logger;
  /** Clusters to watch (default: every cluster of the gateway). */
  clusters?: string[];
  /** Kinds to watch (default: all of {@link OBSERVED_KINDS}). */
  kinds?: string[];
  /** Coalescing window of writes (default 50 ms). */
  flushIntervalMs?: number;
  /** How often deployments without observed state are matched to observed services (default 3000 ms). */
  reconcileIntervalMs?: number;
  observeOptions?: ObserveOptions;
}

export class InformerManager {
  readonly writer: ObservationWriter;
  /** The gateway the informers use (also for run logs). */
  readonly gateway: ClusterGateway;
  readonly #options: InformerManagerOptions;
  readonly #clusters = new Map<
    string,
    { url?: string; health: ClusterHealth; informers: KindInformer[] }
  >();
  #reconcileTimer: NodeJS.Timeout | undefined;
  #started = false;

  /**
   * From `kubeai.informers` config; undefined when `enabled: false`. The informers do not start
   * until {@link start}.
   */
  static fromConfig(
    config: Config,
    deps: { store: ObservationStore; logger: Logger; gateway?: ClusterGateway },
  ): InformerManager | undefined {
    const c = config.getOptionalConfig('kubeai.informers');
    if (c?.getOptionalBoolean('enabled') === false) {
      return undefined;
    }
    return new InformerManager({
      ...deps,
      // the clusters of `kubernetes.clusterLocatorMethods`, as for the cluster routes
      gateway:
        deps.gateway ??
        ClusterGateway.fromConfig(config, {
          logger: {
            debug: m => deps.logger.debug(m),
            info: m => deps.logger.info(m),
            warn: m => deps.logger.warn(m),
            error: m => deps.logger.error(m),
          },
        }),
      clusters: c?.getOptionalStringArray('clusters'),
      kinds: c?.getOptionalStringArray('kinds'),
      flushIntervalMs: c?.getOptionalNumber('flushIntervalMs'),
      reconcileIntervalMs: c?.getOptionalNumber('reconcileIntervalMs'),
      pageSize: c?.getOptionalNumber('pageSize'),
      watchTimeoutSeconds: c?.getOptionalNumber('watchTimeoutSeconds'),
      initialBackoffMs: c?.getOptionalNumber('backoff.initialMs'),
      maxBackoffMs: c?.getOptionalNumber('backoff.maxMs'),
      observeOptions: {
        notebookUrlTemplate: c?.getOptionalString('notebookUrlTemplate'),
      },
    });
  }

  constructor(options: InformerManagerOptions) {
    this.#options = options;
    this.gateway = options.gateway;
    this.writer = new ObservationWriter({
      store: options.store,
      logger: options.logger,
      flushIntervalMs: options.flushIntervalMs,
    });
    const configured = options.gateway.listClusters();
    const wanted = options.clusters
      ? configured.filter(c => options.clusters!.includes(c.name))
      : configured;
    for (const name of options.clusters ?? []) {
      if (!configured.some(c => c.name === name)) {
        options.logger.warn(
          `kubeai informers: kubeai.informers.clusters names "${name}", which is not a configured cluster`,
        );
      }
    }
    const kinds: KindSpec[] = options.kinds
      ? OBSERVED_KINDS.filter(k => options.kinds!.includes(k.kind))
      : [...OBSERVED_KINDS];
    for (const cluster of wanted) {
      const informers: KindInformer[] = [];
      const health = new ClusterHealth(cluster.name, options.logger, () => {
        for (const informer of informers) informer.retryNow();
      });
      this.#clusters.set(cluster.name, {
        url: cluster.url,
        health,
        informers,
      });
      informers.push(
        ...kinds.map(
          spec =>
            new KindInformer({
              ...options,
              cluster: cluster.name,
              spec,
              writer: this.writer,
              health,
              observeOptions: options.observeOptions,
            }),
        ),
      );
    }
  }

  /** Starts every informer (no-op when already started). Never throws. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const clusters = [...this.#clusters.keys()];
    this.#options.logger.info(
      clusters.length
        ? `kubeai informers: watching ${clusters.join(', ')}`
        : 'kubeai informers: no clusters configured',
    );
    for (const { informers } of this.#clusters.values()) {
      for (const informer of informers) informer.start();
    }
    const every = this.#options.reconcileIntervalMs ?? 3000;
    this.#reconcileTimer = setInterval(() => {
      const synced = [...this.#clusters.entries()]
        .filter(([, c]) =>
          c.informers.some(i => i.kind === 'InferenceService' && i.settled),
        )
        .map(([name]) => name);
      this.writer.reconcile(synced);
    }, every);
    this.#reconcileTimer.unref?.();
  }

  /** Stops the informers and writes what they observed. */
  async stop(): Promise<void> {
    if (this.#reconcileTimer) clearInterval(this.#reconcileTimer);
    await Promise.all(
      [...this.#clusters.values()].flatMap(c => c.informers.map(i => i.stop())),
    );
    await this.writer.stop();
  }

  /** Health of every watched cluster. */
  status(): ClusterSyncStatus[] {
    return [...this.#clusters.entries()].map(([name, c]) => {
      const kinds = c.informers.map(i => i.status());
      const settled = c.informers.every(i => i.settled);
      let state: ClusterSyncStatus['state'];
      if (c.health.reachable === false) state = 'unreachable';
      else if (c.health.reachable === undefined && !settled)
        state = 'connecting';
      else state = settled ? 'synced' : 'syncing';
      const out: ClusterSyncStatus = {
        name,
        state,
        reachable: c.health.reachable === true,
        kinds,
      };
      if (c.url) out.url = c.url;
      if (c.health.lastContactAt) out.lastContactAt = c.health.lastContactAt;
      if (c.health.lastError) out.lastError = c.health.lastError;
      if (c.health.lastErrorAt) out.lastErrorAt = c.health.lastErrorAt;
      return out;
    });
  }

  /** Resolves once every cluster is `synced` and the writer has written it (tests, benchmarks). */
  async waitUntilSynced(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.status().every(c => c.state === 'synced')) {
      if (Date.now() > deadline) {
        throw new Error(
          `informers not synced within ${timeoutMs} ms: ${JSON.stringify(
            this.status().map(c => ({
              name: c.name,
              state: c.state,
              error: c.lastError,
            })),
          )}`,
        );
      }
      await new Promise(r => setTimeout(r, 50));
    }
    await this.writer.flush();
  }
}
