/**
 * What the registry reads of Kueue's objects (kueue.x-k8s.io/v1beta2): pure functions, shared by the
 * informers (observe.ts: a Workload's / ClusterQueue's summary in the observation's details), the
 * observed store (a run's admission, ./admission.ts) and the usage route.
 *
 * Amounts are integers in canonical units so that sums are exact: CPU in millicores, every other
 * resource in its base unit (bytes, devices), rounded up as Kubernetes does. The API shows CPU in
 * cores ({@link toApiAmount}).
 *
 * The fields read are checked against the upstream v1beta2 Workload / ClusterQueue schemas in
 * kueue.test.ts (a field read here that the schema lacks fails there).
 */
import { canonicalQuantity, suffixFactor } from '../../quantity';

/** A Workload as the registry records it (details of its observation). */
export interface WorkloadSummary {
  /** `spec.queueName`: the LocalQueue it was submitted to. */
  queueName?: string;
  /** `status.admission.clusterQueue`: where it reserved quota. */
  clusterQueue?: string;
  state: AdmissionState;
  /** When it reached that state (the deciding condition's lastTransitionTime, else creation). */
  since?: string;
  /** The deciding condition's message (e.g. Kueue's why-pending). */
  message?: string;
  podSets: {
    name: string;
    count: number;
    /** Per pod, canonical units. */
    requests: Record<string, number>;
  }[];
  /** `status.admission.podSetAssignments`: flavor per resource, admitted count. */
  assignments: {
    name: string;
    count?: number;
    flavors: Record<string, string>;
  }[];
  /** The Job (etc.) it admits: the controlling owner's uid, else the `kueue.x-k8s.io/job-uid` label. */
  ownerUid?: string;
}

export type AdmissionState = 'admitted' | 'pending' | 'finished' | 'evicted';

/** A ClusterQueue's quota (details of its observation). */
export interface ClusterQueueSummary {
  cohort?: string;
  /** From `namespaceSelector` (`kubernetes.io/metadata.name In […]`), as POST /pools writes it. */
  namespaces: string[];
  quotas: {
    flavor: string;
    resource: string;
    nominal: number;
    borrowingLimit?: number;
    lendingLimit?: number;
  }[];
}

const JOB_UID_LABEL = 'kueue.x-k8s.io/job-uid';

/**
 * The fields this file reads (`[]`: each item of an array, `{}`: each value of a map), checked
 * against the upstream v1beta2 schemas by kueue.test.ts. Keep in step with the code below.
 */
export const KUEUE_FIELDS_READ = {
  Workload: [
    'spec.queueName',
    'spec.podSets[].name',
    'spec.podSets[].count',
    'spec.podSets[].template.spec.containers[].resources.requests',
    'spec.podSets[].template.spec.containers[].resources.limits',
    'spec.podSets[].template.spec.initContainers[].resources.requests',
    'spec.podSets[].template.spec.initContainers[].resources.limits',
    'spec.podSets[].template.spec.overhead',
    'status.admission.clusterQueue',
    'status.admission.podSetAssignments[].name',
    'status.admission.podSetAssignments[].count',
    'status.admission.podSetAssignments[].flavors{}',
    'status.conditions[].type',
    'status.conditions[].status',
    'status.conditions[].message',
    'status.conditions[].lastTransitionTime',
  ],
  ClusterQueue: [
    'spec.cohortName',
    'spec.namespaceSelector.matchExpressions[].key',
    'spec.namespaceSelector.matchExpressions[].operator',
    'spec.namespaceSelector.matchExpressions[].values',
    'spec.resourceGroups[].flavors[].name',
    'spec.resourceGroups[].flavors[].resources[].name',
    'spec.resourceGroups[].flavors[].resources[].nominalQuota',
    'spec.resourceGroups[].flavors[].resources[].borrowingLimit',
    'spec.resourceGroups[].flavors[].resources[].lendingLimit',
    'status.conditions[].type',
    'status.conditions[].status',
  ],
} as const;

/** A canonical amount as the API shows it: CPU in cores, the rest as they are. */
export function toApiAmount(resource: string, amount: number): number {
  return resource === 'cpu' ? amount / 1000 : amount;
}

/** A canonical amount for people: `18`, `500m`, `64Gi`, `3`. */
export function formatAmount(resource: string, amount: number): string {
  if (resource === 'cpu') {
    return amount % 1000 === 0 ? String(amount / 1000) : `${amount}m`;
  }
  if (resource === 'memory' || resource.endsWith('storage')) {
    for (const unit of ['Ti', 'Gi', 'Mi', 'Ki']) {
      if (amount !== 0 && amount % suffixFactor(unit)! === 0) {
        return `${amount / suffixFactor(unit)!}${unit}`;
      }
    }
  }
  return String(amount);
}

function addInto(
  into: Record<string, number>,
  from: Record<string, number>,
  times = 1,
) {
  for (const [r, v] of Object.entries(from))
    into[r] = (into[r] ?? 0) + v * times;
}

function requestsOf(container: any): Record<string, number> {
  const out: Record<string, number> = {};
  const res = container?.resources ?? {};
  // a limit without a request is the request (as the apiserver defaults it)
  for (const source of [res.limits ?? {}, res.requests ?? {}]) {
    for (const [r, v] of Object.entries(source)) {
      const n = canonicalQuantity(r, v);
      if (n !== undefined) out[r] = n;
    }
  }
  return out;
}

/**
 * What one pod of a pod template requests, as Kueue counts it: the sum of its containers, at least
 * each init container's, plus the pod overhead.
 */
