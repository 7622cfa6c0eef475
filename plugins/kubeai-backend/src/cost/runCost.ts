/**
 * The cost of one run: from its observed start to its observed end (a running run: to now), its
 * pod count and its requests per pod (cpu cores, memory GiB, GPUs) as the portal recorded them in
 * its params, × the prices of its flavor (`kubeai_runs.flavor`, the default without one).
 */
import { fromJson } from '../database/util';
import { requestsOfParams } from '../database/runRollups';
import { pricesOf, type CostConfig } from './costConfig';

/** The columns of a run the cost reads. */
export interface CostedRunRow {
  id: string;
  cluster: string;
  namespace: string;
  model_ref: string | null;
  phase: string;
  flavor?: string | null;
  params: string | null;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string;
}

export interface RunCostParts {
  /** Seconds from start to end (0: it never started). */
  seconds: number;
  pods: number;
  cpu: number;
  memoryGiB: number;
  gpu: number;
  cost: number;
  /** The day (UTC) its cost is counted on: the day it finished, for a running run today. */
  day: string;
  flavor: string;
  running: boolean;
}

const FINISHED = new Set(['Succeeded', 'Failed', 'Stopped']);

/** Whether the run is over (its cost no longer grows). */
export const isFinished = (phase: string) => FINISHED.has(phase);

/** Kinds whose run is a periodic task: its executions (their own runs) run the pods. */
const PERIODIC = new Set(['CronJob', 'CronWorkflow']);

/**
 * Pods of a run: `replicas` (a number, or counts per replica type), else `parallelism`, else 1;
 * none for a periodic task's own run (its executions are priced).
 */
function podsOf(params: Record<string, any>): number {
  if (PERIODIC.has(params.objectKind)) return 0;
  const replicas = params.replicas;
  if (typeof replicas === 'number' && replicas >= 0) return replicas;
  if (replicas && typeof replicas === 'object') {
    const sum = Object.values(replicas).reduce<number>(
      (n, v) => n + (typeof v === 'number' && v > 0 ? v : 0),
      0,
    );
    if (sum > 0) return sum;
  }
  const parallelism = Number(params.parallelism);
  return Number.isFinite(parallelism) && parallelism >= 1 ? parallelism : 1;
}

/** The pod sets of Kueue's Workload of a run (its observed summary: requests per pod, canonical). */
export interface WorkloadPods {
  podSets: Array<{ count: number; requests: Record<string, number> }>;
}

/**
 * What the pods of a Workload request in all: its pod count and the requests per pod averaged over
 * them (so pods × request is the total). Canonical units: CPU in millicores, memory in bytes; a
 * GPU is any `…/gpu` resource. Undefined without pod sets.
 */
export function requestsOfWorkload(workload: WorkloadPods | undefined) {
  const sets = (workload?.podSets ?? []).filter(p => p && p.count > 0);
  const pods = sets.reduce((n, p) => n + p.count, 0);
  if (!pods) return undefined;
  const total = { cpu: 0, memoryGiB: 0, gpu: 0 };
  for (const set of sets) {
    for (const [resource, amount] of Object.entries(set.requests ?? {})) {
      const n = Number(amount) * set.count;
      if (!Number.isFinite(n)) continue;
      if (resource === 'cpu') total.cpu += n / 1000;
      else if (resource === 'memory') total.memoryGiB += n / 2 ** 30;
      else if (resource.endsWith('/gpu')) total.gpu += n;
    }
  }
  return {
    pods,
    cpu: total.cpu / pods,
    memoryGiB: total.memoryGiB / pods,
    gpu: total.gpu / pods,
  };
}

/**
 * The cost of `run` at `now` with the prices of `config`. Its pods and requests come from Kueue's
 * Workload of it when the informers saw one (what the pods really asked for), else from its params.
 */
export function costOfRun(
  run: CostedRunRow,
  config: CostConfig,
  now: Date = new Date(),
  workload?: WorkloadPods,
): RunCostParts {
  const params = fromJson<Record<string, any>>(run.params, {});
  const running = !isFinished(run.phase);
  const start = run.started_at ? Date.parse(run.started_at) : NaN;
  // a finished run without a recorded end: it ended when it was last changed
  const endIso = running
    ? now.toISOString()
    : run.finished_at ?? run.updated_at;
  const end = Date.parse(endIso);
  const seconds =
    Number.isFinite(start) && Number.isFinite(end)
      ? Math.max(0, (end - start) / 1000)
      : 0;
  const fromKueue = PERIODIC.has(params.objectKind)
    ? undefined
    : requestsOfWorkload(workload);
  const pods = fromKueue?.pods ?? podsOf(params);
  const asked = fromKueue ?? requestsOfParams(params);
  const prices = pricesOf(config, run.flavor);
  const hours = (seconds * pods) / 3600;
  const cost =
    hours *
    (asked.cpu * prices.cpuHour +
      asked.memoryGiB * prices.memoryGiBHour +
      asked.gpu * prices.gpuHour);
  return {
    seconds,
    pods,
    cpu: asked.cpu,
    memoryGiB: asked.memoryGiB,
    gpu: asked.gpu,
    cost,
    day: (running ? now.toISOString() : endIso).slice(0, 10),
    flavor: run.flavor ?? '',
    running,
  };
}
