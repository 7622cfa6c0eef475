import { Knex } from 'knex';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/*
 * What changed in the registry, per scope, so that answers computed from it (the lineage of a hot
 * model, see service/lineageCache.ts) are reused until a write that can change them commits.
 *
 * - A scope is an entity ref (`model:default/x`, `dataset:…`, `inferenceservice:…`, lower case),
 *   `run:<id>`, `artifact:<uri>`, or {@link ALL_SCOPES} (`*`).
 * - A registry transaction says which scopes it changes ({@link touchScopes}, called inside it);
 *   one that says nothing — and every write outside a transaction — changes `*`, which every
 *   answer depends on. After the commit the touched scopes get a new highest version in
 *   `kubeai_change_scopes` (PostgreSQL: from the sequence `kubeai_registry_changes`, so replicas
 *   never hand out the same version; SQLite: max + 1 under its single writer).
 * - A reader reads the horizon (the highest version) *before* computing an answer, then the
 *   versions of the answer's scopes: when none is above the horizon, the answer is valid for
 *   exactly those versions — every replica reads the same ones, so their ETags agree. A write
 *   that commits meanwhile bumps its scopes after its commit, so the answer is never kept under
 *   versions older than the data it read.
 * - Each process also counts the writes made through its client (one counter per knex instance):
 *   on SQLite, where one process owns the database, an answer stays valid without a query while
 *   that count has not moved.
 */

const SEQUENCE = 'kubeai_registry_changes';
const TABLE = 'kubeai_change_scopes';
const LOG = 'kubeai_change_log';
/** The scope of the change log's row that says below which version it is no longer complete. */
const LOG_FLOOR = '~floor';
/** The change log keeps the rows of this many latest versions (pruned every `LOG_PRUNE_EVERY` writes). */
const LOG_KEEP_VERSIONS = 100_000;
const LOG_PRUNE_EVERY = 1000;

/** The scope every answer depends on: changed by writes that do not say what they change. */
export const ALL_SCOPES = '*';

/**
 * A write statement to a registry table. Not the tables beside the registry (audit trail, run
 * credentials, informer cursors, settings, catalog entities created through the portal, these
 * versions), and not other plugins' tables when
 * one database client serves several plugins (tests): their writes change no answer.
 */
