/**
 * A team's usage of its ClusterQueue, and why a workload waits — computed from the observed
 * Workloads and ClusterQueues (pure; ./admission.ts and the usage route read the rows).
 *
 * Per ClusterQueue, flavor and resource (canonical units, see ./kueue.ts):
 * - `nominal`: the queue's nominal quota;
 * - `used`: Σ over its admitted Workloads of count × per-pod request in that flavor — from the
 *   Workloads, not from the ClusterQueue's status, so it adds up exactly;
 * - `borrowed`: what it uses beyond its nominal quota, `max(0, used − nominal)` (from its cohort);
 * - `lendable`: the part of its unused nominal quota the cohort may use,
 *   `min(lendingLimit ?? nominal, max(0, nominal − used))`;
 * - `lent`: the cohort's borrowing (Σ `borrowed` of its queues) attributed to the queues that can
 *   lend in proportion to their `lendable`, at most `lendable`: `min(lendable, round(Σ borrowed ×
 *   lendable / Σ lendable))`. Kueue does not record who lent to whom; this share is what the
 *   portal shows. While the cohort's lenders cover its borrowing, Σ `lent` = Σ `borrowed` (± the
 *   rounding to a unit: 1m CPU, 1 byte).
 * A queue without a cohort neither borrows nor lends.
 */
import type {
  PendingWorkload,
  QueueUsage as ApiQueueUsage,
  ResourceUsage,
} from '@kubeai/plugin-kubeai-common';
import {
  formatAmount,
  workloadRequests,
  workloadUsage,
  type ClusterQueueSummary,
  type WorkloadSummary,
} from './kueue';

export interface QueueRecord {
  name: string;
  summary: ClusterQueueSummary;
}

export interface WorkloadRecord {
  namespace: string;
  name: string;
  runId?: string;
  summary: WorkloadSummary;
}

/*
 * The shapes of GET /pools/usage (generated from the spec), here with amounts in canonical units
 * until ObservedStore.queueUsage converts them (toApiAmount) and adds the cluster.
 */
export type { PendingWorkload, ResourceUsage };
export type QueueUsage = Omit<ApiQueueUsage, 'cluster'>;

/** The ClusterQueue of a Workload: where it is admitted, else the queue of its namespace. */
export function queueOfWorkload(
  w: Pick<WorkloadRecord, 'namespace' | 'summary'>,
  queues: QueueRecord[],
): string | undefined {
  if (w.summary.clusterQueue) return w.summary.clusterQueue;
  // POST /pools names a team's LocalQueues after its ClusterQueue and lists its namespaces
  const serving = queues.filter(q =>
    q.summary.namespaces.includes(w.namespace),
  );
  return (
    serving.find(q => q.name === w.summary.queueName)?.name ??
    serving[0]?.name ??
    queues.find(q => q.name === w.summary.queueName)?.name
  );
}

const key = (flavor: string, resource: string) => `${flavor}\u0000${resource}`;

