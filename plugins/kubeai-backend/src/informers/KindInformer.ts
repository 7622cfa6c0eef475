/**
 * List + watch of one kind in one cluster, for as long as the backend runs:
 *
 * 1. discovery picks the served version (a kind whose CRD is not installed is skipped with one log
 *    line and looked up again after 5 s, then less and less often up to every `rediscoverMs`: a
 *    CRD installed after the portal started is watched within seconds);
 * 2. a paged list (`limit`, `continue`) gives every object and the list's resourceVersion;
 * 3. a watch from that resourceVersion (with bookmarks) streams the changes; when the server ends
 *    it, the next watch continues from the last resourceVersion seen;
 * 4. a 410 Gone (the resourceVersion is too old, e.g. after an apiserver restart) relists;
 * 5. failures (apiserver down, network) are retried with exponential backoff and jitter, capped
 *    at `maxBackoffMs`, and reported to the cluster's health — never thrown. A refused (or reset)
 *    connection — nothing listens: the apiserver is down or restarting on its port — is retried at
 *    least every {@link REFUSED_MAX_BACKOFF_MS}, and the first answer after such a streak (e.g. a
 *    503 of an apiserver still starting) starts the backoff anew, so that a restarted apiserver is
 *    watched again within seconds however long it was down. When one kind of a cluster reaches it
 *    again, the cluster's health wakes the others ({@link KindInformer.retryNow}).
 *
 * With leader election (InformerManager, LeaderLease.ts) the last resourceVersion whose changes
 * are written is stored ({@link KindInformer.cursor}), and the next leader resumes from it
 * (`resumeFrom`); otherwise a backend restart relists. Either way changes may be seen twice, and
 * the registry's writes are idempotent (see src/database/observed/applyObservations.ts).
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import { NotFoundError } from '@backstage/errors';
import type {
  ClusterGateway,
  ResolvedResource,
} from '../cluster/ClusterGateway';
import { StreamHttpError } from '../cluster/stream';
import { watchOnce } from '../cluster/watch';
import type { KindSyncStatus } from '@kubeai/plugin-kubeai-common';
import type { KindSpec } from './kinds';
import { observe, type ObserveOptions } from './observe';
import type { ObservationWriter } from './ObservationWriter';
import { Pause } from './pause';

/** What one kind's informer is doing (the spec's KindSyncStatus state). */
export type KindInformerState = KindSyncStatus['state'];

/** Timing knobs (defaults in parentheses). */
export interface InformerTiming {
  /** Page size of lists (500). */
  pageSize?: number;
  /** Server-side timeout of one watch request, seconds (300; the server may end it sooner). */
  watchTimeoutSeconds?: number;
  /** First retry delay (250 ms), doubled per failure. */
  initialBackoffMs?: number;
  /** Longest retry delay (10 000 ms). */
  maxBackoffMs?: number;
  /** Longest wait before a kind that is not served is looked up again (10 minutes; first 5 s, doubled). */
  rediscoverMs?: number;
}

/** Reports to the cluster's health. */
export interface HealthReporter {
  success(): void;
  failure(kind: string, error: unknown): void;
}

export interface KindInformerOptions extends InformerTiming {
  gateway: ClusterGateway;
  cluster: string;
  spec: KindSpec;
  writer: ObservationWriter;
  logger: Pick<LoggerService, 'debug' | 'info' | 'warn' | 'error'>;
  health: HealthReporter;
  observeOptions?: ObserveOptions;
  /**
   * Resume the watch from this resourceVersion (stored by the cluster's previous informer leader,
   * everything up to it written) instead of listing; a 410 Gone relists.
   */
  resumeFrom?: string;
}

/** What the status API shows of one informer. */
/**
 * One kind's informer as `GET /clusters/status` reports it, without the count of observed objects
 * (the route adds it from the registry).
 */
export type KindInformerStatus = Omit<KindSyncStatus, 'objects'>;

/** Longest retry delay while connections are refused (2 s, or `maxBackoffMs` when shorter). */
export const REFUSED_MAX_BACKOFF_MS = 2000;

