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
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { RegistryStore } from '../../plugins/kubeai-backend/src/database/RegistryStore';
import { RunRetention } from '../../plugins/kubeai-backend/src/database/RunRetention';
import { startBenchBackend } from '../lib/backend';
import { clientLatencies } from '../lib/client';
import { runBench } from '../lib/db';
import { machine, numberArg as arg, stats } from '../lib/report';
import { DAY_MS } from '../forecasting/scenario';
import { HOT_MODEL, RUNS_PER_DAY, seedForecasting } from './seed';
import { storage, writeSection } from './report';

const COUNT = arg('--count', 7_300_000);
const SECONDS = arg('--seconds', 30);
const BATCH = arg('--batch', 500);
const PAUSE_MS = process.argv.includes('--pause-ms')
  ? arg('--pause-ms', 0)
  : undefined;
const POSTGRES = process.argv.includes('--postgres');
const WRITE = !process.argv.includes('--no-write');
const WARMUP = 10;

runBench(
  { name: 'retention', postgres: POSTGRES },
  async ({ db, scratch, loadAtStart }) => {
    const { knex } = db;
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

    const { backend, port } = await startBenchBackend(knex, {
      // every answer computed: the purge changes the registry with every batch, so
      // cached answers could not be reused during it anyway
      registry: { lineageCacheMegabytes: 0 },
    });
    const url = `http://localhost:${port}/api/kubeai/lineage?entityRef=${encodeURIComponent(
      HOT_MODEL,
    )}&direction=both&depth=3`;
    const first = JSON.parse(await (await fetch(url)).text());
    const stopFile = path.join(scratch, 'stop');
    const readyFile = path.join(scratch, 'ready');
    const client = (maxSeconds: number, ready?: string) =>
      clientLatencies({
        url,
        stopFile,
        maxSeconds,
        warmup: WARMUP,
        readyFile: ready,
      });

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
      ...machine(db, now, loadAtStart),
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
    return { markdown: writeSection(report, WRITE), checks };
  },
);
