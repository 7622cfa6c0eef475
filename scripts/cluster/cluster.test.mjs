// The control-plane script's promises, checked for real on a second, throwaway control plane
// (its own KUBEAI_CLUSTER_DIR, the project's fallback CRDs): start is idempotent, status tells the
// truth, a killed etcd or kube-apiserver is restarted in place with its objects, URL, tokens and
// kubeconfig, stop and reset leave no process and no data, and a missing ingredient fails with one
// clear line.
// Run: node --test scripts/cluster/cluster.test.mjs
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  script,
  work,
  env,
  cluster,
  processesOfThisCluster,
  stateDir,
  readState,
  readKubeconfig,
  request,
  createObjects,
  assertObjects,
  killHard,
  assertRestartedInPlace,
  requestWith,
  configMap,
  claim,
  asCvMember,
  asPlatformAdmin,
  auditEvents,
} from './testControlPlane.mjs';

before(async () => {
  const first = await cluster(['start']);
  assert.equal(first.code, 0, first.stderr);
});

after(async () => {
  await cluster(['stop']);
  rmSync(work, { recursive: true, force: true });
});

test('a second start reuses the running control plane', async () => {
  const state = JSON.parse(
    readFileSync(path.join(env.KUBEAI_CLUSTER_DIR, 'state.json'), 'utf8'),
  );
  const second = await cluster(['start']);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout + second.stderr, /already running/);
  const again = JSON.parse(
    readFileSync(path.join(env.KUBEAI_CLUSTER_DIR, 'state.json'), 'utf8'),
  );
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
  assert.match(
    exports.stdout,
    /export KUBEAI_CLUSTER_URL='https:\/\/127\.0\.0\.1:\d+'/,
  );
  assert.match(exports.stdout, /export KUBEAI_CLUSTER_TOKEN='[0-9a-f]+'/);
});

