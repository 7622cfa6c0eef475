/*
 * The forecasting scenario of the retention benchmark, written straight into the registry tables:
 * 4 teams (namespaces team-a … team-d) × 12 indicators = 48 periodic tasks (one run each, the
 * CronJob's), together 20,000 executions (child runs) a day, each reading that day's version of its
 * indicator's dataset; the first execution of a task each day retrains its model and registers a
 * version (48 versions a day), the others score. `count` runs are spread over whole days back from
 * `now` at that rate (a year: 7.3 million).
 *
 * Fast: one transaction per day; on SQLite prepared statements on the better-sqlite3 connection,
 * on PostgreSQL multi-row inserts of 5,000 rows from arrays (`insert … select from unnest(…)`).
 */
import type { Knex } from 'knex';

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
export const HOT_MODEL = 'model:default/team-a-gdp';
const CLUSTER = 'local';
const ACTOR = 'user:default/forecaster';
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
  'observed',
  'observed_at',
  'parent_run_id',
  'child_count',
] as const;
const INPUT_COLUMNS = ['run_id', 'dataset_ref', 'dataset_version'] as const;
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

type Row = Record<string, string | number | null>;

const uuid = (prefix: number, n: number) =>
  `${prefix.toString(16).padStart(8, '0')}-0000-4000-8000-${n
    .toString(16)
    .padStart(12, '0')}`;

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
  const tasks = TEAMS.flatMap(team =>
    INDICATORS.map(indicator => ({ team, indicator })),
  );
  const perDay = tasks.map(
    (_, k) =>
      Math.floor(RUNS_PER_DAY / tasks.length) +
      (k < RUNS_PER_DAY % tasks.length ? 1 : 0),
  );
  const first = new Date(
    Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) -
      days * DAY_MS,
  );
  const iso = (ms: number) => new Date(ms).toISOString();
  const writer = await Writer.open(knex);
  let runs = 0;
  let inputs = 0;
  let versions = 0;
  try {
    // the periodic tasks' own runs and the datasets' versions
    const parents: Row[] = tasks.map((t, k) => ({
      id: uuid(0xffff, k),
      kind: 'training',
      cluster: CLUSTER,
      namespace: t.team,
      name: `forecast-${t.indicator}`,
      uid: uuid(0xfffe, k),
      model_ref: `model:default/${t.team}-${t.indicator}`,
      phase: 'Running',
      started_at: iso(first.getTime() - DAY_MS),
      finished_at: null,
      params: JSON.stringify({
        objectKind: 'CronJob',
        schedule: '*/3 * * * *',
      }),
      created_by: ACTOR,
      created_at: iso(first.getTime() - DAY_MS),
      updated_at: iso(now.getTime()),
      schedule: null,
      observed: null,
      observed_at: null,
      parent_run_id: null,
      child_count: perDay[k] * days,
    }));
    await writer.transaction(async () => {
      await writer.insert('kubeai_runs', RUN_COLUMNS, parents);
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
      tasks.forEach((t, k) => {
        const interval = DAY_MS / perDay[k];
        const modelRef = `model:default/${t.team}-${t.indicator}`;
        const schedule = JSON.stringify({
          kind: 'CronJob',
          name: `forecast-${t.indicator}`,
          runId: parents[k].id,
        });
        for (let j = 0; j < perDay[k]; j++) {
          n++;
          const created = dayStart + Math.floor(j * interval) + k * 1000;
          const retrain = j === 0;
          const seconds = retrain ? 1800 : 60 + (n % 240);
          const id = uuid(d + 1, n);
          runRows.push({
            id,
            kind: 'training',
            cluster: CLUSTER,
            namespace: t.team,
            name: `forecast-${t.indicator}-${Math.floor(created / 1000)}`,
            uid: id,
            model_ref: modelRef,
            phase: n % 33 === 0 ? 'Failed' : 'Succeeded',
            started_at: iso(created + 5_000),
            finished_at: iso(created + 5_000 + seconds * 1000),
            params: retrain
              ? '{"objectKind":"Job","cpu":"4","memory":"16Gi","gpu":1}'
              : '{"objectKind":"Job","cpu":"1","memory":"2Gi"}',
            created_by: 'kubeai-informers',
            created_at: iso(created),
            updated_at: iso(created + 5_000 + seconds * 1000),
            schedule,
            observed: `{"kind":"Job","apiVersion":"batch/v1","uid":"${id}"}`,
            observed_at: iso(created + 5_000 + seconds * 1000),
            parent_run_id: parents[k].id,
            child_count: 0,
          });
          inputRows.push({
            run_id: id,
            dataset_ref: `dataset:default/${t.indicator}`,
            dataset_version: day,
          });
          if (retrain) {
            versionRows.push({
              model_ref: modelRef,
              version: d + 1,
              artifact_uri: `s3://forecasting/models/${t.team}-${t.indicator}/${day}/model.onnx`,
              artifact_format: 'onnx',
              metrics: `{"mape":${(0.05 + (n % 100) / 1000).toFixed(3)}}`,
              params: '{}',
              tags: '[]',
              state: 'live',
              run_id: id,
              created_by: `run:${id}`,
              created_at: iso(created + 5_000 + seconds * 1000),
              updated_at: iso(created + 5_000 + seconds * 1000),
            });
          }
        }
      });
      await writer.transaction(async () => {
        await writer.insert('kubeai_runs', RUN_COLUMNS, runRows);
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
    perDay,
  };
}

/** Multi-row inserts on the raw connection of either database. */
export class Writer {
  static async open(knex: Knex): Promise<Writer> {
    const connection = await (knex.client as any).acquireConnection();
    return new Writer(knex, connection, knex.client.config.client === 'pg');
  }

  private constructor(
    private readonly knex: Knex,
    private readonly connection: any,
    private readonly pg: boolean,
  ) {}

  async transaction(fn: () => Promise<void>): Promise<void> {
    if (this.pg) {
      await this.connection.query('begin');
      try {
        await fn();
        await this.connection.query('commit');
      } catch (error) {
        await this.connection.query('rollback');
        throw error;
      }
    } else {
      this.connection.exec('begin');
      try {
        await fn();
        this.connection.exec('commit');
      } catch (error) {
        this.connection.exec('rollback');
        throw error;
      }
    }
  }

  async insert(
    table: string,
    columns: readonly string[],
    rows: Row[],
  ): Promise<void> {
    if (rows.length === 0) return;
    if (!this.pg) {
      const statement = this.connection.prepare(
        `insert into ${table} (${columns.join(', ')}) values (${columns
          .map(() => '?')
          .join(', ')})`,
      );
      for (const row of rows) statement.run(columns.map(c => row[c] ?? null));
      return;
    }
    const types = await this.#types(table, columns);
    for (let i = 0; i < rows.length; i += 5000) {
      const chunk = rows.slice(i, i + 5000);
      await this.connection.query(
        `insert into ${table} (${columns.join(
          ', ',
        )}) select * from unnest(${columns
          .map((c, k) => `$${k + 1}::${types[k]}[]`)
          .join(', ')})`,
        columns.map(c => chunk.map(row => row[c] ?? null)),
      );
    }
  }

  readonly #typeCache = new Map<string, string[]>();

  async #types(table: string, columns: readonly string[]): Promise<string[]> {
    const key = `${table}:${columns.join(',')}`;
    let types = this.#typeCache.get(key);
    if (!types) {
      const result = await this.connection.query(
        `select column_name, udt_name from information_schema.columns where table_name = $1`,
        [table],
      );
      const byName = new Map<string, string>(
        result.rows.map((r: any) => [r.column_name, r.udt_name]),
      );
      types = columns.map(c => byName.get(c)!);
      this.#typeCache.set(key, types);
    }
    return types;
  }

  async close(): Promise<void> {
    await (this.knex.client as any).releaseConnection(this.connection);
  }
}
