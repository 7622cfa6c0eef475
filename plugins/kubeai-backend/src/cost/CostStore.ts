/**
 * Costs of runs, teams, models and versions (migration 20270106100000_run_cost).
 *
 * A finished run is priced once by {@link CostStore.fold} (the scheduled task `kubeai-cost-fold`,
 * one replica at a time): its cost is stored on the run and added to `kubeai_cost_daily` in the
 * same transaction, so the sums and the runs never disagree and a pass that crashes or runs twice
 * counts nothing twice (the runs it did are no longer `cost IS NULL`). What is not folded yet — the
 * running runs and the just finished ones — is priced at read time, so a report is exact at every
 * moment: folded sums + live cost of the open runs. Run retention folds the runs it removes in its
 * own transaction ({@link CostStore.foldRows}), so removing runs changes no total.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { BudgetStatus, CostReport } from '@kubeai/plugin-kubeai-common';
import type { Knex } from 'knex';
import { chunks, fromJson, nowIso } from '../database/util';
import type { CostConfig } from './costConfig';
import {
  costOfRun,
  type CostedRunRow,
  type RunCostParts,
  type WorkloadPods,
} from './runCost';

/** Runs folded per transaction: 3 bind values each in the update, below SQLite's oldest limit. */
export const COST_FOLD_BATCH = 300;
const FINISHED_PHASES = ['Succeeded', 'Failed', 'Stopped'];
const RUN_COLUMNS = [
  'id',
  'cluster',
  'namespace',
  'model_ref',
  'phase',
  'flavor',
  'params',
  'started_at',
  'finished_at',
  'updated_at',
];
const DAILY_KEY = [
  'day',
  'team',
  'cluster',
  'namespace',
  'model_ref',
  'flavor',
] as const;
const DAILY_SUMS = [
  'runs',
  'run_seconds',
  'cpu_seconds',
  'memory_gib_seconds',
  'gpu_seconds',
  'cost',
] as const;

export type TeamsOf = (refs: string[]) => Promise<Array<string | undefined>>;
export type CostGroupBy = 'month' | 'model' | 'version' | 'team' | 'flavor';

export interface CostQuery {
  team?: string;
  model?: string;
  /** First month (YYYY-MM), inclusive. */
  from: string;
  /** Last month (YYYY-MM), inclusive. */
  to: string;
  groupBy: CostGroupBy;
}

/** The shapes of GET /cost (generated from the spec). */
export type CostItem = CostReport['items'][number];
export type { BudgetStatus };

type Row = CostedRunRow & { cost?: number | null };
/** How long a namespace's owner is reused (ms). */
const OWNER_TTL_MS = 30_000;
const nsKey = (cluster: string, namespace: string) => `${cluster}/${namespace}`;

/** An amount as people read it: `1,034.20`. */
export const money = (amount: number) =>
  amount.toLocaleString('en-US', {
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
  });

export class CostStore {
  readonly #db: Knex;
  readonly #pg: boolean;
  readonly #logger?: Pick<LoggerService, 'info' | 'debug'>;
  readonly #teamsOf?: TeamsOf;
  readonly #owners = new Map<string, { team: string; until: number }>();
  readonly config: CostConfig;

  constructor(options: {
    db: Knex;
    config: CostConfig;
    teamsOf?: TeamsOf;
    logger?: Pick<LoggerService, 'info' | 'debug'>;
  }) {
    this.#db = options.db;
    this.#pg = options.db.client.config.client === 'pg';
    this.config = options.config;
    this.#teamsOf = options.teamsOf;
    this.#logger = options.logger;
  }

  /** The owners of the runs' namespaces (`cluster/namespace` → team, '' unknown). */
  async teams(
    rows: Array<{ cluster: string; namespace: string }>,
    into = new Map<string, string>(),
  ) {
    const now = Date.now();
    const missing: string[] = [];
    for (const key of new Set(rows.map(r => nsKey(r.cluster, r.namespace)))) {
      if (into.has(key)) continue;
      const known = this.#owners.get(key);
      if (known && known.until > now) into.set(key, known.team);
      else missing.push(key);
    }
    if (missing.length === 0 || !this.#teamsOf) {
      missing.forEach(k => into.set(k, ''));
      return into;
    }
    let owners: Array<string | undefined> | undefined;
    try {
      owners = await this.#teamsOf(missing);
    } catch (error) {
      // a cluster out of reach: the runs are priced, their team stays unknown ('')
      this.#logger?.debug(`kubeai cost: namespace owners unknown (${error})`);
    }
    missing.forEach((k, i) => {
      const team = owners?.[i]?.toLowerCase() ?? '';
      into.set(k, team);
      // owners change rarely: every report and new task need not ask the cluster again
      if (owners) this.#owners.set(k, { team, until: now + OWNER_TTL_MS });
    });
    return into;
  }

