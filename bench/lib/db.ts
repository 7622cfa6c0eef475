/*
 * The database a seeding benchmark runs on: a SQLite file (WAL) in its scratch folder, or with
 * `postgres` a fresh database on the PostgreSQL of `eval "$(bash scripts/postgres.sh start)"`,
 * dropped again by `close`; `runBench` wraps a benchmark's run around it; the tables' sizes.
 */
import knexFactory, { Knex } from 'knex';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface BenchDatabase {
  knex: Knex;
  /** What the report names it by, e.g. "PostgreSQL 16.4". */
  label: string;
  postgres: boolean;
  close: () => Promise<void>;
}

export async function openBenchDatabase(options: {
  postgres: boolean;
  /** Part of the PostgreSQL database's name: kubeai_bench_<name>_<ms>. */
  name: string;
  /** The folder of the SQLite file. */
  scratch: string;
}): Promise<BenchDatabase> {
  if (options.postgres) {
    const url =
      Object.entries(process.env).find(([k]) =>
        /^BACKSTAGE_TEST_DATABASE_POSTGRES\d+_CONNECTION_STRING$/.test(k),
      )?.[1] ?? '';
    if (!url) {
      throw new Error(
        'no PostgreSQL: eval "$(bash scripts/postgres.sh start)" first',
      );
    }
    const admin = knexFactory({ client: 'pg', connection: `${url}/postgres` });
    const database = `kubeai_bench_${options.name}_${Date.now()}`;
    await admin.raw(`CREATE DATABASE ${database}`);
    const knex = knexFactory({
      client: 'pg',
      connection: `${url}/${database}`,
      pool: { min: 0, max: 10 },
    });
    const version = (await knex.raw('show server_version')).rows[0]
      .server_version;
    return {
      knex,
      label: `PostgreSQL ${version}`,
      postgres: true,
      close: async () => {
        await knex.destroy();
        await admin.raw(`DROP DATABASE IF EXISTS ${database}`);
        await admin.destroy();
      },
    };
  }
  const knex = knexFactory({
    client: 'better-sqlite3',
    connection: { filename: path.join(options.scratch, 'registry.sqlite') },
    useNullAsDefault: true,
    pool: {
      // write-ahead log: what a SQLite deployment that takes writes uses
      afterCreate: (conn: any, done: (err: Error | null, c: any) => void) => {
        conn.pragma('journal_mode = WAL');
        conn.pragma('synchronous = NORMAL');
        done(null, conn);
      },
    },
  });
  return {
    knex,
    label: 'SQLite (better-sqlite3, file database in WAL mode)',
    postgres: false,
    close: () => knex.destroy(),
  };
}

/**
 * Runs a benchmark's `body` on a fresh database in a scratch folder (both removed afterwards):
 * prints the Markdown it returns and fails (exit 1) when one of its checks failed.
 */
export function runBench(
  options: { name: string; postgres: boolean },
  body: (context: {
    db: BenchDatabase;
    scratch: string;
    /** The 1-minute load average before anything started. */
    loadAtStart: number;
  }) => Promise<{ markdown: string; checks: Record<string, boolean> }>,
) {
  const main = async () => {
    const loadAtStart = os.loadavg()[0];
    const scratch = fs.mkdtempSync(
      path.join(os.tmpdir(), `kubeai-bench-${options.name}-`),
    );
    try {
      const db = await openBenchDatabase({ ...options, scratch });
      try {
        const { markdown, checks } = await body({ db, scratch, loadAtStart });
        console.log(markdown);
        if (!Object.values(checks).every(Boolean)) {
          throw new Error(`checks failed: ${JSON.stringify(checks)}`);
        }
      } finally {
        await db.close();
      }
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  };
  main().catch(error => {
    console.error(error);
    process.exit(1);
  });
}

/** Bytes (table and its indexes; SQLite: pages in use, PostgreSQL: total relation size) and rows. */
export async function tableSizes(
  knex: Knex,
  tables: readonly string[],
): Promise<Record<string, { bytes: number; rows: number }>> {
  const pg = knex.client.config.client === 'pg';
  const sqliteBytes = new Map<string, number>();
  if (!pg) {
    const rows: Array<{ tbl: string; bytes: number }> = await knex.raw(
      `select m.tbl_name as tbl, sum(s.pgsize) as bytes
         from dbstat s join sqlite_master m on m.name = s.name
        group by m.tbl_name`,
    );
    for (const row of rows) sqliteBytes.set(row.tbl, Number(row.bytes));
  }
  const out: Record<string, { bytes: number; rows: number }> = {};
  for (const table of tables) {
    const [{ n }] = await knex(table).count({ n: '*' });
    const bytes = pg
      ? Number(
          (await knex.raw('select pg_total_relation_size(?) as b', [table]))
            .rows[0].b,
        )
      : sqliteBytes.get(table) ?? 0;
    out[table] = { bytes, rows: Number(n) };
  }
  return out;
}

/** Bytes of one index (SQLite: pages in use, PostgreSQL: relation size). */
export async function indexBytes(knex: Knex, index: string): Promise<number> {
  if (knex.client.config.client === 'pg') {
    return Number(
      (await knex.raw('select pg_relation_size(?) as b', [index])).rows[0].b,
    );
  }
  const rows: Array<{ bytes: number | null }> = await knex.raw(
    'select sum(pgsize) as bytes from dbstat where name = ?',
    [index],
  );
  return Number(rows[0]?.bytes ?? 0);
}
