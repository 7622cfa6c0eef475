/*
 * The forecasting scenario of the example catalog through the real routes (issue 15, item 5):
 * examples/forecasting/pools.yaml applied with `POST /pools`, then the 12 indicator forecasts of
 * examples/forecasting/indicators.yaml with `POST /jobs/batch` under app-config.yaml's
 * `kubeai.pools.routing` — every one a CronJob in the team's LocalQueue, on the `elastic` flavor,
 * with the `production` priority, at its Model's schedule, and its run recording the ClusterQueue
 * and flavor; a finished forecast run costs what app-config's price table (`kubeai.cost`) says. Against the real local kube-apiserver with the real Kueue CRDs, the registry on
 * SQLite and PostgreSQL. The example's cluster-scoped names (flavors, priority classes, the team's
 * ClusterQueue, the cohort) get this run's suffix and its namespace is the suite's, so the test
 * shares nothing with the cluster's own pools; everything it creates is deleted at the end.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import YAML from 'yaml';
import { POSTGRES_ID, postgresSupport } from '../__testUtils__/databases';
import { ConfigReader } from '@backstage/config';
import { readCostConfig } from '../cost/costConfig';
import { costOfRun } from '../cost/runCost';
import { KUEUE_API_VERSION } from '../manifests/kueue';
import { kubeaiPlugin } from '../plugin';
import { localKubernetesConfig } from './__testUtils__/clusterRoutes';
import { API, clusterRoutesSuite } from './__testUtils__/clusterRoutesSuite';

// The first import() of @kubernetes/client-node under jest's VM modules takes seconds.
jest.setTimeout(180_000);

const { suffix, NS, databases, gateway, readBack } =
  clusterRoutesSuite('routesforecast');

const repoRoot = path.resolve(__dirname, '../../../..');
const readYaml = (file: string) =>
  YAML.parse(fs.readFileSync(path.join(repoRoot, file), 'utf8'));
const readAll = (file: string) =>
  YAML.parseAllDocuments(
    fs.readFileSync(path.join(repoRoot, file), 'utf8'),
  ).map(d => d.toJS());

/** The example's cluster-scoped names, made this run's own. */
const own = (name: string) => `${name}-${suffix}`;
const EXAMPLE_NS = 'forecasting';

const pools = readYaml('examples/forecasting/pools.yaml');
const indicators = readYaml('examples/forecasting/indicators.yaml');
const scenario: Entity[] = readAll('examples/forecast-prophet.yaml');
const models = scenario.filter(e => e.kind === 'Model');
const appConfig = readYaml('app-config.yaml');
const routing = appConfig.kubeai.pools.routing;
/** app-config's price table (kubeai.cost), its flavors this run's own. */
const costConfig = {
  ...appConfig.kubeai.cost,
  flavors: Object.fromEntries(
    Object.entries(appConfig.kubeai.cost.flavors).map(([f, prices]) => [
      own(f),
      prices,
    ]),
  ),
};

const ns = (namespace: string) => (namespace === EXAMPLE_NS ? NS : namespace);
const poolsBody = {
  ...pools,
  flavors: pools.flavors.map((f: any) => ({ ...f, name: own(f.name) })),
  priorityClasses: pools.priorityClasses.map((p: any) => ({
    ...p,
    name: own(p.name),
  })),
  teams: pools.teams.map((t: any) => ({
    ...t,
    name: own(t.name),
    cohort: own(t.cohort),
    namespaces: t.namespaces.map(ns),
    quotas: t.quotas.map((q: any) => ({ ...q, flavor: own(q.flavor) })),
  })),
};
const TEAM = poolsBody.teams[0].name;
const routingConfig = {
  ...routing,
  flavors: routing.flavors.map((r: any) => ({ ...r, flavor: own(r.flavor) })),
  defaultFlavor: own(routing.defaultFlavor),
  priorityClasses: {
    periodic: own(routing.priorityClasses.periodic),
    default: own(routing.priorityClasses.default),
  },
};
const batch = {
  items: indicators.items.map((item: any) => ({
    ...item,
    namespace: ns(item.namespace),
  })),
};
/** The scenario's entities, its PVC dataset in the suite's namespace. */
const entities = scenario.map(e => {
  const source = (e.spec as any)?.source;
  return source?.namespace
    ? {
        ...e,
        metadata: { ...e.metadata, namespace: 'default' },
        spec: {
          ...e.spec,
          source: { ...source, namespace: ns(source.namespace) },
        },
      }
    : { ...e, metadata: { ...e.metadata, namespace: 'default' } };
});

afterAll(async () => {
  for (const object of [
    ...poolsBody.teams.map((t: any) => ['ClusterQueue', t.name]),
    ...poolsBody.flavors.map((f: any) => ['ResourceFlavor', f.name]),
    ...poolsBody.priorityClasses.map((p: any) => [
      'WorkloadPriorityClass',
      p.name,
    ]),
  ]) {
    await gateway.delete('local', {
      apiVersion: KUEUE_API_VERSION,
      kind: object[0],
      name: object[1],
    });
  }
});

