/*
 * The forecasting scenario (../forecasting/scenario.ts) as the cost benchmark seeds it: 4 teams
 * (namespaces team-a … team-d, owned by group:default/team-a …) × 12 indicators = 48 periodic
 * tasks, together 20,000 executions a day (a year: 7.3 million runs). Scoring executions run on
 * `elastic` (1 cpu, 2Gi, 1–5 min), the first execution of a task each day retrains on `gpu` (4 cpu,
 * 16Gi, 1 GPU, 30 min) and registers a model version. The newest execution of each task is running.
 *
 * What the cost fold (src/cost/CostStore.ts) would have done by `now` is written with the runs:
 * runs finished more than `unfoldedHours` (default 3) ago carry their cost (priced by the plugin's own
 * `costOfRun`) and are summed into `kubeai_cost_daily` with the fold's key; the younger ones are
 * left for the real fold (run.ts runs it). Multi-row inserts, one transaction per day (the
 * scenario's shared Writer).
 */
import type { Knex } from 'knex';
import type { CostConfig } from '../../plugins/kubeai-backend/src/cost/costConfig';
import { costOfRun } from '../../plugins/kubeai-backend/src/cost/runCost';
import {
  CLUSTER,
  DAY_MS,
  executionsOfDay,
  forecastingTasks,
  iso,
  parentRow,
  Row,
  RUN_COLUMNS,
  RUNS_PER_DAY,
  VERSION_COLUMNS,
  versionRow,
  Writer,
} from '../forecasting/scenario';

export { RUNS_PER_DAY, TEAMS } from '../forecasting/scenario';
export const teamOf = (namespace: string) => `group:default/${namespace}`;

const COST_RUN_COLUMNS = [
  ...RUN_COLUMNS,
  'flavor',
  'cluster_queue',
  'cost',
] as const;
const DAILY_COLUMNS = [
  'day',
  'team',
  'cluster',
  'namespace',
  'model_ref',
  'flavor',
  'runs',
  'run_seconds',
  'cpu_seconds',
  'memory_gib_seconds',
  'gpu_seconds',
  'cost',
  'updated_at',
] as const;

export interface SeedCounts {
  days: number;
  runs: number;
  running: number;
  unfolded: number;
  modelVersions: number;
  dailyRows: number;
  /** The first day seeded (YYYY-MM-DD). */
  first: string;
}

export async function seedCost(
  knex: Knex,
  count: number,
  now: Date,
  config: CostConfig,
  options: { unfoldedHours?: number; progress?: (m: string) => void } = {},
): Promise<SeedCounts> {
  const progress = options.progress ?? (() => {});
  const foldedBefore = now.getTime() - (options.unfoldedHours ?? 3) * 3600_000;
  const days = Math.max(1, Math.ceil(count / RUNS_PER_DAY));
  const tasks = forecastingTasks();
  // the last day ends an hour before now: its newest executions are still running
  const end = now.getTime() - 3600_000;
  const first = end - days * DAY_MS;
  const writer = await Writer.open(knex);
  const daily = new Map<string, Row>();
  let runs = 0;
  let running = 0;
  let unfolded = 0;
  let versions = 0;
  try {
    const parents: Row[] = tasks.map((t, k) => ({
      ...parentRow(t, k, days, now),
      // the CronJob's own run: it never runs a pod itself
      started_at: null,
      params: '{"objectKind":"CronJob"}',
      created_at: iso(first - DAY_MS),
      flavor: 'elastic',
      cluster_queue: `biz-${t.team}`,
      cost: null,
    }));
    await writer.transaction(() =>
      writer.insert('kubeai_runs', COST_RUN_COLUMNS, parents),
    );
    let n = 0;
    for (let d = 0; d < days; d++) {
      const dayStart = first + d * DAY_MS;
      const runRows: Row[] = [];
      const versionRows: Row[] = [];
      const today = executionsOfDay(tasks, parents, d, dayStart, n);
      n = today.n;
      for (const e of today.executions) {
        const t = e.task;
        const modelRef = t.modelRef;
        const last = d === days - 1 && e.j === t.perDay - 1;
        const row: Row = {
          ...e.row,
          ...(last
            ? {
                phase: 'Running',
                finished_at: null,
                updated_at: iso(e.started),
              }
            : {}),
          flavor: e.retrain ? 'gpu' : 'elastic',
          cluster_queue: `biz-${t.team}`,
          cost: null,
        };
        if (last) running++;
        else if (e.finished > foldedBefore) unfolded++;
        else {
          // what the fold does: price it, add it to its day's sum
          const parts = costOfRun(row as any, config, now);
          row.cost = parts.cost;
          const key = [
            parts.day,
            teamOf(t.team),
            CLUSTER,
            t.team,
            modelRef,
            parts.flavor,
          ].join('\u0000');
          const sum = daily.get(key) ?? {
            day: parts.day,
            team: teamOf(t.team),
            cluster: CLUSTER,
            namespace: t.team,
            model_ref: modelRef,
            flavor: parts.flavor,
            runs: 0,
            run_seconds: 0,
            cpu_seconds: 0,
            memory_gib_seconds: 0,
            gpu_seconds: 0,
            cost: 0,
            updated_at: iso(now.getTime()),
          };
          (sum.runs as number) += 1;
          (sum.run_seconds as number) += parts.seconds;
          (sum.cpu_seconds as number) += parts.cpu * parts.pods * parts.seconds;
          (sum.memory_gib_seconds as number) +=
            parts.memoryGiB * parts.pods * parts.seconds;
          (sum.gpu_seconds as number) += parts.gpu * parts.pods * parts.seconds;
          (sum.cost as number) += parts.cost;
          daily.set(key, sum);
        }
        runRows.push(row);
        if (e.retrain) versionRows.push(versionRow(e, String(d + 1), '{}'));
      }
      await writer.transaction(async () => {
        await writer.insert('kubeai_runs', COST_RUN_COLUMNS, runRows);
        await writer.insert(
          'kubeai_model_versions',
          VERSION_COLUMNS,
          versionRows,
        );
      });
      runs += runRows.length;
      versions += versionRows.length;
      if ((d + 1) % 20 === 0 || d === days - 1) {
        progress(
          `seeded day ${d + 1}/${days}: ${runs.toLocaleString('en-US')} runs`,
        );
      }
    }
    await writer.transaction(() =>
      writer.insert('kubeai_cost_daily', DAILY_COLUMNS, [...daily.values()]),
    );
  } finally {
    await writer.close();
  }
  return {
    days,
    runs: runs + tasks.length,
    running,
    unfolded,
    modelVersions: versions,
    dailyRows: daily.size,
    first: iso(first).slice(0, 10),
  };
}
