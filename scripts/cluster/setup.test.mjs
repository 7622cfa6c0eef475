// Unit tests of setup.mjs: the kubeconfig's content and the RBAC objects (no cluster).
// Run: node --test scripts/cluster/setup.test.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import YAML from 'yaml';
import {
  CLUSTER_NAME,
  TEAM_NAMESPACE,
  kubeconfigFor,
  rbacObjects,
  writeKubeconfig,
} from './setup.mjs';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-cluster-setup-'));
const saved = process.env.KUBEAI_CLUSTER_DIR;
after(() => {
  if (saved === undefined) delete process.env.KUBEAI_CLUSTER_DIR;
  else process.env.KUBEAI_CLUSTER_DIR = saved;
  fs.rmSync(work, { recursive: true, force: true });
});

const state = {
  server: 'https://127.0.0.1:6443',
  tokens: { admin: 'AAA', restricted: 'RRR' },
};

test('kubeconfigFor: admin (current) and restricted contexts on the server with its CA', () => {
  const config = kubeconfigFor(state, Buffer.from('PEM'));
  assert.deepEqual(config.clusters, [
    {
      name: CLUSTER_NAME,
      cluster: {
        server: 'https://127.0.0.1:6443',
        'certificate-authority-data': Buffer.from('PEM').toString('base64'),
      },
    },
  ]);
  assert.deepEqual(config.users, [
    { name: 'kubeai-admin', user: { token: 'AAA' } },
    { name: 'kubeai-restricted', user: { token: 'RRR' } },
  ]);
  assert.deepEqual(
    config.contexts.map(c => [c.name, c.context.cluster, c.context.user]),
    [
      ['kubeai-admin', CLUSTER_NAME, 'kubeai-admin'],
      ['kubeai-restricted', CLUSTER_NAME, 'kubeai-restricted'],
    ],
  );
  assert.equal(config['current-context'], 'kubeai-admin');
  assert.equal(config.kind, 'Config');
});

test('kubeconfigFor without a CA skips TLS verification', () => {
  assert.deepEqual(kubeconfigFor(state, null).clusters[0].cluster, {
    server: 'https://127.0.0.1:6443',
    'insecure-skip-tls-verify': true,
  });
});

test('writeKubeconfig writes YAML (mode 0600) into the state dir, with the CA file', () => {
  process.env.KUBEAI_CLUSTER_DIR = work;
  const caFile = path.join(work, 'ca.crt');
  fs.writeFileSync(caFile, 'PEM');
  const file = writeKubeconfig({ ...state, caFile });
  assert.equal(file, path.join(work, 'kubeconfig'));
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(
    YAML.parse(fs.readFileSync(file, 'utf8')),
    kubeconfigFor(state, Buffer.from('PEM')),
  );
});

test('rbacObjects: the team namespace (kept), read-all for restricted, full access in the team namespace', () => {
  const objects = rbacObjects();
  assert.deepEqual(
    objects.map(([coll, obj]) => `${coll} ${obj.kind} ${obj.metadata.name}`),
    [
      `/api/v1/namespaces Namespace ${TEAM_NAMESPACE}`,
      '/apis/rbac.authorization.k8s.io/v1/clusterroles ClusterRole kubeai:read-all',
      '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings ClusterRoleBinding kubeai:restricted-read-all',
      `/apis/rbac.authorization.k8s.io/v1/namespaces/${TEAM_NAMESPACE}/roles Role kubeai:team-edit`,
      `/apis/rbac.authorization.k8s.io/v1/namespaces/${TEAM_NAMESPACE}/rolebindings RoleBinding kubeai:restricted-team-edit`,
    ],
  );
  assert.deepEqual(objects[0][2], { replace: false });
  for (const [, obj, opts] of objects.slice(1)) {
    assert.equal(opts, undefined);
    assert.equal(
      obj.metadata.labels['app.kubernetes.io/managed-by'],
      'kubeai-cluster',
    );
  }
  const readAll = objects[1][1];
  assert.deepEqual(readAll.rules[0].verbs, ['get', 'list', 'watch']);
  for (const binding of [objects[2][1], objects[4][1]])
    assert.deepEqual(binding.subjects, [
      {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'User',
        name: 'restricted',
      },
    ]);
  assert.deepEqual(objects[3][1].rules, [
    { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
  ]);
});
