/**
 * Leader election with a `coordination.k8s.io/v1` Lease in the watched cluster, as Kubernetes'
 * own controllers do (client-go's leaderelection, same fields): among the replicas of one portal,
 * the holder of the Lease runs that cluster's informers; the others stand by, check every
 * `retryPeriodMs` and take the Lease once its holder has not renewed it for
 * `leaseDurationSeconds` — measured on the local clock from when this replica last saw the Lease
 * change, so clocks of different hosts never need to agree. Every write is a create or a replace
 * with the resourceVersion read (a conflict means someone else wrote first: read again), so two
 * replicas never both believe they lead from the same Lease state. A leader that could not renew
 * for `renewDeadlineMs` stops leading before its Lease can expire for the others.
 *
 * Defaults: lease 6 s, renew deadline 4.5 s, retry 1.5 s — a killed leader is replaced within
 * 1.5 + 6 + 1.5 = 9 s at worst (its last renewal is seen up to a retry period late, and the
 * expiry up to one after); a leader that shuts down deletes its Lease, and a stand-by takes over
 * within 1.5 s.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import { ConflictError, NotFoundError } from '@backstage/errors';
import type { ClusterGateway } from '../cluster/ClusterGateway';
import type { KubeObject } from '../manifests/types';
import { Pause } from './pause';

export interface LeaderLeaseOptions {
  gateway: Pick<ClusterGateway, 'get' | 'putPortalObject' | 'delete'>;
  cluster: string;
  namespace: string;
  name: string;
  /** This replica, e.g. `<host>_<pid>_<random>`. */
  identity: string;
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger: Pick<LoggerService, 'debug' | 'info' | 'warn'>;
  /** Told whether the cluster answers (an unreachable cluster shows as such, not as standby). */
  health?: { success(): void; failure(kind: string, error: unknown): void };
  /** Called when this replica becomes the leader; awaited before the next renewal. */
  onStartedLeading(): Promise<void> | void;
  /** Called when it stops (lost the Lease, could not renew, or stopped); awaited. */
  onStoppedLeading(): Promise<void> | void;
}

/** What `GET /clusters/status` shows of a cluster's leadership. */
export interface LeadershipStatus {
  /** `leader`: this replica watches the cluster; `standby`: another one does. */
  role: 'leader' | 'standby' | 'unelected';
  /** The replica holding the Lease, when known. */
  holder?: string;
  lease?: string;
  message?: string;
}

const LEASE_API = 'coordination.k8s.io/v1';

/** How long a stopping leader waits for its informers to stop before it releases the Lease. */
const HANDOVER_TIMEOUT_MS = 5_000;

