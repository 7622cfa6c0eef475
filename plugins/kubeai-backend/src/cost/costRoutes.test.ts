/*
 * Cost through the API (the plugin's OpenAPI router, the real local kube-apiserver, SQLite and
 * PostgreSQL): a run's cost on GET /runs/{id}, GET /cost per month / model with the team's budget,
 * bad queries named; a team over its budget gets 403 naming the budget on POST /jobs, /jobs/batch,
 * /notebooks and /pipelines with nothing in the cluster or the registry; a platform admin's
 * `overrideBudget` creates the task (with a Warning header), anyone else's is a 403; a team at
 * 80 % of its budget is warned.
 */
import {
  mockServices,
  startTestBackend,
  TestDatabaseId,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import type { Knex } from 'knex';
import request from 'supertest';
import { postgresSupport } from '../__testUtils__/databases';
import { kubeaiPlugin } from '../plugin';
import {
  listCreated,
  localKubernetesConfig,
} from '../service/__testUtils__/clusterRoutes';
import {
  API,
  clusterRoutesSuite,
} from '../service/__testUtils__/clusterRoutesSuite';

jest.setTimeout(180_000);

const { NS, BAD_NS, databases, gateway, entities } =
  clusterRoutesSuite('routescost');
const CV = 'group:default/cv-team';
const FC = 'group:default/fc-team';
const MONTH = new Date().toISOString().slice(0, 7);

it('runs against SQLite and PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

/** `kubeai.pool.update` (platform admins) denied while `member` is set. */
let member = false;
const authorize = async (requests: { permission: { name: string } }[]) =>
  requests.map(r => ({
    result:
      member && r.permission.name === 'kubeai.pool.update'
        ? AuthorizeResult.DENY
        : AuthorizeResult.ALLOW,
  }));

describe.each(databases.eachSupportedId())(
  'cost API on %p',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let server: Awaited<ReturnType<typeof startTestBackend>>['server'];
    let stop = async () => {};
    const suffix = databaseId === 'SQLITE_3' ? 'sq' : 'pg';
    const ids = {
      cv: `00000000-0000-4000-b000-0000000001${suffix === 'sq' ? '01' : '02'}`,
      fc: `00000000-0000-4000-b000-0000000002${suffix === 'sq' ? '01' : '02'}`,
    };

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      const backend = await startTestBackend({
        features: [
          kubeaiPlugin,
          mockServices.database.factory({ knex }),
          catalogServiceMock.factory({ entities }),
          mockServices.permissions.mock({ authorize } as never).factory,
          mockServices.rootConfig.factory({
            data: {
              backend: { baseUrl: 'http://localhost:7007' },
              kubeai: {
                registry: { validateResponses: true },
                informers: { enabled: false },
                tenancy: {
                  namespaces: [
                    { cluster: 'local', namespace: NS, owner: CV },
                    { cluster: 'local', namespace: BAD_NS, owner: FC },
                  ],
                },
                cost: {
                  currency: 'EUR',
                  flavors: {
                    gpu: { cpuHour: 0.05, memoryGiBHour: 0.01, gpuHour: 2.5 },
                  },
                  default: { cpuHour: 0.04 },
                  budgets: [
                    { team: CV, monthly: 1000 },
                    { team: FC, monthly: 1250 },
                  ],
                },
              },
              kubernetes: localKubernetesConfig(),
            },
          }),
        ],
      });
      server = backend.server;
      stop = () => backend.stop();
      // this month: 1 GPU for 413.68 h on `gpu` (2.5 EUR per GPU-hour) = 1,034.20 EUR, in each team
      const finished = new Date(Date.now() - 60_000);
      const started = new Date(finished.getTime() - 413.68 * 3600_000);
      const run = (id: string, namespace: string) => ({
        id,
        kind: 'training',
        cluster: 'local',
        namespace,
        name: `spent-${suffix}`,
        model_ref: 'model:default/shoe-brand',
        phase: 'Succeeded',
        flavor: 'gpu',
        params: JSON.stringify({ gpu: 1 }),
        started_at: started.toISOString(),
        finished_at: finished.toISOString(),
        created_by: 'user:default/test',
        created_at: started.toISOString(),
        updated_at: finished.toISOString(),
      });
      await knex('kubeai_runs').insert([run(ids.cv, NS), run(ids.fc, BAD_NS)]);
    });

    afterAll(async () => {
      await stop();
      await knex('kubeai_runs').whereIn('id', Object.values(ids)).delete();
      await knex('kubeai_runs').where('namespace', NS).delete();
      await knex('kubeai_cost_daily').delete();
    });

    const runsIn = async () =>
      knex('kubeai_runs')
        .whereIn('namespace', [NS, BAD_NS])
        .count({ n: '*' })
        .then(([r]) => Number(r.n));

    it("shows a run's cost and a team's totals with its budget", async () => {
      const run = await request(server)
        .get(`${API}/runs/${ids.cv}`)
        .expect(200);
      expect(run.body.cost).toEqual({
        amount: expect.closeTo(1034.2, 6),
        currency: 'EUR',
        flavor: 'gpu',
        podHours: expect.closeTo(413.68, 6),
        final: true,
      });
      const months = await request(server)
        .get(`${API}/cost`)
        .query({ team: CV, groupBy: 'month' })
        .expect(200);
      expect(months.body).toMatchObject({
        currency: 'EUR',
        team: CV,
        to: MONTH,
        groupBy: 'month',
      });
      expect(months.body.items).toEqual([
        {
          key: MONTH,
          cost: expect.closeTo(1034.2, 6),
          runs: 1,
          live: expect.closeTo(1034.2, 6),
        },
      ]);
      expect(months.body.budget).toMatchObject({
        team: CV,
        month: MONTH,
        monthly: 1000,
        state: 'over',
        message: `team ${CV} is over its budget of 1,000 EUR for ${MONTH} (spent 1,034.20)`,
      });
      const models = await request(server)
        .get(`${API}/cost`)
        .query({ groupBy: 'team', from: MONTH })
        .expect(200);
      expect(
        models.body.items.map((i: any) => [
          i.key,
          Math.round(i.cost * 100) / 100,
        ]),
      ).toEqual([
        [CV, 1034.2],
        [FC, 1034.2],
      ]);
    });

    it('names bad queries', async () => {
      const bad = async (query: Record<string, string>, message: string) => {
        const res = await request(server).get(`${API}/cost`).query(query);
        expect({
          status: res.status,
          message: res.body.error?.message,
        }).toEqual({ status: 400, message: expect.stringContaining(message) });
      };
      await bad(
        { from: '2026-13' },
        "request/query/from: a month as YYYY-MM, not '2026-13'",
      );
      await bad(
        { groupBy: 'version' },
        'request/query/groupBy: version needs request/query/model',
      );
      await bad({ groupBy: 'day' }, 'request/query/groupBy');
      await bad(
        { from: '2026-12', to: '2026-01' },
        'request/query/from: 2026-12 is after request/query/to 2026-01',
      );
    });

    const job = (name: string, namespace = NS) => ({
      cluster: 'local',
      namespace,
      name: `${name}-${suffix}`,
      kind: 'Job',
      image: 'python:3.12',
      command: ['python', '-c', 'print(1)'],
    });

    it('refuses new tasks of a team over its budget with 403 naming it, writing nothing', async () => {
      const before = await runsIn();
      const names = async () =>
        (await listCreated(gateway, NS))
          .map(o => `${o.kind}/${o.metadata.name}`)
          .sort();
      const objectsBefore = await names();
      const refusal = `team ${CV} is over its budget of 1,000 EUR for ${MONTH} (spent 1,034.20)`;
      const posts: Array<[string, object]> = [
        ['/jobs', job('over')],
        ['/jobs/batch', { items: [job('over-batch')] }],
        [
          '/notebooks',
          {
            cluster: 'local',
            namespace: NS,
            name: `over-nb-${suffix}`,
            image: 'jupyter/base-notebook:latest',
          },
        ],
        [
          '/pipelines',
          {
            cluster: 'local',
            namespace: NS,
            name: `over-pipe-${suffix}`,
            steps: [
              {
                name: 'a',
                type: 'container',
                image: 'python:3.12',
                command: ['true'],
              },
            ],
          },
        ],
      ];
      for (const [path, body] of posts) {
        const res = await request(server).post(`${API}${path}`).send(body);
        expect({
          path,
          status: res.status,
          message: res.body.error?.message,
        }).toEqual({ path, status: 403, message: refusal });
      }
      // a non-admin asking to override: 403, nothing written
      member = true;
      try {
        const res = await request(server)
          .post(`${API}/jobs`)
          .send({ ...job('over-member'), overrideBudget: true });
        expect(res.status).toBe(403);
        expect(res.body.error.message).toBe(
          'request/body/overrideBudget: only platform admins (kubeai.pool.update) may override a team budget',
        );
      } finally {
        member = false;
      }
      expect(await names()).toEqual(objectsBefore);
      expect(await runsIn()).toBe(before);
    });

    it("a platform admin's override creates the task, with a warning; a team at 80 % is warned", async () => {
      const res = await request(server)
        .post(`${API}/jobs`)
        .send({ ...job('override'), overrideBudget: true });
      expect(res.status).toBe(201);
      expect(res.headers.warning).toContain(
        `team ${CV} is over its budget of 1,000 EUR for ${MONTH} (spent 1,034.20); allowed: overridden by a platform admin`,
      );
      const created = await listCreated(
        gateway,
        NS,
        'app.kubernetes.io/managed-by=kubeai',
      );
      expect(
        created.filter(o => o.kind === 'Job').map(o => o.metadata.name),
      ).toContain(`override-${suffix}`);
      // fc-team: 1,034.20 of 1,250 = 82 % — warned, not refused (a dry run: BAD_NS stays empty)
      const warned = await request(server)
        .post(`${API}/jobs`)
        .send({ ...job('warned', BAD_NS), dryRun: true });
      expect(warned.status).toBe(201);
      expect(warned.headers.warning).toBe(
        `199 kubeai "team ${FC} has spent 82 % of its budget of 1,250 EUR for ${MONTH} (1,034.20)"`,
      );
      const fc = await request(server)
        .get(`${API}/cost`)
        .query({ team: FC })
        .expect(200);
      expect(fc.body.budget).toMatchObject({
        state: 'warning',
        share: expect.closeTo(0.82736, 4),
      });
      expect(await listCreated(gateway, BAD_NS)).toEqual([]);
    });
  },
);
