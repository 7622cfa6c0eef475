/*
 * Fast bulk writes for the benchmarks' seeds, on the raw connection of either database: on SQLite
 * prepared statements on the better-sqlite3 connection, on PostgreSQL multi-row inserts of 5,000
 * rows from arrays (`insert … select from unnest(…)`, the columns' types read once per table).
 */
import type { Knex } from 'knex';

export type Row = Record<string, string | number | null>;

/** Multi-row inserts on the raw connection of either database. */
export class Writer {
  static async open(knex: Knex): Promise<Writer> {
    const connection = await (knex.client as any).acquireConnection();
    return new Writer(knex, connection, knex.client.config.client === 'pg');
  }

  private constructor(
    private readonly knex: Knex,
    private readonly connection: any,
    private readonly pg: boolean,
  ) {}

  async transaction(fn: () => Promise<void>): Promise<void> {
    if (this.pg) {
      await this.connection.query('begin');
      try {
        await fn();
        await this.connection.query('commit');
      } catch (error) {
        await this.connection.query('rollback');
        throw error;
      }
    } else {
      this.connection.exec('begin');
      try {
        await fn();
        this.connection.exec('commit');
      } catch (error) {
        this.connection.exec('rollback');
        throw error;
      }
    }
  }

  async insert(
    table: string,
    columns: readonly string[],
    rows: Row[],
  ): Promise<void> {
    if (rows.length === 0) return;
    if (!this.pg) {
      const statement = this.connection.prepare(
        `insert into ${table} (${columns.join(', ')}) values (${columns
          .map(() => '?')
          .join(', ')})`,
      );
      for (const row of rows) statement.run(columns.map(c => row[c] ?? null));
      return;
    }
    const types = await this.#types(table, columns);
    for (let i = 0; i < rows.length; i += 5000) {
      const chunk = rows.slice(i, i + 5000);
      await this.connection.query(
        `insert into ${table} (${columns.join(
          ', ',
        )}) select * from unnest(${columns
          .map((_, k) => `$${k + 1}::${types[k]}[]`)
          .join(', ')})`,
        columns.map(c => chunk.map(row => row[c] ?? null)),
      );
    }
  }

  readonly #typeCache = new Map<string, string[]>();

  async #types(table: string, columns: readonly string[]): Promise<string[]> {
    const key = `${table}:${columns.join(',')}`;
    let types = this.#typeCache.get(key);
    if (!types) {
      const result = await this.connection.query(
        `select column_name, udt_name from information_schema.columns where table_name = $1`,
        [table],
      );
      const byName = new Map<string, string>(
        result.rows.map((r: any) => [r.column_name, r.udt_name]),
      );
      types = columns.map(c => byName.get(c)!);
      this.#typeCache.set(key, types);
    }
    return types;
  }

  async close(): Promise<void> {
    await (this.knex.client as any).releaseConnection(this.connection);
  }
}
