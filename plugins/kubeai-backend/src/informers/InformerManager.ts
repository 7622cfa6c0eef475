/**
 * The cluster informers of the backend: one {@link KindInformer} per (configured cluster, watched
 * kind), one {@link ObservationWriter} for all of them, and each cluster's health for
 * `GET /clusters/status`. Started by the plugin (config `kubeai.informers.enabled`, default true)
 * and stopped on shutdown. A cluster that cannot be reached is retried and reported as
 * `unreachable`; it never fails the backend.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
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
import { LeaderLease, type LeadershipStatus } from './LeaderLease';
import type { ObserveOptions } from './observe';
import { ObservationWriter, type ObservationStore } from './ObservationWriter';

type Logger = Pick<LoggerService, 'debug' | 'info' | 'warn' | 'error'>;

/** Health of one cluster's informers: the spec's ClusterSyncStatus, its kinds without counts. */
export type ClusterSyncStatus = Omit<
  ApiClusterSyncStatus,
  'kinds' | 'leadership'
> & {
  kinds: KindInformerStatus[];
  leadership?: LeadershipStatus;
};

/** Where the informers of a cluster stopped (database/InformerCursorStore.ts). */
export interface InformerCursors {
  read(cluster: string): Promise<Map<string, string>>;
  save(
    cluster: string,
    cursors: Map<string, string>,
    writtenBy: string,
  ): Promise<void>;
}

/**
 * Several replicas of one portal: one leader per cluster (a Lease in that cluster) runs its
 * informers and stores where they are; the others serve reads and take over from there.
 */
export interface InformerLeadership {
  /** Namespace of the Leases (default `kube-system`). */
  namespace: string;
  /** Lease name of a cluster, e.g. `kubeai-informers-<installation id>-<cluster>`. */
  leaseName(cluster: string): string;
  /** This replica. */
  identity: string;
  cursors: InformerCursors;
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** How often the leader stores its cursors (default 1000 ms). */
  cursorSaveMs?: number;
}

interface WatchedCluster {
  url?: string;
  health: ClusterHealth;
  /** The informers of the current leadership term (none while standing by). */
  informers: KindInformer[];
  lease?: LeaderLease;
  cursorTimer?: NodeJS.Timeout;
  savedCursors: Map<string, string>;
  /** Serialises start and stop of the cluster's informers. */
  transition: Promise<void>;
}

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
  /** Leader election among replicas; without it this process watches every cluster. */
  leadership?: InformerLeadership;
}

export class InformerManager {
  readonly writer: ObservationWriter;
  /** The gateway the informers use (also for run logs). */
  readonly gateway: ClusterGateway;
  readonly #options: InformerManagerOptions;
  readonly #clusters = new Map<string, WatchedCluster>();
  readonly #kinds: KindSpec[];
  #reconcileTimer: NodeJS.Timeout | undefined;
  #started = false;

