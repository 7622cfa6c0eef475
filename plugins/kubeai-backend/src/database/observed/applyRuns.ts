/**
 * The run step of {@link applyObservations}: links each observation of a run (or schedule) kind to
 * its registry run — by the object row, the uid, the `kubeai.io/run` label, else a run the portal
 * recorded by name before the object had a uid — updates what changed and creates the runs of
 * objects nobody recorded, with the dataset inputs their pod templates show (./runInputs.ts).
 *
 * A Job its CronJob started is a child run of the CronJob's run (`parent_run_id`) once that run
 * is known; the parent's `child_count` follows, one update per parent and batch.
 */
import { Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import { touchNodes, touchScopes } from '../changes';
import { runNodeId } from '../lineageGraph';
import { chunks, fromJson, groupBy, toJson } from '../util';
import { insertDerivedInputs } from './runInputs';
import type { KindSpec } from './kinds';
import {
  INFORMER_ACTOR,
  UUID,
  type ApplyStats,
  type ClusterObjectRow,
  type RunRowLite,
} from './common';
import {
  isFinalPhase,
  isRun,
  RUN_DELETED_FROM_PORTAL,
  type Observation,
} from './observation';

/** An observation to write, with its kind and the stored row of the object (if any). */
export interface Work {
  obs: Observation;
  spec: KindSpec;
  row?: ClusterObjectRow;
}

const RUN_COLUMNS = [
  'id',
  'kind',
  'cluster',
  'namespace',
  'name',
  'uid',
  'model_ref',
  'phase',
  'message',
  'reason',
  'started_at',
  'finished_at',
  'schedule',
  'observed',
  'parent_run_id',
];

/** The stored runs an observation may be: by uid, by run label, by name (no uid yet), by link. */
interface RunCandidates {
  byUid: Map<string, RunRowLite>;
  byLabel: Map<string, RunRowLite>;
  byName: Map<string, RunRowLite[]>;
  linked: Map<string, RunRowLite>;
}

const linkedRunId = (w: Work) =>
  w.row?.uid === w.obs.uid && w.row.run_id ? w.row.run_id : undefined;

async function loadRunCandidates(
  tx: Knex.Transaction,
  runWork: Work[],
): Promise<RunCandidates> {
  const byUid = new Map<string, RunRowLite>();
  const byLabel = new Map<string, RunRowLite>();
  const byName = new Map<string, RunRowLite[]>();
  for (const group of groupBy(runWork, w => w.obs.cluster).values()) {
    const cluster = group[0].obs.cluster;
    const uids = new Set<string>();
    for (const w of group) {
      uids.add(w.obs.uid);
      if (w.obs.schedule && w.obs.owner?.uid) uids.add(w.obs.owner.uid);
    }
    for (const chunk of chunks([...uids], 500)) {
      const rows: RunRowLite[] = await tx('kubeai_runs')
        .where({ cluster })
        .whereIn('uid', chunk)
        .select(RUN_COLUMNS);
      for (const row of rows) byUid.set(`${cluster}|${row.uid}`, row);
    }
    const unlinked = group.filter(
      w => !byUid.has(`${cluster}|${w.obs.uid}`) && !linkedRunId(w),
    );
    const labels = unlinked
      .filter(
        w => !w.obs.schedule && w.obs.runLabel && UUID.test(w.obs.runLabel),
      )
      .map(w => w.obs.runLabel!);
    for (const chunk of chunks([...new Set(labels)], 500)) {
      const rows: RunRowLite[] = await tx('kubeai_runs')
        .whereIn('id', chunk)
        .select(RUN_COLUMNS);
      for (const row of rows) byLabel.set(row.id, row);
    }
    const names = unlinked.map(w => w.obs.name);
    for (const chunk of chunks([...new Set(names)], 500)) {
      const rows: RunRowLite[] = await tx('kubeai_runs')
        .where({ cluster })
        .whereNull('uid')
        .whereIn('name', chunk)
        .select(RUN_COLUMNS);
      for (const row of rows) {
        const key = `${cluster}|${row.namespace}|${row.name}`;
        const list = byName.get(key) ?? [];
        list.push(row);
        byName.set(key, list);
      }
    }
  }
  // runs already linked through the object row
  const linkedIds = runWork.map(linkedRunId).filter((id): id is string => !!id);
  const linked = new Map<string, RunRowLite>();
  for (const chunk of chunks([...new Set(linkedIds)], 500)) {
    const rows: RunRowLite[] = await tx('kubeai_runs')
      .whereIn('id', chunk)
      .select(RUN_COLUMNS);
    for (const row of rows) linked.set(row.id, row);
  }
  return { byUid, byLabel, byName, linked };
}

/** The stored run an observation is, unless another observation of the batch claimed it. */
function matchRun(
  { obs, spec, row }: Work,
  runs: RunCandidates,
  claimed: Set<string>,
): RunRowLite | undefined {
  let run: RunRowLite | undefined;
  if (row?.uid === obs.uid && row.run_id) run = runs.linked.get(row.run_id);
  run ??= runs.byUid.get(`${obs.cluster}|${obs.uid}`);
  if (!run && !obs.schedule && obs.runLabel) {
    const byLabel = runs.byLabel.get(obs.runLabel);
    if (
      byLabel &&
      byLabel.cluster === obs.cluster &&
      (byLabel.uid === null || byLabel.uid === obs.uid) &&
      !claimed.has(byLabel.id)
    ) {
      run = byLabel;
    }
  }
  if (!run) {
    run = (
      runs.byName.get(`${obs.cluster}|${obs.namespace}|${obs.name}`) ?? []
    ).find(
      r => !claimed.has(r.id) && (!spec.runKind || r.kind === spec.runKind),
    );
  }
  return run;
}

/** Updates a matched run when the observation changes it; true when it did. */
async function updateRun(
  tx: Knex.Transaction,
  run: RunRowLite,
  fields: RunFields,
  obs: Observation,
  now: string,
): Promise<boolean> {
  const uidUpdate = run.uid === null ? { uid: obs.uid } : {};
  const modelUpdate =
    run.model_ref === null && obs.modelRef ? { model_ref: obs.modelRef } : {};
  if (
    sameRunFields(run, fields) &&
    !Object.keys(uidUpdate).length &&
    !Object.keys(modelUpdate).length
  ) {
    return false;
  }
  await tx('kubeai_runs')
    .where({ id: run.id })
    .update({
      ...fields,
      ...uidUpdate,
      ...modelUpdate,
      observed_at: now,
      updated_at: now,
    });
  return true;
}

/**
 * An execution of a periodic task runs what its task's template asks for (pods, requests) in the
 * pool routing sent the task to: new child runs take their task's params, ClusterQueue and flavor,
 * so their cost is priced from them until Kueue's Workload of the execution says more.
 */
/** What a periodic task's schedule makes. */
const EXECUTION_KIND: Record<string, string> = {
  CronJob: 'Job',
  CronWorkflow: 'Workflow',
};

async function inheritFromTask(
  tx: Knex.Transaction,
  inserts: Record<string, unknown>[],
): Promise<void> {
  const parents = [
    ...new Set(
      inserts
        .map(row => row.parent_run_id)
        .filter((id): id is string => typeof id === 'string'),
    ),
  ];
  if (parents.length === 0) return;
  const tasks = new Map<
    string,
    { params: string; cluster_queue: string | null; flavor: string | null }
  >();
  for (const chunk of chunks(parents, 500)) {
    for (const task of await tx('kubeai_runs')
      .whereIn('id', chunk)
      .select('id', 'params', 'cluster_queue', 'flavor')) {
      tasks.set(task.id, task);
    }
  }
  for (const row of inserts) {
    const task = tasks.get(row.parent_run_id as string);
    if (!task) continue;
    // the execution is the object the task's schedule makes, and has no schedule of its own
    const { schedule: _schedule, ...params } = fromJson<Record<string, any>>(
      task.params,
      {},
    );
    if (params.objectKind in EXECUTION_KIND) {
      params.objectKind = EXECUTION_KIND[params.objectKind];
    }
    row.params = toJson(params);
    row.cluster_queue = task.cluster_queue ?? null;
    row.flavor = task.flavor ?? null;
  }
}

/**
 * Links, updates and creates the runs of the batch (see the module comment). Returns the run id of
 * each observation that is (or became) a run.
 */
export async function applyRuns(
  tx: Knex.Transaction,
  work: Work[],
  now: string,
  stats: ApplyStats,
): Promise<Map<Observation, string>> {
  const runIds = new Map<Observation, string>();
  const runWork = work.filter(
    w => isRun(w.spec, w.obs) || w.spec.role === 'schedule',
  );
  if (runWork.length === 0) return runIds;
  const runs = await loadRunCandidates(tx, runWork);
  const claimed = new Set<string>();
  const inserts: Record<string, unknown>[] = [];
  const created: { runId: string; obs: Observation }[] = [];
  const children = new Map<string, number>(); // parent run id → new children
  for (const w of runWork) {
    const { obs, spec } = w;
    const run = matchRun(w, runs, claimed);
    const scheduleRun =
      obs.schedule && obs.owner?.uid
        ? runs.byUid.get(`${obs.cluster}|${obs.owner.uid}`)?.id
        : undefined;
    if (run) {
      claimed.add(run.id);
      runIds.set(obs, run.id);
      const fields = runFields(spec, obs, run, scheduleRun, now);
      if (fields.parent_run_id !== (run.parent_run_id ?? null)) {
        if (run.parent_run_id) count(children, run.parent_run_id, -1);
        if (fields.parent_run_id) count(children, fields.parent_run_id, 1);
      }
      if (await updateRun(tx, run, fields, obs, now)) {
        stats.runsUpdated++;
        // what lineage answers show of it: its node, its task's executions summary, and a model
        // it is now linked to (database/changes.ts); a run of no task that stays linked as it
        // was changed only its node's details (name, phase)
        const linkedAsBefore =
          !run.parent_run_id &&
          !fields.parent_run_id &&
          (run.model_ref !== null || !obs.modelRef);
        if (linkedAsBefore) touchNodes(`run:${run.id}`, runNodeId(run.id));
        else {
          touchScopes(
            `run:${run.id}`,
            run.parent_run_id && `run:${run.parent_run_id}`,
            fields.parent_run_id && `run:${fields.parent_run_id}`,
            run.model_ref === null ? obs.modelRef : undefined,
          );
        }
      }
      continue;
    }
    if (spec.role === 'schedule' || obs.deleted) {
      continue; // schedules are runs only when the portal recorded them; never create a run for a deletion
    }
    const label = obs.runLabel;
    const id =
      !obs.schedule &&
      label &&
      UUID.test(label) &&
      !runs.byLabel.has(label) &&
      !claimed.has(label)
        ? label
        : randomUUID();
    claimed.add(id);
    runIds.set(obs, id);
    const fields = runFields(spec, obs, undefined, scheduleRun, now);
    if (fields.parent_run_id) count(children, fields.parent_run_id, 1);
    touchScopes(
      `run:${id}`,
      obs.modelRef,
      fields.parent_run_id && `run:${fields.parent_run_id}`,
    );
    created.push({ runId: id, obs });
    inserts.push({
      id,
      kind: spec.runKind ?? 'training',
      cluster: obs.cluster,
      namespace: obs.namespace,
      name: obs.name,
      uid: obs.uid,
      model_ref: obs.modelRef ?? null,
      params: '{}',
      // every row of a multi-row insert has the same columns (an execution's are its task's below)
      cluster_queue: null,
      flavor: null,
      created_by: INFORMER_ACTOR,
      created_at: obs.createdAt ?? now,
      updated_at: now,
      observed_at: now,
      ...fields,
    });
  }
  await inheritFromTask(tx, inserts);
  for (const chunk of chunks(inserts, 40)) {
    await tx('kubeai_runs').insert(chunk);
    stats.runsCreated += chunk.length;
  }
  await insertDerivedInputs(tx, created);
  for (const [parent, delta] of children) {
    if (delta === 0) continue;
    await tx('kubeai_runs')
      .where({ id: parent })
      .increment('child_count', delta);
  }
  return runIds;
}

function count(counts: Map<string, number>, key: string, delta: number) {
  counts.set(key, (counts.get(key) ?? 0) + delta);
}

/** The JSON kept on a run: what its object looks like (no resourceVersion: it changes each event). */
function runObserved(obs: Observation, now: string, previous: any) {
  const out: Record<string, unknown> = {
    kind: obs.kind,
    apiVersion: obs.apiVersion,
    uid: obs.uid,
  };
  if (obs.ready !== undefined) out.ready = obs.ready;
  if (obs.url) out.url = obs.url;
  const conditions = (obs.details as { conditions?: unknown[] }).conditions;
  if (conditions && conditions.length) out.conditions = conditions;
  if (obs.deleted) {
    out.deleted = true;
    out.deletedAt = previous?.deletedAt ?? now;
  }
  return out;
}

interface RunFields {
  phase: string;
  reason: string | null;
  message: string | null;
  started_at: string | null;
  finished_at: string | null;
  schedule: string | null;
  observed: string;
  parent_run_id: string | null;
}

function runFields(
  spec: KindSpec,
  obs: Observation,
  current: RunRowLite | undefined,
  scheduleRunId: string | undefined,
  now: string,
): RunFields {
  let phase = obs.phase;
  let reason = obs.reason;
  let message = obs.message;
  let finishedAt = obs.finishedAt;
  if (spec.role === 'schedule') {
    // a schedule is "running" while it may spawn runs
    phase = obs.phase === 'Suspended' ? 'Stopped' : 'Running';
    reason = obs.phase;
    message = undefined;
    finishedAt = undefined;
  }
  if (current?.reason === RUN_DELETED_FROM_PORTAL) {
    // stopped by whoever deleted it through the portal: its last events change nothing of that
    phase = current.phase;
    reason = current.reason;
    message = current.message ?? undefined;
    finishedAt = current.finished_at ?? undefined;
  } else if (obs.deleted && !isFinalPhase(phase)) {
    phase = 'Stopped';
    reason = 'Deleted';
    message = `${obs.kind} ${obs.namespace}/${obs.name} was deleted from cluster ${obs.cluster}`;
    finishedAt = current?.finished_at ?? now;
  }
  const previous = fromJson<any>(current?.observed, null);
  return {
    phase,
    reason: reason ?? null,
    message: message ?? null,
    started_at: obs.startedAt ?? current?.started_at ?? null,
    finished_at: finishedAt ?? null,
    schedule: obs.schedule
      ? toJson({
          kind: obs.schedule.kind,
          name: obs.schedule.name,
          ...(scheduleRunId ? { runId: scheduleRunId } : {}),
        })
      : null,
    observed: toJson(runObserved(obs, now, previous)),
    // once a child, always a child: a later event without its CronJob's run keeps the link
    parent_run_id: scheduleRunId ?? current?.parent_run_id ?? null,
  };
}

function sameRunFields(current: RunRowLite, next: RunFields): boolean {
  return (
    current.phase === next.phase &&
    (current.reason ?? null) === next.reason &&
    (current.message ?? null) === next.message &&
    (current.started_at ?? null) === next.started_at &&
    (current.finished_at ?? null) === next.finished_at &&
    (current.schedule ?? null) === next.schedule &&
    (current.observed ?? null) === next.observed &&
    (current.parent_run_id ?? null) === next.parent_run_id
  );
}