const REGISTRY_WRITE =
  /^\s*(insert\s+into|update|delete\s+from|replace\s+into|upsert\s+into|merge\s+into)\s+["`]?kubeai_(?!audit|run_credentials|informer_cursors|settings|portal_entities|change_scopes|change_log|_knex)\w+/i;

const trackers = new WeakMap<Knex, RegistryChanges>();

/** The scopes of the registry transaction running in this async context. */
const declared = new AsyncLocalStorage<Declared>();

interface Declared {
  /** Scopes the transaction may change in any way. */
  scopes: Set<string>;
  /** Scopes it changes only the details of these lineage nodes of (see {@link touchNodes}). */
  nodes: Map<string, Set<string>>;
  declared: boolean;
}

/**
 * Declares that the current registry transaction changes `scopes` (empty values are ignored;
 * no scopes at all: it changes nothing an answer shows, e.g. it wrote nothing). Call it inside
 * the transaction's callback for everything the transaction writes: once a transaction declared,
 * only its declared scopes are bumped.
 */
export function touchScopes(...scopes: Array<string | null | undefined>): void {
  const context = declared.getStore();
  if (!context) return;
  context.declared = true;
  for (const scope of scopes) {
    if (scope) context.scopes.add(scopeOf(scope));
  }
}

/**
 * Declares that the current registry transaction changes, in `scope`, only the details of the
 * lineage nodes `nodeIds` (what `lineageNodeDetails` reads: a model version's state, a run's name
 * and phase) — nothing else an answer shows, no node or edge. A held answer made stale only by
 * such writes is patched instead of computed again (service/lineageCache.ts). A scope also
 * declared with {@link touchScopes} in the same transaction counts as changed in any way.
 */
export function touchNodes(scope: string, ...nodeIds: string[]): void {
  const context = declared.getStore();
  if (!context) return;
  context.declared = true;
  const key = scopeOf(scope);
  const nodes = context.nodes.get(key) ?? new Set<string>();
  for (const id of nodeIds) nodes.add(id);
  context.nodes.set(key, nodes);
}

/** The scope of an artifact URI (as the lineage matches them: without trailing slashes). */
export function artifactScope(
  uri: string | null | undefined,
): string | undefined {
  return uri ? `artifact:${uri.replace(/\/+$/, '')}` : undefined;
}

/** The scope of an entity ref or a `run:` / `artifact:` key, as stored. */
export function scopeOf(value: string): string {
  return value.startsWith('artifact:') ? value : value.toLowerCase();
}

export class RegistryChanges {
  readonly #db: Knex;
  readonly #shared: boolean;
  #local = 0;
  #pending = 0;
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
        if (!query.__knexTxId && query.sql && REGISTRY_WRITE.test(query.sql)) {
          this.changed([ALL_SCOPES]).catch(() => {
            // counted here already; a later write bumps `*` again
          });
        }
      },
    );
  }

  /** Whether other processes may write the same database (PostgreSQL). */
  get shared(): boolean {
    return this.#shared;
  }

  /** Writes committed through this process's client so far. */
  get localWrites(): number {
    return this.#local;
  }

  /**
   * Whether a write of this process committed and its versions are not raised yet: nothing
   * computed now may be kept, nothing held may be served.
   */
  get settling(): boolean {
    return this.#pending > 0;
  }

  /**
   * Records a committed write of `scopes` (changed in any way) and of `nodes` (scopes of which it
   * changed only these nodes' details): counted at once, then their versions raised and logged.
   */
  async changed(
    scopes: Iterable<string>,
    nodes: Map<string, Set<string>> = new Map(),
  ): Promise<void> {
    const anyWay = new Set(scopes);
    // sorted: concurrent bumps lock the rows in one order (no deadlock on PostgreSQL)
    const list = [...new Set([...anyWay, ...nodes.keys()])].sort();
    if (list.length === 0) return; // declared: it changed nothing an answer shows
    // per scope: null (any way) or the JSON list of the nodes whose details it changed
    const logged = list.map(scope =>
      anyWay.has(scope) ? null : JSON.stringify([...nodes.get(scope)!].sort()),
    );
    this.#local++;
    this.#pending++;
    try {
      await this.#bump(list, logged);
    } finally {
      this.#pending--;
    }
  }

  async #bump(list: string[], logged: (string | null)[]): Promise<void> {
    const prune = this.#local % LOG_PRUNE_EVERY === 0;
    // in a transaction of the plain client: not itself counted by the listener above
    await this.#db.transaction(async tx => {
      if (this.#shared) {
        // the list of details holds nulls (changed in any way): an array parameter all the same
        const bindings = [list, list, logged] as Knex.RawBinding[];
        await tx.raw(
          `with bumped as (
             insert into ${TABLE} (scope, version)
             select s, nextval('${SEQUENCE}') from unnest(?::text[]) as s
             on conflict (scope) do update set version = excluded.version
             returning scope, version)
           insert into ${LOG} (scope, version, nodes)
           select b.scope, b.version, d.nodes
           from bumped b join unnest(?::text[], ?::text[]) as d(scope, nodes) on d.scope = b.scope`,
          bindings,
        );
      } else {
        await tx.raw(
          `insert into ${TABLE} (scope, version)
           select s.value, m.next from json_each(?) as s,
             (select coalesce(max(version), 0) + 1 as next from ${TABLE}) as m
           where true
           on conflict (scope) do update set version = excluded.version`,
          [JSON.stringify(list)],
        );
        // a version seen before (a scope row deleted and raised again): the log says "any way"
        await tx.raw(
          `insert into ${LOG} (scope, version, nodes)
           select c.scope, c.version, json_extract(d.value, '$[1]')
           from json_each(?) as d join ${TABLE} c on c.scope = json_extract(d.value, '$[0]')
           where true
           on conflict (scope, version) do update set nodes = null`,
          [JSON.stringify(list.map((scope, i) => [scope, logged[i]]))],
        );
      }
      if (prune) await this.#pruneLog(tx);
    });
  }

  /** Drops the log's rows below the latest {@link LOG_KEEP_VERSIONS} versions; raises its floor. */
  async #pruneLog(tx: Knex.Transaction): Promise<void> {
    const row = await tx(TABLE).max({ max: 'version' }).first();
    const floor = Number(row?.max ?? 0) - LOG_KEEP_VERSIONS;
    if (floor <= 0) return;
    await tx(LOG)
      .insert({ scope: LOG_FLOOR, version: floor, nodes: null })
      .onConflict(['scope', 'version'])
      .ignore();
    await tx(LOG).where('version', '<', floor).delete();
  }

  /**
   * The nodes whose details changed in each scope whose version went from `held` to `current`
   * (both maps of the same scopes), from the change log; undefined when one of those scopes
   * changed in any other way, was removed, or changed before the log's floor (or too many nodes
   * changed to be worth patching).
   */
  async nodeChanges(
    held: Map<string, number>,
    current: Map<string, number>,
    maxNodes = 500,
  ): Promise<Set<string> | undefined> {
    const changed: string[] = [];
    let since = Infinity;
    for (const [scope, version] of current) {
      const before = held.get(scope) ?? 0;
      if (version === before) continue;
      if (version === 0 || version < before || scope === ALL_SCOPES) {
        return undefined;
      }
      changed.push(scope);
      since = Math.min(since, before);
    }
    if (changed.length === 0) return new Set();
    const result = this.#shared
      ? await this.#db.raw(
          `select scope, version, nodes from ${LOG}
           where (scope = any(?::text[]) and version > ?) or scope = ?`,
          [changed, since, LOG_FLOOR],
        )
      : await this.#db.raw(
          `select scope, version, nodes from ${LOG}
           where (scope in (select value from json_each(?)) and version > ?) or scope = ?`,
          [JSON.stringify(changed), since, LOG_FLOOR],
        );
    const rows: {
      scope: string;
      version: string | number;
      nodes: string | null;
    }[] = this.#shared ? result.rows : result;
    let floor = 0;
    const byScope = new Map<
      string,
      { version: number; nodes: string | null }[]
    >();
    for (const row of rows) {
      const version = Number(row.version);
      if (row.scope === LOG_FLOOR) floor = Math.max(floor, version);
      else {
        const list = byScope.get(row.scope) ?? [];
        list.push({ version, nodes: row.nodes });
        byScope.set(row.scope, list);
      }
    }
    const nodes = new Set<string>();
    for (const scope of changed) {
      const before = held.get(scope) ?? 0;
      const now = current.get(scope)!;
      if (before < floor) return undefined; // some of its changes may be pruned
      let reachesNow = false;
      for (const entry of byScope.get(scope) ?? []) {
        if (entry.version <= before || entry.version > now) continue;
        if (entry.nodes === null) return undefined;
        for (const id of JSON.parse(entry.nodes) as string[]) nodes.add(id);
        if (entry.version === now) reachesNow = true;
      }
      if (!reachesNow || nodes.size > maxNodes) return undefined;
    }
    return nodes;
  }

  /** The highest version of any scope: read it before computing an answer. */
  async horizon(): Promise<number> {
    const row = await this.#db(TABLE).max({ max: 'version' }).first();
    return Number(row?.max ?? 0);
  }

  /** The versions of `scopes` (0 for a scope never changed). */
  async versions(scopes: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>(scopes.map(s => [s, 0]));
    if (scopes.length === 0) return out;
    // one statement whatever the number of scopes (a hot model's answer has thousands): the list
    // is one parameter, an array on PostgreSQL, JSON on SQLite
    const result = this.#shared
      ? await this.#db.raw(
          `select scope, version from ${TABLE} where scope = any(?::text[])`,
          [scopes],
        )
      : await this.#db.raw(
          `select scope, version from ${TABLE} where scope in (select value from json_each(?))`,
          [JSON.stringify(scopes)],
        );
    const rows: { scope: string; version: string | number }[] = this.#shared
      ? result.rows
      : result;
    for (const row of rows) out.set(row.scope, Number(row.version));
    return out;
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
          const callback = args[0];
          if (typeof callback !== 'function') {
            return (target.transaction as (...a: unknown[]) => unknown)(
              ...args,
            );
          }
          const context: Declared = {
            scopes: new Set<string>(),
            nodes: new Map(),
            declared: false,
          };
          const started = (
            target.transaction as (...a: unknown[]) => Promise<unknown>
          )(
            (tx: unknown) => declared.run(context, () => callback(tx)),
            ...args.slice(1),
          );
          return started.then(async result => {
            await this.changed(
              context.declared ? context.scopes : [ALL_SCOPES],
              context.nodes,
            );
            return result;
          });
        };
      },
    });
  }
}