  /**
   * From `kubeai.informers` config; undefined when `enabled: false`. The informers do not start
   * until {@link start}.
   */
  static fromConfig(
    config: Config,
    deps: {
      store: ObservationStore;
      logger: Logger;
      gateway?: ClusterGateway;
      /** With `kubeai.leaderElection` on (the default): the cursors and this portal's id. */
      election?: { cursors: InformerCursors; installationId: string };
    },
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
      leadership: deps.election
        ? readLeadershipConfig(config, deps.election)
        : undefined,
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
    this.#kinds = options.kinds
      ? OBSERVED_KINDS.filter(k => options.kinds!.includes(k.kind))
      : [...OBSERVED_KINDS];
    for (const cluster of wanted) {
      const informers: KindInformer[] = [];
      const health = new ClusterHealth(cluster.name, options.logger, () => {
        for (const informer of this.#clusters.get(cluster.name)!.informers) {
          informer.retryNow();
        }
      });
      this.#clusters.set(cluster.name, {
        url: cluster.url,
        health,
        informers,
        savedCursors: new Map(),
        transition: Promise.resolve(),
      });
    }
  }

  /** Starts the informers of `name` (this replica leads it, or there is no election). */
  #startCluster(name: string): Promise<void> {
    const c = this.#clusters.get(name)!;
    c.transition = c.transition.then(async () => {
      const { leadership, logger } = this.#options;
      let resume = new Map<string, string>();
      if (leadership) {
        try {
          resume = await leadership.cursors.read(name);
        } catch (error) {
          logger.warn(
            `kubeai informers: cannot read where the informers of cluster ${name} stopped (${error}); listing everything`,
          );
        }
      }
      c.savedCursors = new Map(resume);
      c.informers = this.#kinds.map(
        spec =>
          new KindInformer({
            ...this.#options,
            cluster: name,
            spec,
            writer: this.writer,
            health: c.health,
            observeOptions: this.#options.observeOptions,
            resumeFrom: resume.get(spec.kind),
          }),
      );
      for (const informer of c.informers) informer.start();
      if (leadership) {
        const every = leadership.cursorSaveMs ?? 1000;
        const save = () => {
          c.cursorTimer = setTimeout(async () => {
            await this.#saveCursors(name).catch(error =>
              logger.warn(
                `kubeai informers: cannot store where the informers of cluster ${name} are: ${error}`,
              ),
            );
            if (c.cursorTimer) save();
          }, every);
          c.cursorTimer.unref?.();
        };
        save();
      }
    });
    return c.transition;
  }

  /** Stops the informers of `name` and stores where they stopped (leadership lost or shutdown). */
  #stopCluster(name: string): Promise<void> {
    const c = this.#clusters.get(name)!;
    c.transition = c.transition.then(async () => {
      if (c.cursorTimer) clearTimeout(c.cursorTimer);
      c.cursorTimer = undefined;
      await Promise.all(c.informers.map(i => i.stop()));
      await this.#saveCursors(name).catch(error =>
        this.#options.logger.warn(
          `kubeai informers: cannot store where the informers of cluster ${name} stopped: ${error}`,
        ),
      );
      c.informers = [];
    });
    return c.transition;
  }

  /**
   * Stores each kind's cursor that moved — after the writer has written everything handed to it
   * up to there, so the next leader never skips a change.
   */
  async #saveCursors(name: string): Promise<void> {
    const { leadership } = this.#options;
    const c = this.#clusters.get(name)!;
    if (!leadership) return;
    const moved = new Map<string, string>();
    for (const informer of c.informers) {
      const cursor = informer.cursor;
      if (cursor && c.savedCursors.get(informer.kind) !== cursor) {
        moved.set(informer.kind, cursor);
      }
    }
    if (moved.size === 0) return;
    await this.writer.flush();
    await leadership.cursors.save(name, moved, leadership.identity);
    for (const [kind, cursor] of moved) c.savedCursors.set(kind, cursor);
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
    const { leadership } = this.#options;
    for (const [name, c] of this.#clusters) {
      if (!leadership) {
        this.#startCluster(name);
        continue;
      }
      c.lease = new LeaderLease({
        gateway: this.gateway,
        cluster: name,
        namespace: leadership.namespace,
        name: leadership.leaseName(name),
        identity: leadership.identity,
        leaseDurationSeconds: leadership.leaseDurationSeconds,
        renewDeadlineMs: leadership.renewDeadlineMs,
        retryPeriodMs: leadership.retryPeriodMs,
        logger: this.#options.logger,
        health: c.health,
        onStartedLeading: () => this.#startCluster(name),
        onStoppedLeading: () => this.#stopCluster(name),
      });
      c.lease.start();
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
      [...this.#clusters.entries()].map(([name, c]) =>
        // a leader stops its informers, stores their cursors, then hands the Lease over
        c.lease ? c.lease.stop() : this.#stopCluster(name),
      ),
    );
    await this.writer.stop();
  }

  /** Whether this replica runs the informers of `cluster` now. */
  leads(cluster: string): boolean {
    const c = this.#clusters.get(cluster);
    return Boolean(c && (!c.lease || c.lease.leading));
  }

  /** Health of every watched cluster. */
  status(): ClusterSyncStatus[] {
    return [...this.#clusters.entries()].map(([name, c]) => {
      const kinds = c.informers.map(i => i.status());
      const settled = c.informers.every(i => i.settled);
      let state: ClusterSyncStatus['state'];
      if (c.health.reachable === false) state = 'unreachable';
      else if (c.lease && !c.lease.leading) state = 'standby';
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
      if (c.lease) out.leadership = c.lease.status();
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

/** `kubeai.leaderElection` (undefined when `enabled: false`). */
export function readLeadershipConfig(
  config: Config,
  election: { cursors: InformerCursors; installationId: string },
): InformerLeadership | undefined {
  const c = config.getOptionalConfig('kubeai.leaderElection');
  if (c?.getOptionalBoolean('enabled') === false) return undefined;
  const seconds = (key: string) => {
    const value = c?.getOptionalNumber(key);
    return value === undefined ? undefined : value * 1000;
  };
  return {
    namespace: c?.getOptionalString('leaseNamespace') ?? 'kube-system',
    leaseName: cluster =>
      `kubeai-informers-${election.installationId}-${cluster}`
        .toLowerCase()
        .replace(/[^a-z0-9.-]+/g, '-')
        .slice(0, 253),
    identity: `${hostname()}_${process.pid}_${randomBytes(3).toString('hex')}`,
    cursors: election.cursors,
    leaseDurationSeconds: c?.getOptionalNumber('leaseDurationSeconds'),
    renewDeadlineMs: seconds('renewDeadlineSeconds'),
    retryPeriodMs: seconds('retryPeriodSeconds'),
  };
}
