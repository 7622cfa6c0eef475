// Unit tests of state.mjs (no cluster). Run: node --test scripts/cluster/state.test.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, beforeEach, test } from 'node:test';
import { writeTokensFile } from './pki.mjs';
import {
  REPO_ROOT,
  clusterPaths,
  readClusterState,
  unusableState,
  writeState,
} from './state.mjs';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-cluster-state-'));
const saved = process.env.KUBEAI_CLUSTER_DIR;
after(() => {
  if (saved === undefined) delete process.env.KUBEAI_CLUSTER_DIR;
  else process.env.KUBEAI_CLUSTER_DIR = saved;
  fs.rmSync(work, { recursive: true, force: true });
});

let dir;
let n = 0;
beforeEach(() => {
  dir = path.join(work, `c${n++}`);
  process.env.KUBEAI_CLUSTER_DIR = dir;
});

test('clusterPaths: KUBEAI_CLUSTER_DIR, else <repo>/.kubeai/cluster', () => {
  const p = clusterPaths();
  assert.equal(p.dir, dir);
  assert.equal(p.stateFile, path.join(dir, 'state.json'));
  assert.equal(p.caFile, path.join(dir, 'certs', 'apiserver.crt'));
  assert.equal(p.tokensFile, path.join(dir, 'tokens.csv'));
  delete process.env.KUBEAI_CLUSTER_DIR;
  assert.equal(clusterPaths().dir, path.join(REPO_ROOT, '.kubeai', 'cluster'));
  assert.ok(fs.existsSync(path.join(REPO_ROOT, 'package.json')));
});

test('writeState writes state.json (mode 0600) that readClusterState reads; null without one', () => {
  assert.equal(readClusterState(), null);
  fs.mkdirSync(dir, { recursive: true });
  writeState({ schemaVersion: 1, server: 'https://127.0.0.1:1' });
  assert.deepEqual(readClusterState(), {
    schemaVersion: 1,
    server: 'https://127.0.0.1:1',
  });
  assert.equal(fs.statSync(clusterPaths().stateFile).mode & 0o777, 0o600);
  assert.deepEqual(
    fs.readdirSync(dir).filter(f => f.endsWith('.tmp')),
    [],
  );
  fs.writeFileSync(clusterPaths().stateFile, '{broken');
  assert.equal(readClusterState(), null);
});

/** A complete state on disk (files present, tokens matching). */
function completeState() {
  const p = clusterPaths();
  fs.mkdirSync(path.join(p.etcdData, 'member'), { recursive: true });
  fs.mkdirSync(p.certDir, { recursive: true });
  for (const f of [
    path.join(p.certDir, 'apiserver.crt'),
    path.join(p.certDir, 'apiserver.key'),
    p.saKey,
    p.saPub,
  ])
    fs.writeFileSync(f, 'x');
  const tokens = { admin: 'a'.repeat(48), restricted: 'b'.repeat(48) };
  writeTokensFile(p.tokensFile, tokens);
  return {
    state: {
      server: 'https://127.0.0.1:6443',
      ports: { apiserver: 6443, etcdClient: 2379, etcdPeer: 2380 },
      tokens,
    },
    p,
  };
}

test('unusableState: null for a complete state', () => {
  const { state, p } = completeState();
  assert.equal(unusableState(state, p), null);
});

test('unusableState names the first missing or inconsistent piece', () => {
  const { state, p } = completeState();
  assert.equal(
    unusableState({ ...state, ports: { ...state.ports, etcdPeer: 0 } }, p),
    'state.json records no etcdPeer port',
  );
  assert.equal(
    unusableState({ ...state, ports: undefined }, p),
    'state.json records no apiserver port',
  );
  assert.match(
    unusableState({ ...state, server: 'https://127.0.0.1:1' }, p),
    /server https:\/\/127\.0\.0\.1:1 does not match its apiserver port 6443/,
  );
  assert.equal(
    unusableState({ ...state, tokens: { admin: 'x' } }, p),
    'state.json records no tokens',
  );
  assert.equal(
    unusableState({ ...state, tokens: { admin: 'x', restricted: 'y' } }, p),
    `${p.tokensFile} does not hold the tokens of state.json`,
  );
  fs.rmSync(path.join(p.certDir, 'apiserver.key'));
  assert.equal(
    unusableState(state, p),
    `the apiserver's key is missing (${path.join(p.certDir, 'apiserver.key')})`,
  );
  fs.rmSync(path.join(p.etcdData, 'member'), { recursive: true });
  assert.match(unusableState(state, p), /^the etcd data is missing/);
});
