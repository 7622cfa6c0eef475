/**
 * Batches what the informers observe into few, short transactions: events are coalesced per object
 * (the newest wins) for `flushIntervalMs` after the first one, then written together; relists are
 * written in chunks followed by a sweep of the objects the list no longer has. Work units run one at
 * a time, in the order they were queued. While a unit is being written, newer events join the
 * batch of events waiting behind it (up to `batchSize`): a busy writer writes fewer, larger batches
 * instead of falling behind at a fixed cost per 50 ms of events.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { ApplyStats } from '../database/observed/ObservedStore';
import type { Observation } from './observe';

/** What the writer needs from the registry (RegistryStore implements it). */
export interface ObservationStore {
  applyObservations(batch: Observation[]): Promise<ApplyStats>;
  missingObservedObjects(
    cluster: string,
    kind: string,
    present: Set<string>,
  ): Promise<Observation[]>;
  markMissingDeployments(
    cluster: string,
    present: Set<string>,
  ): Promise<number>;
  reconcileDeployments(clusters: string[]): Promise<number>;
}

export interface ObservationWriterOptions {
  store: ObservationStore;
  logger: Pick<LoggerService, 'debug' | 'info' | 'warn' | 'error'>;
  /** How long events are coalesced before they are written (default 50 ms). */
  flushIntervalMs?: number;
  /** Largest batch per transaction (default 500). */
  batchSize?: number;
}

type Unit =
  | { type: 'batch'; items: Observation[] }
  /** Watch events not yet written, per object key (insertion order = event order). */
  | { type: 'events'; items: Map<string, Observation> }
  | {
      type: 'sweep';
      cluster: string;
      kind: string;
      present: Set<string>;
      service: boolean;
      done: () => void;
    }
  | { type: 'reconcile'; clusters: string[] }
  | { type: 'barrier'; resolve: () => void };

/** One object of one cluster: its events coalesce. */
const keyOf = (o: Observation) =>
  `${o.cluster}\u0000${o.kind}\u0000${o.namespace}\u0000${o.name}`;

