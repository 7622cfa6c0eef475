// etcd and kube-apiserver as processes: their arguments (one builder each, the same for a first
// start and a restart in place), the files the apiserver reads at start-up (token file, audit
// policy), spawning them, and waiting for their health/readiness.
import crypto from 'node:crypto';
import fs from 'node:fs';
import YAML from 'yaml';
import { httpGet, isReady } from './kubeApi.mjs';
import { tokensCsv } from './pki.mjs';
import { processAlive, spawnDetached } from './processes.mjs';
import { clusterPaths } from './state.mjs';
import { ClusterError, sleep, tailFile, withTail } from './util.mjs';

/**
 * The apiserver's audit policy: metadata (who, as whom, verb, object, answer) of every write, so
 * tests can read which user an impersonated write was made as. Reads and watches (the informers')
 * are not recorded: they would drown the writes.
 */
export const AUDIT_POLICY = {
  apiVersion: 'audit.k8s.io/v1',
  kind: 'Policy',
  omitStages: ['RequestReceived'],
  rules: [
    { level: 'None', users: ['system:apiserver'] },
    {
      level: 'Metadata',
      verbs: ['create', 'update', 'patch', 'delete', 'deletecollection'],
    },
    { level: 'None' },
  ],
};

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
    `--audit-policy-file=${p.auditPolicy}`,
    `--audit-log-path=${p.auditLog}`,
    '--audit-log-maxsize=50', // MB, then rotated
    '--audit-log-maxbackup=2',
  ];
}

/**
 * What the apiserver reads at start-up, from the state: the token file and the audit policy.
 * Rewritten before every start, so a restart in place picks up users this script added since.
 */
export function writeApiserverFiles(state, p) {
  fs.writeFileSync(p.tokensFile, tokensCsv(state.tokens), { mode: 0o600 });
  fs.writeFileSync(p.auditPolicy, YAML.stringify(AUDIT_POLICY));
}

/**
 * A digest of everything the apiserver only reads at start-up (arguments, token file, audit
 * policy). state.json records the one the running apiserver started with; a different one means
 * it must be restarted to take this script's setup.
 */
export function apiserverFingerprint(state, p) {
  return crypto
    .createHash('sha256')
    .update(
      JSON.stringify([
        apiserverArgs(state, p),
        tokensCsv(state.tokens),
        AUDIT_POLICY,
      ]),
    )
    .digest('hex');
}

export function spawnEtcd(state, p, bin, opts) {
  return spawnDetached(bin, etcdArgs(state, p), p.etcdLog, p.dir, opts);
}

/** Writes the apiserver's files and starts it; records the fingerprint it starts with. */
export async function spawnApiserver(state, p, bin, opts) {
  writeApiserverFiles(state, p);
  const pid = await spawnDetached(
    bin,
    apiserverArgs(state, p),
    p.apiserverLog,
    p.dir,
    opts,
  );
  state.apiserverFingerprint = apiserverFingerprint(state, p);
  return pid;
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