/** RFC 3339 with microseconds: the format of a Lease's MicroTime fields. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export class LeaderLease {
  readonly #o: Required<
    Pick<
      LeaderLeaseOptions,
      'leaseDurationSeconds' | 'renewDeadlineMs' | 'retryPeriodMs'
    >
  > &
    LeaderLeaseOptions;
  #leading = false;
  #stopped = false;
  #loop: Promise<void> | undefined;
  readonly #pause = new Pause();
  /** The Lease as last read or written, and when this replica saw it change. */
  #observed: { lease: KubeObject; spec: LeaseSpec; at: number } | undefined;
  #lastRenewal = 0;
  #message: string | undefined;
  /** The portal may not use Leases in this cluster: it watches without election. */
  #unelected = false;

  constructor(options: LeaderLeaseOptions) {
    this.#o = {
      ...options,
      // unset (undefined) options take the defaults
      leaseDurationSeconds: options.leaseDurationSeconds ?? 6,
      renewDeadlineMs: options.renewDeadlineMs ?? 4500,
      retryPeriodMs: options.retryPeriodMs ?? 1500,
    };
  }

  get leading(): boolean {
    return this.#leading;
  }

  status(): LeadershipStatus {
    const holder = this.#observed?.spec.holderIdentity || undefined;
    if (this.#unelected) {
      return { role: 'unelected', message: this.#message };
    }
    return {
      role: this.#leading ? 'leader' : 'standby',
      ...(holder ? { holder } : {}),
      lease: `${this.#o.namespace}/${this.#o.name}`,
      ...(this.#message ? { message: this.#message } : {}),
    };
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops leading (deleting the Lease when held, so a stand-by takes over at once). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#pause.wake();
    await this.#loop;
    if (this.#unelected) {
      this.#leading = false;
      await this.#o.onStoppedLeading();
    } else if (this.#leading) {
      // the informers stop and their cursors are stored first; a process shutting down gets a
      // bounded time for that (it may be killed soon), then the Lease is released regardless
      let bounded: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#stopLeading('stopped'),
        new Promise<void>(resolve => {
          bounded = setTimeout(resolve, HANDOVER_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(bounded);
      const { gateway, cluster, namespace, name } = this.#o;
      await gateway
        .delete(
          cluster,
          { apiVersion: LEASE_API, kind: 'Lease', namespace, name },
          { portal: true },
        )
        .then(
          () =>
            this.#o.logger.info(
              `kubeai informers: released Lease ${namespace}/${name} of cluster ${cluster}`,
            ),
          error =>
            this.#o.logger.warn(
              `kubeai informers: could not release Lease ${namespace}/${name} of cluster ${cluster}: ${error}`,
            ),
        );
    }
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const started = Date.now();
      try {
        const leads = await this.#tryAcquireOrRenew();
        this.#message = undefined;
        this.#o.health?.success();
        if (leads) {
          this.#lastRenewal = started;
          if (!this.#leading && !this.#stopped) {
            this.#leading = true;
            this.#o.logger.info(
              `kubeai informers: this replica (${
                this.#o.identity
              }) now leads cluster ${this.#o.cluster} (Lease ${
                this.#o.namespace
              }/${this.#o.name})`,
            );
            await this.#o.onStartedLeading();
          }
        } else if (this.#leading) {
          await this.#stopLeading(
            `the Lease is held by ${this.#observed?.spec.holderIdentity}`,
          );
        }
      } catch (error) {
        this.#o.health?.failure('Lease', error);
        this.#message = String((error as Error)?.message ?? error).slice(
          0,
          300,
        );
        this.#o.logger.debug(
          `kubeai informers: Lease of cluster ${this.#o.cluster}: ${
            this.#message
          }`,
        );
        if ((error as Error)?.name === 'NotAllowedError' && !this.#leading) {
          // RBAC refuses Leases: better every replica watching (idempotent writes, as before
          // leader election) than nobody — said once, loudly
          this.#o.logger.warn(
            `kubeai informers: the portal may not use Lease ${
              this.#o.namespace
            }/${this.#o.name} in cluster ${this.#o.cluster} (${
              this.#message
            }); watching it without leader election — grant get/create/update/delete on coordination.k8s.io leases there (deploy/) or set kubeai.leaderElection.enabled: false`,
          );
          this.#unelected = true;
          this.#leading = true;
          await this.#o.onStartedLeading();
          return;
        }
        if (
          this.#leading &&
          Date.now() - this.#lastRenewal > this.#o.renewDeadlineMs
        ) {
          await this.#stopLeading(
            `could not renew the Lease for ${this.#o.renewDeadlineMs} ms (${
              this.#message
            })`,
          );
        }
      }
      if (!this.#stopped) {
        await this.#pause.for(
          Math.max(0, this.#o.retryPeriodMs - (Date.now() - started)),
        );
      }
    }
  }

  async #stopLeading(reason: string): Promise<void> {
    if (!this.#leading) return;
    this.#leading = false;
    this.#o.logger.info(
      `kubeai informers: this replica (${
        this.#o.identity
      }) stops leading cluster ${this.#o.cluster}: ${reason}`,
    );
    await this.#o.onStoppedLeading();
  }

  /** One round of client-go's tryAcquireOrRenew: true when this replica holds the Lease after it. */
  async #tryAcquireOrRenew(): Promise<boolean> {
    const { gateway, cluster, namespace, name, identity } = this.#o;
    const now = new Date();
    let current: KubeObject | undefined;
    try {
      current = await gateway.get(cluster, {
        apiVersion: LEASE_API,
        kind: 'Lease',
        namespace,
        name,
      });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    const spec = (current?.spec ?? {}) as LeaseSpec;
    if (current) this.#observe(current);
    const mine = spec.holderIdentity === identity;
    if (current && !mine && spec.holderIdentity) {
      const expiresAt =
        this.#observed!.at +
        (spec.leaseDurationSeconds ?? this.#o.leaseDurationSeconds) * 1000;
      if (Date.now() < expiresAt) return false; // someone else leads
    }
    const next: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: this.#o.leaseDurationSeconds,
      acquireTime: mine && spec.acquireTime ? spec.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: mine
        ? spec.leaseTransitions ?? 0
        : (spec.leaseTransitions ?? -1) + 1,
    };
    try {
      const written = await gateway.putPortalObject(cluster, {
        apiVersion: LEASE_API,
        kind: 'Lease',
        metadata: {
          name,
          namespace,
          ...(current
            ? { resourceVersion: current.metadata.resourceVersion }
            : {}),
          labels: { 'app.kubernetes.io/managed-by': 'kubeai' },
        },
        spec: next,
      });
      this.#observe(written);
      return true;
    } catch (error) {
      // another replica wrote first (created it, renewed it, or took it): read again next round
      if (error instanceof ConflictError) return false;
      throw error;
    }
  }

  #observe(lease: KubeObject) {
    const spec = (lease.spec ?? {}) as LeaseSpec;
    const before = this.#observed?.spec;
    const changed =
      !before ||
      before.holderIdentity !== spec.holderIdentity ||
      before.renewTime !== spec.renewTime;
    this.#observed = {
      lease,
      spec,
      at: changed ? Date.now() : this.#observed!.at,
    };
  }
}