/** Usage of every queue (see the file comment), by queue name. */
export function computeUsage(
  queues: QueueRecord[],
  workloads: WorkloadRecord[],
): Map<string, QueueUsage> {
  const used = new Map<string, Map<string, number>>(); // queue → flavor|resource → amount
  const admitted = new Map<string, number>();
  const pending = new Map<string, PendingWorkload[]>();
  for (const w of workloads) {
    const queue = queueOfWorkload(w, queues);
    if (!queue) continue;
    if (w.summary.state === 'admitted') {
      admitted.set(queue, (admitted.get(queue) ?? 0) + 1);
      const byKey = used.get(queue) ?? new Map<string, number>();
      for (const [flavor, amounts] of workloadUsage(w.summary)) {
        for (const [resource, amount] of Object.entries(amounts)) {
          const k = key(flavor, resource);
          byKey.set(k, (byKey.get(k) ?? 0) + amount);
        }
      }
      used.set(queue, byKey);
    } else if (w.summary.state === 'pending' || w.summary.state === 'evicted') {
      const list = pending.get(queue) ?? [];
      list.push({
        namespace: w.namespace,
        name: w.name,
        ...(w.runId ? { runId: w.runId } : {}),
        state: w.summary.state,
        requests: workloadRequests(w.summary),
        ...(w.summary.since ? { since: w.summary.since } : {}),
        ...(w.summary.message ? { message: w.summary.message } : {}),
      });
      pending.set(queue, list);
    }
  }

  // rows: the quota of each queue, plus flavors / resources used without quota
  const rows = new Map<string, Map<string, ResourceUsage>>();
  for (const q of queues) {
    const byKey = new Map<string, ResourceUsage>();
    for (const quota of q.summary.quotas) {
      byKey.set(key(quota.flavor, quota.resource), {
        resource: quota.resource,
        nominal: quota.nominal,
        used: 0,
        borrowed: 0,
        lent: 0,
        lendable: 0,
        ...(quota.borrowingLimit !== undefined
          ? { borrowingLimit: quota.borrowingLimit }
          : {}),
        ...(quota.lendingLimit !== undefined
          ? { lendingLimit: quota.lendingLimit }
          : {}),
      });
    }
    for (const [k, amount] of used.get(q.name) ?? []) {
      const row =
        byKey.get(k) ??
        ({
          resource: k.split('\u0000')[1],
          nominal: 0,
          used: 0,
          borrowed: 0,
          lent: 0,
          lendable: 0,
        } as ResourceUsage);
      row.used = amount;
      byKey.set(k, row);
    }
    for (const row of byKey.values()) {
      row.borrowed = Math.max(0, row.used - row.nominal);
      row.lendable = q.summary.cohort
        ? Math.min(
            row.lendingLimit ?? row.nominal,
            Math.max(0, row.nominal - row.used),
          )
        : 0;
    }
    rows.set(q.name, byKey);
  }

  // lent: the cohort's borrowing, shared among its lenders by what each can lend
  const cohorts = new Map<string, QueueRecord[]>();
  for (const q of queues) {
    if (!q.summary.cohort) continue;
    cohorts.set(q.summary.cohort, [
      ...(cohorts.get(q.summary.cohort) ?? []),
      q,
    ]);
  }
  for (const members of cohorts.values()) {
    const totals = new Map<string, { borrowed: number; lendable: number }>();
    for (const q of members) {
      for (const [k, row] of rows.get(q.name)!) {
        const t = totals.get(k) ?? { borrowed: 0, lendable: 0 };
        t.borrowed += row.borrowed;
        t.lendable += row.lendable;
        totals.set(k, t);
      }
    }
    for (const q of members) {
      for (const [k, row] of rows.get(q.name)!) {
        const t = totals.get(k)!;
        row.lent =
          t.lendable > 0
            ? Math.min(
                row.lendable,
                Math.round((t.borrowed * row.lendable) / t.lendable),
              )
            : 0;
      }
    }
  }

  const out = new Map<string, QueueUsage>();
  for (const q of queues) {
    const flavors: QueueUsage['flavors'] = [];
    for (const [k, row] of rows.get(q.name)!) {
      const flavor = k.split('\u0000')[0];
      let entry = flavors.find(f => f.flavor === flavor);
      if (!entry) {
        entry = { flavor, resources: [] };
        flavors.push(entry);
      }
      entry.resources.push(row);
    }
    out.set(q.name, {
      clusterQueue: q.name,
      ...(q.summary.cohort ? { cohort: q.summary.cohort } : {}),
      flavors,
      admitted: admitted.get(q.name) ?? 0,
      pending: (pending.get(q.name) ?? []).sort((a, b) =>
        (a.since ?? '').localeCompare(b.since ?? ''),
      ),
    });
  }
  return out;
}

