/** Runs and their inputs (`kubeai_runs`, `kubeai_run_inputs`); outputs are model versions. */
import { touchNodes, touchScopes } from './changes';
import { runNodeId } from './lineageGraph';
import { ConflictError, NotFoundError } from '@backstage/errors';
import type {
  CreateRunRequest,
  ListRunsQuery,
  Run,
  RunInput,
  RunList,
  UpdateRunRequest,
} from '@kubeai/plugin-kubeai-common';
import { randomUUID } from 'node:crypto';
import { RUN_DELETED_FROM_PORTAL } from './observed/observation';
import { Knex } from 'knex';
import { UnprocessableEntityError } from '../errors';
import { normalizeRef } from '../refs';
import {
  chunks,
  compact,
  DEFAULT_LIMIT,
  fromJson,
  groupBy,
  nowIso,
  retryOnUniqueViolation,
  toIso,
  toJson,
} from './util';

export interface RunRow {
  /** Observed by the cluster informers (migration 20261220000000_observed). */
  reason?: string | null;
  schedule?: string | null;
  observed?: string | null;
  observed_at?: string | null;
  /** Child runs (migration 20270101000000_child_runs). */
  parent_run_id?: string | null;
  child_count?: number | string | null;
  /** What the run reported about itself (migration 20270103000000_run_credentials). */
  metrics?: string | null;
  /** Pools (migration 20270106000000_run_pools): routed at creation, then as Kueue admitted. */
  cluster_queue?: string | null;
  flavor?: string | null;
  /** JSON of the run's Kueue Workload state. */
  admission?: string | null;
  id: string;
  kind: string;
  cluster: string;
  namespace: string;
  name: string;
  uid: string | null;
  model_ref: string | null;
  phase: string;
  message: string | null;
  started_at: string | null;
  finished_at: string | null;
  params: string;
  created_by: string;
  created_at: string;
  updated_at: string;
}

/** The run of an object the portal applied; `clusterQueue` / `flavor`: where routing sent it. */
export type ObjectRunRequest = CreateRunRequest & {
  uid: string;
  id?: string;
  clusterQueue?: string;
  flavor?: string;
};

/** Runs (+ inputs), including the runs of Kubernetes objects the portal applied. */
export class RunStore {
  readonly #db: Knex;

  constructor(db: Knex) {
    this.#db = db;
  }

