import { Knex } from 'knex';

/** Now, as the registry stores timestamps: ISO 8601 in UTC. */
export function nowIso(): string {
  return new Date().toISOString();
}

/** A timestamp of a request (RFC 3339, any offset) in the stored form. */
export function toIso(value: string | undefined): string | undefined {
  return value === undefined ? undefined : new Date(value).toISOString();
}

export function toJson(value: unknown): string {
  return JSON.stringify(value);
}

export function fromJson<T>(value: string | null | undefined, fallback: T): T {
  if (value === null || value === undefined || value === '') {
    return fallback;
  }
  return JSON.parse(value) as T;
}

/** bigint and count columns come back as strings from PostgreSQL. */
export function toNumber(
  value: string | number | null | undefined,
): number | undefined {
  return value === null || value === undefined ? undefined : Number(value);
}

/** Drops `undefined` and `null` values, so optional fields are absent rather than null in answers. */
export function compact<T extends Record<string, unknown>>(value: T): T {
  for (const key of Object.keys(value)) {
    if (value[key] === undefined || value[key] === null) {
      delete value[key];
    }
  }
  return value;
}

/** A unique or primary key violation, on PostgreSQL, SQLite or MySQL. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return (
    code === '23505' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    code === 'ER_DUP_ENTRY'
  );
}

/**
 * Runs `fn` (a whole transaction) again when it fails on a unique violation — the sign that a
 * concurrent transaction took the same version number or alias first. Backs off with jitter.
 */
export async function retryOnUniqueViolation<T>(
  fn: () => Promise<T>,
  attempts = 30,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isUniqueViolation(error) || attempt >= attempts) {
        throw error;
      }
      const ceiling = Math.min(100, 2 ** attempt);
      await new Promise(resolve =>
        setTimeout(resolve, Math.random() * ceiling),
      );
    }
  }
}

/**
 * Serializes async work per key inside one process (one backend replica): concurrent registrations
 * of one model queue here instead of colliding in the database. Other replicas still collide, and
 * {@link retryOnUniqueViolation} resolves that.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(fn, fn);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    try {
      return await result;
    } finally {
      if (this.#tails.get(key) === tail) {
        this.#tails.delete(key);
      }
    }
  }
}

/** Default page size of list reads. */
export const DEFAULT_LIMIT = 100;

/** Paging of list reads. */
export interface Page {
  limit?: number;
  offset?: number;
}

/** Items grouped by a key, in first-seen order. */
export function groupBy<T>(
  items: T[],
  key: (item: T) => string,
): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/** Splits a list for `IN (…)` clauses, below every database's bind-parameter limit. */
export function chunks<T>(items: T[], size = 5000): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(items.slice(i, i + size));
  }
  return out;
}

const isSqlite = (db: Knex | Knex.QueryBuilder) => {
  const client = (db as { client?: { config?: { client?: unknown } } }).client
    ?.config?.client;
  return client === 'better-sqlite3' || client === 'sqlite3';
};

/**
 * `column IN (…values)`. On SQLite the list is one JSON parameter (`json_each`): a short statement
 * instead of thousands of placeholders, measurably cheaper to build, bind and prepare for the
 * large frontiers of a lineage walk. Other databases get the plain list.
 */
export function whereInValues<V extends string | number>(
  query: Knex.QueryBuilder,
  column: string,
  values: V[],
): Knex.QueryBuilder {
  if (values.length > 20 && isSqlite(query)) {
    return query.whereRaw(`?? in (select value from json_each(?))`, [
      column,
      JSON.stringify(values),
    ]);
  }
  return query.whereIn(column, values);
}

/**
 * The rows of `query` column by column: `columns` (which it must select, by these names) → the
 * column's values in row order. On SQLite the database aggregates each column into one JSON array
 * (`json_group_array`): a few strings for JS to parse instead of thousands of row objects — the
 * lineage walk's frontiers are thousands of rows, and row objects were its largest cost.
 */
export async function selectColumns<C extends string>(
  db: Knex,
  query: Knex.QueryBuilder,
  columns: readonly C[],
): Promise<{ rows: number; values: Record<C, unknown[]> }> {
  const values = {} as Record<C, unknown[]>;
  if (isSqlite(db)) {
    const aggregated = db
      .select(
        columns.map((column, i) =>
          db.raw(`json_group_array(??) as ??`, [column, `c${i}`]),
        ),
      )
      .from(query.as('q'));
    const [row] = await selectPrepared(db, aggregated);
    columns.forEach((column, i) => {
      values[column] = JSON.parse(row[`c${i}`]);
    });
    return { rows: values[columns[0]]?.length ?? 0, values };
  }
  const rows: Record<string, unknown>[] = await query;
  for (const column of columns) {
    values[column] = rows.map(row => row[column]);
  }
  return { rows: rows.length, values };
}

/** `(col1 = ? AND col2 IN (…)) OR …` for (ref, version) pairs, grouped by ref. */
export function wherePairs<V extends string | number>(
  query: Knex.QueryBuilder,
  refColumn: string,
  versionColumn: string,
  pairs: Map<string, V[]>,
): Knex.QueryBuilder {
  return query.where(outer => {
    for (const [ref, versions] of pairs) {
      outer.orWhere(inner =>
        whereInValues(inner.where(refColumn, ref), versionColumn, versions),
      );
    }
  });
}

type SqliteStatement = { all(...bindings: unknown[]): any[] };
type SqliteConnection = { prepare(sql: string): SqliteStatement };
const statements = new WeakMap<
  SqliteConnection,
  Map<string, SqliteStatement>
>();

/**
 * The rows of a read. On SQLite through a prepared statement the connection keeps (by SQL text):
 * knex prepares every statement anew, a measurable part of the lineage walk's reads, whose few
 * shapes repeat with every request (lists are one `json_each` parameter, see `whereInValues`).
 * Other databases, and reads inside a transaction, go through knex as usual.
 */
export async function selectPrepared<Row = any>(
  db: Knex,
  query: Knex.QueryBuilder,
): Promise<Row[]> {
  if (!isSqlite(db) || (db as { isTransaction?: boolean }).isTransaction) {
    return await query;
  }
  const { sql, bindings } = query.toSQL().toNative();
  const client = db.client as {
    acquireConnection(): Promise<SqliteConnection>;
    releaseConnection(connection: SqliteConnection): Promise<void>;
    emit(event: string, ...args: unknown[]): void;
  };
  // knex's own events, so that query logs and counters see this read as any other
  const event = { sql, bindings, method: 'select' };
  client.emit('query', event);
  const connection = await client.acquireConnection();
  try {
    let cache = statements.get(connection);
    if (!cache) {
      cache = new Map();
      statements.set(connection, cache);
    }
    let statement = cache.get(sql);
    if (!statement) {
      statement = connection.prepare(sql);
      if (cache.size >= 200) cache.clear(); // shapes with ever new SQL text
      cache.set(sql, statement);
    }
    const rows = statement.all(
      ...bindings.map(value =>
        typeof value === 'boolean' ? Number(value) : value,
      ),
    );
    client.emit('query-response', rows, event);
    return rows;
  } finally {
    await client.releaseConnection(connection);
  }
}
