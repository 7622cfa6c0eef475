// Unit tests of setup.mjs: the kubeconfig's content and the RBAC objects (no cluster).
// Run: node --test scripts/cluster/setup.test.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import YAML from 'yaml';
import { rulesFor } from './portalKinds.mjs';
import {
  CLUSTER_NAME,
  IMPERSONATOR_ROLE,
  NAMESPACE_EDIT_ROLE,
  PLATFORM_ADMIN_ROLE,
  PORTAL_ROLE,
  TEAMS,
  TEAM_NAMESPACE,
  clusterAccess,
  kubeconfigFor,
  ownerLabelValue,
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

/** What the RBAC is derived from (clusterAccess): a small workload table's resources and a tenancy. */
const ACCESS = {
  resources: [
    { group: '', resources: ['persistentvolumeclaims'] },
    { group: 'batch', resources: ['cronjobs', 'jobs'] },
    { group: 'kubeflow.org', resources: ['notebooks'] },
  ],
  pools: [
    { group: 'kueue.x-k8s.io', resources: ['clusterqueues', 'localqueues'] },
  ],
  tenancy: {
    ownerKey: 'kubeai.io/owner',
    groupPrefix: 'backstage:',
    namespaces: [
      { namespace: 'cv-serving', owner: 'group:default/cv-team' },
      // config wins over the label of a team namespace, as in the portal
      { namespace: 'search-reco', owner: 'group:default/search-platform' },
    ],
    platformAdmins: ['group:default/ml-platform', 'group:default/sre'],
  },
};
const WRITE_VERBS = [
  'get',
  'list',
  'watch',
  'create',
  'update',
  'patch',
  'delete',
  'deletecollection',
];

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

test('kubeconfigFor: a kubeai-portal context when the state has the portal token', () => {
  const config = kubeconfigFor(
    { ...state, tokens: { ...state.tokens, portal: 'PPP' } },
    null,
  );
  assert.deepEqual(config.users[2], {
    name: 'kubeai-portal',
    user: { token: 'PPP' },
  });
  assert.deepEqual(config.contexts[2], {
    name: 'kubeai-portal',
    context: { cluster: CLUSTER_NAME, user: 'kubeai-portal' },
  });
  assert.equal(config['current-context'], 'kubeai-admin');
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
  const objects = rbacObjects(ACCESS).slice(0, 5);
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

const find = (kind, name, namespace) =>
  rbacObjects(ACCESS).find(
    ([, o]) =>
      o.kind === kind &&
      o.metadata.name === name &&
      o.metadata.namespace === namespace,
  );

test("rbacObjects: the portal's identity has every ordinary verb and, bound separately, impersonate — not system:masters' all", () => {
  const [coll, portal] = find('ClusterRole', PORTAL_ROLE);
  assert.equal(coll, '/apis/rbac.authorization.k8s.io/v1/clusterroles');
  assert.deepEqual(portal.rules[0], {
    apiGroups: ['*'],
    resources: ['*'],
    verbs: WRITE_VERBS,
  });
  for (const rule of portal.rules)
    for (const verb of ['*', 'impersonate', 'escalate', 'bind'])
      assert.ok(!rule.verbs.includes(verb), verb);
  const [, impersonator] = find('ClusterRole', IMPERSONATOR_ROLE);
  assert.deepEqual(impersonator.rules, [
    { apiGroups: [''], resources: ['users', 'groups'], verbs: ['impersonate'] },
  ]);
  for (const role of [PORTAL_ROLE, IMPERSONATOR_ROLE]) {
    const [bindings, binding] = find('ClusterRoleBinding', role);
    assert.equal(
      bindings,
      '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
    );
    assert.deepEqual(binding.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: role,
    });
    assert.deepEqual(binding.subjects, [
      {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'User',
        name: 'kubeai-portal',
      },
    ]);
  }
});

test("rbacObjects: the teams' namespaces, labelled with their owner, where their impersonated group may write what the portal writes", () => {
  assert.deepEqual(
    TEAMS.map(t => [t.namespace, t.group]),
    [
      ['cv-team', 'group:default/cv-team'],
      ['search-reco', 'group:default/search-reco'],
    ],
  );
  assert.equal(
    ownerLabelValue('group:default/cv-team'),
    'group-default-cv-team',
  );
  // explicit rules: the built-in `edit` is empty here (no aggregation controller)
  const [, edit] = find('ClusterRole', NAMESPACE_EDIT_ROLE);
  assert.deepEqual(edit.rules, [
    {
      apiGroups: [''],
      resources: ['persistentvolumeclaims'],
      verbs: WRITE_VERBS,
    },
    {
      apiGroups: ['batch'],
      resources: ['cronjobs', 'jobs'],
      verbs: WRITE_VERBS,
    },
    {
      apiGroups: ['kubeflow.org'],
      resources: ['notebooks'],
      verbs: WRITE_VERBS,
    },
  ]);
  const objects = rbacObjects(ACCESS);
  const owned = [
    ['cv-team', 'group:default/cv-team'],
    ['search-reco', 'group:default/search-platform'],
    ['cv-serving', 'group:default/cv-team'],
  ];
  assert.deepEqual(
    objects
      .filter(
        ([, o]) =>
          o.kind === 'RoleBinding' && o.metadata.name === NAMESPACE_EDIT_ROLE,
      )
      .map(([, o]) => o.metadata.namespace),
    owned.map(([namespace]) => namespace),
  );
  for (const [namespace, group] of owned) {
    const nsIndex = objects.findIndex(
      ([, o]) => o.kind === 'Namespace' && o.metadata.name === namespace,
    );
    const [coll, ns, opts] = objects[nsIndex];
    assert.equal(coll, '/api/v1/namespaces');
    assert.deepEqual(ns.metadata.labels, {
      'kubeai.io/owner': ownerLabelValue(group),
    });
    // an existing namespace keeps what it holds; only the owner label is merged in
    assert.deepEqual(opts, { replace: 'labels' });
    const bindingIndex = objects.findIndex(
      ([, o]) =>
        o.kind === 'RoleBinding' &&
        o.metadata.name === NAMESPACE_EDIT_ROLE &&
        o.metadata.namespace === namespace,
    );
    const [bindingColl, binding] = objects[bindingIndex];
    // the binding comes after its namespace
    assert.ok(bindingIndex > nsIndex, 'binding after namespace');
    assert.equal(
      bindingColl,
      `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`,
    );
    assert.deepEqual(binding.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: NAMESPACE_EDIT_ROLE,
    });
    assert.deepEqual(binding.subjects, [
      {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Group',
        name: `backstage:${group}`,
      },
    ]);
  }
});

test('rbacObjects: the owner label key and group prefix of the tenancy config', () => {
  const objects = rbacObjects({
    ...ACCESS,
    tenancy: {
      ...ACCESS.tenancy,
      ownerKey: 'acme.io/team',
      groupPrefix: 'sso:',
    },
  });
  const [, ns] = objects.find(
    ([, o]) => o.kind === 'Namespace' && o.metadata.name === 'cv-serving',
  );
  assert.deepEqual(ns.metadata.labels, {
    'acme.io/team': 'group-default-cv-team',
  });
  const [, binding] = objects.find(
    ([, o]) =>
      o.kind === 'RoleBinding' && o.metadata.namespace === 'cv-serving',
  );
  assert.equal(binding.subjects[0].name, 'sso:group:default/cv-team');
  const [, admins] = objects.find(
    ([, o]) =>
      o.kind === 'ClusterRoleBinding' &&
      o.metadata.name === PLATFORM_ADMIN_ROLE,
  );
  assert.deepEqual(
    admins.subjects.map(x => x.name),
    ['sso:group:default/ml-platform', 'sso:group:default/sre'],
  );
});

test('rbacObjects: the platform admins, bound cluster-wide to an explicit admin role; no team group is', () => {
  const [, role] = find('ClusterRole', PLATFORM_ADMIN_ROLE);
  assert.deepEqual(role.rules, [
    { apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list', 'watch'] },
    ...rulesFor(ACCESS.resources, WRITE_VERBS),
    // the pools and quotas, for the platform admins only
    ...rulesFor(ACCESS.pools, WRITE_VERBS),
    { apiGroups: [''], resources: ['namespaces'], verbs: WRITE_VERBS },
    {
      apiGroups: ['rbac.authorization.k8s.io'],
      resources: ['rolebindings'],
      verbs: WRITE_VERBS,
    },
  ]);
  for (const rule of role.rules)
    for (const verb of ['*', 'impersonate', 'escalate', 'bind'])
      assert.ok(!rule.verbs.includes(verb), verb);
  const [coll, binding] = find('ClusterRoleBinding', PLATFORM_ADMIN_ROLE);
  assert.equal(coll, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings');
  assert.deepEqual(binding.roleRef, {
    apiGroup: 'rbac.authorization.k8s.io',
    kind: 'ClusterRole',
    name: PLATFORM_ADMIN_ROLE,
  });
  assert.deepEqual(binding.subjects, [
    {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Group',
      name: 'backstage:group:default/ml-platform',
    },
    {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Group',
      name: 'backstage:group:default/sre',
    },
  ]);
  // every other ClusterRoleBinding names users (restricted, the portal), never a team's group
  for (const [, o] of rbacObjects(ACCESS).filter(
    ([, x]) =>
      x.kind === 'ClusterRoleBinding' &&
      x.metadata.name !== PLATFORM_ADMIN_ROLE,
  ))
    assert.ok(
      o.subjects.every(x => x.kind === 'User'),
      o.metadata.name,
    );
});

test("clusterAccess: the repository's workload table, pool table and app-config tenancy", async () => {
  const { resources, pools, tenancy } = await clusterAccess();
  assert.deepEqual(pools, [
    {
      group: 'kueue.x-k8s.io',
      resources: [
        'clusterqueues',
        'localqueues',
        'resourceflavors',
        'workloadpriorityclasses',
      ],
    },
  ]);
  // no team may write them (its LocalQueue could submit to any ClusterQueue)
  assert.ok(!resources.some(r => r.group === 'kueue.x-k8s.io'));
  const names = resources.flatMap(r => r.resources.map(x => `${x}.${r.group}`));
  for (const resource of [
    'jobs.batch',
    'cronjobs.batch',
    'tfjobs.kubeflow.org',
    'notebooks.kubeflow.org',
    'inferenceservices.serving.kserve.io',
    'workflows.argoproj.io',
    'cronworkflows.argoproj.io',
    'datasets.data.fluid.io',
    'persistentvolumeclaims.',
  ])
    assert.ok(names.includes(resource), resource);
  assert.ok(tenancy.platformAdmins.includes('group:default/ml-platform'));
  assert.deepEqual(
    tenancy.namespaces.find(n => n.namespace === 'cv-serving'),
    { namespace: 'cv-serving', owner: 'group:default/cv-team' },
  );
});
