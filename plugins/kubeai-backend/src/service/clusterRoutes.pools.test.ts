/*
 * Pools and quotas (POST /pools, GET /clusters/{cluster}/pools) and the routing of training tasks
 * to their namespace's LocalQueue (`kubeai.pools.routing`), against the real local kube-apiserver
 * with the real Kueue CRDs (`yarn cluster:start`): the objects are read back as built; a caller
 * refused `kubeai.pool.update` gets 403 and nothing is written; a task without a queue gets the
 * LocalQueue, the flavor's node labels and the priority class the rule says; an unknown queue or
 * a flavor the team has no quota in is a 422 naming it, with nothing applied. Every cluster-scoped
 * object the tests create is deleted at the end (the namespaces are purged by the suite).
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import YAML from 'yaml';
import { buildPools, KUEUE_API_VERSION } from '../manifests/kueue';
import { kubeaiPlugin } from '../plugin';
import {
  listCreated,
  localKubernetesConfig,
} from './__testUtils__/clusterRoutes';
import { API, clusterRoutesSuite } from './__testUtils__/clusterRoutesSuite';

// The first import() of @kubernetes/client-node under jest's VM modules takes seconds.
jest.setTimeout(180_000);

const { NS, BAD_NS, databases, gateway } = clusterRoutesSuite('routespools');

const hex = randomBytes(3).toString('hex');
const ELASTIC = `elastic-${hex}`;
const REGULAR = `regular-${hex}`;
const TEAM = `team-${hex}`;
const OTHER_TEAM = `other-${hex}`;
const PROD = `production-${hex}`;
const DEV = `development-${hex}`;

/** The policy of the tests: `kubeai.pool.update` denied while `denyPools` (a team member). */
let denyPools = false;
const asked: string[] = [];
const authorize = async (requests: { permission: { name: string } }[]) =>
  requests.map(r => {
    asked.push(r.permission.name);
    return {
      result:
        denyPools && r.permission.name === 'kubeai.pool.update'
          ? AuthorizeResult.DENY
          : AuthorizeResult.ALLOW,
    };
  });

const pools = {
  cluster: 'local',
  flavors: [
    { name: ELASTIC },
    { name: REGULAR, nodeLabels: { pool: REGULAR } },
  ],
  priorityClasses: [
    { name: PROD, value: 1000, description: 'periodic production tasks' },
    { name: DEV, value: 100 },
  ],
  teams: [
    {
      name: TEAM,
      cohort: `shared-${hex}`,
      namespaces: [NS],
      localQueue: 'team-queue',
      quotas: [
        {
          flavor: ELASTIC,
          nominal: { cpu: '16', memory: '64Gi' },
          borrowingLimit: { cpu: '8', memory: '32Gi' },
          lendingLimit: { cpu: '4' },
        },
        { flavor: REGULAR, nominal: { cpu: '32', memory: '128Gi', gpu: 2 } },
      ],
    },
  ],
};

const kueue = (kind: string, name: string, namespace?: string) =>
  gateway.get('local', {
    apiVersion: KUEUE_API_VERSION,
    kind,
    name,
    namespace,
  }) as Promise<any>;
const absent = (kind: string, name: string, namespace?: string) =>
  kueue(kind, name, namespace).then(
    () => false,
    error => error?.name === 'NotFoundError',
  );

let server: Awaited<ReturnType<typeof startTestBackend>>['server'];
let stop = async () => {};

beforeAll(async () => {
  const knex = await databases.init('SQLITE_3');
  const backend = await startTestBackend({
    features: [
      kubeaiPlugin,
      mockServices.database.factory({ knex }),
      catalogServiceMock.factory({ entities: [] }),
      mockServices.permissions.mock({ authorize } as never).factory,
      mockServices.rootConfig.factory({
        data: {
          backend: { baseUrl: 'http://localhost:7007' },
          kubeai: {
            registry: { validateResponses: true },
            informers: { enabled: false },
            pools: {
              routing: {
                flavors: [{ flavor: ELASTIC, maxCpu: 4, maxGpu: 0 }],
                defaultFlavor: REGULAR,
                priorityClasses: { periodic: PROD, default: DEV },
              },
            },
          },
          kubernetes: localKubernetesConfig(),
        },
      }),
    ],
  });
  server = backend.server;
  stop = () => backend.stop();
});

