/**
 * Daily rollups of removed runs (`kubeai_run_rollups`, migration 20270105000000_run_rollups): what
 * {@link RunRetention} folds a run into before it deletes it, so reports of runs, durations and
 * requested resources per day, team and model survive retention.
 */
import type { Knex } from 'knex';
import { parseQuantity } from '../quantity';
import { chunks, fromJson, nowIso } from './util';

/** The columns of a run the fold reads. */
export interface FoldedRun {
  id: string;
  kind: string;
  cluster: string;
  namespace: string;
  model_ref: string | null;
  phase: string;
  started_at: string | null;
  finished_at: string;
  created_at: string;
  params: string | null;
  schedule: string | null;
  /** Its folded cost (src/cost); null or absent: not priced. */
  cost?: number | string | null;
}

/** The key columns of a rollup row, in the order of its unique index. */
export const ROLLUP_KEY = [
  'day',
  'cluster',
  'namespace',
  'team',
  'model_ref',
  'kind',
  'task',
  'phase',
] as const;

export interface RollupRow {
  day: string;
  cluster: string;
  namespace: string;
  team: string;
  model_ref: string;
  kind: string;
  task: string;
  phase: string;
  runs: number;
  duration_seconds: number;
  cpu_seconds: number;
  memory_gib_seconds: number;
  gpu_seconds: number;
  cost: number | null;
}

const SUMS = [
  'runs',
  'duration_seconds',
  'cpu_seconds',
  'memory_gib_seconds',
  'gpu_seconds',
] as const;

/**
 * What a run requested, from its params as the portal records them (`gpu`; `cpu` and `memory`
 * when recorded, at the top or under `resources`). Unknown: 0 — the rollup's resource sums cover
 * the runs that record them.
 */
export function requestsOfParams(params: Record<string, any>) {
  const resources =
    params.resources && typeof params.resources === 'object'
      ? params.resources
      : {};
  const pick = (key: string) =>
    parseQuantity(params[key]) ?? parseQuantity(resources[key]) ?? 0;
  return {
    cpu: pick('cpu'),
    memoryGiB: pick('memory') / 2 ** 30,
    gpu: pick('gpu'),
  };
}

/** The rollup rows of `runs` (one per key), `teams` giving each `cluster\0namespace`'s owner. */
export function foldRuns(
  runs: FoldedRun[],
  teams: Map<string, string | undefined>,
): RollupRow[] {
  const out = new Map<string, RollupRow>();
  for (const run of runs) {
    const start = Date.parse(run.started_at ?? run.created_at);
    const end = Date.parse(run.finished_at);
    const seconds =
      Number.isFinite(start) && Number.isFinite(end)
        ? Math.max(0, (end - start) / 1000)
        : 0;
    const schedule = fromJson<{ kind?: string; name?: string } | null>(
      run.schedule,
      null,
    );
    const task =
      schedule?.name !== undefined
        ? `${schedule.kind ?? ''}/${schedule.name}`
        : '';
    const key: Omit<RollupRow, (typeof SUMS)[number] | 'cost'> = {
      day: run.finished_at.slice(0, 10),
      cluster: run.cluster,
      namespace: run.namespace,
      team: teams.get(`${run.cluster}\u0000${run.namespace}`) ?? '',
      model_ref: run.model_ref ?? '',
      kind: run.kind,
      task,
      phase: run.phase,
    };
    const id = ROLLUP_KEY.map(k => key[k]).join('\u0000');
    let row = out.get(id);
    if (!row) {
      row = {
        ...key,
        runs: 0,
        duration_seconds: 0,
        cpu_seconds: 0,
        memory_gib_seconds: 0,
        gpu_seconds: 0,
        // the sum of the priced runs' costs; NULL while none is priced
        cost: null,
      };
      out.set(id, row);
    }
    const asked = requestsOfParams(
      fromJson<Record<string, any>>(run.params, {}),
    );
    row.runs += 1;
    row.duration_seconds += seconds;
    row.cpu_seconds += asked.cpu * seconds;
    row.memory_gib_seconds += asked.memoryGiB * seconds;
    row.gpu_seconds += asked.gpu * seconds;
    if (run.cost !== null && run.cost !== undefined) {
      row.cost = (row.cost ?? 0) + Number(run.cost);
    }
  }
  return [...out.values()];
}

/**
 * Adds `rows` to the stored rollups (insert, or add to the row of the same key) — within the
 * transaction that deletes the runs they sum, so each removed run is counted exactly once.
 */
export async function addRollups(
  tx: Knex.Transaction,
  rows: RollupRow[],
): Promise<void> {
  const now = nowIso();
  const table = 'kubeai_run_rollups';
  const merge: Record<string, Knex.Raw> = {};
  for (const column of SUMS) {
    merge[column] = tx.raw('??.?? + excluded.??', [table, column, column]);
  }
  // NULL + x is NULL: a known cost adds to the known ones, none known stays NULL
  merge.cost = tx.raw(
    'case when excluded.cost is null then ??.cost when ??.cost is null then excluded.cost else ??.cost + excluded.cost end',
    [table, table, table],
  );
  merge.updated_at = tx.raw('excluded.updated_at');
  // 16 values a row: below SQLite's oldest bind-parameter limit (999)
  for (const chunk of chunks(rows, 60)) {
    await tx(table)
      .insert(chunk.map(row => ({ ...row, updated_at: now })))
      .onConflict([...ROLLUP_KEY])
      .merge(merge);
  }
}