/**
 * Why a pending Workload waits, from its requests and its queue's quota and usage: e.g. "pending:
 * cpu 18 of 16 used in `cv-team` (14 + this run's 4, flavor `elastic`), cohort has none to lend".
 * Undefined when some flavor of the queue has room for it (then Kueue's own message says more).
 * `preferredFlavor`: the flavor the run was routed to (Kueue considers only that one).
 */
export function pendingMessage(
  w: WorkloadSummary,
  queue: QueueRecord,
  usage: Map<string, QueueUsage>,
  cohortQueues: QueueRecord[],
  preferredFlavor?: string,
): string | undefined {
  const mine = usage.get(queue.name);
  if (!mine) return undefined;
  const requests = Object.entries(workloadRequests(w)).filter(([, v]) => v > 0);
  if (requests.length === 0) return undefined;
  let flavors = mine.flavors.map(f => f.flavor);
  if (preferredFlavor && flavors.includes(preferredFlavor)) {
    flavors = [preferredFlavor];
  }
  let first: string | undefined;
  for (const flavor of flavors) {
    const rows = mine.flavors.find(f => f.flavor === flavor)!.resources;
    let blocked: string | undefined;
    for (const [resource, asked] of requests) {
      const row = rows.find(r => r.resource === resource);
      if (!row) {
        blocked = `${resource}: no quota in \`${queue.name}\` on \`${flavor}\``;
        break;
      }
      const canBorrow = borrowable(
        queue,
        flavor,
        resource,
        usage,
        cohortQueues,
      );
      if (asked <= Math.max(0, row.nominal - row.used) + canBorrow.amount)
        continue;
      const lend = queue.summary.cohort
        ? `cohort has ${
            canBorrow.cohort === 0
              ? 'none'
              : formatAmount(resource, canBorrow.cohort)
          } to lend${
            canBorrow.limitedTo !== undefined
              ? `, borrowing limit ${formatAmount(
                  resource,
                  canBorrow.limitedTo,
                )}`
              : ''
          }`
        : 'no cohort to borrow from';
      blocked = `${resource} ${formatAmount(
        resource,
        row.used + asked,
      )} of ${formatAmount(resource, row.nominal)} used in \`${
        queue.name
      }\` (${formatAmount(resource, row.used)} + this run's ${formatAmount(
        resource,
        asked,
      )}, flavor \`${flavor}\`), ${lend}`;
      break;
    }
    if (!blocked) return undefined; // it fits here by quota: Kueue knows why it waits
    first ??= blocked;
  }
  return first ? `pending: ${first}` : undefined;
}

/**
 * What `queue` may still borrow of a flavor's resource: what the other queues can lend minus what
 * the cohort already borrows, within this queue's borrowing limit.
 */
function borrowable(
  queue: QueueRecord,
  flavor: string,
  resource: string,
  usage: Map<string, QueueUsage>,
  cohortQueues: QueueRecord[],
): { amount: number; cohort: number; limitedTo?: number } {
  if (!queue.summary.cohort) return { amount: 0, cohort: 0 };
  const rowOf = (name: string) =>
    usage
      .get(name)
      ?.flavors.find(f => f.flavor === flavor)
      ?.resources.find(r => r.resource === resource);
  let lendable = 0;
  let borrowedByOthers = 0;
  for (const q of cohortQueues) {
    if (q.name === queue.name || q.summary.cohort !== queue.summary.cohort)
      continue;
    const row = rowOf(q.name);
    lendable += row?.lendable ?? 0;
    borrowedByOthers += row?.borrowed ?? 0;
  }
  const own = rowOf(queue.name);
  // what the lenders have left once the cohort's borrowing (this queue's too) is served
  const cohort = Math.max(
    0,
    lendable - borrowedByOthers - (own?.borrowed ?? 0),
  );
  if (own?.borrowingLimit === undefined) return { amount: cohort, cohort };
  const room = Math.max(0, own.borrowingLimit - own.borrowed);
  return room < cohort
    ? { amount: room, cohort, limitedTo: own.borrowingLimit }
    : { amount: cohort, cohort };
}
