/*
 * The cluster informers against the real local kube-apiserver (`yarn cluster:start`), through the
 * plugin's HTTP API: cluster health, and the status of Jobs, TFJobs, Notebooks, CronJob-spawned
 * Jobs and Fluid datasets as runs and observed objects; a backend restart resyncs without
 * duplicates. The test plays the controllers: it writes status through the `/status` subresource
 * and measures until the API shows it.
 */
import { Knex } from 'knex';
import request from 'supertest';
import { kubeaiMetadata } from '../manifests/labels';
import { waitFor } from './__testUtils__/kube';
import { informersSuite } from './__testUtils__/informersSuite';

jest.setTimeout(180_000);

const {
  ns,
  kube,
  MODEL,
  startBackend,
  paths,
  create,
  container,
  job,
  now,
  setUp,
  tearDown,
} = informersSuite('infruns');

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
    ({ knex, backend } = await setUp());
  });

  afterAll(() => tearDown(backend));

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
