/**
 * The admission step of {@link applyObservations}: what Kueue's Workload of a run says goes on the
 * run — `cluster_queue`, `flavor` (of its first pod set's assignment; admission wins over routing)
 * and `admission` (JSON: state, ClusterQueue, flavor per resource, message, since).
 *
 * A Workload is the run whose object is its controlling owner (Kueue sets the Job, TFJob, … as
 * owner, and the label `kueue.x-k8s.io/job-uid`). Either may be observed first: a Workload of a
 * run not yet known is kept unlinked and linked when the run appears (same namespace).
 *
 * Also the reads of the usage route ({@link loadQueueState}).
 */
import { Knex } from 'knex';
import { chunks, fromJson, groupBy, toJson } from '../util';
import type { Work } from './applyRuns';
import type { ClusterObjectRow } from './common';
import type { ClusterQueueSummary, WorkloadSummary } from './kueue';
import type { Observation } from './observation';
import {
  computeUsage,
  pendingMessage,
  queueOfWorkload,
  type QueueRecord,
  type WorkloadRecord,
} from './queueUsage';

/** The `admission` JSON of a run. */
export interface RunAdmission {
  state: WorkloadSummary['state'];
  clusterQueue?: string;
  /** resource → flavor, of its pod sets' assignments (the first pod set's first). */
  flavors: Record<string, string>;
  message: string;
  since?: string;
  /** The Workload. */
  workload: { namespace: string; name: string };
}

const summaryOf = (obs: Observation) =>
  obs.details as unknown as WorkloadSummary;

/** Queues and live (not deleted) Workloads of a cluster, from the stored rows (`exceptKeys` left out). */
export async function loadQueueState(
  db: Knex,
  cluster: string,
  options: { workloadStates?: string[] } = {},
): Promise<{ queues: QueueRecord[]; workloads: WorkloadRecord[] }> {
  const queueRows: ClusterObjectRow[] = await db('kubeai_cluster_objects')
    .where({ cluster, kind: 'ClusterQueue' })
    .whereNull('deleted_at')
    .orderBy('name');
  let q = db('kubeai_cluster_objects')
    .where({ cluster, kind: 'Workload' })
    .whereNull('deleted_at');
  if (options.workloadStates) q = q.whereIn('phase', options.workloadStates);
  const workloadRows: ClusterObjectRow[] = await q.orderBy([
    'namespace',
    'name',
  ]);
  return {
    queues: queueRows.map(row => ({
      name: row.name,
      summary: (fromJson<Observation | null>(row.observed, null)?.details ?? {
        namespaces: [],
        quotas: [],
      }) as unknown as ClusterQueueSummary,
    })),
    workloads: workloadRows.map(row => ({
      namespace: row.namespace,
      name: row.name,
      ...(row.run_id ? { runId: row.run_id } : {}),
      summary: (fromJson<Observation | null>(row.observed, null)?.details ?? {
        state: 'pending',
        podSets: [],
        assignments: [],
      }) as unknown as WorkloadSummary,
    })),
  };
}

/** The first pod set's flavor (its CPU's, else its first resource's), then the others'. */
function flavorsOf(summary: WorkloadSummary): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of summary.assignments) {
    for (const [r, f] of Object.entries(a.flavors)) out[r] ??= f;
  }
  return out;
}

function firstFlavor(summary: WorkloadSummary): string | undefined {
  const first = summary.assignments[0]?.flavors ?? {};
  return first.cpu ?? Object.values(first)[0];
}

/**
 * Links the batch's Workloads to their runs (and the batch's new runs to stored Workloads) and
 * writes their admission on the runs. Adds each linked Workload to `runIds` (its object row's
 * run, and the scope it changes).
 */
