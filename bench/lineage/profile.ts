/*
 * Where the hot model's computed lineage spends its time, query by query: seeds the synthetic
 * registry (seed.ts) into a fresh database — or opens one kept by an earlier `--keep` — walks the
 * hot model's lineage `--iterations` times, and prints each query's median time (and, on
 * PostgreSQL with `--explain`, EXPLAIN ANALYZE of each distinct query).
 *
 *   node --require @backstage/cli/config/nodeTransform.cjs bench/lineage/profile.ts \
 *     [--postgres] [--versions 100000] [--iterations 20] [--explain] [--keep | --database NAME]
 */
import knexFactory, { Knex } from 'knex';
import { rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { RegistryStore } from '../../plugins/kubeai-backend/src/database/RegistryStore';
import { lineageScopes } from '../../plugins/kubeai-backend/src/service/lineageCache';
import { HOT_MODEL, seedRegistry } from './seed';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const POSTGRES = process.argv.includes('--postgres');
const VERSIONS = Number(arg('--versions') ?? 100_000);
const ITERATIONS = Number(arg('--iterations') ?? 20);

async function main() {
  let knex: Knex;
  let reuse = arg('--database');
  let drop = async () => {};
  if (POSTGRES) {
    const env = process.env;
    const connection = {
      host: env.POSTGRES_HOST,
      port: Number(env.POSTGRES_PORT ?? 5432),
      user: env.POSTGRES_USER,
      password: env.POSTGRES_PASSWORD,
    };
    const database = reuse ?? `kubeai_bench_profile_${process.pid}`;
    const admin = knexFactory({
      client: 'pg',
      connection: { ...connection, database: 'postgres' },
    });
    if (!reuse) await admin.raw(`create database ${database}`);
    knex = knexFactory({
      client: 'pg',
      connection: { ...connection, database },
    });
    drop = async () => {
      if (!process.argv.includes('--keep')) {
        await admin.raw(`drop database if exists ${database}`);
      } else console.error(`kept database ${database}`);
      await admin.destroy();
    };
  } else {
    const filename =
      reuse ?? join(os.tmpdir(), `kubeai-bench-profile-${process.pid}.sqlite`);
    knex = knexFactory({
      client: 'better-sqlite3',
      connection: { filename },
      useNullAsDefault: true,
    });
    // a fresh file is removed afterwards unless kept (--keep; reuse it with --database FILE)
    drop = async () => {
      if (reuse) return;
      if (process.argv.includes('--keep')) {
        console.log(`kept ${filename}`);
        return;
      }
      for (const suffix of ['', '-wal', '-shm', '-journal']) {
        rmSync(`${filename}${suffix}`, { force: true });
      }
    };
  }
  try {
    const store = await RegistryStore.create({
      database: { getClient: async () => knex },
    });
    if (!reuse) {
      const t = performance.now();
      await seedRegistry(knex, { versions: VERSIONS });
      await knex.raw(POSTGRES ? 'vacuum analyze' : 'analyze');
      console.error(
        `seeded in ${((performance.now() - t) / 1000).toFixed(1)} s`,
      );
    }
    const start = { type: 'model' as const, ref: HOT_MODEL };
    const options = { direction: 'both' as const, depth: 3 };
    const times = new Map<string, number[]>();
    const began = new Map<string, { sql: string; at: number }>();
    const shape = (sql: string) =>
      sql
        .replace(/\$\d+(, \$\d+)*/g, '$…')
        .replace(/\?(, \?)*/g, '?…')
        .slice(0, 160);
    knex.on('query', (q: { __knexQueryUid: string; sql: string }) =>
      began.set(q.__knexQueryUid, { sql: q.sql, at: performance.now() }),
    );
    knex.on('query-response', (_r: unknown, q: { __knexQueryUid: string }) => {
      const b = began.get(q.__knexQueryUid);
      if (!b) return;
      const key = shape(b.sql);
      if (!times.has(key)) times.set(key, []);
      times.get(key)!.push(performance.now() - b.at);
    });
    const walk: number[] = [];
    const validity: number[] = [];
    const json: number[] = [];
    let scopes = 0;
    for (let i = 0; i < ITERATIONS + 3; i++) {
      if (i === 3) times.clear();
      let t = performance.now();
      const graph = (await store.lineageWithObserved(start, options))!;
      const w = performance.now() - t;
      t = performance.now();
      const s = lineageScopes(graph);
      await store.changes.versions(s);
      const v = performance.now() - t;
      t = performance.now();
      Buffer.from(JSON.stringify(graph));
      const j = performance.now() - t;
      scopes = s.length;
      if (i >= 3) {
        walk.push(w);
        validity.push(v);
        json.push(j);
      }
    }
    const median = (xs: number[]) =>
      [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(
      `walk p50 ${median(walk).toFixed(
        1,
      )} ms, validity (${scopes} scopes) ${median(validity).toFixed(
        1,
      )} ms, JSON ${median(json).toFixed(1)} ms`,
    );
    const rows = [...times.entries()].map(([sql, ts]) => ({
      sql,
      perWalk: ts.length / ITERATIONS,
      median: median(ts),
      total: ts.reduce((a, b) => a + b, 0) / ITERATIONS,
    }));
    rows.sort((a, b) => b.total - a.total);
    for (const r of rows) {
      console.log(
        `${r.total.toFixed(2).padStart(8)} ms/walk  ${r.perWalk
          .toFixed(1)
          .padStart(5)}×  median ${r.median.toFixed(2)}  ${r.sql}`,
      );
    }
  } finally {
    await knex.destroy();
    await drop();
  }
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
