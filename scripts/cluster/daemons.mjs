// etcd and kube-apiserver as processes: their arguments (one builder each, the same for a first
// start and a restart in place), spawning them, and waiting for their health/readiness.
import { httpGet, isReady } from './kubeApi.mjs';
import { processAlive, spawnDetached } from './processes.mjs';
import { clusterPaths } from './state.mjs';
import { ClusterError, sleep, tailFile, withTail } from './util.mjs';

export const READY_TIMEOUT_MS = 90_000;
export const ETCD_TIMEOUT_MS = 30_000;

export async function waitForEtcd(port, pid, logFile) {
  const deadline = Date.now() + ETCD_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!processAlive(pid, 'etcd') && !processAlive(pid)) {
      throw new ClusterError(
        withTail('etcd exited during start-up', tailFile(logFile), logFile),
      );
    }
    try {
      const res = await httpGet(`http://127.0.0.1:${port}/health`);
      if (res.status === 200 && /"health"\s*:\s*"true"/.test(res.body)) return;
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  throw new ClusterError(
    withTail(
      `etcd did not become healthy within ${ETCD_TIMEOUT_MS / 1000}s`,
      tailFile(logFile),
      logFile,
    ),
  );
}

export async function waitForApiserver(state, logFile) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!processAlive(state.pids.apiserver, state.processNames.apiserver)) {
      throw new ClusterError(
        withTail(
          'kube-apiserver exited during start-up',
          tailFile(logFile),
          logFile,
        ),
      );
    }
    if (!processAlive(state.pids.etcd, state.processNames.etcd)) {
      throw new ClusterError(
        withTail(
          'etcd exited during start-up',
          tailFile(clusterPaths().etcdLog),
          clusterPaths().etcdLog,
        ),
      );
    }
    if (await isReady(state)) return;
    await sleep(250);
  }
  throw new ClusterError(
    withTail(
      `kube-apiserver did not answer /readyz within ${
        READY_TIMEOUT_MS / 1000
      }s`,
      tailFile(logFile),
      logFile,
    ),
  );
}

/**
 * etcd's arguments for the state's ports and the data directory. The same for a first start and a
 * restart: with an existing data directory etcd ignores the `--initial-*` flags and replays it.
 */
export function etcdArgs(state, p) {
  const { etcdClient, etcdPeer } = state.ports;
  return [
    '--name=kubeai',
    `--data-dir=${p.etcdData}`,
    `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
    `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
    `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-cluster=kubeai=http://127.0.0.1:${etcdPeer}`,
    '--initial-cluster-state=new',
    '--logger=zap',
    '--log-outputs=stderr',
  ];
}

/**
 * kube-apiserver's arguments: the state's etcd and port, the certificates (generated into
 * --cert-dir on the first start, reused afterwards), service-account keys and tokens.
 */
export function apiserverArgs(state, p) {
  return [
    `--etcd-servers=http://127.0.0.1:${state.ports.etcdClient}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${state.ports.apiserver}`,
    `--cert-dir=${p.certDir}`,
    `--service-account-key-file=${p.saPub}`,
    `--service-account-signing-key-file=${p.saKey}`,
    '--service-account-issuer=https://kubernetes.default.svc',
    `--token-auth-file=${p.tokensFile}`,
    '--authorization-mode=RBAC',
    '--service-cluster-ip-range=10.96.0.0/16',
    // No controller-manager runs: there are no service-account tokens to mount into Pods, and the
    // endpoints of the `kubernetes` Service cannot hold a loopback address.
    '--disable-admission-plugins=ServiceAccount',
    '--endpoint-reconciler-type=none',
    '--profiling=false',
  ];
}

export function spawnEtcd(state, p, bin, opts) {
  return spawnDetached(bin, etcdArgs(state, p), p.etcdLog, p.dir, opts);
}

export function spawnApiserver(state, p, bin, opts) {
  return spawnDetached(
    bin,
    apiserverArgs(state, p),
    p.apiserverLog,
    p.dir,
    opts,
  );
}

export async function etcdHealthy(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  do {
    try {
      const res = await httpGet(`http://127.0.0.1:${port}/health`);
      if (res.status === 200 && /"health"\s*:\s*"true"/.test(res.body))
        return true;
    } catch {
      /* not answering */
    }
    await sleep(200);
  } while (Date.now() < deadline);
  return false;
}

/** Waits up to `timeoutMs` for a running apiserver's /readyz; false when it exits or stays unready. */
export async function becomesReady(state, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  do {
    if (!processAlive(state.pids.apiserver, state.processNames.apiserver))
      return false;
    if (await isReady(state)) return true;
    await sleep(250);
  } while (Date.now() < deadline);
  return false;
}
