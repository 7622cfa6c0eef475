/*
 * Routing beyond training tasks (issue 15, items 1–3 of the routing): a notebook goes to its
 * namespace's LocalQueue with the flavor the size rule picks and the default (development)
 * priority; a user gives only a flavor and / or a priority class and still gets the namespace's
 * queue; an unknown flavor or priority class is a 422 naming it with nothing applied and nothing
 * recorded; and the run of a routed task records its ClusterQueue and flavor
 * (`kubeai_runs.cluster_queue`, `flavor`) so it can be priced before Kueue admits it. Against the
 * real local kube-apiserver with the real Kueue CRDs, the registry on SQLite and PostgreSQL. The
 * Kueue objects are cluster-scoped with names of this run, deleted at the end.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { Knex } from 'knex';
import request from 'supertest';
import YAML from 'yaml';
import {
  POSTGRES_ID,
  postgresSupport,
  snapshotRegistry,
} from '../__testUtils__/databases';
import { buildPools, KUEUE_API_VERSION } from '../manifests/kueue';
import { kubeaiPlugin } from '../plugin';
import {
  listCreated,
  localKubernetesConfig,
} from './__testUtils__/clusterRoutes';
import { API, clusterRoutesSuite } from './__testUtils__/clusterRoutesSuite';

// The first import() of @kubernetes/client-node under jest's VM modules takes seconds.
jest.setTimeout(180_000);

const { suffix, NS, BAD_NS, databases, gateway, readBack, startBackend } =
  clusterRoutesSuite('routesrouting');

const ELASTIC = `elastic-${suffix}`;
const REGULAR = `regular-${suffix}`;
const TEAM = `team-${suffix}`;
const PROD = `production-${suffix}`;
const DEV = `development-${suffix}`;

/** The team of NS: a LocalQueue `team-queue` (BAD_NS has none). */
const pools = buildPools({
  flavors: [
    { name: ELASTIC },
    { name: REGULAR, nodeLabels: { pool: REGULAR } },
  ],
  priorityClasses: [
    { name: PROD, value: 1000 },
    { name: DEV, value: 100 },
  ],
  teams: [
    {
      name: TEAM,
      cohort: `shared-${suffix}`,
      namespaces: [NS],
      localQueue: 'team-queue',
      quotas: [
        { flavor: ELASTIC, nominal: { cpu: '16', memory: '64Gi' } },
        { flavor: REGULAR, nominal: { cpu: '32', memory: '128Gi', gpu: 2 } },
      ],
    },
  ],
});

beforeAll(async () => {
  await gateway.apply('local', pools);
});

afterAll(async () => {
  for (const object of pools.filter(o => !o.metadata.namespace)) {
    await gateway.delete('local', {
      apiVersion: KUEUE_API_VERSION,
      kind: object.kind,
      name: object.metadata.name!,
    });
  }
});

