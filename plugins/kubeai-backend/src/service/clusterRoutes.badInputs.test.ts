/*
 * Bad inputs to the cluster routes, against the real local kube-apiserver 1.20 with the real
 * CRDs (`yarn cluster:start`): each is refused naming the field and leaves nothing in the
 * cluster or the registry; a denying permission policy refuses creates and deletes with 403.
 */
import { mockServices } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import request from 'supertest';
import { listCreated } from './__testUtils__/clusterRoutes';
import {
  badBodies,
  BadCase,
  workloadBadInputs,
} from './__testUtils__/clusterRoutesBadInputs';
import { servingBadInputs } from './__testUtils__/clusterRoutesBadInputs.serving';
import { API, clusterRoutesSuite } from './__testUtils__/clusterRoutesSuite';

// The first import() of @kubernetes/client-node under jest's VM modules takes seconds.
jest.setTimeout(180_000);

const { NS, BAD_NS, startBackend, databases, gateway, readBack, seedRegistry } =
  clusterRoutesSuite('routesbad');

describe('cluster routes (SQLite registry)', () => {
  let server: Awaited<ReturnType<typeof startBackend>>['server'];
  let stop: () => Promise<void>;

  beforeAll(async () => {
    const knex = await databases.init('SQLITE_3');
    const backend = await startBackend(knex);
    server = backend.server;
    stop = () => backend.stop();
    await seedRegistry(server);
  });
  afterAll(() => stop());

  // ---------------------------------------------------------------- bad inputs
  const { nb } = badBodies(BAD_NS);
  const badInputs: BadCase[] = [
    ...workloadBadInputs(NS, BAD_NS),
    ...servingBadInputs(BAD_NS),
  ];

  it(`refuses ${badInputs.length} bad inputs naming the field, leaving nothing in the cluster or the registry`, async () => {
    expect(badInputs.length).toBeGreaterThanOrEqual(40);
    const runsBefore = (await request(server).get(`${API}/runs?limit=1000`))
      .body.totalItems;
    const failures: string[] = [];
    for (const [label, path, body, status, field] of badInputs) {
      const res = await request(server)
        .post(`${API}${path}`)
        .send(body as object);
      const message: string = res.body?.error?.message ?? res.text;
      const fieldOk =
        typeof field === 'string'
          ? message.includes(field)
          : field.test(message);
      if (res.status !== status || !fieldOk) {
        failures.push(`${label}: ${res.status} ${message}`);
      }
      const left = await listCreated(gateway, BAD_NS);
      if (left.length) {
        failures.push(
          `${label}: left ${left
            .map(o => `${o.kind}/${o.metadata.name}`)
            .join(', ')}`,
        );
      }
    }
    expect(failures).toEqual([]);
    const runsAfter = (await request(server).get(`${API}/runs?limit=1000`)).body
      .totalItems;
    expect(runsAfter).toBe(runsBefore);
    const deployments = await request(server).get(
      `${API}/deployments?service=inferenceservice:default/bad-isvc`,
    );
    expect(deployments.body.totalItems).toBe(0);
    const portal = await request(server).get(`${API}/catalog-entities`);
    expect(portal.body.items.map((e: any) => e.metadata.name)).not.toContain(
      'bad-ds',
    );
  });

  it('refuses bodies that are too large, not JSON, or about objects that do not exist', async () => {
    const large = await request(server)
      .post(`${API}/notebooks`)
      .send(
        nb({
          env: [{ name: 'BIG', value: 'x'.repeat(32000) }],
          nodeSelector: {},
          pad: 'y'.repeat(1_100_000),
        }),
      );
    expect(large.status).toBe(413);
    const notJson = await request(server)
      .post(`${API}/jobs`)
      .set('Content-Type', 'application/json')
      .send('{"cluster": ');
    expect(notJson.status).toBe(400);
    const missing = await request(server)
      .post(`${API}/inference-services/local/${BAD_NS}/ghost/promote`)
      .send({});
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toContain(
      `InferenceService "ghost" not found in namespace "${BAD_NS}" of cluster "local"`,
    );
    const unknownCluster = await request(server)
      .post(`${API}/inference-services/nope/${BAD_NS}/ghost/rollback`)
      .send({});
    expect(unknownCluster.status).toBe(404);
    expect(unknownCluster.body.error.message).toContain(
      'request/params/cluster: unknown cluster "nope"',
    );
    const status = await request(server).get(
      `${API}/clusters/local/namespaces/${BAD_NS}/notebooks/ghost`,
    );
    expect(status.status).toBe(404);
    expect(await listCreated(gateway, BAD_NS)).toEqual([]);
  });
});

describe('cluster routes with a denying permission policy', () => {
  it('answers 403 and writes nothing', async () => {
    const backend = await startBackend(undefined, [
      mockServices.permissions.factory({ result: AuthorizeResult.DENY }),
    ]);
    const res = await request(backend.server).post(`${API}/notebooks`).send({
      cluster: 'local',
      namespace: BAD_NS,
      name: 'denied',
      image: 'jupyter/base-notebook:latest',
    });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toBe(
      `kubeai.cluster.object.create denied on local/${BAD_NS}`,
    );
    expect(await listCreated(gateway, BAD_NS)).toEqual([]);
    await backend.stop();
  });

  it('refuses a delete with 403 and deletes nothing', async () => {
    await gateway.apply('local', [
      {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Workflow',
        metadata: {
          name: 'denied-delete',
          namespace: NS,
          labels: { 'app.kubernetes.io/managed-by': 'kubeai' },
        },
        spec: {
          entrypoint: 'main',
          templates: [{ name: 'main', container: { image: 'python:3.12' } }],
        },
      },
    ]);
    const backend = await startBackend(undefined, [
      mockServices.permissions.factory({ result: AuthorizeResult.DENY }),
    ]);
    try {
      for (const dryRun of ['', '?dryRun=true']) {
        const res = await request(backend.server).delete(
          `${API}/clusters/local/namespaces/${NS}/pipelines/denied-delete${dryRun}`,
        );
        expect(res.status).toBe(403);
        expect(res.body.error.message).toBe(
          `kubeai.cluster.object.delete denied on local/${NS}`,
        );
      }
      const stored = await readBack(
        'argoproj.io/v1alpha1',
        'Workflow',
        'denied-delete',
      );
      expect(stored.metadata.deletionTimestamp).toBeUndefined();
    } finally {
      await backend.stop();
    }
  });
});
