/*
 * Warehouse tables as inputs of training tasks, notebooks and pipeline steps, against the real local kube-apiserver 1.20
 * (`yarn cluster:start`): the applied workload carries the table as env (and args when asked),
 * the partition read is registered once as the dataset version the run's input points to, and bad
 * inputs are refused naming the field with nothing in the cluster or the registry.
 */
import { mockServices } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import request from 'supertest';
import { RUN_ENV } from '../manifests';
import { snapshotRegistry } from '../__testUtils__/databases';
import { listCreated } from './__testUtils__/clusterRoutes';
import { API, clusterRoutesSuite } from './__testUtils__/clusterRoutesSuite';

// The first import() of @kubernetes/client-node under jest's VM modules takes seconds.
jest.setTimeout(180_000);

const { NS, BAD_NS, startBackend, databases, gateway, readBack, seedRegistry } =
  clusterRoutesSuite('routestables');

const CLICKS = 'dataset:default/clicks';

describe('table inputs of training tasks, notebooks and pipelines (SQLite registry)', () => {
  let server: Awaited<ReturnType<typeof startBackend>>['server'];
  let knex: Awaited<ReturnType<typeof databases.init>>;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    knex = await databases.init('SQLITE_3');
    const backend = await startBackend(knex);
    server = backend.server;
    stop = () => backend.stop();
    await seedRegistry(server);
  });
  afterAll(() => stop());

  const job = (name: string, patch: Record<string, unknown> = {}) => ({
    cluster: 'local',
    namespace: NS,
    name,
    kind: 'Job',
    image: 'ghcr.io/acme/ctr-trainer:2.0',
    command: ['python', '-m', 'ctr.train'],
    args: ['--epochs', '3'],
    modelRef: 'model:default/sales-forecast',
    ...patch,
  });
  const versionsOfClicks = async () =>
    (await request(server).get(`${API}/datasets/default/clicks/versions`)).body;

  it('gives the table to the pods as env and args and records the partition as the input version', async () => {
    const res = await request(server)
      .post(`${API}/jobs`)
      .send(
        job('ctr-daily-1201', {
          datasets: [
            { datasetRef: CLICKS, partition: 'ds=2026-12-01', args: true },
          ],
        }),
      );
    expect(res.status).toBe(201);
    expect(res.body.run.inputs).toEqual([
      { datasetRef: CLICKS, version: '2026-12-01' },
    ]);
    const stored = await readBack('batch/v1', 'Job', 'ctr-daily-1201');
    const [container] = stored.spec.template.spec.containers;
    // the table's variables (the run's own KUBEAI_RUN_* follow: clusterRoutes.runIdentity.test.ts)
    expect(
      container.env.filter((e: { name: string }) =>
        e.name.startsWith('KUBEAI_INPUT_'),
      ),
    ).toEqual([
      { name: 'KUBEAI_INPUT_CLICKS_ENGINE', value: 'odps' },
      { name: 'KUBEAI_INPUT_CLICKS_PROJECT', value: 'dw' },
      { name: 'KUBEAI_INPUT_CLICKS_TABLE', value: 'clicks' },
      { name: 'KUBEAI_INPUT_CLICKS_PARTITION', value: 'ds=2026-12-01' },
      {
        name: 'KUBEAI_INPUT_CLICKS_URI',
        value: 'odps://dw.clicks/ds=2026-12-01',
      },
    ]);
    expect(container.args).toEqual([
      '--epochs',
      '3',
      '--input-clicks-project=dw',
      '--input-clicks-table=clicks',
      '--input-clicks-partition=ds=2026-12-01',
    ]);
    // a table is not a volume: only the run's credential is mounted
    expect(
      stored.spec.template.spec.volumes.map((v: { name: string }) => v.name),
    ).toEqual(['kubeai-run-credential']);
    const version = await request(server).get(
      `${API}/datasets/default/clicks/versions/2026-12-01`,
    );
    expect(version.status).toBe(200);
    expect(version.body).toMatchObject({
      uri: 'odps://dw.clicks/ds=2026-12-01',
      datasetRef: CLICKS,
    });
    // the run is found from the dataset version it read
    const runs = await request(server).get(
      `${API}/runs?dataset=${encodeURIComponent(CLICKS)}`,
    );
    expect(runs.body.items.map((r: any) => r.id)).toContain(res.body.run.id);
  });

  it('reads a partition again as the same version; a batch registers each new one once', async () => {
    const res = await request(server)
      .post(`${API}/jobs/batch`)
      .send({
        items: [
          job('ctr-daily-again', {
            datasets: [{ datasetRef: CLICKS, partition: 'ds=2026-12-01' }],
          }),
          job('ctr-daily-1202', {
            datasets: [{ datasetRef: CLICKS, partition: 'ds=2026-12-02' }],
          }),
          job('ctr-daily-1202-b', {
            datasets: [{ datasetRef: CLICKS, partition: 'ds=2026-12-02' }],
          }),
        ],
      });
    expect(res.status).toBe(201);
    const inputs = [];
    for (const item of res.body.items) {
      const run = await request(server).get(`${API}/runs/${item.runId}`);
      inputs.push(run.body.inputs);
    }
    expect(inputs).toEqual([
      [{ datasetRef: CLICKS, version: '2026-12-01' }],
      [{ datasetRef: CLICKS, version: '2026-12-02' }],
      [{ datasetRef: CLICKS, version: '2026-12-02' }],
    ]);
    const versions = await versionsOfClicks();
    expect(versions.items.map((v: any) => v.version).sort()).toEqual([
      '2026-12-01',
      '2026-12-02',
    ]);
    // the whole table, or a registered version of it, registers nothing
    const whole = await request(server)
      .post(`${API}/jobs`)
      .send(
        job('ctr-whole', {
          datasets: [
            { datasetRef: CLICKS },
            { datasetRef: CLICKS, name: 'day', version: '2026-12-02' },
          ],
        }),
      );
    expect(whole.status).toBe(201);
    expect(whole.body.run.inputs).toEqual([
      { datasetRef: CLICKS },
      { datasetRef: CLICKS, version: '2026-12-02' },
    ]);
    const env = (await readBack('batch/v1', 'Job', 'ctr-whole')).spec.template
      .spec.containers[0].env;
    expect(env.map((e: any) => e.name)).not.toContain(
      'KUBEAI_INPUT_CLICKS_PARTITION',
    );
    expect(env).toContainEqual({
      name: 'KUBEAI_INPUT_DAY_PARTITION',
      value: 'ds=2026-12-02',
    });
    expect((await versionsOfClicks()).totalItems).toBe(2);
  });

  it('registers nothing on a dry run', async () => {
    const res = await request(server)
      .post(`${API}/jobs`)
      .send(
        job('ctr-dry', {
          dryRun: true,
          datasets: [{ datasetRef: CLICKS, partition: 'ds=2026-12-09' }],
        }),
      );
    expect(res.status).toBe(201);
    expect(JSON.stringify(res.body.manifests)).toContain(
      'KUBEAI_INPUT_CLICKS_PARTITION',
    );
    expect(
      (await versionsOfClicks()).items.map((v: any) => v.version),
    ).not.toContain('2026-12-09');
  });

  it('gives a notebook the table as env and records the partition as its input version', async () => {
    const res = await request(server)
      .post(`${API}/notebooks`)
      .send({
        cluster: 'local',
        namespace: NS,
        name: 'clicks-explore',
        image: 'jupyter/base-notebook:latest',
        env: [{ name: 'HF_HOME', value: '/tmp/hf' }],
        datasets: [{ datasetRef: CLICKS, partition: 'ds=2026-12-05' }],
      });
    expect(res.status).toBe(201);
    expect(res.body.run.inputs).toEqual([
      { datasetRef: CLICKS, version: '2026-12-05' },
    ]);
    const stored = await readBack(
      'kubeflow.org/v1',
      'Notebook',
      'clicks-explore',
    );
    const [container] = stored.spec.template.spec.containers;
    const runEnv: string[] = Object.values(RUN_ENV);
    expect(
      container.env.filter((e: { name: string }) => !runEnv.includes(e.name)),
    ).toEqual([
      { name: 'HF_HOME', value: '/tmp/hf' },
      { name: 'KUBEAI_INPUT_CLICKS_ENGINE', value: 'odps' },
      { name: 'KUBEAI_INPUT_CLICKS_PROJECT', value: 'dw' },
      { name: 'KUBEAI_INPUT_CLICKS_TABLE', value: 'clicks' },
      { name: 'KUBEAI_INPUT_CLICKS_PARTITION', value: 'ds=2026-12-05' },
      {
        name: 'KUBEAI_INPUT_CLICKS_URI',
        value: 'odps://dw.clicks/ds=2026-12-05',
      },
    ]);
    // only the run's credential is mounted: a table is not a volume
    expect(container.volumeMounts).toEqual([
      expect.objectContaining({ mountPath: '/var/run/secrets/kubeai' }),
    ]);
    const version = await request(server).get(
      `${API}/datasets/default/clicks/versions/2026-12-05`,
    );
    expect(version.body).toMatchObject({
      uri: 'odps://dw.clicks/ds=2026-12-05',
    });
    const run = await request(server).get(`${API}/runs/${res.body.run.id}`);
    expect(run.body.inputs).toEqual([
      { datasetRef: CLICKS, version: '2026-12-05' },
    ]);
  });

  it("gives a pipeline's container and training steps their tables and records each partition as an input version", async () => {
    const res = await request(server)
      .post(`${API}/pipelines`)
      .send({
        cluster: 'local',
        namespace: NS,
        name: 'clicks-pipeline',
        steps: [
          {
            name: 'features',
            type: 'container',
            image: 'python:3.12',
            command: ['python', '-m', 'features'],
            datasets: [
              { datasetRef: CLICKS, partition: 'ds=2026-12-06', args: true },
            ],
          },
          {
            name: 'train',
            type: 'training',
            dependsOn: ['features'],
            training: {
              kind: 'Job',
              image: 'ghcr.io/acme/ctr-trainer:2.0',
              datasets: [
                { datasetRef: CLICKS, name: 'day', partition: 'ds=2026-12-07' },
              ],
            },
          },
        ],
      });
    expect(res.status).toBe(201);
    expect(res.body.run.inputs).toEqual([
      { datasetRef: CLICKS, version: '2026-12-06' },
      { datasetRef: CLICKS, version: '2026-12-07' },
    ]);
    const stored = await readBack(
      'argoproj.io/v1alpha1',
      'Workflow',
      'clicks-pipeline',
    );
    const features = stored.spec.templates.find(
      (t: any) => t.name === 'features',
    );
    expect(features.container.env).toContainEqual({
      name: 'KUBEAI_INPUT_CLICKS_URI',
      value: 'odps://dw.clicks/ds=2026-12-06',
    });
    expect(features.container.args).toEqual([
      '--input-clicks-project=dw',
      '--input-clicks-table=clicks',
      '--input-clicks-partition=ds=2026-12-06',
    ]);
    // a table is not a volume: only the run's credential is mounted
    expect(features.volumes.map((v: { name: string }) => v.name)).toEqual([
      'kubeai-run-credential',
    ]);
    // the training step's object is applied by Argo from its manifest
    expect(JSON.stringify(stored.spec.templates)).toContain(
      'odps://dw.clicks/ds=2026-12-07',
    );
    const versions = (await versionsOfClicks()).items.map(
      (v: any) => v.version,
    );
    expect(versions).toEqual(
      expect.arrayContaining(['2026-12-06', '2026-12-07']),
    );
  });

  const bad = (patch: Record<string, unknown>) =>
    job('bad-table-job', { namespace: BAD_NS, ...patch });
  const pipeline = (
    step: Record<string, unknown>,
    base: Record<string, unknown> = {
      name: 'one',
      type: 'container',
      image: 'python:3.12',
      command: ['python', '-c', 'print(1)'],
    },
  ) => ({
    cluster: 'local',
    namespace: BAD_NS,
    name: 'bad-table-pipeline',
    steps: [{ ...base, ...step }],
  });
  const notebook = (patch: Record<string, unknown>) => ({
    cluster: 'local',
    namespace: BAD_NS,
    name: 'bad-nb',
    image: 'jupyter/base-notebook:latest',
    ...patch,
  });
  const cases: Array<[string, string, object, number, string]> = [
    [
      'partition of a dataset that is not a table',
      '/jobs',
      bad({
        datasets: [
          { datasetRef: 'dataset:default/bad-shoe-images', partition: 'ds=1' },
        ],
      }),
      422,
      'request/body/datasets/0/partition: dataset:default/bad-shoe-images is not a table dataset',
    ],
    [
      'malformed partition',
      '/jobs',
      bad({ datasets: [{ datasetRef: CLICKS, partition: "ds='1 2'" }] }),
      400,
      'request/body/datasets/0/partition',
    ],
    [
      'partition and version',
      '/jobs',
      bad({
        datasets: [
          { datasetRef: CLICKS, partition: 'ds=7', version: '2026-12-01' },
        ],
      }),
      422,
      'request/body/datasets/0/partition: give the partition or the version',
    ],
    [
      'a claim for a table',
      '/jobs',
      bad({
        datasets: [{ datasetRef: CLICKS, partition: 'ds=7', claimName: 'x' }],
      }),
      422,
      'request/body/datasets/0/claimName: dataset:default/clicks is a table',
    ],
    [
      'two table inputs of one name',
      '/jobs',
      bad({
        datasets: [
          { datasetRef: CLICKS, partition: 'ds=7' },
          { datasetRef: CLICKS, partition: 'ds=8' },
        ],
      }),
      400,
      'request/body/datasets/1/name duplicate table input "clicks"',
    ],
    [
      'two mounts of one name after a table (named by their place in the request)',
      '/jobs',
      bad({
        datasets: [
          { datasetRef: CLICKS, partition: 'ds=7' },
          { datasetRef: 'dataset:default/bad-shoe-images' },
          { datasetRef: 'dataset:default/bad-shoe-images' },
        ],
      }),
      400,
      'request/body/datasets/2/name duplicate dataset "bad-shoe-images"',
    ],
    [
      'env a table input sets',
      '/jobs',
      bad({
        env: [{ name: 'KUBEAI_INPUT_CLICKS_TABLE', value: 'x' }],
        datasets: [{ datasetRef: CLICKS, partition: 'ds=7' }],
      }),
      400,
      'request/body/env/0/name',
    ],
    [
      'a batch item reading a partition of a non-table',
      '/jobs/batch',
      {
        items: [
          bad({ datasets: [{ datasetRef: CLICKS, partition: 'ds=7' }] }),
          bad({
            name: 'bad-table-job-2',
            datasets: [
              { datasetRef: 'dataset:default/bad-shoe-images', args: true },
            ],
          }),
        ],
      },
      422,
      'request/body/items/1/datasets/0/args',
    ],
    [
      'a notebook asking for table arguments (a notebook server takes none)',
      '/notebooks',
      notebook({ datasets: [{ datasetRef: CLICKS, args: true }] }),
      400,
      'request/body/datasets/0/args',
    ],
    [
      'notebook env a table input sets',
      '/notebooks',
      notebook({
        env: [{ name: 'KUBEAI_INPUT_CLICKS_URI', value: 'x' }],
        datasets: [{ datasetRef: CLICKS, partition: 'ds=7' }],
      }),
      400,
      'request/body/env/0/name',
    ],
    [
      'a notebook mounting a table',
      '/notebooks',
      notebook({
        datasets: [
          { datasetRef: CLICKS, partition: 'ds=7', mountPath: '/data/x' },
        ],
      }),
      422,
      'request/body/datasets/0/mountPath: dataset:default/clicks is a table',
    ],
    [
      'pipeline step env a table input sets',
      '/pipelines',
      pipeline({
        env: [{ name: 'KUBEAI_INPUT_CLICKS_TABLE', value: 'x' }],
        datasets: [{ datasetRef: CLICKS, partition: 'ds=7' }],
      }),
      400,
      'request/body/steps/0/env/0/name',
    ],
    [
      'two mounts of one name after a table in a pipeline step (named by their place in the request)',
      '/pipelines',
      pipeline({
        datasets: [
          { datasetRef: CLICKS, partition: 'ds=7' },
          { datasetRef: 'dataset:default/bad-shoe-images' },
          { datasetRef: 'dataset:default/bad-shoe-images' },
        ],
      }),
      400,
      'request/body/steps/0/datasets/2/name duplicate dataset "bad-shoe-images"',
    ],
    [
      'a training step mounting a table',
      '/pipelines',
      pipeline(
        {},
        {
          name: 'train',
          type: 'training',
          training: {
            kind: 'Job',
            image: 'ghcr.io/acme/ctr-trainer:2.0',
            datasets: [{ datasetRef: CLICKS, subPath: 'x' }],
          },
        },
      ),
      422,
      'request/body/steps/0/training/datasets/0/subPath: dataset:default/clicks is a table',
    ],
  ];

  it(`refuses ${cases.length} bad table inputs naming the field, writing nothing`, async () => {
    const before = await snapshotRegistry(knex);
    const failures: string[] = [];
    for (const [label, path, body, status, field] of cases) {
      const res = await request(server).post(`${API}${path}`).send(body);
      const message: string = res.body?.error?.message ?? res.text;
      if (res.status !== status || !message.includes(field)) {
        failures.push(`${label}: ${res.status} ${message}`);
      }
    }
    expect(failures).toEqual([]);
    expect(await listCreated(gateway, BAD_NS)).toEqual([]);
    expect(await snapshotRegistry(knex)).toEqual(before);
  });
});