it('runs against SQLite and PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

const routing = {
  flavors: [{ flavor: ELASTIC, maxCpu: 4, maxGpu: 0 }],
  defaultFlavor: REGULAR,
  priorityClasses: { periodic: PROD, default: DEV },
};

describe.each([['SQLITE_3' as const], [POSTGRES_ID]])(
  'routing with the registry on %s',
  id => {
    let server: Awaited<ReturnType<typeof startTestBackend>>['server'];
    let stop = async () => {};
    let knex: Knex;
    // object names of this database's run (both runs share the namespace)
    const n = (name: string) => `${name}-${id === 'SQLITE_3' ? 's' : 'p'}`;

    beforeAll(async () => {
      knex = await databases.init(id);
      const backend = await startTestBackend({
        features: [
          kubeaiPlugin,
          mockServices.database.factory({ knex }),
          catalogServiceMock.factory({ entities: [] }),
          mockServices.rootConfig.factory({
            data: {
              backend: { baseUrl: 'http://localhost:7007' },
              kubeai: {
                registry: { validateResponses: true },
                informers: { enabled: false },
                pools: { routing },
              },
              kubernetes: localKubernetesConfig(),
            },
          }),
        ],
      });
      server = backend.server;
      stop = () => backend.stop();
    });
    afterAll(() => stop());

    const notebook = (name: string, extra: object = {}) => ({
      cluster: 'local',
      namespace: NS,
      name: n(name),
      image: 'kubeflownotebookswg/jupyter-scipy:v1.9.0',
      resources: { cpu: '2', memory: '4Gi' },
      ...extra,
    });
    const job = (name: string, extra: object = {}) => ({
      cluster: 'local',
      namespace: NS,
      name: n(name),
      kind: 'Job',
      image: 'ghcr.io/acme/prophet-forecast:1.2',
      command: ['python', '-m', 'forecast'],
      resources: { cpu: '2', memory: '1Gi' },
      ...extra,
    });
    const runRow = (runId: string) =>
      knex('kubeai_runs')
        .where({ id: runId })
        .first('cluster_queue', 'flavor', 'kind');

    it('sends a notebook without a queue to the namespace LocalQueue, the elastic flavor, development — on the pod the notebook controller makes', async () => {
      const res = await request(server)
        .post(`${API}/notebooks`)
        .send(notebook('explore'));
      expect(res.status).toBe(201);
      const stored = await readBack(
        'kubeflow.org/v1',
        'Notebook',
        n('explore'),
      );
      // the notebook controller copies the Notebook's labels onto its pod: Kueue's pod integration
      expect(stored.metadata.labels).toMatchObject({
        'kueue.x-k8s.io/queue-name': 'team-queue',
        'kueue.x-k8s.io/priority-class': DEV,
      });
      expect(stored.spec.template.spec.nodeSelector).toEqual({
        'kubeai.io/pool': ELASTIC,
      });
      expect(await runRow(res.body.run.id)).toEqual({
        kind: 'notebook',
        cluster_queue: TEAM,
        flavor: ELASTIC,
      });
    });

    it('sends a GPU notebook to the default flavor the team has (regular)', async () => {
      const res = await request(server)
        .post(`${API}/notebooks`)
        .send(
          notebook('gpu', { resources: { cpu: '8', memory: '8Gi', gpu: 1 } }),
        );
      expect(res.status).toBe(201);
      const stored = await readBack('kubeflow.org/v1', 'Notebook', n('gpu'));
      expect(stored.spec.template.spec.nodeSelector).toEqual({
        pool: REGULAR,
      });
      expect(await runRow(res.body.run.id)).toMatchObject({
        cluster_queue: TEAM,
        flavor: REGULAR,
      });
    });

    it.each([
      ['only a flavor', { flavor: REGULAR }, REGULAR, DEV],
      ['only a priority class', { priorityClass: PROD }, ELASTIC, PROD],
      [
        'a flavor and a priority class',
        { flavor: REGULAR, priorityClass: PROD },
        REGULAR,
        PROD,
      ],
    ])(
      'takes %s without a queue name: the namespace LocalQueue, the rest as given',
      async (what, queue, flavor, priority) => {
        const name = `override-${what.length}`;
        const res = await request(server)
          .post(`${API}/jobs`)
          .send(job(name, { queue }));
        expect(res.status).toBe(201);
        const stored = await readBack('batch/v1', 'Job', n(name));
        expect(stored.metadata.labels).toMatchObject({
          'kueue.x-k8s.io/queue-name': 'team-queue',
          'kueue.x-k8s.io/priority-class': priority,
        });
        expect(stored.spec.template.spec.nodeSelector).toEqual(
          flavor === ELASTIC
            ? { 'kubeai.io/pool': ELASTIC }
            : { pool: REGULAR },
        );
        expect(await runRow(res.body.run.id)).toEqual({
          kind: 'training',
          cluster_queue: TEAM,
          flavor,
        });
      },
    );

    it('lets a notebook override its flavor and priority within the team', async () => {
      const res = await request(server)
        .post(`${API}/notebooks`)
        .send(
          notebook('chosen', {
            queue: { flavor: REGULAR, priorityClass: PROD },
          }),
        );
      expect(res.status).toBe(201);
      const stored = await readBack('kubeflow.org/v1', 'Notebook', n('chosen'));
      expect(stored.metadata.labels).toMatchObject({
        'kueue.x-k8s.io/queue-name': 'team-queue',
        'kueue.x-k8s.io/priority-class': PROD,
      });
      expect(stored.spec.template.spec.nodeSelector).toEqual({
        pool: REGULAR,
      });
    });

    it("records a pipeline run's pool: its training step's queue and flavor", async () => {
      const res = await request(server)
        .post(`${API}/pipelines`)
        .send({
          cluster: 'local',
          namespace: NS,
          name: n('nightly'),
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
              },
            },
          ],
        });
      expect(res.status).toBe(201);
      expect(await runRow(res.body.run.id)).toEqual({
        kind: 'pipeline',
        cluster_queue: TEAM,
        flavor: ELASTIC,
      });
    });

    it('records the routing of every run of a batch', async () => {
      const res = await request(server)
        .post(`${API}/jobs/batch`)
        .send({
          items: [
            job('batch-small'),
            job('batch-large', { resources: { cpu: '8', memory: '8Gi' } }),
          ],
        });
      expect(res.status).toBe(201);
      const rows = await Promise.all(
        res.body.items.map((item: any) => runRow(item.runId)),
      );
      expect(rows).toEqual([
        { kind: 'training', cluster_queue: TEAM, flavor: ELASTIC },
        { kind: 'training', cluster_queue: TEAM, flavor: REGULAR },
      ]);
    });

    it.each([
      [
        'notebooks',
        'a flavor in a namespace without a LocalQueue',
        notebook('refused', { namespace: BAD_NS }),
        { flavor: 'gpu-nowhere' },
        // BAD_NS has no LocalQueue
        `request/body/queue: namespace "${BAD_NS}" of cluster "local" has no LocalQueue`,
      ],
      [
        'notebooks',
        'a flavor the team has no quota in',
        notebook('refused'),
        { flavor: 'gpu-nowhere' },
        'request/body/queue/flavor: flavor "gpu-nowhere" has no quota in ClusterQueue',
      ],
      [
        'notebooks',
        'an unknown priority class',
        notebook('refused'),
        { priorityClass: 'urgent-nowhere' },
        'request/body/queue/priorityClass: WorkloadPriorityClass "urgent-nowhere" not found',
      ],
      [
        'jobs',
        'an unknown priority class given alone',
        job('refused'),
        { priorityClass: 'urgent-nowhere' },
        'request/body/queue/priorityClass: WorkloadPriorityClass "urgent-nowhere" not found',
      ],
    ])(
      'POST /%s refuses %s with a 422 naming it: nothing applied, nothing recorded',
      async (route, _what, body, queue, message) => {
        const before = await snapshotRegistry(knex);
        const res = await request(server)
          .post(`${API}/${route}`)
          .send({ ...body, queue });
        expect(res.status).toBe(422);
        expect(res.body.error.message).toContain(message);
        const kind = route === 'notebooks' ? 'Notebook' : 'Job';
        const apiVersion =
          route === 'notebooks' ? 'kubeflow.org/v1' : 'batch/v1';
        await expect(
          readBack(apiVersion, kind, n('refused'), body.namespace),
        ).rejects.toMatchObject({ name: 'NotFoundError' });
        expect(await snapshotRegistry(knex)).toEqual(before);
      },
    );
  },
);