  /**
   * Folds every finished run not folded yet, in transactions of {@link COST_FOLD_BATCH}, until none
   * is left, `signal` aborts or `maxBatches` ran. Idempotent and restart-safe: the state is the
   * runs' own `cost` column, written in the transaction that adds them to the sums.
   */
  async fold(
    options: {
      signal?: AbortSignal;
      maxBatches?: number;
      batchSize?: number;
    } = {},
  ) {
    const size = options.batchSize ?? COST_FOLD_BATCH;
    let folded = 0;
    let batches = 0;
    const teams = new Map<string, string>();
    for (;;) {
      if (options.signal?.aborted || batches === options.maxBatches) break;
      const open: Array<{ id: string; cluster: string; namespace: string }> =
        await this.#db('kubeai_runs')
          .whereNull('cost')
          .whereIn('phase', FINISHED_PHASES)
          .limit(size)
          .select('id', 'cluster', 'namespace');
      if (open.length === 0) break;
      await this.teams(open, teams);
      const done = await this.#db.transaction(tx =>
        this.foldRows(
          tx,
          open.map(r => r.id),
          teams,
        ),
      );
      folded += done.size;
      batches += 1;
      if (open.length < size) break;
    }
    if (folded > 0) {
      this.#logger?.info(
        `kubeai cost: folded ${folded} finished runs into kubeai_cost_daily in ${batches} transactions`,
      );
    }
    return { folded, batches };
  }

  /**
   * Within `tx`: prices the runs of `ids` that are finished and not folded yet, adds them to the
   * daily sums and stores each one's cost. Returns run id → cost of the runs it folded. Run
   * retention calls it before deleting runs.
   */
  async foldRows(
    tx: Knex.Transaction,
    ids: string[],
    teams: Map<string, string>,
  ): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const chunk of chunks(ids, COST_FOLD_BATCH)) {
      const query = tx('kubeai_runs')
        .whereIn('id', chunk)
        .whereNull('cost')
        .whereIn('phase', FINISHED_PHASES)
        .select(RUN_COLUMNS);
      if (this.#pg) query.forUpdate();
      const rows: Row[] = await query;
      if (rows.length === 0) continue;
      await this.teams(rows, teams);
      const workloads = await this.#workloads(tx, rows);
      const sums = new Map<string, Record<string, string | number>>();
      const costs: Array<[string, number]> = [];
      for (const row of rows) {
        const parts = costOfRun(
          row,
          this.config,
          undefined,
          workloads.get(row.id),
        );
        costs.push([row.id, parts.cost]);
        const key = {
          day: parts.day,
          team: teams.get(nsKey(row.cluster, row.namespace)) ?? '',
          cluster: row.cluster,
          namespace: row.namespace,
          model_ref: row.model_ref ?? '',
          flavor: parts.flavor,
        };
        const id = DAILY_KEY.map(k => key[k]).join('\u0000');
        const sum = sums.get(id) ?? {
          ...key,
          runs: 0,
          run_seconds: 0,
          cpu_seconds: 0,
          memory_gib_seconds: 0,
          gpu_seconds: 0,
          cost: 0,
        };
        addParts(sum as Record<string, number>, parts);
        sums.set(id, sum);
      }
      await this.#addDaily(tx, [...sums.values()]);
      const updated = await tx('kubeai_runs')
        .whereIn(
          'id',
          costs.map(([id]) => id),
        )
        .whereNull('cost')
        .update({
          // typed: PostgreSQL reads an untyped parameter of a CASE as text
          cost: tx.raw(
            `case id ${costs
              .map(
                () =>
                  `when ? then cast(? as ${
                    this.#pg ? 'double precision' : 'real'
                  })`,
              )
              .join(' ')} end`,
            costs.flat(),
          ),
        });
      if (updated !== costs.length) {
        // another fold priced one meanwhile (SQLite has no row locks): count nothing twice
        throw new Error(
          `kubeai cost: expected to fold ${costs.length} runs, folded ${updated}`,
        );
      }
      costs.forEach(([id, cost]) => out.set(id, cost));
    }
    return out;
  }

  async #addDaily(
    tx: Knex.Transaction,
    rows: Array<Record<string, string | number>>,
  ) {
    const table = 'kubeai_cost_daily';
    const merge: Record<string, Knex.Raw> = {};
    for (const column of DAILY_SUMS) {
      merge[column] = tx.raw('??.?? + excluded.??', [table, column, column]);
    }
    merge.updated_at = tx.raw('excluded.updated_at');
    const now = nowIso();
    // 13 values a row: below SQLite's oldest bind-parameter limit (999)
    for (const chunk of chunks(rows, 70)) {
      await tx(table)
        .insert(chunk.map(row => ({ ...row, updated_at: now })))
        .onConflict([...DAILY_KEY])
        .merge(merge);
    }
  }

  /**
   * The pod sets of Kueue's Workloads of `runs` as the informers last saw them (run id → the
   * newest), to price what the pods really requested; none for runs Kueue never admitted.
   */
  async #workloads(
    db: Knex | Knex.Transaction,
    runs: Array<{ id: string }>,
  ): Promise<Map<string, WorkloadPods>> {
    const out = new Map<string, { at: string; pods: WorkloadPods }>();
    for (const chunk of chunks(
      runs.map(r => r.id),
      500,
    )) {
      const rows: Array<{
        run_id: string;
        observed: string;
        observed_at: string;
      }> = await db('kubeai_cluster_objects')
        .where({ kind: 'Workload' })
        .whereIn('run_id', chunk)
        .select('run_id', 'observed', 'observed_at');
      for (const row of rows) {
        const details = fromJson<{ details?: WorkloadPods } | null>(
          row.observed,
          null,
        )?.details;
        if (!Array.isArray(details?.podSets)) continue;
        const seen = out.get(row.run_id);
        if (!seen || seen.at < row.observed_at) {
          out.set(row.run_id, { at: row.observed_at, pods: details! });
        }
      }
    }
    return new Map([...out].map(([id, w]) => [id, w.pods]));
  }

  /** The runs not folded yet (running or just finished), priced at `now`, with their team. */
  async #open(now: Date, filter: { team?: string; model?: string }) {
    const query = this.#db('kubeai_runs').whereNull('cost').select(RUN_COLUMNS);
    if (filter.model) query.where({ model_ref: filter.model });
    const rows: Row[] = await query;
    const teams = await this.teams(rows);
    const workloads = await this.#workloads(this.#db, rows);
    return (
      rows
        .map(row => ({
          row,
          team: teams.get(nsKey(row.cluster, row.namespace)) ?? '',
          parts: costOfRun(row, this.config, now, workloads.get(row.id)),
        }))
        // a run that has not started costs nothing yet, and is no run of the report yet
        // nor a periodic task's own run (no pods: its executions are the runs)
        .filter(r => !(r.parts.running && (!r.row.started_at || !r.parts.pods)))
        .filter(r => !filter.team || r.team === filter.team)
    );
  }

  /** A report: totals of the folded sums and the open runs, grouped, in the months asked. */
  async report(query: CostQuery, now: Date = new Date()) {
    const items = new Map<string, CostItem>();
    const add = (key: string, cost: number, runs: number, live: number) => {
      const item = items.get(key) ?? { key, cost: 0, runs: 0, live: 0 };
      item.cost += cost;
      item.runs += runs;
      item.live += live;
      items.set(key, item);
    };
    if (query.groupBy === 'version') {
      await this.#versions(query, now, add);
    } else {
      const column = {
        month: this.#db.raw('substr(day, 1, 7)'),
        model: this.#db.raw('model_ref'),
        team: this.#db.raw('team'),
        flavor: this.#db.raw('flavor'),
      }[query.groupBy];
      const sums = this.#db('kubeai_cost_daily')
        .where('day', '>=', `${query.from}-01`)
        .where('day', '<=', `${query.to}-31`)
        .select({ key: column })
        .sum({ cost: 'cost', runs: 'runs' })
        .groupByRaw(column.toQuery());
      if (query.team) sums.where({ team: query.team });
      if (query.model) sums.where({ model_ref: query.model });
      const rows = (await sums) as unknown as Array<{
        key: string;
        cost: unknown;
        runs: unknown;
      }>;
      for (const row of rows)
        add(String(row.key), Number(row.cost), Number(row.runs), 0);
      for (const open of await this.#open(now, query)) {
        const month = open.parts.day.slice(0, 7);
        if (month < query.from || month > query.to) continue;
        const key = {
          month,
          model: open.row.model_ref ?? '',
          team: open.team,
          flavor: open.parts.flavor,
        }[query.groupBy];
        add(key, open.parts.cost, 1, open.parts.cost);
      }
    }
    const list = [...items.values()]
      .filter(i => i.runs > 0)
      .sort((a, b) =>
        query.groupBy === 'month' || query.groupBy === 'version'
          ? compareKeys(a.key, b.key)
          : b.cost - a.cost,
      );
    return {
      currency: this.config.currency,
      total: list.reduce((n, i) => n + i.cost, 0),
      items: list,
    };
  }

  /** Training cost per version of `query.model`: the cost of the run that produced it. */
  async #versions(
    query: CostQuery,
    now: Date,
    add: (key: string, cost: number, runs: number, live: number) => void,
  ) {
    const rows: Array<Row & { version: number }> = await this.#db(
      'kubeai_model_versions as mv',
    )
      .join('kubeai_runs as r', 'r.id', 'mv.run_id')
      .where('mv.model_ref', query.model!)
      .select('mv.version', 'r.cost', ...RUN_COLUMNS.map(c => `r.${c}`));
    const teams = await this.teams(rows);
    const workloads = await this.#workloads(
      this.#db,
      rows.filter(r => r.cost === null || r.cost === undefined),
    );
    for (const row of rows) {
      if (
        query.team &&
        teams.get(nsKey(row.cluster, row.namespace)) !== query.team
      )
        continue;
      const folded = row.cost !== null && row.cost !== undefined;
      const cost = folded
        ? Number(row.cost)
        : costOfRun(row, this.config, now, workloads.get(row.id)).cost;
      add(String(row.version), cost, 1, folded ? 0 : cost);
    }
  }

  /** The cost of one run: its folded cost, or priced now. */
  async ofRun(id: string, now: Date = new Date()) {
    const row: Row | undefined = await this.#db('kubeai_runs')
      .where({ id })
      .first([...RUN_COLUMNS, 'cost']);
    if (!row) return undefined;
    const workloads = await this.#workloads(this.#db, [row]);
    const parts = costOfRun(row, this.config, now, workloads.get(row.id));
    const folded = row.cost !== null && row.cost !== undefined;
    return {
      amount: folded ? Number(row.cost) : parts.cost,
      currency: this.config.currency,
      flavor: parts.flavor || undefined,
      podHours: (parts.seconds * parts.pods) / 3600,
      final: folded || !parts.running,
    };
  }

  /** A team's spending of `now`'s month against its budget; undefined: it has none. */
  async budgetStatus(
    team: string,
    now: Date = new Date(),
  ): Promise<BudgetStatus | undefined> {
    const ref = team.toLowerCase();
    const budget = this.config.budgets.get(ref);
    if (!budget) return undefined;
    const month = now.toISOString().slice(0, 7);
    const { total } = await this.report(
      { team: ref, from: month, to: month, groupBy: 'month' },
      now,
    );
    let share = total > 0 ? Infinity : 0;
    if (budget.monthly > 0) share = total / budget.monthly;
    let state: BudgetStatus['state'] = 'ok';
    if (share > 1) state = 'over';
    else if (share >= this.config.warnAt) state = 'warning';
    const amount = Number.isInteger(budget.monthly)
      ? budget.monthly.toLocaleString('en-US')
      : money(budget.monthly);
    const of = `its budget of ${amount} ${this.config.currency} for ${month}`;
    const messages = {
      over: `team ${ref} is over ${of} (spent ${money(total)})`,
      warning: `team ${ref} has spent ${Math.floor(
        share * 100,
      )} % of ${of} (${money(total)})`,
      ok: `team ${ref} has spent ${money(total)} of ${of}`,
    };
    return {
      team: ref,
      month,
      monthly: budget.monthly,
      spent: total,
      share: Number.isFinite(share) ? share : 1e9,
      state,
      message: messages[state],
    };
  }
}

function addParts(sum: Record<string, number>, parts: RunCostParts) {
  sum.runs += 1;
  sum.run_seconds += parts.seconds;
  sum.cpu_seconds += parts.cpu * parts.pods * parts.seconds;
  sum.memory_gib_seconds += parts.memoryGiB * parts.pods * parts.seconds;
  sum.gpu_seconds += parts.gpu * parts.pods * parts.seconds;
  sum.cost += parts.cost;
}

function compareKeys(a: string, b: string) {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a.localeCompare(b);
}
