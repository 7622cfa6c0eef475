/*
 * Storage figures and the Markdown report of the retention benchmark (run.ts): the section
 * "## Retention" of docs/benchmarks.md, with one subsection per database ("### SQLite",
 * "### PostgreSQL") so runs on either replace only their own.
 */
import type { Knex } from 'knex';
import fs from 'node:fs';
import path from 'node:path';
import type { Stats } from './run';

const TABLES = [
  'kubeai_runs',
  'kubeai_run_inputs',
  'kubeai_model_versions',
  'kubeai_run_rollups',
];

export type Storage = Record<string, { bytes: number; rows: number }>;

/** Bytes (table and its indexes; SQLite: pages in use, PostgreSQL: total relation size) and rows. */
export async function storage(knex: Knex): Promise<Storage> {
  const out: Storage = {};
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
  for (const table of TABLES) {
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

const n = (x: number) => Math.round(x).toLocaleString('en-US');
const ms = (x: number) => `${x.toFixed(1)} ms`;
const mib = (x: number) =>
  x >= 2 ** 20
    ? `${(x / 2 ** 20).toFixed(0)} MiB`
    : `${(x / 1024).toFixed(0)} KiB`;

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
    `Measured ${r.date
      .slice(0, 16)
      .replace('T', ' ')} UTC by \`bench/retention/run.ts${
      r.postgres ? ' --postgres' : ''
    }${
      r.counts.runs < yearRuns ? ` --count ${r.counts.days * 20_000}` : ''
    }\` on ${r.cpus}, Node ${r.node}, ${
      r.db
    }; load average at the start ${r.loadAtStart.toFixed(
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
    const docPath = path.resolve(__dirname, '../../docs/benchmarks.md');
    let doc = fs.existsSync(docPath)
      ? fs.readFileSync(docPath, 'utf8')
      : '# Benchmarks\n';
    const intro = [
      '## Retention',
      '',
      'Run retention (`kubeai.retention.runs.maxAgeDays`, `src/database/RunRetention.ts`) on a seeded forecasting workload while the API serves lineage. Run it: `node --require @backstage/cli/config/nodeTransform.cjs bench/retention/run.ts [--count N] [--postgres] [--no-write] [--seconds 30] [--batch 500] [--pause-ms N]` (from the repository root; PostgreSQL from `eval "$(bash scripts/postgres.sh start)"`).',
      '',
    ].join('\n');
    let start = doc.indexOf('\n## Retention\n');
    if (start < 0) {
      doc = `${doc.trimEnd()}\n\n${intro}`;
      start = doc.indexOf('\n## Retention\n');
    }
    const sectionEnd = (() => {
      const next = doc.indexOf('\n## ', start + 1);
      return next < 0 ? doc.length : next;
    })();
    const body = doc.slice(start, sectionEnd);
    const sub = body.indexOf(`\n${heading}\n`);
    let newBody: string;
    if (sub >= 0) {
      const subEnd = body.indexOf('\n### ', sub + 1);
      newBody =
        body.slice(0, sub + 1) +
        section +
        (subEnd < 0 ? '\n' : `\n${body.slice(subEnd + 1)}`);
    } else {
      newBody = `${body.trimEnd()}\n\n${section}\n`;
    }
    doc = doc.slice(0, start) + newBody + doc.slice(sectionEnd);
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const prettier = require('prettier');
    fs.writeFileSync(
      docPath,
      prettier.format(`${doc.trimEnd()}\n`, {
        ...require('@backstage/cli/config/prettier.json'),
        parser: 'markdown',
      }),
    );
    console.error(`wrote ${docPath}`);
  }
  return section;
}