  async createRun(request: CreateRunRequest, actor: string): Promise<Run> {
    const id = randomUUID();
    const now = nowIso();
    const inputs = dedupeInputs(request.inputs ?? []);
    return this.#db.transaction(async tx => {
      await assertDatasetVersionsExist(tx, inputs);
      if (request.uid) {
        const existing = await tx('kubeai_runs')
          .where({ cluster: request.cluster, uid: request.uid })
          .first('id');
        if (existing) {
          throw new ConflictError(
            `request/body/uid: run ${existing.id} already records uid ${request.uid} in cluster ${request.cluster}`,
          );
        }
      }
      await tx('kubeai_runs').insert({
        id,
        kind: request.kind,
        cluster: request.cluster,
        namespace: request.namespace,
        name: request.name,
        uid: request.uid ?? null,
        model_ref: request.modelRef ? normalizeRef(request.modelRef) : null,
        phase: request.phase ?? 'Pending',
        message: request.message ?? null,
        started_at: toIso(request.startedAt) ?? null,
        finished_at: toIso(request.finishedAt) ?? null,
        params: toJson(request.params ?? {}),
        created_by: actor,
        created_at: now,
        updated_at: now,
      });
      touchScopes(`run:${id}`, request.modelRef);
      await insertInputs(tx, id, inputs);
      return (await readRuns(tx, [id]))[0];
    });
  }

  async getRun(id: string): Promise<Run | undefined> {
    const [run] = await readRuns(this.#db, [id]);
    return run;
  }

  /**
   * Runs, newest first. With `parent`, the executions of that periodic task; without, the runs
   * that are no execution of one (a periodic task may gain thousands a day: they are one click
   * away instead of in every listing).
   */
  async listRuns(filter: ListRunsQuery = {}): Promise<RunList> {
    const base = this.#db('kubeai_runs');
    if (filter.parent) base.where({ parent_run_id: filter.parent });
    else base.whereNull('parent_run_id');
    if (filter.model) base.where({ model_ref: normalizeRef(filter.model) });
    if (filter.kind) base.where({ kind: filter.kind });
    if (filter.phase) base.where({ phase: filter.phase });
    if (filter.dataset) {
      const dataset = normalizeRef(filter.dataset);
      base.whereIn(
        'id',
        this.#db('kubeai_run_inputs')
          .where({ dataset_ref: dataset })
          .select('run_id'),
      );
    }
    const onlyParent =
      filter.parent &&
      !filter.model &&
      !filter.kind &&
      !filter.phase &&
      !filter.dataset;
    // the parent keeps the count of its executions: no count over all of them per page
    const [{ count }] = onlyParent
      ? await this.#db('kubeai_runs')
          .where({ id: filter.parent })
          .select({ count: 'child_count' })
          .then(rows => (rows.length ? rows : [{ count: 0 }]))
      : await base.clone().count({ count: '*' });
    const rows: { id: string }[] = await base
      .clone()
      .select('id')
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'asc' },
      ])
      .limit(filter.limit ?? DEFAULT_LIMIT)
      .offset(filter.offset ?? 0);
    const items = await readRuns(
      this.#db,
      rows.map(r => r.id),
    );
    return { items, totalItems: Number(count) };
  }

  /** Updates a run; `params` is merged, `inputs` replaced. */
  /**
   * Updates a run. `reason` (not part of the API's request) is a machine-readable cause the
   * backend itself records, e.g. {@link RUN_DELETED_FROM_PORTAL}.
   */
  async updateRun(
    id: string,
    patch: UpdateRunRequest & { reason?: string },
  ): Promise<Run> {
    return this.#db.transaction(async tx => {
      const row: RunRow | undefined = await tx('kubeai_runs')
        .where({ id })
        .first();
      if (!row) {
        throw new NotFoundError(`run ${id} not found`);
      }
      const update: Record<string, unknown> = { updated_at: nowIso() };
      if (patch.phase) update.phase = patch.phase;
      if (patch.message !== undefined) update.message = patch.message;
      if (patch.reason !== undefined) update.reason = patch.reason;
      if (patch.startedAt) update.started_at = toIso(patch.startedAt);
      if (patch.finishedAt) update.finished_at = toIso(patch.finishedAt);
      if (patch.params) {
        update.params = toJson({
          ...fromJson<Record<string, unknown>>(row.params, {}),
          ...patch.params,
        });
      }
      if (patch.metrics) {
        // reported metrics accumulate: a later report of `loss` replaces only `loss`
        update.metrics = toJson({
          ...fromJson<Record<string, number>>(row.metrics, {}),
          ...patch.metrics,
        });
      }
      // what lineage answers show of it: its node (only its details, unless its inputs change)
      // and its task's executions summary; with new inputs, the datasets it read before and now
      // (database/changes.ts)
      touchScopes(row.parent_run_id && `run:${row.parent_run_id}`);
      if (patch.inputs) touchScopes(`run:${id}`);
      else touchNodes(`run:${id}`, runNodeId(id));
      if (patch.inputs) {
        const inputs = dedupeInputs(patch.inputs);
        await assertDatasetVersionsExist(tx, inputs);
        await deleteInputs(tx, id);
        await insertInputs(tx, id, inputs);
      }
      await tx('kubeai_runs').where({ id }).update(update);
      return (await readRuns(tx, [id]))[0];
    });
  }

  /**
   * Records that a run read `version` of a dataset: the run's input of that dataset without a
   * version gets it; a version read besides the recorded ones is added.
   */
  async recordInputVersion(
    runId: string,
    datasetRef: string,
    version: string,
  ): Promise<void> {
    const ref = normalizeRef(datasetRef);
    await this.#db.transaction(async tx => {
      touchScopes(`run:${runId}`, ref);
      const rows: { id: number; dataset_version: string | null }[] = await tx(
        'kubeai_run_inputs',
      )
        .where({ run_id: runId, dataset_ref: ref })
        .select('id', 'dataset_version');
      if (rows.some(r => r.dataset_version === version)) return;
      const open = rows.find(r => r.dataset_version === null);
      if (open) {
        await tx('kubeai_run_inputs')
          .where({ id: open.id })
          .update({ dataset_version: version });
      } else {
        await insertInputs(tx, runId, [{ datasetRef: ref, version }]);
      }
      await tx('kubeai_runs')
        .where({ id: runId })
        .update({ updated_at: nowIso() });
    });
  }

  /**
   * Records the run of a Kubernetes object the portal applied, once per object: a run is
   * identified by (cluster, uid), so applying the same object again updates that run's namespace,
   * name, model, inputs and parameters (phase and timestamps are kept) instead of adding a run.
   * Dataset versions of `inputs` must exist (422).
   */
  async upsertObjectRun(
    request: ObjectRunRequest,
    actor: string,
  ): Promise<{ run: Run; created: boolean }> {
    const [result] = await this.upsertObjectRuns([request], actor);
    return result;
  }

  /**
   * {@link RegistryStore.upsertObjectRun} for many objects in one transaction and a handful of
   * statements (one lookup, one insert of the new runs, one of their inputs), in request order.
   */
  async upsertObjectRuns(
    requests: ObjectRunRequest[],
    actor: string,
  ): Promise<Array<{ run: Run; created: boolean }>> {
    if (requests.length === 0) return [];
    const inputsOf = requests.map(r => dedupeInputs(r.inputs ?? []));
    return retryOnUniqueViolation(() =>
      this.#db.transaction(async tx => {
        await assertDatasetVersionsExist(tx, dedupeInputs(inputsOf.flat()));
        const now = nowIso();
        const existing = new Map<string, string>(); // cluster + uid → run id
        const uidsByCluster = new Map<string, string[]>();
        for (const r of requests) {
          const list = uidsByCluster.get(r.cluster) ?? [];
          list.push(r.uid);
          uidsByCluster.set(r.cluster, list);
        }
        for (const [cluster, uids] of uidsByCluster) {
          for (const chunk of chunks(uids, 500)) {
            const rows: {
              id: string;
              uid: string;
              model_ref: string | null;
            }[] = await tx('kubeai_runs')
              .where({ cluster })
              .whereIn('uid', chunk)
              .select('id', 'uid', 'model_ref');
            // the answers that show these runs now (their model may change)
            touchScopes(...rows.map(row => row.model_ref));
            rows.forEach(row =>
              existing.set(`${cluster}\u0000${row.uid}`, row.id),
            );
          }
        }
        // the same object twice in one call: the last request wins
        const keyOf = (r: { cluster: string; uid: string }) =>
          `${r.cluster}\u0000${r.uid}`;
        const winner = new Map<string, number>();
        requests.forEach((r, i) => winner.set(keyOf(r), i));
        const byKey = new Map<
          string,
          { id: string; created: boolean; run?: Run }
        >();
        const newRows: Record<string, unknown>[] = [];
        const inputRows: Record<string, unknown>[] = [];
        for (const [key, i] of winner) {
          const r = requests[i];
          const fields = {
            namespace: r.namespace,
            name: r.name,
            model_ref: r.modelRef ? normalizeRef(r.modelRef) : null,
            params: toJson(r.params ?? {}),
            updated_at: now,
            // where routing sent it (priced before Kueue admits it); unrouted: left as observed
            ...(r.clusterQueue ? { cluster_queue: r.clusterQueue } : {}),
            ...(r.flavor ? { flavor: r.flavor } : {}),
          };
          let id = existing.get(key);
          // the id the objects were labelled with (objectRunIds): the run of an object that was
          // re-created under the same name continues, with the new object's uid
          const continued =
            !id && r.id
              ? await tx('kubeai_runs')
                  .where({ id: r.id })
                  .first('id', 'model_ref')
              : undefined;
          if (continued) {
            id = r.id!;
            touchScopes(continued.model_ref);
            // a new object: Kueue admits it afresh (a new Workload), so the old admission goes
            await tx('kubeai_runs')
              .where({ id })
              .update({ ...fields, uid: r.uid, admission: null });
            await deleteInputs(tx, id);
            byKey.set(key, { id, created: false });
          } else if (id) {
            // the same object applied again: where Kueue admitted it stays (admission wins)
            const keepAdmitted = (column: string, value: string) =>
              tx.raw(`case when admission is null then ? else ${column} end`, [
                value,
              ]);
            await tx('kubeai_runs')
              .where({ id })
              .update({
                ...fields,
                ...(r.clusterQueue
                  ? {
                      cluster_queue: keepAdmitted(
                        'cluster_queue',
                        r.clusterQueue,
                      ),
                    }
                  : {}),
                ...(r.flavor
                  ? { flavor: keepAdmitted('flavor', r.flavor) }
                  : {}),
              });
            await deleteInputs(tx, id);
            byKey.set(key, { id, created: false });
          } else {
            id = r.id ?? randomUUID();
            const row = {
              id,
              kind: r.kind,
              cluster: r.cluster,
              uid: r.uid,
              phase: r.phase ?? 'Pending',
              message: r.message ?? null,
              started_at: toIso(r.startedAt) ?? null,
              finished_at: toIso(r.finishedAt) ?? null,
              created_by: actor,
              created_at: now,
              // every row of a multi-row insert has the same columns
              cluster_queue: null,
              flavor: null,
              ...fields,
            };
            newRows.push(row);
            // a new run: what readRuns would answer, without reading it back
            byKey.set(key, {
              id,
              created: true,
              run: compact({
                id,
                kind: r.kind,
                cluster: r.cluster,
                namespace: r.namespace,
                name: r.name,
                uid: r.uid,
                modelRef: fields.model_ref ?? undefined,
                phase: row.phase as Run['phase'],
                message: row.message ?? undefined,
                startedAt: row.started_at ?? undefined,
                finishedAt: row.finished_at ?? undefined,
                inputs: inputsOf[i].map(input => compact({ ...input })),
                outputs: [],
                params: r.params ?? {},
                createdBy: actor,
                createdAt: now,
                updatedAt: now,
              }),
            });
          }
          touchScopes(`run:${id}`, fields.model_ref);
          for (const input of inputsOf[i]) {
            touchScopes(input.datasetRef);
            inputRows.push({
              run_id: id,
              dataset_ref: input.datasetRef,
              dataset_version: input.version ?? null,
            });
          }
        }
        for (const chunk of chunks(newRows, 200)) {
          await tx('kubeai_runs').insert(chunk);
        }
        for (const chunk of chunks(inputRows, 500)) {
          await tx('kubeai_run_inputs').insert(chunk);
        }
        const updated = [...byKey.values()].filter(r => !r.run).map(r => r.id);
        const read = new Map(
          (await readRuns(tx, updated)).map(run => [run.id, run]),
        );
        return requests.map(r => {
          const result = byKey.get(keyOf(r))!;
          return {
            run: result.run ?? read.get(result.id)!,
            created: result.created,
          };
        });
      }),
    );
  }

  /**
   * The run ids the portal labels objects with before applying them: for each object (by kind of
   * run, cluster, namespace and name), its newest recorded run that was not deleted — applying the
   * same task again continues its run — else a new id.
   */
  async objectRunIds(
    kind: Run['kind'],
    cluster: string,
    objects: Array<{ namespace: string; name: string }>,
  ): Promise<string[]> {
    const found = new Map<string, { id: string; created_at: string }>();
    const keyOf = (o: { namespace: string; name: string }) =>
      `${o.namespace}\u0000${o.name}`;
    for (const chunk of chunks([...new Set(objects.map(o => o.name))], 500)) {
      const rows: {
        id: string;
        namespace: string;
        name: string;
        created_at: string;
      }[] = await this.#db('kubeai_runs')
        .where({ kind, cluster })
        .whereNull('parent_run_id')
        // a deleted object's run is over: a new object of that name is a new run
        .where(q =>
          q
            .whereNull('reason')
            .orWhereNotIn('reason', ['Deleted', RUN_DELETED_FROM_PORTAL]),
        )
        .whereIn('name', chunk)
        .select('id', 'namespace', 'name', 'created_at');
      for (const row of rows) {
        const key = keyOf(row);
        const seen = found.get(key);
        if (!seen || seen.created_at < row.created_at) found.set(key, row);
      }
    }
    return objects.map(o => found.get(keyOf(o))?.id ?? randomUUID());
  }

  /** The newest run recorded for an object (by cluster, namespace and name; optionally its uid). */
  async findObjectRun(
    cluster: string,
    namespace: string,
    name: string,
    uid?: string,
  ): Promise<Run | undefined> {
    const query = this.#db('kubeai_runs').where({ cluster, namespace, name });
    if (uid) {
      query.where({ uid });
    }
    const row: { id: string } | undefined = await query
      .orderBy('created_at', 'desc')
      .first('id');
    return row ? (await readRuns(this.#db, [row.id]))[0] : undefined;
  }
}

function dedupeInputs(inputs: RunInput[]): RunInput[] {
  const seen = new Map<string, RunInput>();
  for (const input of inputs) {
    const datasetRef = normalizeRef(input.datasetRef);
    seen.set(`${datasetRef}@${input.version ?? ''}`, {
      datasetRef,
      ...(input.version !== undefined ? { version: input.version } : {}),
    });
  }
  return [...seen.values()];
}

async function assertDatasetVersionsExist(
  tx: Knex.Transaction,
  inputs: RunInput[],
) {
  for (const [index, input] of inputs.entries()) {
    if (input.version === undefined) continue;
    const row = await tx('kubeai_dataset_versions')
      .where({ dataset_ref: input.datasetRef, version: input.version })
      .first('id');
    if (!row) {
      throw new UnprocessableEntityError(
        `request/body/inputs/${index}/version: ${input.datasetRef} has no version ${input.version}`,
      );
    }
  }
}

/** Deletes a run's inputs; the datasets' lineage answers change (database/changes.ts). */
async function deleteInputs(tx: Knex.Transaction, runId: string) {
  const old: { dataset_ref: string }[] = await tx('kubeai_run_inputs')
    .where({ run_id: runId })
    .select('dataset_ref');
  touchScopes(...old.map(row => row.dataset_ref));
  await tx('kubeai_run_inputs').where({ run_id: runId }).delete();
}

async function insertInputs(
  tx: Knex.Transaction,
  runId: string,
  inputs: RunInput[],
) {
  if (inputs.length === 0) return;
  touchScopes(...inputs.map(input => input.datasetRef));
  await tx('kubeai_run_inputs').insert(
    inputs.map(input => ({
      run_id: runId,
      dataset_ref: input.datasetRef,
      dataset_version: input.version ?? null,
    })),
  );
}

async function readRuns(
  db: Knex | Knex.Transaction,
  ids: string[],
): Promise<Run[]> {
  if (ids.length === 0) return [];
  const rows: RunRow[] = [];
  const inputs: {
    run_id: string;
    dataset_ref: string;
    dataset_version: string | null;
  }[] = [];
  const outputs: { run_id: string; model_ref: string; version: number }[] = [];
  for (const chunk of chunks(ids)) {
    rows.push(...(await db('kubeai_runs').whereIn('id', chunk)));
    inputs.push(
      ...(await db('kubeai_run_inputs')
        .whereIn('run_id', chunk)
        .orderBy('id')
        .select('run_id', 'dataset_ref', 'dataset_version')),
    );
    outputs.push(
      ...(await db('kubeai_model_versions')
        .whereIn('run_id', chunk)
        .orderBy(['model_ref', 'version'])
        .select('run_id', 'model_ref', 'version')),
    );
  }
  const byId = new Map(rows.map(r => [r.id, r]));
  const inputsOf = groupBy(inputs, i => i.run_id);
  const outputsOf = groupBy(outputs, o => o.run_id);
  return ids
    .map(id => byId.get(id))
    .filter((r): r is RunRow => Boolean(r))
    .map(row =>
      compact({
        id: row.id,
        kind: row.kind as Run['kind'],
        cluster: row.cluster,
        namespace: row.namespace,
        name: row.name,
        uid: row.uid ?? undefined,
        modelRef: row.model_ref ?? undefined,
        phase: row.phase as Run['phase'],
        message: row.message ?? undefined,
        startedAt: row.started_at ?? undefined,
        finishedAt: row.finished_at ?? undefined,
        inputs: (inputsOf.get(row.id) ?? []).map(i =>
          compact({
            datasetRef: i.dataset_ref,
            version: i.dataset_version ?? undefined,
          }),
        ),
        outputs: (outputsOf.get(row.id) ?? []).map(o => ({
          modelRef: o.model_ref,
          version: o.version,
        })),
        params: fromJson(row.params, {}),
        metrics: fromJson(row.metrics, undefined),
        // observed by the cluster informers (src/informers)
        parentRunId: row.parent_run_id ?? undefined,
        executions: Number(row.child_count ?? 0) || undefined,
        reason: row.reason ?? undefined,
        schedule: fromJson(row.schedule, undefined),
        observed: fromJson(row.observed, undefined),
        observedAt: row.observed_at ?? undefined,
        // pools: routed at creation, then as Kueue's Workload says (database/observed/admission.ts)
        clusterQueue: row.cluster_queue ?? undefined,
        flavor: row.flavor ?? undefined,
        admission: fromJson(row.admission, undefined),
        createdBy: row.created_by,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
      }),
    );
}
