import { Knex } from 'knex';
import { randomUUID } from 'node:crypto';

/*
 * The registry's change token: a value that changes after every committed write to the registry,
 * so that answers computed from the registry (the lineage of a hot model, see
 * service/lineageCache.ts) can be reused until the next write.
 *
 * - Every backend process counts the writes made through its database client (one counter per
 *   knex instance, whatever the number of stores using it).
 * - On PostgreSQL, where several backend replicas may share the database, every write also takes
 *   the next value of the sequence `kubeai_registry_changes` (after the commit: `nextval` is
 *   outside transactions, so writers never wait on each other), and the token includes the
 *   sequence's `last_value`: a write through one replica changes the token of all of them.
 *
 * A reader reads the token *before* it computes an answer and files the answer under it: a write
 * that commits meanwhile changes the token, so the answer is never reused after that write.
 */

const SEQUENCE = 'kubeai_registry_changes';

const WRITE = /^\s*(insert|update|delete|upsert|replace|merge)\b/i;

const trackers = new WeakMap<Knex, RegistryChanges>();

export class RegistryChanges {
  readonly #db: Knex;
  readonly #shared: boolean;
  #local = 0;
  /** Tokens of another process (before a restart, another replica) never equal this one's. */
  readonly #process = randomUUID();

  /** The tracker of a knex instance (one per instance). */
  static of(knex: Knex): RegistryChanges {
    let tracker = trackers.get(knex);
    if (!tracker) {
      tracker = new RegistryChanges(knex);
      trackers.set(knex, tracker);
    }
    return tracker;
  }

  private constructor(db: Knex) {
    this.#db = db;
    this.#shared = db.client.config.client === 'pg';
    db.on(
      'query-response',
      (_response: unknown, query: { sql?: string; __knexTxId?: string }) => {
        // statements of a transaction count when it commits (see `trackWrites`)
        if (!query.__knexTxId && query.sql && WRITE.test(query.sql)) {
          this.changed().catch(() => {
            // counted here already; other replicas see this write with the next one
          });
        }
      },
    );
  }

  /** Records a committed write (awaits the shared sequence on PostgreSQL). */
  async changed(): Promise<void> {
    this.#local++;
    if (this.#shared) {
      await this.#db.raw(`select nextval('${SEQUENCE}')`);
    }
  }

  /** The current token; equal tokens mean no write committed in between. */
  async token(): Promise<string> {
    if (!this.#shared) {
      return `${this.#process}:${this.#local}`;
    }
    const result = await this.#db.raw(`select last_value from ${SEQUENCE}`);
    return `${this.#process}:${this.#local}:${result.rows[0].last_value}`;
  }

  /**
   * The knex instance, with `transaction(callback)` reporting the commit before it resolves
   * (statements outside transactions are reported by the `query-response` listener).
   */
  trackWrites(): Knex {
    return new Proxy(this.#db, {
      get: (target, property, receiver) => {
        if (property !== 'transaction') {
          return Reflect.get(target, property, receiver);
        }
        // The registry uses the callback form only: it resolves once the transaction committed.
        return (...args: unknown[]) => {
          const started = (
            target.transaction as (...a: unknown[]) => Promise<unknown>
          )(...args);
          if (typeof args[0] !== 'function') return started;
          return started.then(async result => {
            await this.changed();
            return result;
          });
        };
      },
    });
  }
}
