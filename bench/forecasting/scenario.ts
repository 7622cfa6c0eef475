/*
 * The forecasting scenario that the retention and cost benchmarks seed straight into the registry
 * tables: 4 teams (namespaces team-a … team-d) × 12 indicators = 48 periodic tasks (one run each,
 * the CronJob's), together 20,000 executions (child runs) a day (a year: 7.3 million). The first
 * execution of a task each day retrains its model (4 cpu, 16Gi, 1 GPU, 30 min) and registers a
 * version, the others score (1 cpu, 2Gi, 1–5 min). Each bench adds its own columns to the rows
 * made here; `Writer` writes them fast (see writer.ts).
 */
export { Writer, type Row } from './writer';
import type { Row } from './writer';

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
export const CLUSTER = 'local';
export const ACTOR = 'user:default/forecaster';
export const DAY_MS = 24 * 60 * 60 * 1000;

/** The columns of kubeai_runs both benches write; each appends its own. */
export const RUN_COLUMNS = [
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
] as const;
export const VERSION_COLUMNS = [
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

export const uuid = (prefix: number, n: number) =>
  `${prefix.toString(16).padStart(8, '0')}-0000-4000-8000-${n
    .toString(16)
    .padStart(12, '0')}`;
export const iso = (ms: number) => new Date(ms).toISOString();

export interface Task {
  team: string;
  indicator: string;
  modelRef: string;
  /** Executions a day (the first 32 tasks run 417 times a day, the others 416). */
  perDay: number;
}

export function forecastingTasks(): Task[] {
  const tasks = TEAMS.flatMap(team =>
    INDICATORS.map(indicator => ({
      team,
      indicator,
      modelRef: `model:default/${team}-${indicator}`,
    })),
  );
  return tasks.map((t, k) => ({
    ...t,
    perDay:
      Math.floor(RUNS_PER_DAY / tasks.length) +
      (k < RUNS_PER_DAY % tasks.length ? 1 : 0),
  }));
}

/** The periodic task's own run (its CronJob); the bench adds started_at, params, created_at. */
export const parentRow = (t: Task, k: number, days: number, now: Date) => ({
  id: uuid(0xffff, k),
  kind: 'training',
  cluster: CLUSTER,
  namespace: t.team,
  name: `forecast-${t.indicator}`,
  uid: uuid(0xfffe, k),
  model_ref: t.modelRef,
  phase: 'Running',
  finished_at: null,
  created_by: ACTOR,
  updated_at: iso(now.getTime()),
  schedule: null,
  parent_run_id: null,
  child_count: t.perDay * days,
});

export interface Execution {
  task: Task;
  /** The task's index. */
  k: number;
  /** The day's index. */
  d: number;
  /** The execution's number over the whole seed (from 1). */
  n: number;
  /** The execution's index in its task's day; the first (0) retrains. */
  j: number;
  retrain: boolean;
  created: number;
  started: number;
  finished: number;
  /** The run row of a finished execution (Failed every 33rd, else Succeeded). */
  row: Row;
}

/**
 * The executions of day `d` (starting at `dayStart`), task by task; `n` counts on from the value
 * passed in (the returned `n` is the last one used).
 */
export function executionsOfDay(
  tasks: Task[],
  parents: Row[],
  d: number,
  dayStart: number,
  n: number,
): { executions: Execution[]; n: number } {
  const executions: Execution[] = [];
  tasks.forEach((task, k) => {
    const interval = DAY_MS / task.perDay;
    const schedule = JSON.stringify({
      kind: 'CronJob',
      name: `forecast-${task.indicator}`,
      runId: parents[k].id,
    });
    for (let j = 0; j < task.perDay; j++) {
      n++;
      const created = dayStart + Math.floor(j * interval) + k * 1000;
      const retrain = j === 0;
      const seconds = retrain ? 1800 : 60 + (n % 240);
      const id = uuid(d + 1, n);
      const started = created + 5_000;
      const finished = started + seconds * 1000;
      executions.push({
        task,
        k,
        d,
        n,
        j,
        retrain,
        created,
        started,
        finished,
        row: {
          id,
          kind: 'training',
          cluster: CLUSTER,
          namespace: task.team,
          name: `forecast-${task.indicator}-${Math.floor(created / 1000)}`,
          uid: id,
          model_ref: task.modelRef,
          phase: n % 33 === 0 ? 'Failed' : 'Succeeded',
          started_at: iso(started),
          finished_at: iso(finished),
          params: retrain
            ? '{"objectKind":"Job","cpu":"4","memory":"16Gi","gpu":1}'
            : '{"objectKind":"Job","cpu":"1","memory":"2Gi"}',
          created_by: 'kubeai-informers',
          created_at: iso(created),
          updated_at: iso(finished),
          schedule,
          parent_run_id: parents[k].id,
          child_count: 0,
        },
      });
    }
  });
  return { executions, n };
}

/** The model version a retraining execution registers. */
export const versionRow = (
  e: Execution,
  artifactDir: string,
  metrics: string,
): Row => ({
  model_ref: e.task.modelRef,
  version: e.d + 1,
  artifact_uri: `s3://forecasting/models/${e.task.team}-${e.task.indicator}/${artifactDir}/model.onnx`,
  artifact_format: 'onnx',
  metrics,
  params: '{}',
  tags: '[]',
  state: 'live',
  run_id: e.row.id,
  created_by: `run:${e.row.id}`,
  created_at: iso(e.finished),
  updated_at: iso(e.finished),
});
