// Unit tests of tenancy.mjs: kubeai.tenancy of the app-config files (no cluster).
// Run: node --test scripts/cluster/tenancy.test.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import {
  APP_CONFIG_FILES,
  groupRef,
  readTenancy,
  tenancyOf,
} from './tenancy.mjs';
import { ClusterError } from './util.mjs';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-tenancy-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

test('groupRef: the forms the backend reads, lower case', () => {
  assert.equal(groupRef('group:default/cv-team', 'x'), 'group:default/cv-team');
  assert.equal(groupRef('default/CV-Team', 'x'), 'group:default/cv-team');
  assert.equal(groupRef('ml-platform', 'x'), 'group:default/ml-platform');
  assert.throws(
    () => groupRef('user:default/alice', 'kubeai.tenancy.platformAdmins[0]'),
    /kubeai\.tenancy\.platformAdmins\[0\]: not a group reference: 'user:default\/alice'/,
  );
});

test('tenancyOf: later files win an owner, admins of every file, only cluster local', () => {
  const file = name => path.join(work, name);
  const tenancy = tenancyOf([
    {
      file: file('app-config.yaml'),
      config: {
        kubeai: {
          tenancy: {
            namespaces: [
              {
                cluster: 'local',
                namespace: 'cv-serving',
                owner: 'group:default/cv-team',
              },
              {
                cluster: 'prod',
                namespace: 'elsewhere',
                owner: 'group:default/cv-team',
              },
              { cluster: 'local', namespace: 'shared', owner: 'cv-team' },
            ],
            platformAdmins: ['group:default/ml-platform'],
          },
        },
      },
    },
    { file: file('app-config.local.yaml'), config: { app: {} } },
    {
      file: file('app-config.production.yaml'),
      config: {
        kubeai: {
          tenancy: {
            ownerKey: 'acme.io/team',
            impersonation: { enabled: true, groupPrefix: 'sso:' },
            namespaces: [
              {
                cluster: 'local',
                namespace: 'shared',
                owner: 'group:default/search-reco',
              },
            ],
            platformAdmins: ['sre', 'group:default/ml-platform'],
          },
        },
      },
    },
  ]);
  assert.deepEqual(tenancy, {
    ownerKey: 'acme.io/team',
    groupPrefix: 'sso:',
    namespaces: [
      { namespace: 'cv-serving', owner: 'group:default/cv-team' },
      { namespace: 'shared', owner: 'group:default/search-reco' },
    ],
    platformAdmins: ['group:default/ml-platform', 'group:default/sre'],
  });
  assert.deepEqual(tenancyOf([]), {
    ownerKey: 'kubeai.io/owner',
    groupPrefix: 'backstage:',
    namespaces: [],
    platformAdmins: [],
  });
});

test('tenancyOf: a bad owner names the file and key', () => {
  assert.throws(
    () =>
      tenancyOf([
        {
          file: path.join(work, 'app-config.yaml'),
          config: {
            kubeai: {
              tenancy: {
                namespaces: [
                  { cluster: 'local', namespace: 'a', owner: 'user:default/x' },
                ],
              },
            },
          },
        },
      ]),
    err =>
      err instanceof ClusterError &&
      /kubeai\.tenancy\.namespaces\[0\]\.owner: not a group reference/.test(
        err.message,
      ),
  );
});

test("readTenancy: the repository's files — the examples' namespaces and the platform admins", () => {
  assert.deepEqual(
    APP_CONFIG_FILES.map(f => path.basename(f)),
    ['app-config.yaml', 'app-config.local.yaml', 'app-config.production.yaml'],
  );
  const tenancy = readTenancy();
  assert.ok(tenancy.platformAdmins.includes('group:default/ml-platform'));
  const owners = Object.fromEntries(
    tenancy.namespaces.map(n => [n.namespace, n.owner]),
  );
  for (const [namespace, owner] of [
    ['cv-training', 'group:default/cv-team'],
    ['cv-serving', 'group:default/cv-team'],
    ['search-training', 'group:default/search-reco'],
    ['search-serving', 'group:default/search-reco'],
    ['risk-training', 'group:default/risk-ml'],
    ['risk-serving', 'group:default/risk-ml'],
    ['forecasting', 'group:default/biz-forecasting'],
  ])
    assert.equal(owners[namespace], owner, namespace);

  const broken = path.join(work, 'broken.yaml');
  fs.writeFileSync(broken, 'kubeai: [\n');
  assert.throws(() => readTenancy([broken]), /cannot read .*broken\.yaml/);
});
