/**
 * Run retention: finished runs older than `kubeai.retention.runs.maxAgeDays` are folded into
 * daily rollups (./runRollups.ts) and deleted, in small batches, by the scheduled task
 * `kubeai-run-retention` (../plugin.ts; one replica at a time). Forecasting alone adds 20,000 runs
 * a day; without this the registry grows by millions of rows a year.
 *
 * A run is kept, whatever its age, when removing it would change what the registry still answers:
 * - it is not finished (phase Succeeded, Failed or Stopped, with `finished_at`) before the cutoff;
 * - it produced a model version (live or archived: the version's lineage shows its run, and
 *   `kubeai_model_versions.run_id` references it) — this covers every run whose version is or was
 *   deployed;
 * - it fed a deployment: a revision or the current state of a deployment was written by it
 *   (a pipeline's rollout, `created_by` / `updated_by` `run:<id>`);
 * - it is the latest execution of its periodic task (the newest child of its parent run, or, for
 *   a CronJob's Job without a recorded parent, the newest of the same schedule, cluster and
 *   namespace), or it has executions of its own (a periodic task's run);
 * - the cluster informers still see its object (a live `kubeai_cluster_objects` row: deleting the
 *   run would make them record it again as new).
 *
 * With a run go, in the same transaction: its inputs, its credentials (hashes), the informers'
 * rows of its deleted objects, and one from its parent's `child_count` — so run listings, the
 * lineage's executions summary (a live count of the children) and lineage walks never meet a
 * missing run. Audit events keep naming the run's id (the audit trail has its own retention).
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import type { Knex } from 'knex';
import { ALL_SCOPES, RegistryChanges, touchScopes } from './changes';
import { addRollups, foldRuns, type FoldedRun } from './runRollups';

/** The config key, named by every message about it. */
export const RUN_RETENTION_KEY = 'kubeai.retention.runs.maxAgeDays';
/** A century: beyond it the cutoff date is meaningless. */
export const MAX_RUN_AGE_DAYS = 36_500;
/** Runs deleted per transaction: short write locks, below every database's bind-parameter limit. */
export const RUN_RETENTION_BATCH = 500;
/** Phases after which a run changes no more. */
export const FINISHED_PHASES = ['Succeeded', 'Failed', 'Stopped'];

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Reads `kubeai.retention.runs.maxAgeDays`: unset means runs are kept forever (no task); else a
 * whole number of days, 1 … 36500 (a numeric string counts). Anything else throws, so a bad value
 * stops the backend at startup instead of deleting too much or nothing.
 */
export function readRunRetentionConfig(config: Config): {
  maxAgeDays?: number;
} {
  const raw = config.getOptional(RUN_RETENTION_KEY);
  if (raw === undefined) return {};
  const value =
    typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : raw;
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < 1 ||
    value > MAX_RUN_AGE_DAYS
  ) {
    throw new Error(
      `${RUN_RETENTION_KEY}: must be a whole number of days from 1 to ${MAX_RUN_AGE_DAYS} ` +
        `(finished runs older than that are removed; unset: runs are kept), got ${JSON.stringify(
          raw,
        )}`,
    );
  }
  return { maxAgeDays: value };
}

/** What one {@link RunRetention.prune} did. */
export interface RunPruneResult {
  /** Runs deleted (folded into rollups, with their dependent rows). */
  removed: number;
  /** Transactions that deleted something. */
  batches: number;
  /** Runs finished before this are removed unless a rule keeps them (ISO 8601). */
  cutoff: string;
  /** True when it stopped early (aborted or `maxBatches`) with removable runs possibly left. */
  incomplete: boolean;
}

export interface RunRetentionOptions {
  /** The registry's knex; deletions go through its change tracking (cached lineage is renewed). */
  db: Knex;
  maxAgeDays: number;
  logger?: Pick<LoggerService, 'info' | 'debug'>;
  /** Runs per transaction. Default {@link RUN_RETENTION_BATCH}. */
  batchSize?: number;
  /**
   * Milliseconds to wait between batches (0: only let queued work run). Default: as long as the
   * batch took, so the purge takes at most about half of the database's time.
   */
  pauseMs?: number;
  /**
   * The owning team of namespaces (`<cluster>/<namespace>` refs → group ref), for the rollups;
   * undefined where unknown. Without it the rollups' team is ''.
   */
  teamsOf?: (refs: string[]) => Promise<Array<string | undefined>>;
  /**
   * Prices the runs of `ids` not priced yet into the cost sums, within the deleting transaction
   * (src/cost/CostStore.ts foldRows); returns run id → cost of those it priced.
   */
  foldCost?: (
    tx: Knex.Transaction,
    ids: string[],
  ) => Promise<Map<string, number>>;
}

