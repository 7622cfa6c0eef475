// Unit tests of daemons.mjs's argument builders (no cluster). Run: node --test scripts/cluster/daemons.test.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import YAML from 'yaml';
import {
  AUDIT_POLICY,
  apiserverArgs,
  apiserverFingerprint,
  etcdArgs,
  writeApiserverFiles,
} from './daemons.mjs';
import { tokensCsv } from './pki.mjs';

const state = {
  server: 'https://127.0.0.1:7001',
  ports: { apiserver: 7001, etcdClient: 7002, etcdPeer: 7003 },
};
const p = {
  dir: '/s',
  etcdData: '/s/etcd-data',
  certDir: '/s/certs',
  saKey: '/s/sa.key',
  saPub: '/s/sa.pub',
  tokensFile: '/s/tokens.csv',
  auditPolicy: '/s/audit-policy.yaml',
  auditLog: '/s/audit.log',
};

test('etcdArgs: loopback client and peer URLs on the state ports, the data dir', () => {
  assert.deepEqual(etcdArgs(state, p), [
    '--name=kubeai',
    '--data-dir=/s/etcd-data',
    '--listen-client-urls=http://127.0.0.1:7002',
    '--advertise-client-urls=http://127.0.0.1:7002',
    '--listen-peer-urls=http://127.0.0.1:7003',
    '--initial-advertise-peer-urls=http://127.0.0.1:7003',
    '--initial-cluster=kubeai=http://127.0.0.1:7003',
    '--initial-cluster-state=new',
    '--logger=zap',
    '--log-outputs=stderr',
  ]);
});

test('apiserverArgs: its etcd, port, cert dir, keys, tokens, RBAC', () => {
  const args = apiserverArgs(state, p);
  for (const arg of [
    '--etcd-servers=http://127.0.0.1:7002',
    '--bind-address=127.0.0.1',
    '--secure-port=7001',
    '--cert-dir=/s/certs',
    '--service-account-key-file=/s/sa.pub',
    '--service-account-signing-key-file=/s/sa.key',
    '--token-auth-file=/s/tokens.csv',
    '--authorization-mode=RBAC',
    '--disable-admission-plugins=ServiceAccount',
    '--endpoint-reconciler-type=none',
    '--audit-policy-file=/s/audit-policy.yaml',
    '--audit-log-path=/s/audit.log',
  ])
    assert.ok(args.includes(arg), arg);
  assert.equal(new Set(args).size, args.length);
  assert.ok(args.every(a => a.startsWith('--')));
});

test('the same state gives the same arguments (a restart in place reuses them)', () => {
  assert.deepEqual(etcdArgs(state, p), etcdArgs({ ...state }, { ...p }));
  assert.deepEqual(apiserverArgs(state, p), apiserverArgs({ ...state }, p));
});

test('the audit policy records the metadata of every write, nothing of reads or the apiserver itself', () => {
  assert.equal(AUDIT_POLICY.apiVersion, 'audit.k8s.io/v1');
  const [apiserver, writes, rest] = AUDIT_POLICY.rules;
  assert.deepEqual(apiserver, { level: 'None', users: ['system:apiserver'] });
  assert.equal(writes.level, 'Metadata');
  for (const verb of ['create', 'update', 'patch', 'delete'])
    assert.ok(writes.verbs.includes(verb), verb);
  for (const verb of ['get', 'list', 'watch'])
    assert.ok(!writes.verbs.includes(verb), verb);
  assert.deepEqual(rest, { level: 'None' });
});

test('writeApiserverFiles: the token file (0600) and the audit policy, from the state', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-daemons-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const files = {
    tokensFile: path.join(dir, 'tokens.csv'),
    auditPolicy: path.join(dir, 'audit-policy.yaml'),
  };
  const tokens = { admin: 'AAA', restricted: 'RRR', portal: 'PPP' };
  writeApiserverFiles({ tokens }, files);
  assert.equal(fs.readFileSync(files.tokensFile, 'utf8'), tokensCsv(tokens));
  assert.equal(fs.statSync(files.tokensFile).mode & 0o777, 0o600);
  assert.deepEqual(
    YAML.parse(fs.readFileSync(files.auditPolicy, 'utf8')),
    AUDIT_POLICY,
  );
});

test('apiserverFingerprint changes with what the apiserver reads at start-up, not otherwise', () => {
  const tokens = { admin: 'AAA', restricted: 'RRR' };
  const base = apiserverFingerprint({ ...state, tokens }, p);
  assert.match(base, /^[0-9a-f]{64}$/);
  assert.equal(
    apiserverFingerprint({ ...state, tokens: { ...tokens } }, p),
    base,
  );
  // a user added to the token file
  assert.notEqual(
    apiserverFingerprint({ ...state, tokens: { ...tokens, portal: 'PPP' } }, p),
    base,
  );
  // another flag (here: another audit log path)
  assert.notEqual(
    apiserverFingerprint(
      { ...state, tokens },
      { ...p, auditLog: '/t/audit.log' },
    ),
    base,
  );
  // not the state's bookkeeping
  assert.equal(
    apiserverFingerprint({ ...state, tokens, pids: { apiserver: 1 } }, p),
    base,
  );
});