export function podRequests(podSpec: any): Record<string, number> {
  const total: Record<string, number> = {};
  for (const c of podSpec?.containers ?? []) addInto(total, requestsOf(c));
  for (const c of podSpec?.initContainers ?? []) {
    for (const [r, v] of Object.entries(requestsOf(c))) {
      total[r] = Math.max(total[r] ?? 0, v);
    }
  }
  for (const [r, v] of Object.entries(podSpec?.overhead ?? {})) {
    const n = canonicalQuantity(r, v);
    if (n !== undefined) total[r] = (total[r] ?? 0) + n;
  }
  return total;
}

/** A status condition as the objects carry it (JSON: times are strings). */
export interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** The summary of a Workload (kueue.x-k8s.io/v1beta2). */
export function workloadSummary(object: any): WorkloadSummary {
  const spec = object?.spec ?? {};
  const status = object?.status ?? {};
  const conditions: Condition[] = Array.isArray(status.conditions)
    ? status.conditions
    : [];
  const is = (type: string, value = 'True') =>
    conditions.find(c => c.type === type && c.status === value);
  const admission = status.admission;
  const reserved = is('QuotaReserved');
  const finished = is('Finished');
  const evicted = is('Evicted');
  let state: AdmissionState;
  let deciding: Condition | undefined;
  if (finished) {
    state = 'finished';
    deciding = finished;
  } else if (admission?.clusterQueue && reserved) {
    state = 'admitted';
    deciding = is('Admitted') ?? reserved;
  } else if (evicted) {
    state = 'evicted';
    deciding = evicted;
  } else {
    state = 'pending';
    deciding = is('QuotaReserved', 'False');
  }
  const owners: any[] = object?.metadata?.ownerReferences ?? [];
  const owner = owners.find(o => o?.controller) ?? owners[0];
  const ownerUid =
    owner?.uid ?? object?.metadata?.labels?.[JOB_UID_LABEL] ?? undefined;
  const summary: WorkloadSummary = {
    queueName: spec.queueName || undefined,
    clusterQueue: admission?.clusterQueue || undefined,
    state,
    since:
      deciding?.lastTransitionTime ??
      object?.metadata?.creationTimestamp ??
      undefined,
    message: deciding?.message || undefined,
    podSets: (Array.isArray(spec.podSets) ? spec.podSets : []).map(
      (p: any) => ({
        name: String(p?.name ?? 'main'),
        count: Number.isInteger(p?.count) ? p.count : 1,
        requests: podRequests(p?.template?.spec),
      }),
    ),
    assignments: (state === 'admitted' || state === 'finished'
      ? admission?.podSetAssignments ?? []
      : []
    ).map((a: any) => ({
      name: String(a?.name ?? 'main'),
      ...(Number.isInteger(a?.count) ? { count: a.count } : {}),
      flavors: { ...(a?.flavors ?? {}) },
    })),
    ...(ownerUid ? { ownerUid: String(ownerUid) } : {}),
  };
  for (const key of Object.keys(summary) as (keyof WorkloadSummary)[]) {
    if (summary[key] === undefined) delete summary[key];
  }
  return summary;
}

/** The summary of a ClusterQueue (kueue.x-k8s.io/v1beta2). */
export function clusterQueueSummary(object: any): ClusterQueueSummary {
  const spec = object?.spec ?? {};
  const quotas: ClusterQueueSummary['quotas'] = [];
  for (const group of spec.resourceGroups ?? []) {
    for (const flavor of group?.flavors ?? []) {
      for (const r of flavor?.resources ?? []) {
        const resource = String(r?.name);
        const nominal = canonicalQuantity(resource, r?.nominalQuota) ?? 0;
        const borrowingLimit = canonicalQuantity(resource, r?.borrowingLimit);
        const lendingLimit = canonicalQuantity(resource, r?.lendingLimit);
        quotas.push({
          flavor: String(flavor.name),
          resource,
          nominal,
          ...(borrowingLimit !== undefined ? { borrowingLimit } : {}),
          ...(lendingLimit !== undefined ? { lendingLimit } : {}),
        });
      }
    }
  }
  const namespaces: string[] =
    spec.namespaceSelector?.matchExpressions?.find(
      (e: any) =>
        e?.key === 'kubernetes.io/metadata.name' && e?.operator === 'In',
    )?.values ?? [];
  return {
    ...(spec.cohortName ? { cohort: String(spec.cohortName) } : {}),
    namespaces: namespaces.map(String),
    quotas,
  };
}

/**
 * What an admitted Workload uses, per flavor and resource: Σ over its pod sets of (admitted count,
 * else the pod set's count) × per-pod request, in the flavor assigned to that resource.
 */
export function workloadUsage(
  w: WorkloadSummary,
): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const a of w.assignments) {
    const podSet = w.podSets.find(p => p.name === a.name);
    if (!podSet) continue;
    const count = a.count ?? podSet.count;
    for (const [resource, flavor] of Object.entries(a.flavors)) {
      const perPod = podSet.requests[resource];
      if (perPod === undefined) continue;
      const byResource = out.get(flavor) ?? {};
      byResource[resource] = (byResource[resource] ?? 0) + count * perPod;
      out.set(flavor, byResource);
    }
  }
  return out;
}

/** What a Workload asks for in all (Σ count × per-pod request), per resource. */
export function workloadRequests(w: WorkloadSummary): Record<string, number> {
  const total: Record<string, number> = {};
  for (const p of w.podSets) addInto(total, p.requests, p.count);
  return total;
}
