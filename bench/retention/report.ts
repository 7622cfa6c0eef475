/*
 * Storage figures and the Markdown report of the retention benchmark (run.ts): the section
 * "## Retention" of docs/benchmarks.md, with one subsection per database ("### SQLite",
 * "### PostgreSQL") so runs on either replace only their own.
 */
import type { Knex } from 'knex';
import { tableSizes } from '../lib/db';
import {
  measuredBy,
  mib,
  ms,
  n,
  Stats,
  writeBenchmarkSection,
} from '../lib/report';

const TABLES = [
  'kubeai_runs',
  'kubeai_run_inputs',
  'kubeai_model_versions',
  'kubeai_run_rollups',
];

export type Storage = Record<string, { bytes: number; rows: number }>;

/** Bytes (table and its indexes) and rows of the tables the purge touches. */
export const storage = (knex: Knex): Promise<Storage> =>
  tableSizes(knex, TABLES);

/** The subsection of one database; written into docs/benchmarks.md when `write`. */
export function writeSection(r: any, write: boolean): string {
  const heading = r.postgres ? '### PostgreSQL' : '### SQLite';
  const runsBytes =
    r.before.kubeai_runs.bytes + r.before.kubeai_run_inputs.bytes;
  const perRun = runsBytes / r.before.kubeai_runs.rows;
  const rollups = r.afterStorage.kubeai_run_rollups;
  const perRollup = rollups.rows ? rollups.bytes / rollups.rows : 0;
  const throughput = r.result.removed / r.purgeSeconds;
  const ratio = r.during.p95 / r.without.p95;
  const yearRuns = 7_300_000;
  const yearRemoved = Math.round((yearRuns * (365 - 30)) / 365);
  const full = r.counts.runs >= yearRuns;
  const statsRow = (name: string, s: Stats) =>
    `| ${name} | ${n(s.n)} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} | ${ms(
      s.max,
    )} |`;
  const lines = [
    heading,
    '',
    `${measuredBy(
      'bench/retention/run.ts',
      r,
    )}; load average at the start ${r.loadAtStart.toFixed(
      1,
    )}, at the end ${r.loadAtEnd.toFixed(1)} (other work shared the machine).`,
    '',
    `Seeded: ${n(r.counts.runs)} runs (${
      r.counts.days
    } days of the forecasting scenario: ${
      r.counts.tasks
    } periodic tasks, 20,000 executions a day), ${n(
      r.counts.runInputs,
    )} run inputs, ${n(
      r.counts.modelVersions,
    )} model versions, in ${r.seedSeconds.toFixed(0)} s (${n(
      r.counts.runs / r.seedSeconds,
    )} runs/s with their inputs). Retention \`maxAgeDays: ${r.maxAgeDays}\` (${
      r.maxAgeDays
    } of ${r.counts.days} days, as 30 of 365), batches of ${r.batch}${
      r.pauseMs === undefined
        ? ', after each batch a pause as long as the batch took (the default)'
        : `, ${r.pauseMs} ms between batches`
    }.`,
    '',
    `- **Purge**: removed ${n(r.result.removed)} runs (expected ${n(
      r.expectedRemoved,
    )}) in ${r.result.batches.toLocaleString(
      'en-US',
    )} transactions, ${r.purgeSeconds.toFixed(1)} s — **${n(
      throughput,
    )} runs/s** (fold into rollups, inputs, runs, parents' counts). ${
      full
        ? ''
        : `A year (7.3M runs, ${n(
            yearRemoved,
          )} to remove at 30 days) would take about ${(
            yearRemoved /
            throughput /
            60
          ).toFixed(0)} min at this rate — extrapolated linearly from ${n(
            r.counts.runs,
          )} runs; deeper indexes of a 7.3M-row table make each batch somewhat slower. `
    }In steady state the hourly task removes one hour's runs: about 830.`,
    `- **Storage**: ${perRun.toFixed(
      0,
    )} bytes per run (run row with its input row and their indexes: ${mib(
      runsBytes,
    )} for ${n(r.before.kubeai_runs.rows)} runs); rollups: ${n(
      rollups.rows,
    )} rows for ${n(r.result.removed)} removed runs, ${perRollup.toFixed(
      0,
    )} bytes per row (${mib(rollups.bytes)} with the key index)${
      r.postgres
        ? '; PostgreSQL after `vacuum analyze`'
        : '; SQLite pages in use (dbstat)'
    }.`,
    `- **Checks**: ${Object.entries(r.checks)
      .map(([k, v]) => `${k} ${v ? 'ok' : '**failed**'}`)
      .join(', ')}. Hot model lineage: ${n(
      r.lineageNodes.before,
    )} nodes before, ${n(
      r.lineageNodes.after,
    )} after (its versions' runs and its task stay; the executions summary counts fewer).`,
    '',
    `GET /api/kubeai/lineage of \`model:default/team-a-gdp\` (both directions, depth 3; computed for every request, \`lineageCacheMegabytes: 0\`: each purge batch changes the registry, so no cached answer would survive it anyway), from a client process over one keep-alive connection; the purge runs in the backend's process, as the scheduled task does:`,
    '',
    '| GET /lineage | requests | p50 | p95 | p99 | max |',
    '|---|---|---|---|---|---|',
    statsRow('without the purge (before it, after 10 s of warm-up)', r.without),
    statsRow('during the purge', r.during),
    statsRow('after the purge (smaller tables)', r.after),
    '',
    `Target: p95 during the purge ≤ 2× without it — **${
      ratio <= 2 ? 'met' : 'missed'
    }** (${ratio.toFixed(
      2,
    )}×; against the after-purge figures, on smaller tables: ${(
      r.during.p95 / r.after.p95
    ).toFixed(2)}×).`,
    '',
  ];
  const section = lines.join('\n');
  if (write) {
    writeBenchmarkSection({
      title: 'Retention',
      intro:
        'Run retention (`kubeai.retention.runs.maxAgeDays`, `src/database/RunRetention.ts`) on a seeded forecasting workload while the API serves lineage. Run it: `node --require @backstage/cli/config/nodeTransform.cjs bench/retention/run.ts [--count N] [--postgres] [--no-write] [--seconds 30] [--batch 500] [--pause-ms N]` (from the repository root; PostgreSQL from `eval "$(bash scripts/postgres.sh start)"`).',
      heading,
      text: section,
      prettier: true,
    });
  }
  return section;
}
