// Unit tests of portalKinds.mjs: what the teams' RBAC is derived from (no cluster).
// Run: node --test scripts/cluster/portalKinds.test.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import {
  WORKLOAD_TABLE,
  loadWorkloadTable,
  pluralOf,
  portalResources,
  rulesFor,
  writtenResources,
} from './portalKinds.mjs';
import { ClusterError } from './util.mjs';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-portal-kinds-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

test('pluralOf: the default plural of a CRD kind', () => {
  assert.equal(pluralOf('PodGroup'), 'podgroups');
  assert.equal(pluralOf('PersistentVolumeClaim'), 'persistentvolumeclaims');
  assert.equal(pluralOf('JuiceFSRuntime'), 'juicefsruntimes');
  assert.equal(pluralOf('Ingress'), 'ingresses');
  assert.equal(pluralOf('Policy'), 'policies');
  assert.equal(pluralOf('Gateway'), 'gateways');
});

test('writtenResources: every workload and data object and their companions, by group, sorted', () => {
  const companion = (group, kind) => ({ group, version: 'v1', kind });
  const table = {
    WORKLOADS: {
      Job: {
        group: 'batch',
        plural: 'jobs',
        companions: [companion('scheduling.volcano.sh', 'PodGroup')],
      },
      Notebook: {
        group: 'kubeflow.org',
        plural: 'notebooks',
        companions: [companion('', 'PersistentVolumeClaim')],
      },
      CronJob: { group: 'batch', plural: 'cronjobs', companions: [] },
    },
    DATA_OBJECTS: {
      PersistentVolumeClaim: {
        group: '',
        plural: 'persistentvolumeclaims',
        companions: [],
      },
    },
  };
  const resources = writtenResources(table);
  assert.deepEqual(resources, [
    { group: '', resources: ['persistentvolumeclaims'] },
    { group: 'batch', resources: ['cronjobs', 'jobs'] },
    { group: 'kubeflow.org', resources: ['notebooks'] },
    { group: 'scheduling.volcano.sh', resources: ['podgroups'] },
  ]);
  assert.deepEqual(rulesFor(resources.slice(1, 2), ['get']), [
    { apiGroups: ['batch'], resources: ['cronjobs', 'jobs'], verbs: ['get'] },
  ]);
  assert.throws(() => writtenResources({}), ClusterError);
});

test("the repository's workload table: read from the TypeScript source, every kind in it", async () => {
  const table = await loadWorkloadTable();
  const resources = await portalResources();
  const has = (group, resource) =>
    resources.some(r => r.group === group && r.resources.includes(resource));
  for (const spec of [
    ...Object.values(table.WORKLOADS),
    ...Object.values(table.DATA_OBJECTS),
  ]) {
    assert.ok(has(spec.group, spec.plural), `${spec.plural}.${spec.group}`);
    for (const c of spec.companions)
      assert.ok(has(c.group, pluralOf(c.kind)), `${c.kind} (${c.group})`);
  }
  for (const [group, resource] of [
    ['batch', 'jobs'],
    ['kubeflow.org', 'tfjobs'],
    ['serving.kserve.io', 'inferenceservices'],
    ['argoproj.io', 'cronworkflows'],
    ['data.fluid.io', 'alluxioruntimes'],
    ['scheduling.volcano.sh', 'podgroups'],
    ['', 'persistentvolumeclaims'],
  ])
    assert.ok(has(group, resource), `${resource}.${group}`);
  assert.ok(WORKLOAD_TABLE.endsWith('plugins/kubeai-common/src/workloads.ts'));
});

test('a workload table that imports something: an error naming the file', async () => {
  const file = path.join(work, 'workloads.ts');
  fs.writeFileSync(
    file,
    "import { x } from './elsewhere';\nexport const WORKLOADS = { x };\n",
  );
  await assert.rejects(loadWorkloadTable(file), err => {
    assert.ok(err instanceof ClusterError);
    assert.match(
      err.message,
      /cannot evaluate the workload table .*workloads\.ts .*free of imports/,
    );
    return true;
  });
});
