/**
 * Retention of the audit trail: events older than `kubeai.audit.retentionDays` are deleted with
 * their target rows, by a scheduled task (../../plugin.ts) that one replica runs at a time. A
 * portal running thousands of periodic tasks a day writes as many events, so the tables would
 * otherwise grow forever.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import type { Knex } from 'knex';

/** The config key, named by every message about it. */
export const RETENTION_KEY = 'kubeai.audit.retentionDays';
/** Days kept when config says nothing. */
export const DEFAULT_RETENTION_DAYS = 365;
/** A century: beyond it the cutoff date is meaningless (and soon not a valid Date). */
export const MAX_RETENTION_DAYS = 36_500;
/** Events deleted per transaction: short write locks, below every database's bind-parameter limit. */
export const RETENTION_BATCH = 500;

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Reads `kubeai.audit.retentionDays`: a whole number of days, 1 … 36500 (a numeric string, as an
 * environment substitution gives, counts). Anything else throws, so a bad value stops the backend
 * at startup instead of deleting too much or nothing.
 */
export function readAuditRetentionConfig(config: Config): {
  retentionDays: number;
} {
  const raw = config.getOptional(RETENTION_KEY);
  if (raw === undefined) return { retentionDays: DEFAULT_RETENTION_DAYS };
  const value =
    typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : raw;
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < 1 ||
    value > MAX_RETENTION_DAYS
  ) {
    throw new Error(
      `${RETENTION_KEY}: must be a whole number of days from 1 to ${MAX_RETENTION_DAYS} ` +
        `(how long audit events are kept; default ${DEFAULT_RETENTION_DAYS}), got ${JSON.stringify(
          raw,
        )}`,
    );
  }
  return { retentionDays: value };
}

/** What one {@link AuditRetention.prune} did. */
export interface PruneResult {
  /** Events deleted (their target rows went with them). */
  deleted: number;
  /** Transactions that deleted something. */
  batches: number;
  /** Events older than this were deleted (ISO 8601, the stored form). */
  cutoff: string;
  /** True when it stopped early (aborted or `maxBatches`) with old events possibly left. */
  incomplete: boolean;
}

export interface AuditRetentionOptions {
  /** The registry's knex (the audit tables; not the write-tracking one: no registry answer changes). */
  db: Knex;
  retentionDays: number;
  logger?: LoggerService;
  /** Events per transaction. Default {@link RETENTION_BATCH}. */
  batchSize?: number;
}

/** Deletes audit events older than the retention, oldest first, in bounded batches. */
export class AuditRetention {
  readonly #db: Knex;
  readonly #logger?: LoggerService;
  readonly retentionDays: number;
  readonly batchSize: number;

  constructor(options: AuditRetentionOptions) {
    this.#db = options.db;
    this.#logger = options.logger;
    this.retentionDays = options.retentionDays;
    this.batchSize = options.batchSize ?? RETENTION_BATCH;
  }

  /** The oldest time kept at `now` (events strictly before it go). */
  cutoff(now: Date = new Date()): string {
    return new Date(now.getTime() - this.retentionDays * DAY_MS).toISOString();
  }

  /**
   * Deletes what is older than the cutoff, one transaction per batch, until none is left, `signal`
   * aborts (the scheduler's timeout, shutdown) or `maxBatches` ran. Each transaction deletes at most
   * `batchSize` events and their targets, so neither table is locked for long and other writers (the
   * trail itself) get in between.
   */
  async prune(
    options: { now?: Date; signal?: AbortSignal; maxBatches?: number } = {},
  ): Promise<PruneResult> {
    const cutoff = this.cutoff(options.now);
    let deleted = 0;
    let batches = 0;
    for (;;) {
      if (options.signal?.aborted || batches === options.maxBatches) {
        return { deleted, batches, cutoff, incomplete: true };
      }
      const count = await this.#deleteBatch(cutoff);
      if (count > 0) {
        deleted += count;
        batches += 1;
      }
      if (count < this.batchSize) {
        return { deleted, batches, cutoff, incomplete: false };
      }
    }
  }

  /** The scheduled task's body: prunes and says what it did. */
  async run(signal?: AbortSignal): Promise<PruneResult> {
    const result = await this.prune({ signal });
    if (result.deleted > 0 || result.incomplete) {
      this.#logger?.info(
        `kubeai audit retention: deleted ${
          result.deleted
        } audit events older than ${result.cutoff} (${RETENTION_KEY} ${
          this.retentionDays
        }) in ${result.batches} batches${
          result.incomplete ? '; stopped early, the rest on the next run' : ''
        }`,
      );
    }
    return result;
  }

  async #deleteBatch(cutoff: string): Promise<number> {
    return this.#db.transaction(async tx => {
      // by time: the range of kubeai_audit_events_time_idx, also when nothing is that old
      const ids: Array<number | string> = await tx('kubeai_audit_events')
        .where('occurred_at', '<', cutoff)
        .orderBy('occurred_at')
        .limit(this.batchSize)
        .pluck('id');
      if (ids.length === 0) return 0;
      // the targets first: SQLite enforces the foreign key only when its pragma is on
      await tx('kubeai_audit_event_targets').whereIn('event_id', ids).delete();
      await tx('kubeai_audit_events').whereIn('id', ids).delete();
      return ids.length;
    });
  }
}