it('runs against SQLite and PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

describe.each([['SQLITE_3' as const], [POSTGRES_ID]])(
  'the forecasting scenario with the registry on %s',
  id => {
    let server: Awaited<ReturnType<typeof startTestBackend>>['server'];
    let stop = async () => {};
    let knex: Awaited<ReturnType<typeof databases.init>>;
    let runIds: string[] = [];

    beforeAll(async () => {
      knex = await databases.init(id);
      const backend = await startTestBackend({
        features: [
          kubeaiPlugin,
          mockServices.database.factory({ knex }),
          catalogServiceMock.factory({ entities }),
          mockServices.rootConfig.factory({
            data: {
              backend: { baseUrl: 'http://localhost:7007' },
              kubeai: {
                registry: { validateResponses: true },
                informers: { enabled: false },
                pools: { routing: routingConfig },
                cost: costConfig,
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

    it('applies the pools of the example: three flavors, two priorities, the team queue in a shared cohort and its LocalQueue', async () => {
      const res = await request(server).post(`${API}/pools`).send(poolsBody);
      expect(res.status).toBe(201);
      expect(res.body.objects.map((o: any) => `${o.kind}/${o.name}`)).toEqual([
        ...['elastic', 'regular', 'gpu'].map(f => `ResourceFlavor/${own(f)}`),
        ...['production', 'development'].map(
          p => `WorkloadPriorityClass/${own(p)}`,
        ),
        `ClusterQueue/${TEAM}`,
        `LocalQueue/${TEAM}`,
      ]);
      const queue = await gateway.get('local', {
        apiVersion: KUEUE_API_VERSION,
        kind: 'ClusterQueue',
        name: TEAM,
      });
      expect((queue.spec as any).cohortName).toBe(own('shared'));
    });

    it('runs the 12 indicators as periodic tasks on the elastic flavor with the production priority, each run recording where it goes', async () => {
      const res = await request(server).post(`${API}/jobs/batch`).send(batch);
      expect([res.status, res.body.error?.message]).toEqual([201, undefined]);
      expect(res.body.created).toBe(12);
      for (const model of models) {
        const name = model.metadata.name;
        const cron = await readBack('batch/v1beta1', 'CronJob', name);
        expect([name, cron.spec.schedule]).toEqual([
          name,
          model.metadata.annotations!['kubeai.io/training-schedule'],
        ]);
        expect(cron.spec.jobTemplate.metadata.labels).toMatchObject({
          'kueue.x-k8s.io/queue-name': TEAM,
          'kueue.x-k8s.io/priority-class': own('production'),
          'kubeai.io/model': name,
        });
        expect(cron.spec.jobTemplate.spec.template.spec.nodeSelector).toEqual({
          'kubeai.io/pool': own('elastic'),
        });
      }
      const rows = await knex('kubeai_runs')
        .whereIn(
          'id',
          res.body.items.map((i: any) => i.runId),
        )
        .select('name', 'cluster_queue', 'flavor');
      expect(rows).toHaveLength(12);
      for (const row of rows) {
        expect(row).toEqual({
          name: row.name,
          cluster_queue: TEAM,
          flavor: own('elastic'),
        });
      }
      runIds = res.body.items.map((i: any) => i.runId);
    });

    it('prices a forecast run at the elastic prices of app-config: 10 minutes of 2 CPU and 4 GiB', async () => {
      const [taskId] = runIds;
      const task = await request(server).get(`${API}/runs/${taskId}`);
      expect(task.status).toBe(200);
      // the periodic task's own run runs no pod: its executions are priced
      expect(task.body.cost?.podHours ?? 0).toBe(0);
      // an execution as the informers record it (informers.children.test.ts): the Job its CronJob
      // made, with the task's params and pool, here one that ran ten minutes
      const { schedule: _schedule, ...params } = task.body.params;
      const execution = costOfRun(
        {
          id: 'execution',
          cluster: 'local',
          namespace: task.body.namespace,
          model_ref: task.body.modelRef,
          phase: 'Succeeded',
          flavor: task.body.flavor,
          params: JSON.stringify({ ...params, objectKind: 'Job' }),
          started_at: '2026-12-01T06:00:00Z',
          finished_at: '2026-12-01T06:10:00Z',
          updated_at: '2026-12-01T06:10:00Z',
        },
        readCostConfig(new ConfigReader({ kubeai: { cost: costConfig } })),
      );
      // by hand: 1 pod × 1/6 h × (2 cores × cpuHour + 4 GiB × memoryGiBHour) of the elastic flavor
      const prices = appConfig.kubeai.cost.flavors.elastic;
      const expected =
        (1 / 6) * (2 * prices.cpuHour + 4 * prices.memoryGiBHour);
      expect(expected).toBeGreaterThan(0);
      expect(execution).toMatchObject({
        flavor: own('elastic'),
        pods: 1,
        cpu: 2,
        memoryGiB: 4,
        running: false,
      });
      expect(execution.cost).toBeCloseTo(expected, 10);
    });
  },
);
