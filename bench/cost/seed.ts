/*
 * The forecasting scenario of the cost benchmark, written straight into the registry tables: 4 teams
 * (namespaces team-a … team-d, owned by group:default/team-a …) × 12 indicators = 48 periodic tasks,
 * together 20,000 executions a day (a year: 7.3 million runs). Scoring executions run on `elastic`
 * (1 cpu, 2Gi, 1–5 min), the first execution of a task each day retrains on `gpu` (4 cpu, 16Gi,
 * 1 GPU, 30 min) and registers a model version. The newest execution of each task is running.
 *
 * What the cost fold (src/cost/CostStore.ts) would have done by `now` is written with the runs:
 * runs finished more than `unfoldedHours` (default 3) ago carry their cost (priced by the plugin's own
 * `costOfRun`) and are summed into `kubeai_cost_daily` with the fold's key; the younger ones are
 * left for the real fold (run.ts runs it). Multi-row inserts, one transaction per day (the
 * retention benchmark's writer).
 */
import type { Knex } from 'knex';
import type { CostConfig } from '../../plugins/kubeai-backend/src/cost/costConfig';
import { costOfRun } from '../../plugins/kubeai-backend/src/cost/runCost';
import { Writer } from '../retention/seed';

export const RUNS_PER_DAY = 20_000;
export const TEAMS = ['team-a', 'team-b', 'team-c', 'team-d'];
export const INDICATORS = [
  'gdp',
  'cpi',
  'unemployment',
  'retail',
  'housing',
  'exports',
  'imports',
  'industrial',
  'confidence',
  'wages',
  'energy',
  'credit',
];
export const teamOf = (namespace: string) => `group:default/${namespace}`;
const CLUSTER = 'local';
const DAY_MS = 24 * 60 * 60 * 1000;

const RUN_COLUMNS = [
  'id',
  'kind',
  'cluster',
  'namespace',
  'name',
  'uid',
  'model_ref',
  'phase',
  'started_at',
  'finished_at',
  'params',
  'created_by',
  'created_at',
  'updated_at',
  'schedule',
  'parent_run_id',
  'child_count',
  'flavor',
  'cluster_queue',
  'cost',
] as const;
const VERSION_COLUMNS = [
  'model_ref',
  'version',
  'artifact_uri',
  'artifact_format',
  'metrics',
  'params',
  'tags',
  'state',
  'run_id',
  'created_by',
  'created_at',
  'updated_at',
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

type Row = Record<string, string | number | null>;

const uuid = (prefix: number, n: number) =>
  `${prefix.toString(16).padStart(8, '0')}-0000-4000-8000-${n
    .toString(16)
    .padStart(12, '0')}`;

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
  const tasks = TEAMS.flatMap(team =>
    INDICATORS.map(indicator => ({ team, indicator })),
  );
  const perDay = tasks.map(
    (_, k) =>
      Math.floor(RUNS_PER_DAY / tasks.length) +
      (k < RUNS_PER_DAY % tasks.length ? 1 : 0),
  );
  // the last day ends an hour before now: its newest executions are still running
  const end = now.getTime() - 3600_000;
  const first = end - days * DAY_MS;
  const iso = (ms: number) => new Date(ms).toISOString();
  const writer = await Writer.open(knex);
  const daily = new Map<string, Row>();
  let runs = 0;
  let running = 0;
  let unfolded = 0;
  let versions = 0;
  try {
    const parents: Row[] = tasks.map((t, k) => ({
      id: uuid(0xffff, k),
      kind: 'training',
      cluster: CLUSTER,
      namespace: t.team,
      name: `forecast-${t.indicator}`,
      uid: uuid(0xfffe, k),
      model_ref: `model:default/${t.team}-${t.indicator}`,
      // the CronJob's own run: it never runs a pod itself
      phase: 'Running',
      started_at: null,
      finished_at: null,
      params: '{"objectKind":"CronJob"}',
      created_by: 'user:default/forecaster',
      created_at: iso(first - DAY_MS),
      updated_at: iso(now.getTime()),
      schedule: null,
      parent_run_id: null,
      child_count: perDay[k] * days,
      flavor: 'elastic',
      cluster_queue: `biz-${t.team}`,
      cost: null,
    }));
    await writer.transaction(() =>
      writer.insert('kubeai_runs', RUN_COLUMNS, parents),
    );
    let n = 0;
    for (let d = 0; d < days; d++) {
      const dayStart = first + d * DAY_MS;
      const runRows: Row[] = [];
      const versionRows: Row[] = [];
      tasks.forEach((t, k) => {
        const interval = DAY_MS / perDay[k];
        const modelRef = `model:default/${t.team}-${t.indicator}`;
        const schedule = `{"kind":"CronJob","name":"forecast-${t.indicator}","runId":"${parents[k].id}"}`;
        for (let j = 0; j < perDay[k]; j++) {
          n++;
          const created = dayStart + Math.floor(j * interval) + k * 1000;
          const retrain = j === 0;
          const seconds = retrain ? 1800 : 60 + (n % 240);
          const id = uuid(d + 1, n);
          const last = d === days - 1 && j === perDay[k] - 1;
          const started = created + 5_000;
          const finished = started + seconds * 1000;
          const row: Row = {
            id,
            kind: 'training',
            cluster: CLUSTER,
            namespace: t.team,
            name: `forecast-${t.indicator}-${Math.floor(created / 1000)}`,
            uid: id,
            model_ref: modelRef,
            phase: last ? 'Running' : n % 33 === 0 ? 'Failed' : 'Succeeded',
            started_at: iso(started),
            finished_at: last ? null : iso(finished),
            params: retrain
              ? '{"objectKind":"Job","cpu":"4","memory":"16Gi","gpu":1}'
              : '{"objectKind":"Job","cpu":"1","memory":"2Gi"}',
            created_by: 'kubeai-informers',
            created_at: iso(created),
            updated_at: iso(last ? started : finished),
            schedule,
            parent_run_id: parents[k].id,
            child_count: 0,
            flavor: retrain ? 'gpu' : 'elastic',
            cluster_queue: `biz-${t.team}`,
            cost: null,
          };
          if (last) running++;
          else if (finished > foldedBefore) unfolded++;
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
            ];
            const id2 = key.join('\u0000');
            const sum = daily.get(id2) ?? {
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
            (sum.cpu_seconds as number) +=
              parts.cpu * parts.pods * parts.seconds;
            (sum.memory_gib_seconds as number) +=
              parts.memoryGiB * parts.pods * parts.seconds;
            (sum.gpu_seconds as number) +=
              parts.gpu * parts.pods * parts.seconds;
            (sum.cost as number) += parts.cost;
            daily.set(id2, sum);
          }
          runRows.push(row);
          if (retrain) {
            versionRows.push({
              model_ref: modelRef,
              version: d + 1,
              artifact_uri: `s3://forecasting/models/${t.team}-${t.indicator}/${
                d + 1
              }/model.onnx`,
              artifact_format: 'onnx',
              metrics: '{}',
              params: '{}',
              tags: '[]',
              state: 'live',
              run_id: id,
              created_by: `run:${id}`,
              created_at: iso(finished),
              updated_at: iso(finished),
            });
          }
        }
      });
      await writer.transaction(async () => {
        await writer.insert('kubeai_runs', RUN_COLUMNS, runRows);
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
