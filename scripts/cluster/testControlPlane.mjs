// The throwaway control plane of cluster.test.mjs and the helpers its tests share: its own
// KUBEAI_CLUSTER_DIR, requests as its tokens and as impersonated team members, object checks.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import YAML from 'yaml';

export const script = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  'cluster.mjs',
);
export const work = mkdtempSync(path.join(tmpdir(), 'kubeai-cluster-test-'));
export const env = {
  ...process.env,
  KUBEAI_CLUSTER_DIR: path.join(work, 'state'),
  KUBEAI_CRDS_DIR: path.join(work, 'no-crds'), // absent → the project's fallback CRDs
  KUBEAI_CRDS_CACHE: path.join(work, 'no-crds-cache'), // absent as well: the small fallback CRDs keep starts quick
};

/** Runs the script; resolves with exit code and output, never rejects. */
export async function cluster(args, extraEnv = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [script, ...args],
      {
        env: { ...env, ...extraEnv },
        timeout: 600_000,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (e) {
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** PIDs of processes whose command line mentions this test's state dir. */
export async function processesOfThisCluster() {
  const { stdout } = await promisify(execFile)('ps', ['-eo', 'pid=,args=']);
  return stdout
    .split('\n')
    .filter(
      line =>
        line.includes(env.KUBEAI_CLUSTER_DIR) && !line.includes('cluster.mjs'),
    )
    .map(line => Number(line.trim().split(/\s+/)[0]));
}

export const stateDir = env.KUBEAI_CLUSTER_DIR;
export const readState = () =>
  JSON.parse(readFileSync(path.join(stateDir, 'state.json'), 'utf8'));
export const readKubeconfig = () =>
  readFileSync(path.join(stateDir, 'kubeconfig'), 'utf8');

/** One HTTPS request to the apiserver; answers status and parsed body. */
function send({ server, ca, token, headers = {} }, method, urlPath, body) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(urlPath, server),
      {
        method,
        ca,
        timeout: 15_000,
        headers: {
          Accept: 'application/json',
          Authorization: `Bearer ${token}`,
          ...(payload ? { 'Content-Type': 'application/json' } : {}),
          ...headers,
        },
      },
      res => {
        let text = '';
        res.on('data', d => (text += d));
        res.on('end', () =>
          resolve({ status: res.statusCode, body: JSON.parse(text || 'null') }),
        );
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`timeout ${method} ${urlPath}`)),
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** One request with the server, CA and admin token of a kubeconfig's text (as kubectl would send it). */
export function request(kubeconfig, method, urlPath, body) {
  const kc = YAML.parse(kubeconfig);
  const { server, 'certificate-authority-data': ca } = kc.clusters[0].cluster;
  const { token } = kc.users.find(u => u.name === 'kubeai-admin').user;
  return send(
    { server, ca: Buffer.from(ca, 'base64'), token },
    method,
    urlPath,
    body,
  );
}

/** A namespace and a ConfigMap in it, created through the API. */
export async function createObjects(kubeconfig, name) {
  const ns = await request(kubeconfig, 'POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name },
  });
  assert.equal(ns.status, 201, JSON.stringify(ns.body));
  const cm = await request(
    kubeconfig,
    'POST',
    `/api/v1/namespaces/${name}/configmaps`,
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kept' },
      data: { answer: '42' },
    },
  );
  assert.equal(cm.status, 201, JSON.stringify(cm.body));
}

/** The objects of {@link createObjects} are there, read with this (old) kubeconfig. */
export async function assertObjects(kubeconfig, name) {
  const ns = await request(kubeconfig, 'GET', `/api/v1/namespaces/${name}`);
  assert.equal(ns.status, 200, JSON.stringify(ns.body));
  const cm = await request(
    kubeconfig,
    'GET',
    `/api/v1/namespaces/${name}/configmaps/kept`,
  );
  assert.equal(cm.status, 200, JSON.stringify(cm.body));
  assert.deepEqual(cm.body.data, { answer: '42' });
}

/** Whether the process is gone (or a zombie). */
export function gone(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === '';
  } catch {
    return true;
  }
}

/** `kill -9`, and wait until the process is gone. */
export async function killHard(pid) {
  process.kill(pid, 'SIGKILL');
  const deadline = Date.now() + 10_000;
  while (!gone(pid)) {
    assert.ok(Date.now() < deadline, `pid ${pid} still alive after SIGKILL`);
    await new Promise(r => setTimeout(r, 50));
  }
}

/** After an in-place restart: same URL, ports and tokens, the same kubeconfig file, the objects kept. */
export async function assertRestartedInPlace(before, kubeconfig, names) {
  const now = readState();
  assert.equal(now.server, before.server);
  assert.deepEqual(now.ports, before.ports);
  assert.deepEqual(now.tokens, before.tokens);
  assert.equal(readKubeconfig(), kubeconfig);
  for (const name of names) await assertObjects(kubeconfig, name);
  assert.equal((await processesOfThisCluster()).length, 2);
  return now;
}

/** One request with a token of the state and extra headers (repeated headers as arrays). */
export function requestWith(token, method, urlPath, body, headers = {}) {
  const state = readState();
  return send(
    { server: state.server, ca: readFileSync(state.caFile), token, headers },
    method,
    urlPath,
    body,
  );
}

export const configMap = name => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name },
});
/** A claim: what the portal writes (a notebook's workspace, a dataset's volume). */
export const claim = name => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name },
  spec: {
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: '1Gi' } },
  },
});
export const asCvMember = {
  'Impersonate-User': 'backstage:user:default/cv-member',
  'Impersonate-Group': [
    'backstage:group:default/cv-team',
    'system:authenticated',
  ],
};
/** A member of the platform admins' group of app-config (kubeai.tenancy.platformAdmins). */
export const asPlatformAdmin = {
  'Impersonate-User': 'backstage:user:default/li.wei',
  'Impersonate-Group': [
    'backstage:group:default/ml-platform',
    'system:authenticated',
  ],
};

/** The audit log's events (one JSON object per line). */
export const auditEvents = () =>
  readFileSync(readState().auditLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map(line => JSON.parse(line));