const errorMessage = (error: unknown) =>
  String((error as Error)?.message ?? error).slice(0, 500);

/** Connection-level failures (not an answer of the apiserver). */
export function isUnreachable(error: unknown): boolean {
  if (error instanceof StreamHttpError) {
    return error.code >= 500 || error.code === 429;
  }
  const name = (error as Error)?.name;
  if (name === 'ServiceUnavailableError') return true;
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string'; // ECONNREFUSED, ECONNRESET, ETIMEDOUT, …
}

/**
 * Nothing answered: the connection was refused or reset (an apiserver that is down or restarting
 * on a reachable host), as a socket error or as the gateway's "cannot reach cluster …: ECONNREFUSED".
 */
export function isConnectionRefused(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE') {
    return true;
  }
  return (
    (error as Error)?.name === 'ServiceUnavailableError' &&
    /\b(ECONNREFUSED|ECONNRESET|EPIPE|socket hang up)\b/.test(
      errorMessage(error),
    )
  );
}

export class KindInformer {
  readonly #options: KindInformerOptions;
  readonly #abort = new AbortController();
  #resource: ResolvedResource | undefined;
  #resourceVersion: string | undefined;
  #state: KindInformerState = 'starting';
  #synced = false;
  #lastSyncAt: string | undefined;
  #lastEventAt: string | undefined;
  #events = 0;
  #relists = 0;
  #reconnects = 0;
  #message: string | undefined;
  #failures = 0;
  /** Whether the last failure was a refused connection. */
  #lastFailureRefused = false;
  /** Consecutive discoveries that found the kind not served. */
  #notServed = 0;
  #loop: Promise<void> | undefined;
  readonly #pause = new Pause();
  /** Watching from `resumeFrom` (until a 410 Gone makes it list). */
  #resuming = false;

  constructor(options: KindInformerOptions) {
    this.#options = options;
    this.#resourceVersion = options.resumeFrom;
    this.#resuming = Boolean(options.resumeFrom);
  }

  /**
   * The resourceVersion up to which this informer has handed every change to the writer, once
   * the registry holds the complete state (listed and swept, or resumed): what the next leader
   * may resume from after the writer has flushed. Undefined before.
   */
  get cursor(): string | undefined {
    return this.#synced ? this.#resourceVersion : undefined;
  }

  get kind(): string {
    return this.#options.spec.kind;
  }