describe('without kubeai.pools.routing', () => {
  it('asks for the queue name when only a flavor or priority is given (422), nothing applied', async () => {
    const knex = await databases.init('SQLITE_3');
    const backend = await startBackend(knex);
    try {
      for (const [route, body] of [
        [
          'notebooks',
          {
            cluster: 'local',
            namespace: BAD_NS,
            name: 'unrouted',
            image: 'kubeflownotebookswg/jupyter-scipy:v1.9.0',
            queue: { flavor: ELASTIC },
          },
        ],
        [
          'jobs',
          {
            cluster: 'local',
            namespace: BAD_NS,
            name: 'unrouted',
            kind: 'Job',
            image: 'ghcr.io/acme/prophet-forecast:1.2',
            queue: { priorityClass: PROD },
          },
        ],
      ] as const) {
        const res = await request(backend.server)
          .post(`${API}/${route}`)
          .send(body);
        expect(res.status).toBe(422);
        expect(res.body.error.message).toContain(
          'request/body/queue/name: required, kubeai.pools.routing is not configured',
        );
      }
      expect(await listCreated(gateway, BAD_NS)).toEqual([]);

      // a pipeline's training step: a flavor alone is refused, a named queue is set as typed
      const pipeline = (namespace: string, queue: object) => ({
        cluster: 'local',
        namespace,
        name: 'unrouted-pipeline',
        steps: [
          {
            name: 'train',
            type: 'training',
            training: {
              kind: 'Job',
              image: 'ghcr.io/acme/prophet-forecast:1.2',
              command: ['python', '-m', 'forecast'],
              queue,
            },
          },
        ],
      });
      const refused = await request(backend.server)
        .post(`${API}/pipelines`)
        .send(pipeline(BAD_NS, { flavor: ELASTIC }));
      expect(refused.status).toBe(422);
      expect(refused.body.error.message).toContain(
        'request/body/steps/0/training/queue/name: required',
      );
      expect(await listCreated(gateway, BAD_NS)).toEqual([]);
      const typed = await request(backend.server)
        .post(`${API}/pipelines`)
        .send(pipeline(NS, { name: 'any-queue', priorityClass: PROD }));
      expect(typed.status).toBe(201);
      const workflow = await readBack(
        'argoproj.io/v1alpha1',
        'Workflow',
        'unrouted-pipeline',
      );
      const manifest = YAML.parse(
        workflow.spec.templates.find((t: any) => t.name === 'train').resource
          .manifest,
      );
      expect(manifest.metadata.labels).toMatchObject({
        'kueue.x-k8s.io/queue-name': 'any-queue',
        'kueue.x-k8s.io/priority-class': PROD,
      });
    } finally {
      await backend.stop();
    }
  });
});
