/*
 * Storage figures and the Markdown report of the cost benchmark (run.ts): the section
 * "## Cost" of docs/benchmarks.md, one subsection per database ("### SQLite", "### PostgreSQL") so
 * a run on either replaces only its own.
 */
import type { Knex } from 'knex';
import { indexBytes, tableSizes } from '../lib/db';
import {
  measuredBy,
  mib,
  ms,
  n,
  Stats,
  writeBenchmarkSection,
} from '../lib/report';

export type Storage = Record<string, { bytes: number; rows: number }> & {
  costIndexBytes: number;
};

/** Bytes (table + its indexes) and rows; and the partial index of the unpriced runs. */
export async function storage(knex: Knex): Promise<Storage> {
  return {
    ...(await tableSizes(knex, ['kubeai_runs', 'kubeai_cost_daily'])),
    costIndexBytes: await indexBytes(knex, 'kubeai_runs_cost_open_idx'),
  } as Storage;
}

export function writeSection(r: any, write: boolean): string {
  const heading = r.postgres ? '### PostgreSQL' : '### SQLite';
  const runs = r.sizes.kubeai_runs;
  const daily = r.sizes.kubeai_cost_daily;
  const perRun = runs.bytes / runs.rows;
  // what cost adds per run: the cost column (8 bytes) and its share of the daily sums
  const costPerRun = 8 + daily.bytes / runs.rows;
  const row = (name: string, s: Stats) =>
    `| ${name} | ${n(s.n)} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.max)} |`;
  const ratio = (naive: Stats, api: Stats) =>
    `${(naive.p50 / api.p50).toFixed(0)}× (p50), ${(
      naive.p95 / api.p95
    ).toFixed(0)}× (p95)`;
  const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const lines = [
    heading,
    '',
    `${measuredBy(
      'bench/cost/run.ts',
      r,
    )}; load average ${r.loadAtStart.toFixed(
      1,
    )} at the start, ${r.loadAtEnd.toFixed(
      1,
    )} at the end (2 cores shared with other sessions' work).`,
    '',
    `Seeded: ${n(r.counts.runs)} runs (${
      r.counts.days
    } days of the forecasting scenario, ${n(
      r.counts.modelVersions,
    )} model versions) in ${r.seedSeconds.toFixed(0)} s, ${n(
      r.counts.dailyRows,
    )} rows of \`kubeai_cost_daily\`; the real fold then priced the ${n(
      r.folded.folded,
    )} runs that finished in the last 3 hours in ${r.foldSeconds.toFixed(
      1,
    )} s (${n(r.folded.folded / Math.max(r.foldSeconds, 1e-3))} runs/s, ${
      r.folded.batches
    } transactions); ${n(r.counts.running)} runs running (priced live).`,
    '',
    `Report: team \`group:default/team-a\` (12 models), ${r.from} to ${
      r.to
    }: ${r.total.toLocaleString('en-US', { maximumFractionDigits: 2 })} ${
      r.currency
    } (of which live ${r.live.toFixed(2)}).`,
    '',
    '| Cost report of one team for the year | requests | p50 | p95 | max |',
    '| --- | ---: | ---: | ---: | ---: |',
    row('API `GET /cost?groupBy=month` (HTTP, client process)', r.apiMonth),
    row('API `GET /cost?groupBy=model`', r.apiModel),
    row(
      'naive `SUM … GROUP BY` month over `kubeai_runs` (in-process)',
      r.naiveMonth,
    ),
    row('naive `SUM … GROUP BY` model', r.naiveModel),
    '',
    `- p95 ≤ 200 ms: per month ${ms(r.apiMonth.p95)} (${met(
      r.apiMonth.p95 <= 200,
    )}), per model ${ms(r.apiModel.p95)} (${met(r.apiModel.p95 <= 200)}).`,
    `- ≥ 10× the naive query: per month ${ratio(
      r.naiveMonth,
      r.apiMonth,
    )} (${met(r.naiveMonth.p95 / r.apiMonth.p95 >= 10)}), per model ${ratio(
      r.naiveModel,
      r.apiModel,
    )} (${met(r.naiveModel.p95 / r.apiModel.p95 >= 10)}).`,
    `- Same totals: the API's priced part equals the naive sum (${Object.entries(
      r.checks,
    )
      .map(([k, v]) => `${k} ${v ? 'ok' : 'FAILED'}`)
      .join(', ')}).`,
    `- Storage: \`kubeai_runs\` ${mib(runs.bytes)} for ${n(
      runs.rows,
    )} runs = ${n(
      perRun,
    )} bytes per run (table and indexes, with its JSON params); cost adds ${costPerRun.toFixed(
      1,
    )} bytes per run (the \`cost\` column + \`kubeai_cost_daily\` ${mib(
      daily.bytes,
    )} for ${n(daily.rows)} rows); the partial index of unpriced runs is ${mib(
      r.sizes.costIndexBytes,
    )}.`,
  ];
  const section = lines.join('\n');
  if (write) {
    writeBenchmarkSection({
      title: 'Cost',
      intro:
        'The cost report of one team for a year of the forecasting scenario (issue 15: 20,000 runs a day × 365 = 7.3 million runs, 4 teams × 12 indicators) from the API — the daily sums the fold keeps (`kubeai_cost_daily`) plus the live cost of the unpriced runs — against the same report as a naive `SUM … GROUP BY` over the raw runs, in the same run. Run it: `node --require @backstage/cli/config/nodeTransform.cjs bench/cost/run.ts [--count N] [--postgres] [--no-write] [--seconds 20] [--naive-runs 5]` (from the repository root, with the local cluster running for the namespaces\' owners; PostgreSQL from `eval "$(bash scripts/postgres.sh start)"`). The naive side sums the runs\' stored `cost` column in-process (no HTTP, no JSON pricing): it is favoured.',
      heading,
      text: section,
    });
  }
  return section;
}
