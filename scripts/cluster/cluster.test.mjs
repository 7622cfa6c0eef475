// The control-plane script's promises, checked for real on a second, throwaway control plane
// (its own KUBEAI_CLUSTER_DIR, the project's fallback CRDs): start is idempotent, status tells the
// truth, stop leaves no process, and a missing ingredient fails with one clear line.
// Run: node --test scripts/cluster/cluster.test.mjs
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cluster.mjs');
const work = mkdtempSync(path.join(tmpdir(), 'kubeai-cluster-test-'));
const env = {
  ...process.env,
  KUBEAI_CLUSTER_DIR: path.join(work, 'state'),
  KUBEAI_CRDS_DIR: path.join(work, 'no-crds'), // absent → the project's fallback CRDs
};

/** Runs the script; resolves with exit code and output, never rejects. */
async function cluster(args, extraEnv = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [script, ...args], {
      env: { ...env, ...extraEnv },
      timeout: 600_000,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** PIDs of processes whose command line mentions this test's state dir. */
async function processesOfThisCluster() {
  const { stdout } = await promisify(execFile)('ps', ['-eo', 'pid=,args=']);
  return stdout
    .split('\n')
    .filter(line => line.includes(env.KUBEAI_CLUSTER_DIR) && !line.includes('cluster.mjs'))
    .map(line => Number(line.trim().split(/\s+/)[0]));
}

before(async () => {
  const first = await cluster(['start']);
  assert.equal(first.code, 0, first.stderr);
});

after(async () => {
  await cluster(['stop']);
  rmSync(work, { recursive: true, force: true });
});

test('a second start reuses the running control plane', async () => {
  const state = JSON.parse(readFileSync(path.join(env.KUBEAI_CLUSTER_DIR, 'state.json'), 'utf8'));
  const second = await cluster(['start']);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout + second.stderr, /already running/);
  const again = JSON.parse(readFileSync(path.join(env.KUBEAI_CLUSTER_DIR, 'state.json'), 'utf8'));
  assert.deepEqual(again.pids ?? again.etcd, state.pids ?? state.etcd);
  // Exactly one etcd and one kube-apiserver for this state dir.
  assert.equal((await processesOfThisCluster()).length, 2);
});

test('status and env describe the running control plane', async () => {
  const status = await cluster(['status']);
  assert.equal(status.code, 0);
  assert.match(status.stdout, /running/);
  const exports = await cluster(['env']);
  assert.equal(exports.code, 0);
  assert.match(exports.stdout, /export KUBEAI_CLUSTER_URL='https:\/\/127\.0\.0\.1:\d+'/);
  assert.match(exports.stdout, /export KUBEAI_CLUSTER_TOKEN='[0-9a-f]+'/);
});

test('a missing kube-apiserver binary fails with one clear line', async () => {
  const otherDir = path.join(work, 'other');
  const result = await cluster(['start'], {
    KUBEAI_CLUSTER_DIR: otherDir,
    KUBEAI_KUBE_APISERVER: path.join(work, 'does-not-exist'),
  });
  assert.equal(result.code, 1);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0], /^kubeai cluster: .*KUBEAI_KUBE_APISERVER=.*is not an executable file/);
});

test('stop leaves no process and status says so', async () => {
  const stop = await cluster(['stop']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.deepEqual(await processesOfThisCluster(), []);
  const status = await cluster(['status']);
  assert.equal(status.code, 3);
});
