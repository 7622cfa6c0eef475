/*
 * The cluster informers against the real local kube-apiserver (`yarn cluster:start`), through the
 * plugin's HTTP API. The test plays the controllers: it writes status through the `/status`
 * subresource and measures until the API shows it.
 */
import {
  mockServices,
  startTestBackend,
  TestDatabases,
} from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { Knex } from 'knex';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { kubeaiMetadata } from '../manifests/labels';
import { kubeaiPlugin } from '../plugin';
import { purgeNamespaces } from '../__testUtils__/localCluster';
import {
  clusterConfig,
  Kube,
  kubectl,
  readClusterState,
  waitFor,
} from './__testUtils__/kube';

jest.setTimeout(180_000);

const suffix = randomBytes(3).toString('hex');
const ns = `kubeai-inf-${suffix}`;
const state = readClusterState();
const kube = new Kube(state);

const entity = (kind: string, name: string): Entity => ({
  apiVersion: 'kubeai.io/v1alpha1',
  kind,
  metadata: { name, namespace: 'default' },
  spec: {},
});
const MODEL = `clf-${suffix}`;
const entities = [
  entity('Model', MODEL),
  entity('InferenceService', `svc-${suffix}`),
  entity('InferenceService', `drift-${suffix}`),
];
const artifact = (v: number) => `s3://models/${MODEL}/${v}/model.joblib`;

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

function backendConfig(extra: Record<string, unknown> = {}) {
  return {
    kubernetes: clusterConfig([
      { name: 'local', state },
      // nothing listens there: unreachable from the start
      { name: 'down', url: 'https://127.0.0.1:1', token: 'nope' },
    ]),
    kubeai: {
      registry: { validateResponses: true },
      informers: {
        flushIntervalMs: 20,
        backoff: { initialMs: 100, maxMs: 1000 },
        watchTimeoutSeconds: 60,
        reconcileIntervalMs: 300,
        notebookUrlTemplate:
          'https://kubeflow.example.com/notebook/{namespace}/{name}/',
        ...extra,
      },
    },
  };
}

async function startBackend(knex: Knex, features: any[] = [], extra = {}) {
  return startTestBackend({
    features: [
      kubeaiPlugin,
      mockServices.database.factory({ knex }),
      catalogServiceMock.factory({ entities }),
      mockServices.rootConfig.factory({ data: backendConfig(extra) }),
      ...features,
    ],
  });
}

const paths = {
  jobs: `/apis/batch/v1/namespaces/${ns}/jobs`,
  cronjobs: `/apis/batch/v1beta1/namespaces/${ns}/cronjobs`,
  tfjobs: `/apis/kubeflow.org/v1/namespaces/${ns}/tfjobs`,
  notebooks: `/apis/kubeflow.org/v1/namespaces/${ns}/notebooks`,
  isvcs: `/apis/serving.kserve.io/v1beta1/namespaces/${ns}/inferenceservices`,
  pods: `/api/v1/namespaces/${ns}/pods`,
  datasets: `/apis/data.fluid.io/v1alpha1/namespaces/${ns}/datasets`,
};
const created: string[] = [];

async function create(collection: string, object: any) {
  const body = await kube.create(collection, object);
  created.push(`${collection}/${object.metadata.name}`);
  return body;
}

const container = { name: 'main', image: 'busybox:1.36' };
const job = (
  name: string,
  labels: Parameters<typeof kubeaiMetadata>[2] = {},
) => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: kubeaiMetadata(name, ns, labels),
  spec: {
    template: { spec: { restartPolicy: 'Never', containers: [container] } },
  },
});
const isvc = (
  name: string,
  storageUri: string,
  managed: boolean,
  extra: any = {},
) => ({
  apiVersion: 'serving.kserve.io/v1beta1',
  kind: 'InferenceService',
  metadata: managed
    ? kubeaiMetadata(name, ns, {
        entityRef: `inferenceservice:default/${name}`,
        modelRef: `model:default/${MODEL}`,
        modelVersion: '1',
      })
    : { name, namespace: ns },
  spec: {
    predictor: {
      model: { modelFormat: { name: 'sklearn' }, storageUri },
      ...extra,
    },
  },
});
const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