export async function applyAdmissions(
  tx: Knex.Transaction,
  work: Work[],
  runIds: Map<Observation, string>,
): Promise<number> {
  const pairs: { runId: string; workload: Observation }[] = [];
  const workloads = work.filter(
    w => w.obs.kind === 'Workload' && !w.obs.deleted,
  );
  for (const group of groupBy(workloads, w => w.obs.cluster).values()) {
    const cluster = group[0].obs.cluster;
    const owners = [
      ...new Set(
        group
          .map(w => summaryOf(w.obs).ownerUid)
          .filter((u): u is string => !!u),
      ),
    ];
    const runByUid = new Map<string, string>();
    for (const chunk of chunks(owners, 500)) {
      const rows: { id: string; uid: string }[] = await tx('kubeai_runs')
        .where({ cluster })
        .whereIn('uid', chunk)
        .select('id', 'uid');
      for (const r of rows) runByUid.set(r.uid, r.id);
    }
    for (const { obs } of group) {
      const owner = summaryOf(obs).ownerUid;
      const runId = owner ? runByUid.get(owner) : undefined;
      if (runId) {
        runIds.set(obs, runId);
        pairs.push({ runId, workload: obs });
      }
    }
  }
  // runs of objects seen for the first time, whose Workload may have been stored before them
  // (an object seen before had its run when its Workload came, and was linked then)
  const inBatch = new Set(workloads.map(w => w.obs.uid));
  const newRuns = work.filter(
    w =>
      w.obs.kind !== 'Workload' &&
      runIds.has(w.obs) &&
      !w.obs.deleted &&
      w.row?.uid !== w.obs.uid,
  );
  for (const group of groupBy(
    newRuns,
    w => `${w.obs.cluster}\u0000${w.obs.namespace}`,
  ).values()) {
    const { cluster, namespace } = group[0].obs;
    const rows: ClusterObjectRow[] = await tx('kubeai_cluster_objects')
      .where({ cluster, kind: 'Workload', namespace })
      .whereNull('run_id')
      .whereNull('deleted_at');
    const byOwner = new Map<string, ClusterObjectRow>();
    for (const row of rows) {
      const obs = fromJson<Observation | null>(row.observed, null);
      const owner = obs && summaryOf(obs).ownerUid;
      if (owner && !inBatch.has(row.uid)) byOwner.set(owner, row);
    }
    for (const w of group) {
      const row = byOwner.get(w.obs.uid);
      if (!row) continue;
      const runId = runIds.get(w.obs)!;
      await tx('kubeai_cluster_objects')
        .where({ id: row.id })
        .update({ run_id: runId });
      pairs.push({
        runId,
        workload: fromJson<Observation>(row.observed, null as any),
      });
    }
  }
  // a Workload admitted, finished or gone, or a ClusterQueue changed, moves the quota others wait
  // for: why they wait is said anew (written only where it changed)
  const quotaMoved = new Set(
    work
      .filter(
        w =>
          w.obs.kind === 'ClusterQueue' ||
          (w.obs.kind === 'Workload' &&
            (w.obs.deleted || summaryOf(w.obs).state !== 'pending')),
      )
      .map(w => w.obs.cluster),
  );
  const paired = new Set(pairs.map(p => p.runId));
  for (const cluster of quotaMoved) {
    const waiting: ClusterObjectRow[] = await tx('kubeai_cluster_objects')
      .where({ cluster, kind: 'Workload', phase: 'pending' })
      .whereNotNull('run_id')
      .whereNull('deleted_at');
    for (const row of waiting) {
      if (paired.has(row.run_id!)) continue;
      const observed = fromJson<Observation | null>(row.observed, null);
      if (!observed) continue;
      paired.add(row.run_id!);
      pairs.push({ runId: row.run_id!, workload: observed });
    }
  }
  if (pairs.length === 0) return 0;

  // queue state per cluster, only when a pending workload needs explaining
  const states = new Map<
    string,
    { queues: QueueRecord[]; workloads: WorkloadRecord[] }
  >();
  const stateOf = async (cluster: string) => {
    let state = states.get(cluster);
    if (!state) {
      state = await loadQueueState(tx, cluster, {
        workloadStates: ['admitted'],
      });
      // this batch's observations win over the stored rows
      for (const w of work) {
        if (w.obs.cluster !== cluster || w.obs.deleted) continue;
        if (w.obs.kind === 'ClusterQueue') {
          state.queues = state.queues.filter(q => q.name !== w.obs.name);
          state.queues.push({
            name: w.obs.name,
            summary: w.obs.details as unknown as ClusterQueueSummary,
          });
        } else if (w.obs.kind === 'Workload') {
          state.workloads = state.workloads.filter(
            x => x.namespace !== w.obs.namespace || x.name !== w.obs.name,
          );
          state.workloads.push({
            namespace: w.obs.namespace,
            name: w.obs.name,
            summary: summaryOf(w.obs),
          });
        }
      }
      states.set(cluster, state);
    }
    return state;
  };

  const runRows: {
    id: string;
    flavor: string | null;
    cluster_queue: string | null;
    admission: string | null;
  }[] = [];
  for (const chunk of chunks([...new Set(pairs.map(p => p.runId))], 500)) {
    runRows.push(
      ...(await tx('kubeai_runs')
        .whereIn('id', chunk)
        .select('id', 'flavor', 'cluster_queue', 'admission')),
    );
  }
  const routedFlavor = new Map(runRows.map(r => [r.id, r.flavor]));
  const stored = new Map(runRows.map(r => [r.id, r]));
  let updated = 0;
  for (const { runId, workload } of pairs) {
    const summary = summaryOf(workload);
    const update: Record<string, unknown> = {};
    let clusterQueue = summary.clusterQueue;
    let message: string;
    if (summary.state === 'admitted' || summary.state === 'finished') {
      const flavor = firstFlavor(summary);
      if (flavor) update.flavor = flavor;
      message = `${summary.state === 'admitted' ? 'admitted to' : 'ran in'} \`${
        clusterQueue ?? '?'
      }\`${flavor ? ` on \`${flavor}\`` : ''}`;
    } else {
      const state = await stateOf(workload.cluster);
      clusterQueue ??= queueOfWorkload(
        { namespace: workload.namespace, summary },
        state.queues,
      );
      const queue = state.queues.find(q => q.name === clusterQueue);
      const computed =
        summary.state === 'pending' && queue
          ? pendingMessage(
              summary,
              queue,
              computeUsage(state.queues, state.workloads),
              state.queues,
              routedFlavor.get(runId) ?? undefined,
            )
          : undefined;
      message =
        computed ??
        `${summary.state}: ${
          summary.message ?? 'waiting for Kueue to reserve quota'
        }`;
    }
    if (clusterQueue) update.cluster_queue = clusterQueue;
    const admission: RunAdmission = {
      state: summary.state,
      ...(clusterQueue ? { clusterQueue } : {}),
      flavors: flavorsOf(summary),
      message,
      ...(summary.since ? { since: summary.since } : {}),
      workload: { namespace: workload.namespace, name: workload.name },
    };
    update.admission = toJson(admission);
    const before = stored.get(runId);
    if (
      before &&
      before.admission === update.admission &&
      (update.flavor === undefined || update.flavor === before.flavor) &&
      (update.cluster_queue === undefined ||
        update.cluster_queue === before.cluster_queue)
    ) {
      continue;
    }
    await tx('kubeai_runs').where({ id: runId }).update(update);
    updated++;
  }
  return updated;
}