  start(): void {
    this.#loop ??= this.#run().catch(error => {
      // never reached in practice: #run catches everything
      this.#options.logger.error(
        `kubeai informer ${this.#label()} stopped: ${errorMessage(error)}`,
      );
    });
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    this.#pause.wake();
    await this.#loop;
    this.#state = 'stopped';
  }

  status(): KindInformerStatus {
    const out: KindInformerStatus = {
      kind: this.#options.spec.kind,
      state: this.#state,
      synced: this.#synced,
      events: this.#events,
      relists: this.#relists,
      reconnects: this.#reconnects,
    };
    if (this.#resource) out.apiVersion = this.#resource.apiVersion;
    if (this.#resourceVersion) out.resourceVersion = this.#resourceVersion;
    if (this.#lastSyncAt) out.lastSyncAt = this.#lastSyncAt;
    if (this.#lastEventAt) out.lastEventAt = this.#lastEventAt;
    if (this.#message) out.message = this.#message;
    return out;
  }

  /**
   * Ends a backoff wait after a connection failure at once (the cluster answers again, see
   * ClusterHealth); no-op otherwise.
   */
  retryNow(): void {
    if (this.#state === 'backoff' && this.#lastFailureRefused)
      this.#pause.wake();
  }

  /** Whether the kind is fully listed (or not served at all) — its observed state is complete. */
  get settled(): boolean {
    return this.#synced || this.#state === 'notInstalled';
  }

  #label() {
    return `${this.#options.spec.kind} of cluster ${this.#options.cluster}`;
  }

  #backoffMs(): number {
    const initial = this.#options.initialBackoffMs ?? 250;
    const configuredMax = this.#options.maxBackoffMs ?? 10_000;
    const max = this.#lastFailureRefused
      ? Math.min(configuredMax, REFUSED_MAX_BACKOFF_MS)
      : configuredMax;
    const exp = Math.min(max, initial * 2 ** Math.max(0, this.#failures - 1));
    return Math.round(exp * (0.8 + Math.random() * 0.4));
  }

  #rediscoverMs(): number {
    const max = this.#options.rediscoverMs ?? 10 * 60_000;
    return Math.min(max, 5_000 * 2 ** Math.max(0, this.#notServed - 1));
  }

  async #run(): Promise<void> {
    const { spec, gateway, cluster, logger } = this.#options;
    while (!this.#abort.signal.aborted) {
      try {
        if (!this.#resource) {
          try {
            this.#resource = await gateway.resolveResource(
              cluster,
              spec.group,
              spec.kind,
              spec.versions,
            );
          } catch (error) {
            if (!(error instanceof NotFoundError)) throw error;
            this.#options.health.success(); // the cluster answered
            if (this.#state !== 'notInstalled') {
              logger.info(
                `kubeai informers: cluster ${cluster} does not serve ${
                  spec.kind
                } (${spec.versions
                  .map(v => (spec.group ? `${spec.group}/${v}` : v))
                  .join(', ')}); skipping it`,
              );
            }
            this.#state = 'notInstalled';
            this.#message = `not served (CRD not installed?)`;
            this.#failures = 0;
            this.#notServed++;
            await this.#pause.for(this.#rediscoverMs());
            continue;
          }
          this.#notServed = 0;
          if (this.#state === 'notInstalled') {
            logger.info(
              `kubeai informers: cluster ${cluster} now serves ${spec.kind}; watching it`,
            );
          }
        }
        if (this.#resuming && this.#resourceVersion && !this.#synced) {
          await this.#checkResumable(this.#resource);
        }
        if (!this.#resourceVersion) {
          await this.#list(this.#resource);
        }
        const watchStart = Date.now();
        const end = await watchOnce(gateway, cluster, this.#resource, {
          resourceVersion: this.#resourceVersion!,
          labelSelector: spec.selector,
          timeoutSeconds: this.#jitteredTimeout(),
          signal: this.#abort.signal,
          onOpen: () => {
            this.#state = 'watching';
            this.#message = undefined;
            if (!this.#synced && this.#resuming) {
              // resumed where the previous leader stopped: the registry is complete up to here
              this.#synced = true;
              this.#lastSyncAt = new Date().toISOString();
            }
            this.#recovered();
          },
          onEvent: (type, object) => {
            this.#events++;
            this.#lastEventAt = new Date().toISOString();
            this.#options.writer.add(
              observe(cluster, spec, object, {
                ...this.#options.observeOptions,
                deleted: type === 'DELETED',
              }),
            );
          },
          onResourceVersion: rv => {
            this.#resourceVersion = rv;
          },
        });
        this.#resourceVersion = end.resourceVersion;
        if (end.reason === 'gone') {
          logger.info(
            `kubeai informers: resourceVersion of ${this.#label()} is too old (410 Gone); relisting`,
          );
          this.#resourceVersion = undefined;
          this.#resuming = false;
        } else if (end.reason === 'closed') {
          this.#reconnects++;
          if (end.events === 0 && Date.now() - watchStart < 1000) {
            await this.#pause.for(1000); // a server that ends watches at once: do not spin
          }
        }
      } catch (error) {
        if (this.#abort.signal.aborted) break;
        if (error instanceof StreamHttpError && error.code === 404) {
          // the CRD went away: discover again
          this.#resource = undefined;
          this.#resourceVersion = undefined;
        }
        const refused = isConnectionRefused(error);
        // the server answers again after refusing connections (it restarted, and may answer 5xx
        // while it starts): a new condition, a new backoff
        if (this.#lastFailureRefused && !refused) this.#failures = 0;
        this.#lastFailureRefused = refused;
        this.#failures++;
        this.#state = 'backoff';
        this.#message = errorMessage(error);
        this.#options.health.failure(spec.kind, error);
        const forbidden =
          (error as Error)?.name === 'NotAllowedError' ||
          (error instanceof StreamHttpError && error.code === 403);
        // RBAC does not change by itself within seconds: look again every minute
        const delay = forbidden
          ? Math.max(60_000, this.#backoffMs())
          : this.#backoffMs();
        // an unreachable cluster is logged once by the cluster's health, not by each kind
        const log =
          this.#failures === 1 && !isUnreachable(error)
            ? logger.warn
            : logger.debug;
        log.call(
          logger,
          `kubeai informers: ${this.#label()} failed (${
            this.#message
          }); retrying in ${delay} ms`,
        );
        await this.#pause.for(delay);
      }
    }
    this.#state = 'stopped';
  }

  #recovered() {
    if (this.#failures > 0) {
      this.#options.logger.info(
        `kubeai informers: ${this.#label()} is watched again after ${
          this.#failures
        } failure(s)`,
      );
    }
    this.#failures = 0;
    this.#lastFailureRefused = false;
    this.#options.health.success();
  }

  #jitteredTimeout(): number {
    const base = this.#options.watchTimeoutSeconds ?? 300;
    return Math.max(1, Math.round(base * (0.8 + Math.random() * 0.2)));
  }

  /**
   * A stored resourceVersion ahead of the cluster's (the cursor of another incarnation of a
   * cluster of that name: recreated, restored from a backup) would be waited for by the
   * apiserver, which sends nothing until its revision gets there: it is dropped, and the kind
   * relisted. (etcd revisions are numbers; anything else is resumed as stored.)
   */
  async #checkResumable(resource: ResolvedResource): Promise<void> {
    const { gateway, cluster, logger, spec } = this.#options;
    const stored = this.#resourceVersion!;
    const { resourceVersion: current } = await gateway.listPage(
      cluster,
      resource,
      { labelSelector: spec.selector, limit: 1 },
    );
    if (
      /^\d+$/.test(stored) &&
      /^\d+$/.test(current) &&
      BigInt(stored) > BigInt(current)
    ) {
      logger.warn(
        `kubeai informers: the stored resourceVersion ${stored} of ${this.#label()} is ahead of the cluster's ${current} (another cluster of that name?); relisting`,
      );
      this.#resourceVersion = undefined;
      this.#resuming = false;
    }
  }

  async #list(resource: ResolvedResource): Promise<void> {
    const { spec, gateway, cluster, writer, observeOptions } = this.#options;
    this.#state = 'listing';
    const present = new Set<string>();
    let continueToken: string | undefined;
    let resourceVersion = '';
    let restarted = false;
    do {
      let page;
      try {
        page = await gateway.listPage(cluster, resource, {
          labelSelector: spec.selector,
          limit: this.#options.pageSize ?? 500,
          continue: continueToken,
        });
      } catch (error) {
        // an expired continue token (410): take the list again from the start, once
        if (
          continueToken &&
          !restarted &&
          /continue|expired|too old/i.test(errorMessage(error))
        ) {
          restarted = true;
          continueToken = undefined;
          present.clear();
          continue;
        }
        throw error;
      }
      const observations = page.items.map(item => {
        present.add(`${item.metadata.namespace ?? ''}/${item.metadata.name}`);
        return observe(cluster, spec, item, observeOptions);
      });
      writer.addListed(observations);
      resourceVersion = page.resourceVersion || resourceVersion;
      continueToken = page.continue;
      if (continueToken) await writer.drained();
    } while (continueToken && !this.#abort.signal.aborted);
    if (this.#abort.signal.aborted) return;
    const listed = new Date().toISOString();
    // synced once the list (and the sweep of what it lacks) is written
    writer
      .listComplete(cluster, spec.kind, present, spec.role === 'service')
      .then(() => {
        this.#synced = true;
        this.#lastSyncAt = listed;
      });
    this.#resourceVersion = resourceVersion;
    this.#relists++;
    this.#recovered();
  }
}
