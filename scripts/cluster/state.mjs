// Where the local control plane keeps its state (KUBEAI_CLUSTER_DIR), state.json, and the check
// that a recorded state is complete enough to be restarted in place.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tokensFileHolds } from './pki.mjs';

const SCRIPT_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(SCRIPT_DIR, '..', '..');

/** Paths of the local control plane's state (honours KUBEAI_CLUSTER_DIR). */
export function clusterPaths() {
  const dir = process.env.KUBEAI_CLUSTER_DIR
    ? path.resolve(process.env.KUBEAI_CLUSTER_DIR)
    : path.join(REPO_ROOT, '.kubeai', 'cluster');
  return {
    dir,
    stateFile: path.join(dir, 'state.json'),
    kubeconfig: path.join(dir, 'kubeconfig'),
    lockFile: path.join(dir, '.lock'),
    etcdData: path.join(dir, 'etcd-data'),
    certDir: path.join(dir, 'certs'),
    caFile: path.join(dir, 'certs', 'apiserver.crt'),
    tokensFile: path.join(dir, 'tokens.csv'),
    saKey: path.join(dir, 'sa.key'),
    saPub: path.join(dir, 'sa.pub'),
    etcdLog: path.join(dir, 'etcd.log'),
    apiserverLog: path.join(dir, 'kube-apiserver.log'),
    auditPolicy: path.join(dir, 'audit-policy.yaml'),
    auditLog: path.join(dir, 'audit.log'),
  };
}

export function cacheRoot() {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'kubeai');
}

/** Parsed `.kubeai/cluster/state.json`, or null when there is none (no liveness check). */
export function readClusterState() {
  try {
    return JSON.parse(fs.readFileSync(clusterPaths().stateFile, 'utf8'));
  } catch {
    return null;
  }
}

export function writeState(state) {
  const { stateFile } = clusterPaths();
  const tmp = `${stateFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, stateFile);
}

/**
 * Why the state cannot be restarted in place (a missing or inconsistent piece), or null. Checked
 * before anything is started, so that nothing runs with half of the state.
 */
export function unusableState(state, p) {
  const ports = state.ports ?? {};
  for (const name of ['apiserver', 'etcdClient', 'etcdPeer']) {
    if (!Number.isInteger(ports[name]) || ports[name] <= 0)
      return `state.json records no ${name} port`;
  }
  if (state.server !== `https://127.0.0.1:${ports.apiserver}`)
    return `state.json's server ${state.server} does not match its apiserver port ${ports.apiserver}`;
  if (!state.tokens?.admin || !state.tokens?.restricted)
    return 'state.json records no tokens';
  const files = [
    [path.join(p.etcdData, 'member'), 'the etcd data'],
    [path.join(p.certDir, 'apiserver.crt'), "the apiserver's certificate"],
    [path.join(p.certDir, 'apiserver.key'), "the apiserver's key"],
    [p.saKey, 'the service-account signing key'],
    [p.saPub, 'the service-account public key'],
    [p.tokensFile, 'the token file'],
  ];
  for (const [file, what] of files) {
    if (!fs.existsSync(file)) return `${what} is missing (${file})`;
  }
  if (!tokensFileHolds(fs.readFileSync(p.tokensFile, 'utf8'), state.tokens))
    return `${p.tokensFile} does not hold the tokens of state.json`;
  return null;
}