afterAll(async () => {
  await stop();
  // the cluster-scoped objects (the LocalQueues go with the suite's namespaces)
  for (const [kind, name] of [
    ['ClusterQueue', TEAM],
    ['ClusterQueue', OTHER_TEAM],
    ['ResourceFlavor', ELASTIC],
    ['ResourceFlavor', REGULAR],
    ['WorkloadPriorityClass', PROD],
    ['WorkloadPriorityClass', DEV],
  ]) {
    await gateway.delete('local', {
      apiVersion: KUEUE_API_VERSION,
      kind,
      name,
    });
  }
});

describe('pools and quotas', () => {
  it('refuses a team member (403) and writes nothing', async () => {
    denyPools = true;
    try {
      const res = await request(server)
        .post(`${API}/pools`)
        .send({
          ...pools,
          teams: [
            { ...pools.teams[0], name: OTHER_TEAM, namespaces: [BAD_NS] },
          ],
        });
      expect(res.status).toBe(403);
      expect(res.body.error.message).toContain('kubeai.pool.update');
    } finally {
      denyPools = false;
    }
    expect(await absent('ClusterQueue', OTHER_TEAM)).toBe(true);
    expect(await absent('ResourceFlavor', ELASTIC)).toBe(true);
    expect(await absent('WorkloadPriorityClass', PROD)).toBe(true);
    expect(await absent('LocalQueue', 'team-queue', BAD_NS)).toBe(true);
  });

  it('names the field of a bad request (400), nothing written', async () => {
    const res = await request(server)
      .post(`${API}/pools`)
      .send({
        ...pools,
        teams: [
          {
            ...pools.teams[0],
            name: OTHER_TEAM,
            quotas: [{ flavor: ELASTIC, nominal: { cpu: 'lots' } }],
          },
        ],
      });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain(
      'request/body/teams/0/quotas/0/nominal/cpu',
    );
    expect(await absent('ClusterQueue', OTHER_TEAM)).toBe(true);
  });

  it('lets a platform admin create flavors, priority classes, the cluster queue and its local queue, as built', async () => {
    asked.length = 0;
    const res = await request(server).post(`${API}/pools`).send(pools);
    expect(res.status).toBe(201);
    expect(asked).toContain('kubeai.pool.update');
    expect(res.body.objects.map((o: any) => `${o.kind}/${o.name}`)).toEqual([
      `ResourceFlavor/${ELASTIC}`,
      `ResourceFlavor/${REGULAR}`,
      `WorkloadPriorityClass/${PROD}`,
      `WorkloadPriorityClass/${DEV}`,
      `ClusterQueue/${TEAM}`,
      'LocalQueue/team-queue',
    ]);
    const { cluster: _c, ...input } = pools;
    const built = buildPools(input);
    for (const object of built) {
      const stored = await kueue(
        object.kind,
        object.metadata.name!,
        object.metadata.namespace,
      );
      // the CRD adds its defaults (queueingStrategy, preemption, …)
      expect(stored).toMatchObject(object);
    }
    const queue = await kueue('ClusterQueue', TEAM);
    expect(queue.spec.cohortName).toBe(`shared-${hex}`);
    expect(queue.spec.resourceGroups[0].flavors[0].resources).toEqual([
      {
        name: 'cpu',
        nominalQuota: '16',
        borrowingLimit: '8',
        lendingLimit: '4',
      },
      { name: 'memory', nominalQuota: '64Gi', borrowingLimit: '32Gi' },
      { name: 'nvidia.com/gpu', nominalQuota: '0' },
    ]);
    expect((await kueue('ResourceFlavor', ELASTIC)).spec.nodeLabels).toEqual({
      'kubeai.io/pool': ELASTIC,
    });

    // the same request again changes nothing and duplicates nothing
    const again = await request(server).post(`${API}/pools`).send(pools);
    expect(again.status).toBe(201);

    const list = await request(server).get(`${API}/clusters/local/pools`);
    expect(list.status).toBe(200);
    expect(list.body.localQueues).toContainEqual({
      namespace: NS,
      name: 'team-queue',
      clusterQueue: TEAM,
    });
    const team = list.body.clusterQueues.find((q: any) => q.name === TEAM);
    expect(team.namespaces).toEqual([NS]);
    expect(team.quotas).toContainEqual({
      flavor: REGULAR,
      resource: 'nvidia.com/gpu',
      nominalQuota: '2',
    });
    expect(list.body.priorityClasses).toContainEqual({
      name: PROD,
      value: 1000,
      description: 'periodic production tasks',
    });
  });
  it("changes a team's quotas in place: more elastic CPU, no lending, GPUs taken away", async () => {
    const changed = {
      ...pools,
      teams: [
        {
          ...pools.teams[0],
          quotas: [
            {
              flavor: ELASTIC,
              nominal: { cpu: '24', memory: '64Gi' },
              borrowingLimit: { cpu: '8', memory: '32Gi' },
            },
            { flavor: REGULAR, nominal: { cpu: '32', memory: '128Gi' } },
          ],
        },
      ],
    };
    const res = await request(server).post(`${API}/pools`).send(changed);
    expect(res.status).toBe(201);
    const queue = await kueue('ClusterQueue', TEAM);
    expect(
      queue.spec.resourceGroups[0].flavors.map((f: any) => [
        f.name,
        f.resources,
      ]),
    ).toEqual([
      [
        ELASTIC,
        [
          { name: 'cpu', nominalQuota: '24', borrowingLimit: '8' },
          { name: 'memory', nominalQuota: '64Gi', borrowingLimit: '32Gi' },
          { name: 'nvidia.com/gpu', nominalQuota: '0' },
        ],
      ],
      [
        REGULAR,
        [
          { name: 'cpu', nominalQuota: '32' },
          { name: 'memory', nominalQuota: '128Gi' },
          { name: 'nvidia.com/gpu', nominalQuota: '0' },
        ],
      ],
    ]);
    const list = await request(server).get(`${API}/clusters/local/pools`);
    const team = list.body.clusterQueues.find((q: any) => q.name === TEAM);
    expect(team.quotas).toContainEqual({
      flavor: ELASTIC,
      resource: 'cpu',
      nominalQuota: '24',
      borrowingLimit: '8',
    });
    expect(team.quotas).toContainEqual({
      flavor: REGULAR,
      resource: 'nvidia.com/gpu',
      nominalQuota: '0',
    });
    // as it was, for the routing tests below
    expect(
      (await request(server).post(`${API}/pools`).send(pools)).status,
    ).toBe(201);
  });
});

