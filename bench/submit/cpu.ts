/**
 * CPU time per process during a phase: where the time of a submit goes when the backend, the load
 * generator, kube-apiserver and etcd share the machine's cores.
 */
import fs from 'node:fs';

/** user + system CPU milliseconds of process `pid` so far (Linux /proc; 0 when unreadable). */
export function processCpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command (which may hold spaces) start at state, field 3; utime is 14, stime 15
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

export interface CpuSample {
  /** this process: the backend in the API phases, the raw client in its phase */
  self: number;
  apiserver: number;
  etcd: number;
}

export function cpuSample(pids: {
  apiserver: number;
  etcd: number;
}): CpuSample {
  const usage = process.cpuUsage();
  return {
    self: (usage.user + usage.system) / 1000,
    apiserver: processCpuMs(pids.apiserver),
    etcd: processCpuMs(pids.etcd),
  };
}

/** CPU ms per task of each process between two samples (`loadMs`: the load generator's own). */
export function cpuPerTask(
  before: CpuSample,
  after: CpuSample,
  tasks: number,
  loadMs = 0,
) {
  const per = (ms: number) => ms / tasks;
  return {
    self: per(after.self - before.self),
    apiserver: per(after.apiserver - before.apiserver),
    etcd: per(after.etcd - before.etcd),
    load: per(loadMs),
  };
}
export type CpuPerTask = ReturnType<typeof cpuPerTask>;

/** All processes' CPU ms per task: on a machine whose cores are all busy, what bounds throughput. */
export const cpuTotal = (c: CpuPerTask) =>
  c.self + c.load + c.apiserver + c.etcd;

export const cpuCell = (c: CpuPerTask, selfLabel: string) =>
  `${cpuTotal(c).toFixed(2)} in all: ${selfLabel} ${c.self.toFixed(
    2,
  )} · load generator ${c.load.toFixed(
    2,
  )} · kube-apiserver ${c.apiserver.toFixed(2)} · etcd ${c.etcd.toFixed(2)}`;