describe('cluster informers on the local control plane', () => {
  let knex: Knex;
  let backend: Awaited<ReturnType<typeof startBackend>>;
  const api = () => request(backend.server);

  async function observedRunId(kind: string, name: string) {
    const { value } = await waitFor(
      async () => {
        const res = await api().get(
          `/api/kubeai/observed/objects?kind=${kind}&namespace=${ns}`,
        );
        return res.body.items?.find((o: any) => o.name === name)?.runId as
          | string
          | undefined;
      },
      5000,
      `the run of ${kind} ${name}`,
    );
    return value;
  }

  beforeAll(async () => {
    knex = await databases.init('SQLITE_3');
    await kube.create('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns },
    });
    backend = await startBackend(knex);
    await waitFor(
      async () => {
        const res = await api().get('/api/kubeai/clusters/status');
        return (
          res.body.items?.find((c: any) => c.name === 'local')?.state ===
          'synced'
        );
      },
      60_000,
      'cluster local synced',
    );
    // model versions the tests deploy and discover
    for (const v of [1, 2, 3]) {
      await api()
        .post(`/api/kubeai/models/default/${MODEL}/versions`)
        .send({ artifact: { uri: artifact(v), format: 'joblib' } })
        .expect(201);
    }
  });

  afterAll(async () => {
    await backend?.stop();
    for (const objectPath of created.reverse()) {
      await kube.remove(objectPath).catch(() => undefined);
    }
    // Everything left in it, then the namespace (no namespace controller runs to do it).
    await purgeNamespaces(ns);
    kube.close();
  });

  it('reports cluster health: synced, CRDs not installed skipped, an unreachable cluster', async () => {
    const res = await api().get('/api/kubeai/clusters/status').expect(200);
    expect(res.body.informersEnabled).toBe(true);
    const local = res.body.items.find((c: any) => c.name === 'local');
    expect(local).toMatchObject({ state: 'synced', reachable: true });
    const byKind = Object.fromEntries(local.kinds.map((k: any) => [k.kind, k]));
    expect(byKind.Job).toMatchObject({
      state: 'watching',
      apiVersion: 'batch/v1',
      synced: true,
    });
    // Kubernetes 1.20 serves CronJob in batch/v1beta1 only
    expect(byKind.CronJob.apiVersion).toBe('batch/v1beta1');
    // Trainer v2 installs on no 1.20 cluster
    expect(byKind.TrainJob).toMatchObject({
      state: 'notInstalled',
      synced: false,
    });
    expect(byKind.InferenceService.resourceVersion).toMatch(/^\d+$/);

    const down = await waitFor(
      async () => {
        const r = await api().get('/api/kubeai/clusters/status');
        const c = r.body.items.find((x: any) => x.name === 'down');
        return c?.state === 'unreachable' ? c : undefined;
      },
      20_000,
      'cluster down unreachable',
    );
    expect(down.value).toMatchObject({ reachable: false });
    expect(down.value.lastError).toMatch(/ECONNREFUSED|cannot reach/);
    // the backend keeps answering
    await api().get('/api/kubeai/health').expect(200);
  });

  it('shows a Job status update (portal run, labelled) within 2 s', async () => {
    const run = await api()
      .post('/api/kubeai/runs')
      .send({
        kind: 'training',
        cluster: 'local',
        namespace: ns,
        name: 'train-a',
      })
      .expect(201);
    const runId = run.body.id;
    await create(paths.jobs, job('train-a', { runId }));
    const linked = await waitFor(
      async () => {
        const r = await api().get(`/api/kubeai/runs/${runId}`);
        return r.body.uid ? r.body : undefined;
      },
      2000,
      'Job linked to its run',
    );
    expect(linked.value).toMatchObject({
      phase: 'Pending',
      observed: { kind: 'Job' },
    });

    await kube.patchStatus(`${paths.jobs}/train-a`, {
      startTime: now(),
      active: 1,
    });
    const running = await waitFor(
      async () =>
        (await api().get(`/api/kubeai/runs/${runId}`)).body.phase === 'Running',
      2000,
      'Job Running',
    );
    await kube.patchStatus(`${paths.jobs}/train-a`, {
      active: 0,
      failed: 1,
      conditions: [
        {
          type: 'Failed',
          status: 'True',
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
          lastTransitionTime: now(),
        },
      ],
    });
    const failed = await waitFor(
      async () => {
        const r = (await api().get(`/api/kubeai/runs/${runId}`)).body;
        return r.phase === 'Failed' ? r : undefined;
      },
      2000,
      'Job Failed',
    );
    expect(failed.value).toMatchObject({
      reason: 'BackoffLimitExceeded',
      message: 'Job has reached the specified backoff limit',
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
    });
    expect(running.ms).toBeLessThan(2000);
    // one run, not two
    const runs = await api().get('/api/kubeai/runs?limit=1000');
    expect(
      runs.body.items.filter(
        (r: any) => r.name === 'train-a' && r.namespace === ns,
      ),
    ).toHaveLength(1);
  });

  it('shows a TFJob status update (a run the informers record) within 2 s', async () => {
    await create(paths.tfjobs, {
      apiVersion: 'kubeflow.org/v1',
      kind: 'TFJob',
      metadata: kubeaiMetadata('tf-a', ns, {
        modelRef: `model:default/${MODEL}`,
      }),
      spec: {
        tfReplicaSpecs: {
          Worker: {
            replicas: 1,
            template: {
              spec: { containers: [{ ...container, name: 'tensorflow' }] },
            },
          },
        },
      },
    });
    const runId = await observedRunId('TFJob', 'tf-a');
    const run = (await api().get(`/api/kubeai/runs/${runId}`)).body;
    expect(run).toMatchObject({
      kind: 'training',
      cluster: 'local',
      namespace: ns,
      name: 'tf-a',
      phase: 'Pending',
      modelRef: `model:default/${MODEL}`,
      createdBy: 'kubeai-informer',
    });
    const t = now();
    await kube.patchStatus(`${paths.tfjobs}/tf-a`, {
      startTime: t,
      replicaStatuses: { Worker: { active: 1 } },
      conditions: [
        {
          type: 'Created',
          status: 'True',
          reason: 'TFJobCreated',
          lastUpdateTime: t,
          lastTransitionTime: t,
        },
        {
          type: 'Running',
          status: 'True',
          reason: 'TFJobRunning',
          lastUpdateTime: t,
          lastTransitionTime: t,
        },
      ],
    });
    const running = await waitFor(
      async () =>
        (await api().get(`/api/kubeai/runs/${runId}`)).body.phase === 'Running',
      2000,
      'TFJob Running',
    );
    expect(running.ms).toBeLessThan(2000);
    await kube.patchStatus(`${paths.tfjobs}/tf-a`, {
      completionTime: now(),
      replicaStatuses: { Worker: { succeeded: 1 } },
      conditions: [
        {
          type: 'Created',
          status: 'True',
          reason: 'TFJobCreated',
          lastUpdateTime: t,
          lastTransitionTime: t,
        },
        {
          type: 'Running',
          status: 'False',
          reason: 'TFJobRunning',
          lastUpdateTime: t,
          lastTransitionTime: t,
        },
        {
          type: 'Succeeded',
          status: 'True',
          reason: 'TFJobSucceeded',
          message: 'TFJob tf-a successfully completed.',
          lastUpdateTime: now(),
          lastTransitionTime: now(),
        },
      ],
    });
    const done = await waitFor(
      async () => {
        const r = (await api().get(`/api/kubeai/runs/${runId}`)).body;
        return r.phase === 'Succeeded' ? r : undefined;
      },
      2000,
      'TFJob Succeeded',
    );
    expect(done.value).toMatchObject({
      reason: 'TFJobSucceeded',
      finishedAt: expect.any(String),
    });
  });

  it('shows a Notebook ready state and URL within 2 s', async () => {
    await create(paths.notebooks, {
      apiVersion: 'kubeflow.org/v1',
      kind: 'Notebook',
      metadata: kubeaiMetadata('nb-a', ns, {
        entityRef: 'component:default/nb-a',
      }),
      spec: {
        template: { spec: { containers: [{ ...container, name: 'nb-a' }] } },
      },
    });
    const runId = await observedRunId('Notebook', 'nb-a');
    expect((await api().get(`/api/kubeai/runs/${runId}`)).body).toMatchObject({
      kind: 'notebook',
      phase: 'Pending',
      observed: { ready: false },
    });
    await kube.patchStatus(`${paths.notebooks}/nb-a`, {
      readyReplicas: 1,
      containerState: { running: { startedAt: now() } },
      conditions: [],
    });
    const ready = await waitFor(
      async () => {
        const r = (await api().get(`/api/kubeai/runs/${runId}`)).body;
        return r.observed?.ready ? r : undefined;
      },
      2000,
      'Notebook ready',
    );
    expect(ready.value).toMatchObject({
      phase: 'Running',
      observed: {
        kind: 'Notebook',
        ready: true,
        url: `https://kubeflow.example.com/notebook/${ns}/nb-a/`,
      },
    });
  });

  it('shows an InferenceService ready state, URL, traffic and served version within 2 s', async () => {
    const name = `svc-${suffix}`;
    await api()
      .post('/api/kubeai/deployments')
      .send({
        serviceRef: `inferenceservice:default/${name}`,
        cluster: 'local',
        namespace: ns,
        name,
        modelRef: `model:default/${MODEL}`,
        traffic: [{ version: 1, percent: 100 }],
      })
      .expect(201);
    await create(paths.isvcs, isvc(name, artifact(1), true));
    const pending = await waitFor(
      async () => {
        const r = (await api().get(`/api/kubeai/deployments/default/${name}`))
          .body;
        if (!r.observed?.uid) throw new Error(JSON.stringify(r));
        return r;
      },
      2000,
      'InferenceService observed',
    );
    expect(pending.value.observed).toMatchObject({
      phase: 'Pending',
      ready: false,
      servedVersion: 1,
    });
    expect(pending.value.drift).toEqual({ status: 'inSync', reasons: [] });

    await kube.patchStatus(`${paths.isvcs}/${name}`, {
      url: `http://${name}.${ns}.example.com`,
      observedGeneration: 1,
      conditions: [
        { type: 'Ready', status: 'True', lastTransitionTime: now() },
      ],
      components: {
        predictor: {
          latestReadyRevision: `${name}-predictor-00001`,
          latestCreatedRevision: `${name}-predictor-00001`,
          traffic: [
            {
              revisionName: `${name}-predictor-00001`,
              percent: 100,
              latestRevision: true,
            },
          ],
        },
      },
    });
    const ready = await waitFor(
      async () => {
        const r = (await api().get(`/api/kubeai/deployments/default/${name}`))
          .body;
        return r.observed?.ready ? r : undefined;
      },
      2000,
      'InferenceService Ready',
    );
    expect(ready.value.observed).toMatchObject({
      phase: 'Ready',
      url: `http://${name}.${ns}.example.com`,
      storageUri: artifact(1),
      servedVersion: 1,
      traffic: [
        {
          version: 1,
          percent: 100,
          revision: `${name}-predictor-00001`,
          latest: true,
          storageUri: artifact(1),
        },
      ],
    });
    expect(ready.value.drift.status).toBe('inSync');
    expect(ready.ms).toBeLessThan(2000);

    // lineage: desired and observed side by side
    const lineage = await api()
      .get(
        `/api/kubeai/lineage?entityRef=inferenceservice:default/${name}&direction=upstream`,
      )
      .expect(200);
    const node = lineage.body.nodes.find(
      (n: any) => n.id === `inferenceservice:default/${name}`,
    );
    expect(node).toMatchObject({
      status: 'Ready',
      observed: { ready: true },
      drift: { status: 'inSync' },
    });
    expect(lineage.body.edges).toEqual(
      expect.arrayContaining([
        {
          from: `model:default/${MODEL}@1`,
          to: node.id,
          type: 'deployedTo',
          percent: 100,
        },
        {
          from: `model:default/${MODEL}@1`,
          to: node.id,
          type: 'servedBy',
          percent: 100,
        },
      ]),
    );
  });

  it('flags drift when the storageUri is changed with kubectl, and when the service is deleted', async () => {
    const name = `drift-${suffix}`;
    await api()
      .post('/api/kubeai/deployments')
      .send({
        serviceRef: `inferenceservice:default/${name}`,
        cluster: 'local',
        namespace: ns,
        name,
        modelRef: `model:default/${MODEL}`,
        traffic: [{ version: 1, percent: 100 }],
      })
      .expect(201);
    await create(paths.isvcs, isvc(name, artifact(1), true));
    await waitFor(
      async () =>
        (
          await api().get(`/api/kubeai/deployments/default/${name}`)
        ).body.drift?.status === 'inSync',
      2000,
      'in sync',
    );

    await kubectl(state, [
      'patch',
      'inferenceservice',
      name,
      '-n',
      ns,
      '--type=merge',
      '-p',
      JSON.stringify({
        spec: { predictor: { model: { storageUri: artifact(2) } } },
      }),
    ]);
    const drifted = await waitFor(
      async () => {
        const r = (await api().get(`/api/kubeai/deployments/default/${name}`))
          .body;
        return r.drift?.status === 'drifted' ? r : undefined;
      },
      2000,
      'drift after kubectl patch',
    );
    expect(drifted.value.observed).toMatchObject({
      servedVersion: 2,
      storageUri: artifact(2),
    });
    expect(drifted.value.drift.reasons).toEqual([
      {
        type: 'version',
        message:
          'declared version 1 (100%), but the cluster serves version 2 (100%)',
      },
    ]);
    // the desired state is untouched
    expect(drifted.value).toMatchObject({
      revision: 1,
      traffic: [{ version: 1, percent: 100 }],
    });

    await kubectl(state, [
      'patch',
      'inferenceservice',
      name,
      '-n',
      ns,
      '--type=merge',
      '-p',
      JSON.stringify({
        spec: { predictor: { model: { storageUri: 's3://elsewhere/model' } } },
      }),
    ]);
    const unregistered = await waitFor(
      async () => {
        const r = (await api().get(`/api/kubeai/deployments/default/${name}`))
          .body;
        return r.observed?.storageUri === 's3://elsewhere/model'
          ? r
          : undefined;
      },
      2000,
      'unregistered artifact',
    );
    expect(unregistered.value.observed.servedVersion).toBeNull();
    expect(unregistered.value.drift.reasons[0].message).toContain(
      's3://elsewhere/model is no registered version',
    );

    await kubectl(state, ['delete', 'inferenceservice', name, '-n', ns]);
    const deleted = await waitFor(
      async () => {
        const r = (await api().get(`/api/kubeai/deployments/default/${name}`))
          .body;
        return r.drift?.reasons?.[0]?.type === 'deleted' ? r : undefined;
      },
      2000,
      'drift after delete',
    );
    expect(deleted.value.observed).toMatchObject({
      phase: 'Deleted',
      deleted: true,
      ready: false,
    });
    expect(deleted.value.drift.reasons[0].message).toContain(
      'was deleted outside the portal',
    );
  });

  it('attaches an InferenceService created with kubectl whose storageUri is a registered artifact to lineage', async () => {
    const name = `found-${suffix}`;
    await kubectl(
      state,
      ['apply', '-f', '-'],
      JSON.stringify(isvc(name, artifact(3), false)),
    );
    created.push(`${paths.isvcs}/${name}`);
    const discoveredRef = `inferenceservice:default/local.${ns}.${name}`;
    const found = await waitFor(
      async () => {
        const r = await api().get(
          `/api/kubeai/lineage?entityRef=model:default/${MODEL}&version=3&direction=downstream`,
        );
        return r.body.nodes?.find((n: any) => n.discovered) as any;
      },
      2000,
      'discovered service in lineage',
    );
    expect(found.value).toMatchObject({
      id: discoveredRef,
      type: 'inferenceService',
      entityRef: discoveredRef,
      label: name,
      discovered: true,
      observed: {
        cluster: 'local',
        namespace: ns,
        name,
        storageUri: artifact(3),
      },
    });
    const lineage = await api().get(
      `/api/kubeai/lineage?entityRef=model:default/${MODEL}&version=3&direction=downstream`,
    );
    expect(lineage.body.edges).toContainEqual({
      from: `model:default/${MODEL}@3`,
      to: discoveredRef,
      type: 'servedBy',
    });
    const listed = await api()
      .get('/api/kubeai/observed/objects?discovered=true')
      .expect(200);
    expect(listed.body.items).toContainEqual(
      expect.objectContaining({
        name,
        managed: false,
        entityRef: discoveredRef,
        discovered: { modelRef: `model:default/${MODEL}`, version: 3 },
      }),
    );
    // the discovered service is a lineage start of its own
    const upstream = await api()
      .get(`/api/kubeai/lineage?entityRef=${discoveredRef}&direction=upstream`)
      .expect(200);
    expect(upstream.body.roots).toEqual([discoveredRef]);
    expect(upstream.body.edges).toContainEqual({
      from: `model:default/${MODEL}@3`,
      to: discoveredRef,
      type: 'servedBy',
    });
    // one not serving a registered artifact is no discovery
    await kubectl(
      state,
      ['apply', '-f', '-'],
      JSON.stringify(isvc(`other-${suffix}`, 's3://x/y', false)),
    );
    created.push(`${paths.isvcs}/other-${suffix}`);
    await waitFor(
      async () =>
        (
          await api().get(
            `/api/kubeai/observed/objects?kind=InferenceService&namespace=${ns}`,
          )
        ).body.items.some((o: any) => o.name === `other-${suffix}`),
      2000,
      'other service observed',
    );
    const again = await api().get(
      '/api/kubeai/observed/objects?discovered=true',
    );
    expect(again.body.items.map((o: any) => o.name)).not.toContain(
      `other-${suffix}`,
    );
  });

  it('records CronJob-spawned Jobs as runs of their schedule', async () => {
    const cron = await create(paths.cronjobs, {
      apiVersion: 'batch/v1beta1',
      kind: 'CronJob',
      metadata: kubeaiMetadata('nightly', ns, {}),
      spec: { schedule: '0 2 * * *', jobTemplate: { spec: job('x').spec } },
    });
    // what the CronJob controller does: a Job owned by the CronJob, with the template's labels
    const spawned = job('nightly-27800000', {});
    (spawned.metadata as any).ownerReferences = [
      {
        apiVersion: 'batch/v1beta1',
        kind: 'CronJob',
        name: 'nightly',
        uid: cron.metadata.uid,
        controller: true,
      },
    ];
    await create(paths.jobs, spawned);
    const runId = await observedRunId('Job', 'nightly-27800000');
    const run = (await api().get(`/api/kubeai/runs/${runId}`)).body;
    expect(run).toMatchObject({
      kind: 'training',
      schedule: { kind: 'CronJob', name: 'nightly' },
    });
    const schedules = await api().get(
      `/api/kubeai/observed/objects?kind=CronJob&namespace=${ns}`,
    );
    expect(schedules.body.items).toEqual([
      expect.objectContaining({
        name: 'nightly',
        phase: 'Scheduled',
        details: expect.objectContaining({ schedule: '0 2 * * *' }),
      }),
    ]);
  });

  it('records the Fluid cache state of datasets', async () => {
    await create(paths.datasets, {
      apiVersion: 'data.fluid.io/v1alpha1',
      kind: 'Dataset',
      metadata: kubeaiMetadata('images', ns, {
        entityRef: 'dataset:default/images',
      }),
      spec: {
        mounts: [{ mountPoint: 's3://datasets/images/', name: 'images' }],
      },
    });
    await kube.patchStatus(`${paths.datasets}/images`, {
      phase: 'Bound',
      ufsTotal: '10.00GiB',
      cacheStates: {
        cacheCapacity: '20.00GiB',
        cached: '5.00GiB',
        cachedPercentage: '50.0%',
      },
      conditions: [],
    });
    const { value } = await waitFor(
      async () => {
        const r = await api().get(
          '/api/kubeai/observed/objects?entityRef=dataset:default/images',
        );
        return r.body.items?.find((o: any) => o.phase === 'Bound');
      },
      2000,
      'dataset Bound',
    );
    expect(value).toMatchObject({
      kind: 'Dataset',
      ready: true,
      details: {
        cacheStates: { cachedPercentage: '50.0%' },
        ufsTotal: '10.00GiB',
      },
    });
  });

  describe('run logs', () => {
    let runId: string;
    beforeAll(async () => {
      const run = await api()
        .post('/api/kubeai/runs')
        .send({
          kind: 'training',
          cluster: 'local',
          namespace: ns,
          name: 'logs-a',
        })
        .expect(201);
      runId = run.body.id;
      await create(paths.jobs, job('logs-a', { runId }));
      await waitFor(
        async () => (await api().get(`/api/kubeai/runs/${runId}`)).body.uid,
        5000,
        'logs-a linked',
      );
    });

    it('answers 404 for an unknown run and for a run without pods', async () => {
      const unknown = await api().get(
        '/api/kubeai/runs/00000000-0000-4000-8000-000000000000/logs',
      );
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.message).toBe(
        'run 00000000-0000-4000-8000-000000000000 not found',
      );
      const none = await api().get(`/api/kubeai/runs/${runId}/logs`);
      expect(none.status).toBe(404);
      expect(none.body.error.message).toBe(
        `run ${runId} (Job ${ns}/logs-a in cluster local) has no pods: none matches job-name=logs-a or batch.kubernetes.io/job-name=logs-a or kubeai.io/run=${runId}`,
      );
    });

    it('validates tail by the spec', async () => {
      for (const tail of ['0', '10001', 'abc']) {
        const res = await api().get(
          `/api/kubeai/runs/${runId}/logs?tail=${tail}`,
        );
        expect(res.status).toBe(400);
        expect(res.body.error.message).toContain('request/query/tail');
      }
    });

    it('names the reason when a pod cannot give logs: not scheduled, node unknown, kubelet unreachable', async () => {
      const pod = (name: string, nodeName?: string) => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: ns, labels: { 'job-name': 'logs-a' } },
        spec: {
          ...(nodeName ? { nodeName } : {}),
          restartPolicy: 'Never',
          containers: [container],
        },
      });
      await create(paths.pods, pod('logs-a-pending'));
      const pending = await api().get(
        `/api/kubeai/runs/${runId}/logs?pod=logs-a-pending`,
      );
      expect(pending.status).toBe(409);
      expect(pending.body.error.message).toBe(
        'pod logs-a-pending is not scheduled to a node yet (phase Pending): it has no logs',
      );

      const node = `kubeai-fake-node-${suffix}`;
      await create(paths.pods, pod('logs-a-lost', node));
      const lost = await api().get(
        `/api/kubeai/runs/${runId}/logs?pod=logs-a-lost&tail=5`,
      );
      expect(lost.status).toBe(503);
      expect(lost.body.error.message).toBe(
        `cannot read the logs of pod ${ns}/logs-a-lost in cluster local: its node ${node} is not registered with the apiserver (no kubelet answers for it)`,
      );

      // a registered node whose kubelet does not answer (nothing listens on port 1)
      const node2 = `kubeai-fake-node2-${suffix}`;
      await kube.create('/api/v1/nodes', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: node2 },
      });
      created.push(`/api/v1/nodes/${node2}`);
      await kube.patchStatus(`/api/v1/nodes/${node2}`, {
        addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
        daemonEndpoints: { kubeletEndpoint: { Port: 1 } },
      });
      await create(paths.pods, pod('logs-a-kubelet', node2));
      const kubelet = await api().get(
        `/api/kubeai/runs/${runId}/logs?pod=logs-a-kubelet&tail=5&follow=true`,
      );
      expect(kubelet.status).toBe(503);
      expect(kubelet.body.error.message).toMatch(
        new RegExp(
          `^cannot read the logs of pod ${ns}/logs-a-kubelet in cluster local: the kubelet of node ${node2} is unreachable \\(.*connection refused\\)$`,
        ),
      );
      const unknownPod = await api().get(
        `/api/kubeai/runs/${runId}/logs?pod=nope`,
      );
      expect(unknownPod.status).toBe(404);
    });

    it("streams the log lines of the run's pods, as a kubelet gives them (a stand-in kubelet)", async () => {
      // The apiserver proxies pod logs to https://<node address>:<kubelet port>/containerLogs/…;
      // no kubelet runs here, so the test serves that endpoint itself, as it plays the controllers.
      const certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-kubelet-'));
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=kubelet',
          '-keyout',
          path.join(certDir, 'key.pem'),
          '-out',
          path.join(certDir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      const lines = Array.from({ length: 10 }, (_, i) => `step ${i + 1}`);
      const requests: string[] = [];
      let followClosed = false;
      const kubelet = https.createServer(
        {
          key: fs.readFileSync(path.join(certDir, 'key.pem')),
          cert: fs.readFileSync(path.join(certDir, 'cert.pem')),
        },
        (req, res) => {
          requests.push(req.url ?? '');
          const url = new URL(req.url ?? '/', 'https://kubelet');
          const pod = url.pathname.split('/')[3];
          const tail = Number(
            url.searchParams.get('tailLines') ?? lines.length,
          );
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          for (const line of lines.slice(-tail)) res.write(`${pod}: ${line}\n`);
          if (url.searchParams.get('follow') !== 'true') {
            res.end();
            return;
          }
          let n = 0;
          const timer = setInterval(
            () => res.write(`${pod}: live ${++n}\n`),
            50,
          );
          res.on('close', () => {
            clearInterval(timer);
            followClosed = true;
          });
        },
      );
      await new Promise<void>(r => kubelet.listen(0, '127.0.0.1', () => r()));
      const port = (kubelet.address() as { port: number }).port;
      const node = `kubeai-kubelet-${suffix}`;
      try {
        await kube.create('/api/v1/nodes', {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: { name: node },
        });
        created.push(`/api/v1/nodes/${node}`);
        await kube.patchStatus(`/api/v1/nodes/${node}`, {
          addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
          daemonEndpoints: { kubeletEndpoint: { Port: port } },
        });
        const run = await api()
          .post('/api/kubeai/runs')
          .send({
            kind: 'training',
            cluster: 'local',
            namespace: ns,
            name: 'logs-b',
          })
          .expect(201);
        await create(paths.jobs, job('logs-b', { runId: run.body.id }));
        for (const name of ['logs-b-0', 'logs-b-1']) {
          await create(paths.pods, {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name, namespace: ns, labels: { 'job-name': 'logs-b' } },
            spec: {
              nodeName: node,
              restartPolicy: 'Never',
              containers: [container],
            },
          });
        }
        await waitFor(
          async () =>
            (
              await api().get(`/api/kubeai/runs/${run.body.id}`)
            ).body.uid,
          5000,
          'logs-b linked',
        );

        const one = await api().get(
          `/api/kubeai/runs/${run.body.id}/logs?pod=logs-b-0&tail=3`,
        );
        expect(one.status).toBe(200);
        expect(one.headers['content-type']).toBe('text/plain; charset=utf-8');
        expect(one.text).toBe(
          'logs-b-0: step 8\nlogs-b-0: step 9\nlogs-b-0: step 10\n',
        );
        expect(requests).toContain(
          `/containerLogs/${ns}/logs-b-0/main?tailLines=3`,
        );

        const both = await api().get(
          `/api/kubeai/runs/${run.body.id}/logs?tail=1`,
        );
        expect(both.status).toBe(200);
        expect(both.text).toBe(
          '[logs-b-0] logs-b-0: step 10\n[logs-b-1] logs-b-1: step 10\n',
        );

        // follow: lines keep coming until the client goes away, then the kubelet stream is closed
        const address = backend.server.address() as { port: number };
        const received = await new Promise<string>((resolve, reject) => {
          let text = '';
          const req = http.get(
            `http://127.0.0.1:${address.port}/api/kubeai/runs/${run.body.id}/logs?pod=logs-b-1&tail=1&follow=true`,
            res => {
              res.setEncoding('utf8');
              res.on('data', chunk => {
                text += chunk;
                if (text.includes('live 3')) {
                  req.destroy();
                  resolve(text);
                }
              });
            },
          );
          req.on('error', error =>
            text.includes('live 3') ? undefined : reject(error),
          );
        });
        expect(
          received.startsWith('logs-b-1: step 10\nlogs-b-1: live 1\n'),
        ).toBe(true);
        await waitFor(
          async () => followClosed,
          5000,
          'kubelet stream closed after the client left',
        );
        expect(requests).toContain(
          `/containerLogs/${ns}/logs-b-1/main?follow=true&tailLines=1`,
        );
      } finally {
        kubelet.closeAllConnections();
        await new Promise(r => kubelet.close(r));
        fs.rmSync(certDir, { recursive: true, force: true });
      }
    });

    it('answers 403 and nothing else when the permission is denied', async () => {
      const denied = await startTestBackend({
        features: [
          kubeaiPlugin,
          mockServices.database.factory({ knex }),
          catalogServiceMock.factory({ entities }),
          mockServices.rootConfig.factory({
            data: {
              ...backendConfig(),
              kubeai: { informers: { enabled: false } },
            },
          }),
          mockServices.permissions.factory({ result: AuthorizeResult.DENY }),
        ],
      });
      try {
        const res = await request(denied.server).get(
          `/api/kubeai/runs/${runId}/logs?pod=logs-a-kubelet`,
        );
        expect(res.status).toBe(403);
        expect(res.headers['content-type']).toMatch(/application\/json/);
        expect(res.body.error).toEqual({
          name: 'NotAllowedError',
          message: 'kubeai.run.logs.read denied',
        });
        // also for runs that do not exist: no probing through the permission
        const unknown = await request(denied.server).get(
          '/api/kubeai/runs/00000000-0000-4000-8000-000000000000/logs',
        );
        expect(unknown.status).toBe(403);
        const status = await request(denied.server).get(
          '/api/kubeai/clusters/status',
        );
        expect(status.body).toEqual({ informersEnabled: false, items: [] });
      } finally {
        await denied.stop();
      }
    });
  });

  it('resyncs after a backend restart without duplicates, picking up what changed meanwhile', async () => {
    // (other tests share the cluster: count this test's namespace)
    const count = async () => ({
      runs: Number(
        (
          await knex('kubeai_runs').where({ namespace: ns }).count({ c: '*' })
        )[0].c,
      ),
      deployments: Number(
        (
          await knex('kubeai_deployments')
            .where({ namespace: ns })
            .count({ c: '*' })
        )[0].c,
      ),
      objects: Number(
        (
          await knex('kubeai_cluster_objects')
            .where({ namespace: ns })
            .count({ c: '*' })
        )[0].c,
      ),
    });
    await create(paths.jobs, job('restart-a'));
    const runId = await observedRunId('Job', 'restart-a');
    const before = await count();
    await backend.stop();

    // while no backend watches: a status change and a deletion
    await kube.patchStatus(`${paths.jobs}/restart-a`, {
      startTime: now(),
      succeeded: 1,
      completionTime: now(),
      conditions: [
        { type: 'Complete', status: 'True', lastTransitionTime: now() },
      ],
    });
    await kube.remove(`${paths.jobs}/train-a`);

    backend = await startBackend(knex);
    const done = await waitFor(
      async () =>
        (await api().get(`/api/kubeai/runs/${runId}`)).body.phase ===
        'Succeeded',
      15_000,
      'status change made while down',
    );
    expect(done.value).toBe(true);
    await waitFor(
      async () => {
        const res = await api().get('/api/kubeai/clusters/status');
        return (
          res.body.items.find((c: any) => c.name === 'local')?.state ===
          'synced'
        );
      },
      15_000,
      'synced again',
    );
    const trainA = (
      await api().get(
        `/api/kubeai/observed/objects?kind=Job&namespace=${ns}&includeDeleted=true`,
      )
    ).body.items.find((o: any) => o.name === 'train-a');
    expect(trainA.deletedAt).toEqual(expect.any(String));
    const failedRun = (await api().get(`/api/kubeai/runs/${trainA.runId}`))
      .body;
    // the final phase stays: the Job had failed before it was deleted
    expect(failedRun).toMatchObject({
      phase: 'Failed',
      observed: { deleted: true },
    });
    expect(await count()).toEqual(before);
  });
});