describe('routing training tasks (kubeai.pools.routing)', () => {
  const task = (name: string, extra: object = {}) => ({
    cluster: 'local',
    namespace: NS,
    name,
    kind: 'Job',
    image: 'ghcr.io/acme/prophet-forecast:1.2',
    command: ['python', '-m', 'forecast'],
    resources: { cpu: '2', memory: '1Gi' },
    ...extra,
  });
  const readJob = (apiVersion: string, kind: string, name: string) =>
    gateway.get('local', {
      apiVersion,
      kind,
      namespace: NS,
      name,
    }) as Promise<any>;

  it('sends a small task without a queue to its namespace LocalQueue, the elastic flavor, development', async () => {
    const res = await request(server).post(`${API}/jobs`).send(task('small'));
    expect(res.status).toBe(201);
    const job = await readJob('batch/v1', 'Job', 'small');
    expect(job.metadata.labels).toMatchObject({
      'kueue.x-k8s.io/queue-name': 'team-queue',
      'kueue.x-k8s.io/priority-class': DEV,
    });
    expect(job.spec.template.spec.nodeSelector).toEqual({
      'kubeai.io/pool': ELASTIC,
    });
  });

  it('sends a large periodic task to the regular flavor with the production priority', async () => {
    const res = await request(server)
      .post(`${API}/jobs`)
      .send(
        task('nightly', {
          kind: 'CronJob',
          schedule: '0 2 * * *',
          resources: { cpu: '8', memory: '16Gi' },
        }),
      );
    expect(res.status).toBe(201);
    const cron = await readJob('batch/v1beta1', 'CronJob', 'nightly');
    expect(cron.spec.jobTemplate.metadata.labels).toMatchObject({
      'kueue.x-k8s.io/queue-name': 'team-queue',
      'kueue.x-k8s.io/priority-class': PROD,
    });
    expect(cron.spec.jobTemplate.spec.template.spec.nodeSelector).toEqual({
      pool: REGULAR,
    });
  });

  it('lets the user choose another flavor and priority the team has', async () => {
    const res = await request(server)
      .post(`${API}/jobs`)
      .send(
        task('chosen', {
          queue: { name: 'team-queue', flavor: REGULAR, priorityClass: PROD },
        }),
      );
    expect(res.status).toBe(201);
    const job = await readJob('batch/v1', 'Job', 'chosen');
    expect(job.metadata.labels['kueue.x-k8s.io/priority-class']).toBe(PROD);
    expect(job.spec.template.spec.nodeSelector).toEqual({ pool: REGULAR });
  });

  it.each([
    [
      'an unknown queue',
      { name: 'no-such-queue' },
      'request/body/queue/name: LocalQueue "no-such-queue" not found',
    ],
    [
      'a flavor the team has no quota in',
      { name: 'team-queue', flavor: 'gpu-nowhere' },
      'request/body/queue/flavor: flavor "gpu-nowhere" has no quota in ClusterQueue',
    ],
    [
      'an unknown priority class',
      { name: 'team-queue', priorityClass: 'urgent-nowhere' },
      'request/body/queue/priorityClass: WorkloadPriorityClass "urgent-nowhere" not found',
    ],
  ])(
    'refuses %s with a 422 naming it, nothing applied',
    async (_what, queue, message) => {
      const res = await request(server)
        .post(`${API}/jobs`)
        .send(task('refused', { queue }));
      expect(res.status).toBe(422);
      expect(res.body.error.message).toContain(message);
      await expect(readJob('batch/v1', 'Job', 'refused')).rejects.toMatchObject(
        {
          name: 'NotFoundError',
        },
      );
    },
  );

  it('routes the training steps of a scheduled pipeline (production), and refuses an unknown queue in one', async () => {
    const pipeline = (name: string, training: object) => ({
      cluster: 'local',
      namespace: NS,
      name,
      schedule: '0 3 * * *',
      steps: [
        {
          name: 'train',
          type: 'training',
          training: {
            kind: 'Job',
            image: 'ghcr.io/acme/prophet-forecast:1.2',
            command: ['python', '-m', 'forecast'],
            resources: { cpu: '1', memory: '1Gi' },
            ...training,
          },
        },
      ],
    });
    const res = await request(server)
      .post(`${API}/pipelines`)
      .send(pipeline('nightly-pipeline', {}));
    expect(res.status).toBe(201);
    const stored = await readJob(
      'argoproj.io/v1alpha1',
      'CronWorkflow',
      'nightly-pipeline',
    );
    // the training object is the manifest of the step's resource template
    const job = YAML.parse(
      stored.spec.workflowSpec.templates.find((t: any) => t.name === 'train')
        .resource.manifest,
    );
    expect(job.metadata.labels).toMatchObject({
      'kueue.x-k8s.io/queue-name': 'team-queue',
      'kueue.x-k8s.io/priority-class': PROD,
    });
    expect(job.spec.template.spec.nodeSelector).toEqual({
      'kubeai.io/pool': ELASTIC,
    });

    const refused = await request(server)
      .post(`${API}/pipelines`)
      .send(pipeline('refused-pipeline', { queue: { name: 'nope' } }));
    expect(refused.status).toBe(422);
    expect(refused.body.error.message).toContain(
      'request/body/steps/0/training/queue/name: LocalQueue "nope" not found',
    );
    await expect(
      readJob('argoproj.io/v1alpha1', 'CronWorkflow', 'refused-pipeline'),
    ).rejects.toMatchObject({ name: 'NotFoundError' });
  });

  it('refuses a batch with one unknown queue (422 naming the item), nothing applied', async () => {
    const res = await request(server)
      .post(`${API}/jobs/batch`)
      .send({
        items: [
          task('batch-0', { namespace: BAD_NS }),
          task('batch-1', { namespace: BAD_NS, queue: { name: 'nope' } }),
        ],
      });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toContain(
      'request/body/items/1/queue/name: LocalQueue "nope" not found in namespace',
    );
    expect(await listCreated(gateway, BAD_NS)).toEqual([]);
  });
});