describe('registering the partition a training task reads', () => {
  const denied = new Set<string>();
  const authorize = async (
    requests: { permission: { name: string }; resourceRef?: string }[],
  ) =>
    requests.map(r => ({
      result: denied.has(`${r.permission.name} on ${r.resourceRef}`)
        ? AuthorizeResult.DENY
        : AuthorizeResult.ALLOW,
    }));

  it('needs kubeai.dataset.version.create on the dataset, only when the partition is new', async () => {
    const knex = await databases.init('SQLITE_3');
    const backend = await startBackend(knex, [
      mockServices.permissions.mock({ authorize } as never).factory,
    ]);
    try {
      const body = (namespace: string, name: string, partition: string) => ({
        cluster: 'local',
        namespace,
        name,
        kind: 'Job',
        image: 'ghcr.io/acme/ctr-trainer:2.0',
        datasets: [{ datasetRef: CLICKS, partition }],
      });
      await request(backend.server)
        .post(`${API}/jobs`)
        .send(body(NS, 'ctr-perm-1', 'ds=2026-11-30'))
        .expect(201);
      denied.add(`kubeai.dataset.version.create on ${CLICKS}`);
      const refused = await request(backend.server)
        .post(`${API}/jobs`)
        .send(body(BAD_NS, 'ctr-perm-2', 'ds=2026-11-29'));
      expect(refused.status).toBe(403);
      expect(refused.body.error.message).toContain(
        `kubeai.dataset.version.create denied on ${CLICKS}`,
      );
      expect(await listCreated(gateway, BAD_NS)).toEqual([]);
      const versions = await request(backend.server).get(
        `${API}/datasets/default/clicks/versions`,
      );
      expect(versions.body.items.map((v: any) => v.version)).toEqual([
        '2026-11-30',
      ]);
      // a partition already registered is only read
      const again = await request(backend.server)
        .post(`${API}/jobs`)
        .send(body(NS, 'ctr-perm-3', 'ds=2026-11-30'));
      expect(again.status).toBe(201);
      expect(again.body.run.inputs).toEqual([
        { datasetRef: CLICKS, version: '2026-11-30' },
      ]);
    } finally {
      denied.clear();
      await backend.stop();
    }
  });
});