/** Keeps the newest observation of `key`, moved to the end (insertion order = event order). */
function setNewest(
  items: Map<string, Observation>,
  key: string,
  observation: Observation,
) {
  items.delete(key);
  items.set(key, observation);
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** Counters for the status API and the benchmark. */
export interface WriterStats {
  pending: number;
  queued: number;
  batches: number;
  objectsWritten: number;
  runsCreated: number;
  runsUpdated: number;
  deploymentsUpdated: number;
  skipped: number;
  failures: number;
  lastWriteAt?: string;
  lastError?: string;
}

export class ObservationWriter {
  readonly #store: ObservationStore;
  readonly #logger: ObservationWriterOptions['logger'];
  readonly #flushIntervalMs: number;
  readonly #batchSize: number;
  #pending = new Map<string, Observation>();
  #timer: NodeJS.Timeout | undefined;
  readonly #queue: Unit[] = [];
  #draining: Promise<void> | undefined;
  #stopped = false;
  readonly stats: WriterStats = {
    pending: 0,
    queued: 0,
    batches: 0,
    objectsWritten: 0,
    runsCreated: 0,
    runsUpdated: 0,
    deploymentsUpdated: 0,
    skipped: 0,
    failures: 0,
  };

  constructor(options: ObservationWriterOptions) {
    this.#store = options.store;
    this.#logger = options.logger;
    this.#flushIntervalMs = options.flushIntervalMs ?? 50;
    this.#batchSize = options.batchSize ?? 500;
  }

  /** One watch event: coalesced with other events of the same object. */
  add(observation: Observation): void {
    if (this.#stopped) return;
    setNewest(this.#pending, keyOf(observation), observation);
    if (this.#pending.size >= this.#batchSize) {
      this.#flushPending();
    } else if (!this.#timer) {
      this.#timer = setTimeout(
        () => this.#flushPending(),
        this.#flushIntervalMs,
      );
    }
  }

  /** A page of a (re)list: written as it is, after what is queued before. */
  addListed(items: Observation[]): void {
    if (this.#stopped || items.length === 0) return;
    this.#flushPending();
    for (let i = 0; i < items.length; i += this.#batchSize) {
      this.#enqueue({
        type: 'batch',
        items: items.slice(i, i + this.#batchSize),
      });
    }
  }

  /**
   * The end of a full list of (cluster, kind): objects stored but not listed are recorded as
   * deleted (and, for InferenceServices, deployments whose service is not in the cluster as
   * `NotFound`). `present` holds `namespace/name` keys. Resolves once written.
   */
  listComplete(
    cluster: string,
    kind: string,
    present: Set<string>,
    service = false,
  ): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#flushPending();
    return new Promise<void>(done =>
      this.#enqueue({ type: 'sweep', cluster, kind, present, service, done }),
    );
  }

  /** Queues a reconciliation of deployments without (current) observed state. */
  reconcile(clusters: string[]): void {
    if (this.#stopped || clusters.length === 0) return;
    if (this.#queue.some(u => u.type === 'reconcile')) return;
    this.#enqueue({ type: 'reconcile', clusters });
  }

  /**
   * Resolves once at most `maxQueued` work units wait (backpressure for lists: a fast apiserver must
   * not pile up a whole cluster's objects in memory ahead of the database).
   */
  async drained(maxQueued = 2): Promise<void> {
    while (!this.#stopped && this.#queue.length > maxQueued) {
      await new Promise<void>(resolve =>
        this.#enqueue({ type: 'barrier', resolve }),
      );
    }
  }

  /** Resolves once everything added so far is written. */
  async flush(): Promise<void> {
    this.#flushPending();
    await new Promise<void>(resolve =>
      this.#enqueue({ type: 'barrier', resolve }),
    );
  }

  /** Writes what is pending, then refuses new work. */
  async stop(): Promise<void> {
    await this.flush().catch(() => undefined);
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  #flushPending() {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#pending.size === 0) return;
    const items = this.#pending;
    this.#pending = new Map();
    // not started yet (the unit being written has left the queue): these events can join it
    const waiting = this.#queue[this.#queue.length - 1];
    if (
      waiting?.type === 'events' &&
      waiting.items.size + items.size <= this.#batchSize
    ) {
      for (const [key, observation] of items) {
        setNewest(waiting.items, key, observation);
      }
      return;
    }
    this.#enqueue({ type: 'events', items });
  }

  #enqueue(unit: Unit) {
    this.#queue.push(unit);
    this.stats.queued = this.#queue.length;
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = undefined;
      if (this.#queue.length > 0)
        this.#enqueue({ type: 'barrier', resolve: () => {} });
    });
  }

  async #drain() {
    while (this.#queue.length > 0) {
      const next = this.#queue.shift()!;
      this.stats.queued = this.#queue.length;
      this.stats.pending = this.#pending.size;
      if (next.type === 'barrier') {
        next.resolve();
        continue;
      }
      const unit: Exclude<Unit, { type: 'barrier' | 'events' }> =
        next.type === 'events'
          ? { type: 'batch', items: [...next.items.values()] }
          : next;
      await this.#run(unit);
      if (unit.type === 'sweep') unit.done();
    }
  }

  async #run(unit: Exclude<Unit, { type: 'barrier' | 'events' }>) {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#apply(unit);
        this.stats.lastWriteAt = new Date().toISOString();
        return;
      } catch (error) {
        this.stats.failures++;
        this.stats.lastError = String((error as Error)?.message ?? error);
        if (this.#stopped && attempt > 1) return;
        if (attempt < 4) {
          this.#logger.warn(
            `kubeai informers: writing observed state failed (attempt ${attempt}), retrying: ${this.stats.lastError}`,
          );
          await sleep(100 * 2 ** attempt);
          continue;
        }
        if (unit.type === 'batch' && unit.items.length > 1) {
          // one bad object must not hold back the others
          for (const item of unit.items) {
            try {
              await this.#apply({ type: 'batch', items: [item] });
            } catch (itemError) {
              this.#logger.error(
                `kubeai informers: dropped the observed state of ${item.kind} ${
                  item.namespace
                }/${item.name} in cluster ${item.cluster}: ${String(
                  (itemError as Error)?.message ?? itemError,
                )}`,
              );
            }
          }
          return;
        }
        this.#logger.error(
          `kubeai informers: gave up writing observed state (${unit.type}): ${this.stats.lastError}`,
        );
        return;
      }
    }
  }

  async #apply(unit: Exclude<Unit, { type: 'barrier' | 'events' }>) {
    switch (unit.type) {
      case 'batch': {
        const stats = await this.#store.applyObservations(unit.items);
        this.stats.batches++;
        this.stats.objectsWritten += stats.objects;
        this.stats.runsCreated += stats.runsCreated;
        this.stats.runsUpdated += stats.runsUpdated;
        this.stats.deploymentsUpdated += stats.deploymentsUpdated;
        this.stats.skipped += stats.skipped;
        return;
      }
      case 'sweep': {
        const missing = await this.#store.missingObservedObjects(
          unit.cluster,
          unit.kind,
          unit.present,
        );
        for (let i = 0; i < missing.length; i += this.#batchSize) {
          await this.#apply({
            type: 'batch',
            items: missing.slice(i, i + this.#batchSize),
          });
        }
        if (missing.length > 0) {
          this.#logger.info(
            `kubeai informers: ${missing.length} ${unit.kind} object(s) of cluster ${unit.cluster} were deleted while not watched`,
          );
        }
        if (unit.service) {
          await this.#store.markMissingDeployments(unit.cluster, unit.present);
        }
        return;
      }
      case 'reconcile':
        await this.#store.reconcileDeployments(unit.clusters);
        return;
      default:
        return;
    }
  }
}
