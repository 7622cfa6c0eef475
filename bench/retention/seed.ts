/*
 * The forecasting scenario (../forecasting/scenario.ts) as the retention benchmark seeds it: each
 * execution reads that day's version of its indicator's dataset, and is observed (its Job's
 * summary). `count` runs are spread over whole days back from `now` at 20,000 a day (a year: 7.3
 * million). Fast: one transaction per day through the shared Writer.
 */
import type { Knex } from 'knex';
import {
  ACTOR,
  DAY_MS,
  executionsOfDay,
  forecastingTasks,
  INDICATORS,
  iso,
  parentRow,
  Row,
  RUN_COLUMNS,
  RUNS_PER_DAY,
  VERSION_COLUMNS,
  versionRow,
  Writer,
} from '../forecasting/scenario';

export { RUNS_PER_DAY } from '../forecasting/scenario';
export const HOT_MODEL = 'model:default/team-a-gdp';

const RETENTION_RUN_COLUMNS = [
  ...RUN_COLUMNS,
  'observed',
  'observed_at',
] as const;
const INPUT_COLUMNS = ['run_id', 'dataset_ref', 'dataset_version'] as const;

export interface SeedCounts {
  days: number;
  runs: number;
  runInputs: number;
  modelVersions: number;
  tasks: number;
  /** Runs per day of each task (the first 32 tasks run 417 times a day, the others 416). */
  perDay: number[];
}

/** Writes `count` runs (rounded to whole days) of the scenario, the newest finishing before `now`. */
export async function seedForecasting(
  knex: Knex,
  count: number,
  now: Date,
  progress: (message: string) => void = () => {},
): Promise<SeedCounts> {
  const days = Math.max(1, Math.ceil(count / RUNS_PER_DAY));
  const tasks = forecastingTasks();
  const first = new Date(
    Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) -
      days * DAY_MS,
  );
  const writer = await Writer.open(knex);
  let runs = 0;
  let inputs = 0;
  let versions = 0;
  try {
    // the periodic tasks' own runs and the datasets' versions
    const parents: Row[] = tasks.map((t, k) => ({
      ...parentRow(t, k, days, now),
      started_at: iso(first.getTime() - DAY_MS),
      params: JSON.stringify({
        objectKind: 'CronJob',
        schedule: '*/3 * * * *',
      }),
      created_at: iso(first.getTime() - DAY_MS),
      observed: null,
      observed_at: null,
    }));
    await writer.transaction(async () => {
      await writer.insert('kubeai_runs', RETENTION_RUN_COLUMNS, parents);
      const datasetVersions: Row[] = [];
      for (let d = 0; d < days; d++) {
        const day = iso(first.getTime() + d * DAY_MS).slice(0, 10);
        for (const indicator of INDICATORS) {
          datasetVersions.push({
            dataset_ref: `dataset:default/${indicator}`,
            version: day,
            uri: `s3://forecasting/${indicator}/${day}.parquet`,
            created_by: ACTOR,
            created_at: iso(first.getTime() + d * DAY_MS),
          });
        }
      }
      await writer.insert(
        'kubeai_dataset_versions',
        ['dataset_ref', 'version', 'uri', 'created_by', 'created_at'],
        datasetVersions,
      );
    });
    let n = 0;
    for (let d = 0; d < days; d++) {
      const dayStart = first.getTime() + d * DAY_MS;
      const day = iso(dayStart).slice(0, 10);
      const runRows: Row[] = [];
      const inputRows: Row[] = [];
      const versionRows: Row[] = [];
      const today = executionsOfDay(tasks, parents, d, dayStart, n);
      n = today.n;
      for (const e of today.executions) {
        const id = e.row.id;
        runRows.push({
          ...e.row,
          observed: `{"kind":"Job","apiVersion":"batch/v1","uid":"${id}"}`,
          observed_at: iso(e.finished),
        });
        inputRows.push({
          run_id: id,
          dataset_ref: `dataset:default/${e.task.indicator}`,
          dataset_version: day,
        });
        if (e.retrain) {
          versionRows.push(
            versionRow(
              e,
              day,
              `{"mape":${(0.05 + (e.n % 100) / 1000).toFixed(3)}}`,
            ),
          );
        }
      }
      await writer.transaction(async () => {
        await writer.insert('kubeai_runs', RETENTION_RUN_COLUMNS, runRows);
        await writer.insert('kubeai_run_inputs', INPUT_COLUMNS, inputRows);
        await writer.insert(
          'kubeai_model_versions',
          VERSION_COLUMNS,
          versionRows,
        );
      });
      runs += runRows.length;
      inputs += inputRows.length;
      versions += versionRows.length;
      if ((d + 1) % 10 === 0 || d === days - 1) {
        progress(
          `seeded day ${d + 1}/${days}: ${runs.toLocaleString('en-US')} runs`,
        );
      }
    }
  } finally {
    await writer.close();
  }
  return {
    days,
    runs: runs + tasks.length,
    runInputs: inputs,
    modelVersions: versions,
    tasks: tasks.length,
    perDay: tasks.map(t => t.perDay),
  };
}