test("the portal's identity: env's token, not system:masters, may impersonate; the teams' namespaces; the audit log", async () => {
  const state = readState();
  const exports = await cluster(['env']);
  assert.match(
    exports.stdout,
    new RegExp(`export KUBEAI_CLUSTER_TOKEN='${state.tokens.portal}'`),
  );
  assert.notEqual(state.tokens.portal, state.tokens.admin);
  assert.equal(state.users.portal, 'kubeai-portal');
  assert.equal(state.auditLog, path.join(stateDir, 'audit.log'));
  assert.match(readKubeconfig(), /name: kubeai-portal/);

  for (const [name, owner] of [
    ['cv-team', 'group-default-cv-team'],
    ['search-reco', 'group-default-search-reco'],
  ]) {
    const ns = await requestWith(
      state.tokens.admin,
      'GET',
      `/api/v1/namespaces/${name}`,
    );
    assert.equal(ns.status, 200);
    assert.equal(ns.body.metadata.labels['kubeai.io/owner'], owner);
  }

  // the portal itself writes anywhere (impersonation off) but is no cluster admin: RBAC is not bypassed
  const own = await requestWith(
    state.tokens.portal,
    'POST',
    '/api/v1/namespaces/search-reco/configmaps',
    configMap('by-portal'),
  );
  assert.equal(own.status, 201, JSON.stringify(own.body));
  const escalate = await requestWith(
    state.tokens.portal,
    'POST',
    '/apis/rbac.authorization.k8s.io/v1/clusterroles',
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'kubeai-test-escalate' },
      rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
    },
  );
  assert.equal(escalate.status, 403, JSON.stringify(escalate.body));

  // impersonating a member of cv-team: what the portal writes is allowed in cv-team and in the
  // namespaces app-config gives cv-team (cv-serving), forbidden in search-reco; what the portal does
  // not write (a ConfigMap) is forbidden even in cv-team
  for (const namespace of ['cv-team', 'cv-serving']) {
    const allowed = await requestWith(
      state.tokens.portal,
      'POST',
      `/api/v1/namespaces/${namespace}/persistentvolumeclaims`,
      claim('by-cv-member'),
      asCvMember,
    );
    assert.equal(allowed.status, 201, JSON.stringify(allowed.body));
  }
  const forbidden = await requestWith(
    state.tokens.portal,
    'POST',
    '/api/v1/namespaces/search-reco/persistentvolumeclaims',
    claim('by-cv-member'),
    asCvMember,
  );
  assert.equal(forbidden.status, 403, JSON.stringify(forbidden.body));
  assert.match(
    forbidden.body.message,
    /User "backstage:user:default\/cv-member" cannot create resource "persistentvolumeclaims" .*namespace "search-reco"/,
  );
  const notPortals = await requestWith(
    state.tokens.portal,
    'POST',
    '/api/v1/namespaces/cv-team/configmaps',
    configMap('by-cv-member'),
    asCvMember,
  );
  assert.equal(notPortals.status, 403, JSON.stringify(notPortals.body));
  // a platform admin writes in every namespace, a team's or nobody's
  for (const namespace of [
    'cv-team',
    'search-reco',
    'search-serving',
    'team-a',
  ]) {
    const anywhere = await requestWith(
      state.tokens.portal,
      'POST',
      `/api/v1/namespaces/${namespace}/persistentvolumeclaims`,
      claim('by-platform-admin'),
      asPlatformAdmin,
    );
    assert.equal(
      anywhere.status,
      201,
      `${namespace}: ${JSON.stringify(anywhere.body)}`,
    );
  }
  // the examples' namespaces exist, labelled with the owner app-config gives them
  for (const [name, owner] of [
    ['cv-serving', 'group-default-cv-team'],
    ['search-training', 'group-default-search-reco'],
    ['forecasting', 'group-default-biz-forecasting'],
  ]) {
    const ns = await requestWith(
      state.tokens.admin,
      'GET',
      `/api/v1/namespaces/${name}`,
    );
    assert.equal(ns.status, 200, name);
    assert.equal(ns.body.metadata.labels['kubeai.io/owner'], owner);
  }
  // the restricted user may not impersonate at all
  const refused = await requestWith(
    state.tokens.restricted,
    'POST',
    '/api/v1/namespaces/team-a/configmaps',
    configMap('by-restricted'),
    asCvMember,
  );
  assert.equal(refused.status, 403);
  assert.match(refused.body.message, /cannot impersonate/);

  const events = auditEvents().filter(
    e =>
      ['configmaps', 'persistentvolumeclaims'].includes(
        e.objectRef?.resource,
      ) && e.stage === 'ResponseComplete',
  );
  const byPortal = events.find(
    e => e.objectRef.namespace === 'search-reco' && !e.impersonatedUser,
  );
  assert.equal(byPortal.user.username, 'kubeai-portal');
  assert.equal(byPortal.impersonatedUser, undefined);
  const byMember = events.find(
    e =>
      e.objectRef.namespace === 'cv-team' &&
      e.impersonatedUser?.username === 'backstage:user:default/cv-member',
  );
  assert.equal(byMember.user.username, 'kubeai-portal');
  assert.equal(
    byMember.impersonatedUser.username,
    'backstage:user:default/cv-member',
  );
  assert.deepEqual(byMember.impersonatedUser.groups, [
    'backstage:group:default/cv-team',
    'system:authenticated',
  ]);
  assert.equal(byMember.responseStatus.code, 201);
  const denied = events.find(
    e =>
      e.objectRef.namespace === 'search-reco' &&
      e.impersonatedUser?.username === 'backstage:user:default/cv-member',
  );
  assert.equal(denied.responseStatus.code, 403);
  // reads are not recorded
  assert.ok(
    auditEvents().every(e => !['get', 'list', 'watch'].includes(e.verb)),
  );
});

test('start on a running control plane applies the RBAC again: a changed role and a removed binding are restored', async () => {
  const state = readState();
  const rbac = '/apis/rbac.authorization.k8s.io/v1';
  const role = await requestWith(
    state.tokens.admin,
    'GET',
    `${rbac}/clusterroles/kubeai:namespace-edit`,
  );
  assert.equal(role.status, 200);
  const rules = role.body.rules;
  assert.ok(
    rules.some(
      r =>
        r.apiGroups.includes('kubeflow.org') &&
        r.resources.includes('notebooks'),
    ),
    JSON.stringify(rules),
  );
  assert.ok(
    rules.every(r => !r.resources.includes('*') && !r.apiGroups.includes('*')),
    'explicit resources only',
  );
  const emptied = await requestWith(
    state.tokens.admin,
    'PUT',
    `${rbac}/clusterroles/kubeai:namespace-edit`,
    { ...role.body, rules: [] },
  );
  assert.equal(emptied.status, 200, JSON.stringify(emptied.body));
  const removed = await requestWith(
    state.tokens.admin,
    'DELETE',
    `${rbac}/clusterrolebindings/kubeai:platform-admin`,
  );
  assert.equal(removed.status, 200, JSON.stringify(removed.body));

  const again = await cluster(['start']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /already running/);
  assert.match(
    again.stderr + again.stdout,
    /platform admins group:default\/ml-platform/,
  );
  const restored = await requestWith(
    state.tokens.admin,
    'GET',
    `${rbac}/clusterroles/kubeai:namespace-edit`,
  );
  assert.deepEqual(restored.body.rules, rules);
  const binding = await requestWith(
    state.tokens.admin,
    'GET',
    `${rbac}/clusterrolebindings/kubeai:platform-admin`,
  );
  assert.equal(binding.status, 200);
  assert.deepEqual(
    binding.body.subjects.map(x => `${x.kind} ${x.name}`),
    ['Group backstage:group:default/ml-platform'],
  );
  // the same processes: nothing was restarted
  assert.deepEqual(readState().pids, state.pids);
});

