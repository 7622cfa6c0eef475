// Unit tests of daemons.mjs's argument builders (no cluster). Run: node --test scripts/cluster/daemons.test.mjs
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiserverArgs, etcdArgs } from './daemons.mjs';

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
  ])
    assert.ok(args.includes(arg), arg);
  assert.equal(new Set(args).size, args.length);
  assert.ok(args.every(a => a.startsWith('--')));
});

test('the same state gives the same arguments (a restart in place reuses them)', () => {
  assert.deepEqual(etcdArgs(state, p), etcdArgs({ ...state }, { ...p }));
  assert.deepEqual(apiserverArgs(state, p), apiserverArgs({ ...state }, p));
});
