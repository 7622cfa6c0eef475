/*
 * Retention benchmark: seeds the forecasting scenario (seed.ts: 48 periodic tasks, 20,000 runs a
 * day; a year is 7.3 million runs), then, in one run against the real plugin (startTestBackend),
 * measures GET /api/kubeai/lineage of a hot model from a client process of its own — first without
 * the purge, then while `RunRetention` (src/database/RunRetention.ts, what the scheduled task
 * `kubeai-run-retention` runs) removes the old runs in the backend's process — and reports the
 * purge's throughput, the storage per run and per rollup row, and checks what it removed.
 *
 *   node --require @backstage/cli/config/nodeTransform.cjs bench/retention/run.ts \
 *     [--count 7300000] [--postgres] [--no-write] [--seconds 30] [--batch 500] [--pause-ms N]
 *
 * `--count` runs are seeded (whole days at 20,000 a day); retention keeps 30 days of 365, i.e.
 * `maxAgeDays` = days × 30 / 365 (at least 1), so a smaller count purges the same share. Prints a
 * Markdown report and, unless --no-write, writes it into docs/benchmarks.md (section "Retention",
 * a subsection per database).
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import knexFactory, { Knex } from 'knex';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { RegistryStore } from '../../plugins/kubeai-backend/src/database/RegistryStore';
import { RunRetention } from '../../plugins/kubeai-backend/src/database/RunRetention';
import kubeaiPlugin from '../../plugins/kubeai-backend/src';
import { HOT_MODEL, RUNS_PER_DAY, seedForecasting } from './seed';
import { storage, writeSection } from './report';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const COUNT = arg('--count', 7_300_000);
const SECONDS = arg('--seconds', 30);
const BATCH = arg('--batch', 500);
const PAUSE_MS = process.argv.includes('--pause-ms')
  ? arg('--pause-ms', 0)
  : undefined;
const POSTGRES = process.argv.includes('--postgres');
const WRITE = !process.argv.includes('--no-write');
const WARMUP = 10;
const DAY_MS = 24 * 60 * 60 * 1000;
const execFileAsync = promisify(execFile);

export interface Stats {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  n: number;
}

function stats(samples: number[]): Stats {
  if (samples.length === 0) return { p50: 0, p95: 0, p99: 0, max: 0, n: 0 };
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return {
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    max: sorted[sorted.length - 1],
    n: sorted.length,
  };
}

async function openDatabase(scratch: string) {
  if (POSTGRES) {
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
    const database = `kubeai_bench_retention_${Date.now()}`;
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
      close: async () => {
        await knex.destroy();
        await admin.raw(`DROP DATABASE IF EXISTS ${database}`);
        await admin.destroy();
      },
    };
  }
  const knex = knexFactory({
    client: 'better-sqlite3',
    connection: { filename: path.join(scratch, 'registry.sqlite') },
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
    close: async () => {
      await knex.destroy();
    },
  };
}

async function main() {
  const loadAtStart = os.loadavg()[0];
  const scratch = fs.mkdtempSync(
    path.join(os.tmpdir(), 'kubeai-bench-retention-'),
  );
  const db = await openDatabase(scratch);
  const { knex } = db;
  try {
    await RegistryStore.create({
      database: { getClient: async () => knex },
    });
    const now = new Date();
    const days = Math.max(1, Math.ceil(COUNT / RUNS_PER_DAY));
    const maxAgeDays = Math.max(1, Math.round((days * 30) / 365));
    console.error(
      `seeding ${days} days (${(days * RUNS_PER_DAY).toLocaleString(
        'en-US',
      )} runs) into ${db.label} …`,
    );
    const seedStart = performance.now();
    const counts = await seedForecasting(knex, COUNT, now, m =>
      console.error(m),
    );
    await knex.raw('analyze');
    const seedSeconds = (performance.now() - seedStart) / 1000;
    console.error(`seeded in ${seedSeconds.toFixed(1)} s`);
    const cutoff = new Date(now.getTime() - maxAgeDays * DAY_MS).toISOString();
    // in this scenario a run goes iff it is an execution that finished before the cutoff and
    // registered no model version (the newest execution of each task is younger than the cutoff)
    const [{ n: expectedRemoved }] = await knex('kubeai_runs as r')
      .whereNotNull('r.parent_run_id')
      .where('r.finished_at', '<', cutoff)
      .whereNotExists(
        knex('kubeai_model_versions as v')
          .whereRaw('v.run_id = r.id')
          .select(1),
      )
      .count({ n: '*' });
    const before = await storage(knex);

    const backend = await startTestBackend({
      features: [
        kubeaiPlugin,
        mockServices.database.factory({ knex }),
        catalogServiceMock.factory({ entities: [] }),
        mockServices.rootConfig.factory({
          data: {
            kubeai: {
              informers: { enabled: false },
              // every answer computed: the purge changes the registry with every batch, so
              // cached answers could not be reused during it anyway
              registry: { lineageCacheMegabytes: 0 },
            },
          },
        }),
      ],
    });
    const address = backend.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const url = `http://localhost:${port}/api/kubeai/lineage?entityRef=${encodeURIComponent(
      HOT_MODEL,
    )}&direction=both&depth=3`;
    const first = JSON.parse(await (await fetch(url)).text());
    const stopFile = path.join(scratch, 'stop');
    const readyFile = path.join(scratch, 'ready');
    const client = async (maxSeconds: number, ready?: string) => {
      const { stdout } = await execFileAsync(
        process.execPath,
        [
          path.join(__dirname, 'client.mjs'),
          url,
          stopFile,
          String(maxSeconds),
          String(WARMUP),
          ...(ready ? [ready] : []),
        ],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      return JSON.parse(stdout).samples as number[];
    };

    // warm: right after seeding the database's pages are not all in memory yet
    await client(Math.min(10, SECONDS));
    console.error(`GET lineage without the purge for ${SECONDS} s …`);
    const without = stats(await client(SECONDS));

    console.error('purging while the client reads …');
    const retention = new RunRetention({
      db: knex,
      maxAgeDays,
      batchSize: BATCH,
      pauseMs: PAUSE_MS,
      logger: {
        info: m => console.error(m),
        debug: m => {
          const batch = /batch (\d+) /.exec(m);
          if (batch && Number(batch[1]) % 500 === 0) console.error(m);
        },
      },
    });
    const during = client(24 * 3600, readyFile);
    while (!fs.existsSync(readyFile)) {
      await new Promise(resolve => setTimeout(resolve, 20));
    }
    const purgeStart = performance.now();
    const result = await retention.prune({ now });
    const purgeSeconds = (performance.now() - purgeStart) / 1000;
    fs.writeFileSync(stopFile, '');
    const duringStats = stats(await during);
    fs.rmSync(stopFile);

    console.error(`GET lineage after the purge for ${SECONDS} s …`);
    const after = stats(await client(SECONDS));
    const last = JSON.parse(await (await fetch(url)).text());
    await backend.stop();

    // checks: what went is what the rules let go, folded exactly once, nothing left dangling
    const [{ runs: rolled }] = await knex('kubeai_run_rollups').sum({
      runs: 'runs',
    });
    const [{ n: orphanInputs }] = await knex('kubeai_run_inputs as i')
      .whereNotExists(
        knex('kubeai_runs as r').whereRaw('r.id = i.run_id').select(1),
      )
      .count({ n: '*' });
    const [{ n: wrongCounts }] = await knex('kubeai_runs as p')
      .where('p.child_count', '>', 0)
      .whereRaw(
        'p.child_count <> (select count(*) from kubeai_runs c where c.parent_run_id = p.id)',
      )
      .count({ n: '*' });
    const [{ n: remaining }] = await knex('kubeai_runs').count({ n: '*' });
    const checks = {
      removedAsExpected: result.removed === Number(expectedRemoved),
      rollupsSum: Number(rolled) === result.removed,
      noOrphanInputs: Number(orphanInputs) === 0,
      childCounts: Number(wrongCounts) === 0,
      remaining: Number(remaining) === counts.runs - result.removed,
    };
    if (POSTGRES) await knex.raw('vacuum analyze');
    const afterStorage = await storage(knex);
    const report = {
      db: db.label,
      postgres: POSTGRES,
      date: now.toISOString(),
      cpus: `${os.cpus().length} × ${os.cpus()[0]?.model?.trim() ?? 'CPU'}`,
      node: process.version,
      loadAtStart,
      loadAtEnd: os.loadavg()[0],
      counts,
      seedSeconds,
      maxAgeDays,
      batch: BATCH,
      pauseMs: PAUSE_MS,
      expectedRemoved: Number(expectedRemoved),
      result,
      purgeSeconds,
      lineageNodes: { before: first.nodes.length, after: last.nodes.length },
      without,
      during: duringStats,
      after,
      before,
      afterStorage,
      checks,
    };
    const markdown = writeSection(report, WRITE);
    console.log(markdown);
    if (!Object.values(checks).every(Boolean)) {
      throw new Error(`checks failed: ${JSON.stringify(checks)}`);
    }
  } finally {
    await db.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