test('a control plane started by an earlier version of the script gets the portal identity and audit log on start, in place', async () => {
  const before = readState();
  const kubeconfig = readKubeconfig();
  await createObjects(kubeconfig, 'keep-upgrade');
  // what an earlier version recorded: no portal token, no fingerprint of the apiserver's setup
  const earlier = { ...before, tokens: { ...before.tokens } };
  delete earlier.tokens.portal;
  delete earlier.apiserverFingerprint;
  delete earlier.auditLog;
  writeFileSync(path.join(stateDir, 'state.json'), JSON.stringify(earlier));

  const start = await cluster(['start']);
  assert.equal(start.code, 0, start.stderr);
  assert.match(
    start.stderr,
    /kube-apiserver \(pid \d+\) is restarted in place: it was started by an earlier version/,
  );
  assert.match(
    start.stdout,
    /restarted in place .*\(restarted: kube-apiserver;/,
  );
  const now = readState();
  assert.equal(now.server, before.server);
  assert.equal(now.pids.etcd, before.pids.etcd);
  assert.notEqual(now.pids.apiserver, before.pids.apiserver);
  assert.equal(now.tokens.admin, before.tokens.admin);
  assert.match(now.tokens.portal, /^[0-9a-f]{48}$/);
  assert.notEqual(now.tokens.portal, before.tokens.portal);
  assert.ok(now.apiserverFingerprint);
  await assertObjects(kubeconfig, 'keep-upgrade');
  // the new portal token works (the apiserver re-read the token file)
  const allowed = await requestWith(
    now.tokens.portal,
    'POST',
    '/api/v1/namespaces/cv-team/persistentvolumeclaims',
    claim('after-upgrade'),
    asCvMember,
  );
  assert.equal(allowed.status, 201, JSON.stringify(allowed.body));

  // a second start changes nothing
  const again = await cluster(['start']);
  assert.match(again.stdout, /already running/);
  assert.equal(readState().pids.apiserver, now.pids.apiserver);
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
  assert.match(
    lines[0],
    /^kubeai cluster: .*KUBEAI_KUBE_APISERVER=.*is not an executable file/,
  );
});

test('a killed kube-apiserver is restarted in place: objects, URL, token and kubeconfig kept', async () => {
  const before = readState();
  const kubeconfig = readKubeconfig();
  await createObjects(kubeconfig, 'keep-apiserver');
  await killHard(before.pids.apiserver);

  const status = await cluster(['status']);
  assert.equal(status.code, 3);
  assert.match(
    status.stdout,
    /kube-apiserver \(pid \d+\) is down, etcd \(pid \d+\) is running/,
  );

  const start = await cluster(['start']);
  assert.equal(start.code, 0, start.stderr);
  assert.match(
    start.stdout,
    /restarted in place at https:\/\/127\.0\.0\.1:\d+ \(restarted: kube-apiserver;/,
  );
  const now = await assertRestartedInPlace(before, kubeconfig, [
    'keep-apiserver',
  ]);
  assert.equal(now.pids.etcd, before.pids.etcd, 'etcd was not restarted');
  assert.notEqual(now.pids.apiserver, before.pids.apiserver);
});

test('a killed etcd is restarted in place (and the apiserver if it does not recover)', async () => {
  const before = readState();
  const kubeconfig = readKubeconfig();
  await createObjects(kubeconfig, 'keep-etcd');
  await killHard(before.pids.etcd);

  const status = await cluster(['status']);
  assert.equal(status.code, 3);
  // the apiserver may exit after its etcd or keep running
  assert.match(
    status.stdout,
    /etcd \(pid \d+\) is down, kube-apiserver \(pid \d+\) is running|etcd and kube-apiserver are down/,
  );

  const start = await cluster(['start']);
  assert.equal(start.code, 0, start.stderr);
  assert.match(
    start.stdout,
    /restarted in place .*\(restarted: etcd(, kube-apiserver)?;/,
  );
  const now = await assertRestartedInPlace(before, kubeconfig, [
    'keep-apiserver',
    'keep-etcd',
  ]);
  assert.notEqual(now.pids.etcd, before.pids.etcd);
});

test('both processes killed (as after a reboot) are restarted in place', async () => {
  const before = readState();
  const kubeconfig = readKubeconfig();
  await killHard(before.pids.apiserver);
  await killHard(before.pids.etcd);
  const status = await cluster(['status']);
  assert.equal(status.code, 3);
  assert.match(
    status.stdout,
    /etcd and kube-apiserver are down; `start` restarts them in place/,
  );

  const start = await cluster(['start']);
  assert.equal(start.code, 0, start.stderr);
  assert.match(start.stdout, /\(restarted: etcd, kube-apiserver;/);
  await assertRestartedInPlace(before, kubeconfig, [
    'keep-apiserver',
    'keep-etcd',
  ]);
});

test('a recorded port taken by another process fails naming it, and keeps the data', async () => {
  const before = readState();
  const kubeconfig = readKubeconfig();
  await killHard(before.pids.apiserver);
  // (the killed apiserver's threads may need a moment to release the port)
  const squatter = net.createServer();
  for (let attempt = 0; ; attempt++) {
    const error = await new Promise(r => {
      squatter.once('error', r);
      squatter.listen(before.ports.apiserver, '127.0.0.1', () => r(null));
    });
    if (!error) break;
    assert.ok(attempt < 50, `port ${before.ports.apiserver}: ${error}`);
    await new Promise(r => setTimeout(r, 100));
  }
  try {
    const start = await cluster(['start']);
    assert.equal(start.code, 1);
    assert.match(
      start.stderr,
      new RegExp(
        `port 127\\.0\\.0\\.1:${before.ports.apiserver} is in use by pid ${process.pid}`,
      ),
    );
    assert.deepEqual(readState().ports, before.ports);
    assert.ok(existsSync(path.join(stateDir, 'etcd-data', 'member')));
  } finally {
    await new Promise(r => squatter.close(r));
  }
  const start = await cluster(['start']);
  assert.equal(start.code, 0, start.stderr);
  await assertRestartedInPlace(before, kubeconfig, [
    'keep-apiserver',
    'keep-etcd',
  ]);
});

const dataFiles = [
  'state.json',
  'etcd-data',
  'certs',
  'tokens.csv',
  'sa.key',
  'sa.pub',
  'kubeconfig',
];

test('stop leaves no process and no data, and status says so', async () => {
  const before = readState();
  const stop = await cluster(['stop']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.deepEqual(await processesOfThisCluster(), []);
  for (const f of dataFiles)
    assert.ok(!existsSync(path.join(stateDir, f)), `${f} deleted`);
  const status = await cluster(['status']);
  assert.equal(status.code, 3);

  // the next start is a new, empty control plane
  const start = await cluster(['start']);
  assert.equal(start.code, 0, start.stderr);
  assert.match(start.stdout, /^control plane running at/);
  assert.notEqual(readState().tokens.admin, before.tokens.admin);
  const res = await request(
    readKubeconfig(),
    'GET',
    '/api/v1/namespaces/keep-apiserver',
  );
  assert.equal(res.status, 404);
});

test('an unusable state is reported with the advice to reset, not wiped; reset deletes it', async () => {
  const kubeconfig = readKubeconfig();
  await createObjects(kubeconfig, 'keep-reset');
  const before = readState();
  await killHard(before.pids.apiserver);
  rmSync(path.join(stateDir, 'certs', 'apiserver.key'));

  const start = await cluster(['start']);
  assert.equal(start.code, 1);
  assert.match(
    start.stderr,
    /cannot restart the control plane in place: the apiserver's key is missing/,
  );
  assert.match(start.stderr, /cluster\.mjs reset/);
  assert.ok(
    existsSync(path.join(stateDir, 'etcd-data', 'member')),
    'etcd data kept',
  );
  assert.deepEqual(readState().tokens, before.tokens);

  const reset = await cluster(['reset']);
  assert.equal(reset.code, 0, reset.stderr);
  assert.deepEqual(await processesOfThisCluster(), []);
  for (const f of dataFiles)
    assert.ok(!existsSync(path.join(stateDir, f)), `${f} deleted`);
  assert.equal((await cluster(['status'])).code, 3);

  const fresh = await cluster(['start']);
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.match(fresh.stdout, /^control plane running at/);
  const res = await request(
    readKubeconfig(),
    'GET',
    '/api/v1/namespaces/keep-reset',
  );
  assert.equal(res.status, 404);
});