type Cursor = { created_at: string; id: string };

const RUN_COLUMNS = [
  'r.id',
  'r.kind',
  'r.cluster',
  'r.namespace',
  'r.model_ref',
  'r.phase',
  'r.started_at',
  'r.finished_at',
  'r.created_at',
  'r.params',
  'r.schedule',
  'r.parent_run_id',
  'r.cost',
];

type CandidateRow = FoldedRun & { parent_run_id: string | null };

/** Removes old finished runs the keep rules allow, oldest first, in bounded batches. */
export class RunRetention {
  readonly #db: Knex;
  readonly #changes: RegistryChanges;
  readonly #logger?: RunRetentionOptions['logger'];
  readonly #teamsOf?: RunRetentionOptions['teamsOf'];
  readonly #foldCost?: RunRetentionOptions['foldCost'];
  readonly #pg: boolean;
  readonly maxAgeDays: number;
  readonly batchSize: number;
  readonly pauseMs?: number;
  /** Runs removed by this instance since it was made (all passes). */
  removedTotal = 0;

  constructor(options: RunRetentionOptions) {
    // registry writes: committed deletions change the change token (cached lineage answers)
    this.#changes = RegistryChanges.of(options.db);
    this.#db = this.#changes.trackWrites();
    this.#pg = options.db.client.config.client === 'pg';
    this.#logger = options.logger;
    this.#teamsOf = options.teamsOf;
    this.#foldCost = options.foldCost;
    this.maxAgeDays = options.maxAgeDays;
    this.batchSize = options.batchSize ?? RUN_RETENTION_BATCH;
    this.pauseMs = options.pauseMs;
  }

  /** The oldest finish time kept at `now` (runs finished strictly before it may go). */
  cutoff(now: Date = new Date()): string {
    return new Date(now.getTime() - this.maxAgeDays * DAY_MS).toISOString();
  }

  /**
   * One pass over the runs created before the cutoff, in (created_at, id) order: each batch is
   * chosen outside a transaction (teams may be looked up in the clusters), then re-checked,
   * folded and deleted in one transaction, until the pass is through, `signal` aborts (the
   * scheduler's timeout, shutdown) or `maxBatches` ran.
   */
  async prune(
    options: { now?: Date; signal?: AbortSignal; maxBatches?: number } = {},
  ): Promise<RunPruneResult> {
    const cutoff = this.cutoff(options.now);
    const pass = {
      cutoff,
      deploymentRuns: await this.#deploymentRuns(),
      latestOfSchedule: new Map<string, string | undefined>(),
      teams: new Map<string, string | undefined>(),
    };
    let removed = 0;
    let batches = 0;
    let cursor: Cursor | undefined;
    for (;;) {
      if (options.signal?.aborted || batches === options.maxBatches) {
        await this.#forgetRemovedScopes(removed);
        return { removed, batches, cutoff, incomplete: true };
      }
      const batchStarted = Date.now();
      // a run created after the cutoff finished after it: the created_at index bounds the pass
      const scanned: CandidateRow[] = await this.#candidates(cutoff, cursor)
        .orderBy([
          { column: 'r.created_at', order: 'asc' },
          { column: 'r.id', order: 'asc' },
        ])
        .limit(this.batchSize)
        .select(RUN_COLUMNS);
      if (scanned.length === 0) {
        await this.#forgetRemovedScopes(removed);
        return { removed, batches, cutoff, incomplete: false };
      }
      const last = scanned[scanned.length - 1];
      cursor = { created_at: last.created_at, id: last.id };
      const chosen = await this.#applyJsRules(scanned, pass);
      if (chosen.length > 0) {
        await this.#resolveTeams(chosen, pass.teams);
        const count = await this.#removeBatch(
          cutoff,
          chosen.map(r => r.id),
          pass.teams,
        );
        if (count > 0) {
          removed += count;
          batches += 1;
          this.removedTotal += count;
          this.#logger?.debug(
            `kubeai run retention: batch ${batches} removed ${count} runs (${removed} in this pass)`,
          );
        }
      }
      if (scanned.length < this.batchSize) {
        await this.#forgetRemovedScopes(removed);
        return { removed, batches, cutoff, incomplete: false };
      }
      // let the rest of the backend in between batches: on SQLite (one connection, answered
      // synchronously) the loop would otherwise hold the database and the event loop for the
      // whole pass; by default it waits as long as the batch took, taking at most half the time
      const pause = this.pauseMs ?? Date.now() - batchStarted;
      await new Promise(resolve =>
        pause > 0 ? setTimeout(resolve, pause) : setImmediate(resolve),
      );
    }
  }

  /**
   * After a pass that removed runs: `*` changes once, so no
   * held lineage answer that showed a removed run — whose version row went with it — stays valid.
   */
  async #forgetRemovedScopes(removed: number): Promise<void> {
    if (removed > 0) await this.#changes.changed([ALL_SCOPES]);
  }

  /** The scheduled task's body: prunes and says what it did. */
  async run(signal?: AbortSignal): Promise<RunPruneResult> {
    const started = Date.now();
    const result = await this.prune({ signal });
    if (result.removed > 0 || result.incomplete) {
      this.#logger?.info(
        `kubeai run retention: removed ${result.removed} runs finished before ${
          result.cutoff
        } (${RUN_RETENTION_KEY} ${this.maxAgeDays}) in ${
          result.batches
        } batches of at most ${this.batchSize}, ${(
          (Date.now() - started) /
          1000
        ).toFixed(1)} s, folded into kubeai_run_rollups; ${
          this.removedTotal
        } since the backend started${
          result.incomplete ? '; stopped early, the rest on the next run' : ''
        }`,
      );
    }
    return result;
  }

  /** Runs old and finished enough, without anything in SQL that keeps them. */
  #candidates(cutoff: string, cursor?: Cursor, db: Knex = this.#db) {
    const query = db('kubeai_runs as r')
      .where('r.created_at', '<', cutoff)
      .whereNotNull('r.finished_at')
      .where('r.finished_at', '<', cutoff)
      .whereIn('r.phase', FINISHED_PHASES)
      .where('r.child_count', 0)
      // executions of its own (child_count is maintained, this is the index's word)
      .whereNotExists(
        db('kubeai_runs as c').whereRaw('c.parent_run_id = r.id').select(1),
      )
      .whereNotExists(
        db('kubeai_model_versions as mv')
          .whereRaw('mv.run_id = r.id')
          .select(1),
      )
      .whereNotExists(
        db('kubeai_cluster_objects as o')
          .whereRaw('o.run_id = r.id')
          .whereNull('o.deleted_at')
          .select(1),
      )
      // not the newest execution of its periodic task (kubeai_runs_parent_idx); two EXISTS, not
      // one with an OR, so each is a range of the index
      .where(q =>
        q
          .whereNull('r.parent_run_id')
          .orWhereExists(
            db('kubeai_runs as s')
              .whereRaw('s.parent_run_id = r.parent_run_id')
              .whereRaw('s.created_at > r.created_at')
              .select(1),
          )
          .orWhereExists(
            db('kubeai_runs as s')
              .whereRaw('s.parent_run_id = r.parent_run_id')
              .whereRaw('s.created_at = r.created_at')
              .whereRaw('s.id > r.id')
              .select(1),
          ),
      );
    if (cursor) {
      // the lower bound alone is a range of kubeai_runs_created_idx; the OR only trims its start
      query
        .where('r.created_at', '>=', cursor.created_at)
        .where(q =>
          q
            .where('r.created_at', '>', cursor.created_at)
            .orWhere('r.id', '>', cursor.id),
        );
    }
    return query;
  }

  /** Drops the runs kept by the rules SQL does not decide: deployments, latest of a schedule. */
  async #applyJsRules(
    rows: CandidateRow[],
    pass: {
      deploymentRuns: Set<string>;
      latestOfSchedule: Map<string, string | undefined>;
    },
  ): Promise<CandidateRow[]> {
    const out: CandidateRow[] = [];
    for (const row of rows) {
      if (pass.deploymentRuns.has(row.id)) continue;
      if (!row.parent_run_id && row.schedule) {
        const key = `${row.cluster}\u0000${row.namespace}\u0000${row.schedule}`;
        if (!pass.latestOfSchedule.has(key)) {
          // newest first along kubeai_runs_parent_idx (parent_run_id null, created_at, id)
          const latest = await this.#db('kubeai_runs')
            .whereNull('parent_run_id')
            .where({
              cluster: row.cluster,
              namespace: row.namespace,
              schedule: row.schedule,
            })
            .orderBy([
              { column: 'created_at', order: 'desc' },
              { column: 'id', order: 'desc' },
            ])
            .first('id');
          pass.latestOfSchedule.set(key, latest?.id);
        }
        if (pass.latestOfSchedule.get(key) === row.id) continue;
      }
      out.push(row);
    }
    return out;
  }

  /** Runs that wrote a deployment (a pipeline's rollout): `run:<id>` as its author. */
  async #deploymentRuns(): Promise<Set<string>> {
    const revisions: string[] = await this.#db('kubeai_deployment_revisions')
      .where('created_by', 'like', 'run:%')
      .distinct('created_by')
      .pluck('created_by');
    const current: string[] = await this.#db('kubeai_deployments')
      .where('updated_by', 'like', 'run:%')
      .distinct('updated_by')
      .pluck('updated_by');
    return new Set(
      [...revisions, ...current].map(subject => subject.slice('run:'.length)),
    );
  }

  async #resolveTeams(
    rows: CandidateRow[],
    teams: Map<string, string | undefined>,
  ): Promise<void> {
    if (!this.#teamsOf) return;
    const missing = [
      ...new Set(
        rows
          .map(r => `${r.cluster}\u0000${r.namespace}`)
          .filter(key => !teams.has(key)),
      ),
    ];
    if (missing.length === 0) return;
    let owners: Array<string | undefined>;
    try {
      owners = await this.#teamsOf(
        missing.map(key => key.replace('\u0000', '/')),
      );
    } catch (error) {
      // a cluster out of reach costs the rollups their team (''), not the retention its run
      this.#logger?.debug(
        `kubeai run retention: namespace owners unknown (${error})`,
      );
      return;
    }
    missing.forEach((key, i) => teams.set(key, owners[i]));
  }

  /**
   * Re-checks `ids` under the same rules (anything may have changed since they were chosen; on
   * PostgreSQL the rows are locked), folds what still qualifies into the rollups and deletes it
   * with its dependent rows — all in one transaction.
   */
  async #removeBatch(
    cutoff: string,
    ids: string[],
    teams: Map<string, string | undefined>,
  ): Promise<number> {
    return this.#db.transaction(async tx => {
      const query = this.#candidates(cutoff, undefined, tx)
        .whereIn('r.id', ids)
        .select(RUN_COLUMNS);
      if (this.#pg) query.forUpdate();
      const rows: CandidateRow[] = await query;
      if (rows.length === 0) return 0;
      const gone = rows.map(r => r.id);
      if (this.#foldCost) {
        // priced into the cost sums now if the cost fold has not yet: the rollups get the cost
        const priced = await this.#foldCost(
          tx,
          rows
            .filter(r => r.cost === null || r.cost === undefined)
            .map(r => r.id),
        );
        for (const row of rows)
          row.cost = row.cost ?? priced.get(row.id) ?? null;
      }
      await addRollups(tx, foldRuns(rows, teams));
      // The answers that showed these runs change (database/changes.ts): their tasks' summaries,
      // their models and datasets. The runs' own scopes go with them; an answer that held one is
      // dropped by the `*` raised once the pass is through (see prune).
      const read: { dataset_ref: string }[] = await tx('kubeai_run_inputs')
        .whereIn('run_id', gone)
        .distinct('dataset_ref');
      touchScopes(
        ...rows.map(r => r.parent_run_id && `run:${r.parent_run_id}`),
        ...rows.map(r => r.model_ref),
        ...read.map(r => r.dataset_ref),
      );
      await tx('kubeai_change_scopes')
        .whereIn(
          'scope',
          gone.map(id => `run:${id}`),
        )
        .delete();
      await tx('kubeai_run_inputs').whereIn('run_id', gone).delete();
      await tx('kubeai_run_credentials').whereIn('run_id', gone).delete();
      // the informers' rows of deleted objects (live ones keep their run, see #candidates)
      await tx('kubeai_cluster_objects').whereIn('run_id', gone).delete();
      const deleted = await tx('kubeai_runs').whereIn('id', gone).delete();
      if (deleted !== rows.length) {
        // someone else deleted one meanwhile (SQLite has no row locks): count nothing twice
        throw new Error(
          `kubeai run retention: expected to delete ${rows.length} runs, deleted ${deleted}`,
        );
      }
      const children = new Map<string, number>();
      for (const row of rows) {
        if (row.parent_run_id) {
          children.set(
            row.parent_run_id,
            (children.get(row.parent_run_id) ?? 0) + 1,
          );
        }
      }
      if (children.size > 0) {
        // one statement for all parents of the batch (a batch spans up to every periodic task)
        const parents = [...children.keys()];
        await tx('kubeai_runs')
          .whereIn('id', parents)
          .update({
            child_count: tx.raw(
              `child_count - case id ${parents
                .map(() => 'when ? then ?')
                .join(' ')} else 0 end`,
              parents.flatMap(parent => [parent, children.get(parent)!]),
            ),
          });
      }
      return rows.length;
    });
  }
}
