/*
 * The registry routes of the plugin's router on SQLite and PostgreSQL: health and credentials,
 * model versions and aliases, concurrent registrations, datasets, runs, deployments and lineage,
 * and lineage answers reused (ETag) until a write.
 */
import { mockCredentials, TestDatabaseId } from '@backstage/backend-test-utils';
import request from 'supertest';
import { postgresSupport } from '../__testUtils__/databases';
import { artifact, databases, MODEL, useBackend } from './__testUtils__/router';

jest.setTimeout(120_000);

it('runs against SQLite and PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

describe.each(databases.eachSupportedId())(
  'kubeai router on %p',
  (databaseId: TestDatabaseId) => {
    describe('registry routes', () => {
      const app = useBackend(databaseId);

      it('serves health without credentials, everything else only with them', async () => {
        await request(app.server).get('/api/kubeai/health').expect(200);
        const anonymous = await request(app.server)
          .get(`${MODEL}/versions`)
          .set('Authorization', mockCredentials.none.header());
        expect(anonymous.status).toBe(401);
        const spec = await request(app.server).get('/api/kubeai/openapi.json');
        expect(spec.status).toBe(200);
        expect(Object.keys(spec.body.paths)).toContain(
          '/api/kubeai/models/{namespace}/{name}/versions',
        );
      });

      it('registers, reads, aliases and lists model versions', async () => {
        const created = await request(app.server)
          .post(`${MODEL}/versions`)
          .send({
            artifact,
            metrics: { auc: 0.93 },
            params: { lr: 0.01 },
            tags: ['baseline'],
            aliases: ['production'],
          });
        expect(created.status).toBe(201);
        expect(created.body).toMatchObject({
          modelRef: 'model:default/clf',
          version: 1,
          artifact,
          metrics: { auc: 0.93 },
          aliases: ['production'],
          state: 'live',
          createdBy: 'user:default/mock',
        });
        const second = await request(app.server)
          .post(`${MODEL}/versions`)
          .set('Authorization', mockCredentials.service.header())
          .send({ artifact, aliases: ['canary'] });
        expect(second.body).toMatchObject({
          version: 2,
          createdBy: 'external:test-service',
        });

        await request(app.server)
          .patch(`${MODEL}/versions/2`)
          .send({ aliases: ['production'] })
          .expect(200);
        const production = await request(app.server).get(
          `${MODEL}/versions/by-alias/production`,
        );
        expect(production.body.version).toBe(2);
        const latest = await request(app.server).get(
          `${MODEL}/versions/by-alias/latest`,
        );
        expect(latest.body.version).toBe(2);

        const list = await request(app.server).get(`${MODEL}/versions?limit=1`);
        expect(list.status).toBe(200);
        expect(list.body.totalItems).toBe(2);
        expect(
          list.body.items.map((v: { version: number }) => v.version),
        ).toEqual([2]);
        const one = await request(app.server).get(`${MODEL}/versions/1`);
        expect(one.body.aliases).toEqual([]);

        // a model in the catalog without versions lists empty; a model not in the catalog is 404
        expect(
          (
            await request(app.server).get(
              '/api/kubeai/models/default/det/versions',
            )
          ).body,
        ).toEqual({ items: [], totalItems: 0 });
        const ghost = await request(app.server).get(
          '/api/kubeai/models/default/ghost/versions',
        );
        expect(ghost.status).toBe(404);
        expect(ghost.body.error.message).toBe(
          'model:default/ghost not found in the catalog',
        );
      });

      it('gives exactly 1..100 to 100 concurrent registrations', async () => {
        const path = '/api/kubeai/models/default/det/versions';
        const responses = await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            request(app.server)
              .post(path)
              .send({ artifact, params: { request: i } }),
          ),
        );
        expect(responses.map(r => r.status)).toEqual(Array(100).fill(201));
        expect(
          responses.map(r => r.body.version).sort((a, b) => a - b),
        ).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
        const list = await request(app.server).get(`${path}?limit=1000`);
        expect(list.body.totalItems).toBe(100);
      });

      it('answers an existing dataset version with the same digest with 200, registering nothing', async () => {
        const path = '/api/kubeai/datasets/default/images/versions';
        const digest = `sha256:${'ab'.repeat(32)}`;
        const first = await request(app.server)
          .post(path)
          .send({ version: 'd1', uri: 's3://datasets/images/d1/', digest });
        expect(first.status).toBe(201);
        const again = await request(app.server)
          .post(path)
          .send({ version: 'd2', uri: 's3://datasets/images/d2/', digest });
        expect(again.status).toBe(200);
        expect(again.body.version).toBe('d1');
        const list = await request(app.server).get(`${path}?limit=100`);
        expect(
          list.body.items.map((v: { version: string }) => v.version),
        ).toEqual(['d1']);
      });

      it('records datasets, runs, deployments and answers lineage', async () => {
        await request(app.server)
          .post('/api/kubeai/datasets/default/images/versions')
          .send({ version: 'v1', uri: 's3://datasets/images/v1/' })
          .expect(201);
        const run = await request(app.server)
          .post('/api/kubeai/runs')
          .send({
            kind: 'training',
            cluster: 'prod',
            namespace: 'team-cv',
            name: 'train-clf-3',
            modelRef: 'model:default/clf',
            inputs: [{ datasetRef: 'dataset:default/images', version: 'v1' }],
          });
        expect(run.status).toBe(201);
        const version = await request(app.server)
          .post(`${MODEL}/versions`)
          .send({ artifact, runId: run.body.id });
        expect(version.body.version).toBe(3);
        await request(app.server)
          .patch(`/api/kubeai/runs/${run.body.id}`)
          .send({ phase: 'Succeeded' })
          .expect(200);
        expect(
          (await request(app.server).get(`/api/kubeai/runs/${run.body.id}`))
            .body,
        ).toMatchObject({
          phase: 'Succeeded',
          outputs: [{ modelRef: 'model:default/clf', version: 3 }],
        });
        expect(
          (
            await request(app.server).get(
              '/api/kubeai/runs?model=model:default/clf&dataset=dataset%3Adefault%2Fimages',
            )
          ).body.totalItems,
        ).toBe(1);

        const deployment = await request(app.server)
          .post('/api/kubeai/deployments')
          .send({
            serviceRef: 'inferenceservice:default/svc',
            cluster: 'prod',
            namespace: 'team-cv',
            name: 'svc',
            modelRef: 'model:default/clf',
            traffic: [
              { version: 2, percent: 80 },
              { version: 3, percent: 20 },
            ],
          });
        expect(deployment.status).toBe(201);
        await request(app.server)
          .patch('/api/kubeai/deployments/default/svc')
          .send({ traffic: [{ version: 3, percent: 100 }] })
          .expect(200);
        const revisions = await request(app.server).get(
          '/api/kubeai/deployments/default/svc/revisions',
        );
        expect(
          revisions.body.items.map((r: { revision: number }) => r.revision),
        ).toEqual([2, 1]);
        const serving = await request(app.server).get(
          '/api/kubeai/deployments?model=model:default/clf&version=3',
        );
        expect(
          serving.body.items.map((d: { serviceRef: string }) => d.serviceRef),
        ).toEqual(['inferenceservice:default/svc']);
        expect(
          (await request(app.server).get(`${MODEL}/deployments`)).body
            .totalItems,
        ).toBe(1);

        const lineage = await request(app.server).get(
          '/api/kubeai/lineage?entityRef=inferenceservice:default/svc&direction=upstream',
        );
        expect(lineage.status).toBe(200);
        expect(lineage.body.edges).toEqual(
          expect.arrayContaining([
            {
              from: 'model:default/clf@3',
              to: 'inferenceservice:default/svc',
              type: 'deployedTo',
              percent: 100,
            },
            {
              from: `run:${run.body.id}`,
              to: 'model:default/clf@3',
              type: 'produced',
            },
            {
              from: 'dataset:default/images@v1',
              to: `run:${run.body.id}`,
              type: 'inputTo',
            },
          ]),
        );
        // an entity the catalog knows but the registry does not: a lone node
        expect(
          (
            await request(app.server).get(
              '/api/kubeai/lineage?entityRef=inferenceservice:default/svc2',
            )
          ).body,
        ).toEqual({
          roots: ['inferenceservice:default/svc2'],
          nodes: [
            {
              id: 'inferenceservice:default/svc2',
              type: 'inferenceService',
              entityRef: 'inferenceservice:default/svc2',
              label: 'svc2',
            },
          ],
          edges: [],
        });
      });
    });

    describe('lineage answers between writes', () => {
      const app = useBackend(databaseId);

      const LINEAGE = '/api/kubeai/lineage?entityRef=model:default/clf';

      it('reuses an answer until a write, answers 304 to a matching If-None-Match', async () => {
        await request(app.server)
          .post(`${MODEL}/versions`)
          .send({ artifact })
          .expect(201);
        const first = await request(app.server).get(LINEAGE).expect(200);
        const again = await request(app.server).get(LINEAGE).expect(200);
        expect(again.headers.etag).toBe(first.headers.etag);
        expect(again.headers['content-type']).toMatch(/^application\/json/);
        expect(again.body).toEqual(first.body);
        await request(app.server)
          .get(LINEAGE)
          .set('If-None-Match', first.headers.etag)
          .expect(304);

        // a registry write: the next answer has the new version, and a new tag
        await request(app.server)
          .post(`${MODEL}/versions`)
          .send({ artifact: { uri: 's3://models/clf/2', format: 'onnx' } })
          .expect(201);
        const after = await request(app.server)
          .get(LINEAGE)
          .set('If-None-Match', first.headers.etag)
          .expect(200);
        expect(after.headers.etag).not.toBe(first.headers.etag);
        expect(after.body.nodes.map((n: { id: string }) => n.id)).toEqual([
          'model:default/clf',
          'model:default/clf@1',
          'model:default/clf@2',
        ]);

        // a lone catalog node depends on the catalog too: no tag of the registry's token
        const lone = await request(app.server)
          .get('/api/kubeai/lineage?entityRef=inferenceservice:default/svc2')
          .expect(200);
        expect(lone.headers.etag ?? '').not.toMatch(/lineage-/);

        // a deployment, then its observed state: each shows at once
        await request(app.server)
          .post('/api/kubeai/deployments')
          .send({
            serviceRef: 'inferenceservice:default/svc',
            cluster: 'prod',
            namespace: 'team-cv',
            name: 'svc',
            modelRef: 'model:default/clf',
            traffic: [{ version: 2, percent: 100 }],
          })
          .expect(201);
        const deployed = await request(app.server).get(LINEAGE).expect(200);
        expect(
          deployed.body.nodes.find(
            (n: { id: string }) => n.id === 'inferenceservice:default/svc',
          ).status,
        ).toBeUndefined();
        // what the informers write, through the plugin's database client
        await app
          .knex('kubeai_deployments')
          .where({ service_ref: 'inferenceservice:default/svc' })
          .update({
            observed: JSON.stringify({ phase: 'Ready', ready: true }),
          });
        const live = await request(app.server).get(LINEAGE).expect(200);
        expect(
          live.body.nodes.find(
            (n: { id: string }) => n.id === 'inferenceservice:default/svc',
          ),
        ).toMatchObject({ status: 'Ready', observed: { phase: 'Ready' } });
      });

      it("keeps an answer across a version's aliases, tags and description; its state changes it", async () => {
        const DET = '/api/kubeai/lineage?entityRef=model:default/det';
        const versions = '/api/kubeai/models/default/det/versions';
        const register = async (uri: string) =>
          (
            await request(app.server)
              .post(versions)
              .send({ artifact: { uri, format: 'onnx' } })
              .expect(201)
          ).body.version;
        const kept = await register('s3://models/det/a');
        const archivedVersion = await register('s3://models/det/b');
        const first = await request(app.server).get(DET).expect(200);
        // what lineage does not show: the held answer stays valid (304 to its tag)
        for (const patch of [
          { aliases: ['production'] },
          { tags: ['risk'] },
          { description: 'retrained on November' },
        ]) {
          await request(app.server)
            .patch(`${versions}/${kept}`)
            .send(patch)
            .expect(200);
          await request(app.server)
            .get(DET)
            .set('If-None-Match', first.headers.etag)
            .expect(304);
        }
        // archiving a version changes its node's status: a new answer and tag
        await request(app.server)
          .patch(`${versions}/${archivedVersion}`)
          .send({ state: 'archived' })
          .expect(200);
        const archived = await request(app.server)
          .get(DET)
          .set('If-None-Match', first.headers.etag)
          .expect(200);
        expect(archived.headers.etag).not.toBe(first.headers.etag);
        expect(
          archived.body.nodes.find(
            (n: { id: string }) =>
              n.id === `model:default/det@${archivedVersion}`,
          ),
        ).toMatchObject({ status: 'archived' });
        // sending the state it already has changes nothing
        await request(app.server)
          .patch(`${versions}/${archivedVersion}`)
          .send({ state: 'archived', description: 'kept for lineage' })
          .expect(200);
        await request(app.server)
          .get(DET)
          .set('If-None-Match', archived.headers.etag)
          .expect(304);
      });

      it("keeps model B's answer valid across writes that touch only model A", async () => {
        const OTHER = '/api/kubeai/lineage?entityRef=model:default/det';
        await request(app.server)
          .post('/api/kubeai/models/default/det/versions')
          .send({ artifact: { uri: 's3://models/det/1', format: 'onnx' } })
          .expect(201);
        const b = await request(app.server).get(OTHER).expect(200);
        // writes of model A: a version, a run of it and its phase, a dataset version it reads
        const version = await request(app.server)
          .post(`${MODEL}/versions`)
          .send({ artifact: { uri: 's3://models/clf/9', format: 'onnx' } })
          .expect(201);
        const run = await request(app.server)
          .post('/api/kubeai/runs')
          .send({
            kind: 'training',
            cluster: 'c',
            namespace: 'ns',
            name: 'train-clf',
            modelRef: 'model:default/clf',
          })
          .expect(201);
        await request(app.server)
          .patch(`/api/kubeai/runs/${run.body.id}`)
          .send({ phase: 'Running' })
          .expect(200);
        // a service deployed with model A, then its traffic moved
        await request(app.server)
          .post('/api/kubeai/deployments')
          .send({
            serviceRef: 'inferenceservice:default/svc2',
            cluster: 'prod',
            namespace: 'team-cv',
            name: 'svc2',
            modelRef: 'model:default/clf',
            traffic: [{ version: 1, percent: 100 }],
          })
          .expect(201);
        await request(app.server)
          .patch('/api/kubeai/deployments/default/svc2')
          .send({ traffic: [{ version: version.body.version, percent: 100 }] })
          .expect(200);
        // B's answer: still the same, answered 304 to its tag
        await request(app.server)
          .get(OTHER)
          .set('If-None-Match', b.headers.etag)
          .expect(304);
        // A's answer has the new version; the run's own answer its phase
        const a = await request(app.server).get(LINEAGE).expect(200);
        expect(a.body.nodes.map((n: { id: string }) => n.id)).toContain(
          `model:default/clf@${version.body.version}`,
        );
        const ofRun = await request(app.server)
          .get(`/api/kubeai/lineage?runId=${run.body.id}`)
          .expect(200);
        expect(
          ofRun.body.nodes.find(
            (n: { id: string }) => n.id === `run:${run.body.id}`,
          ),
        ).toMatchObject({ status: 'Running' });
        expect(
          a.body.edges.filter(
            (e: { to: string }) => e.to === 'inferenceservice:default/svc2',
          ),
        ).toEqual([
          {
            from: `model:default/clf@${version.body.version}`,
            to: 'inferenceservice:default/svc2',
            type: 'deployedTo',
            percent: 100,
          },
        ]);
        // the service moved to model B: B's answer changes (it now shows the service)
        const bVersion = b.body.nodes.find(
          (n: { type: string }) => n.type === 'modelVersion',
        ).version;
        await request(app.server)
          .patch('/api/kubeai/deployments/default/svc2')
          .send({
            modelRef: 'model:default/det',
            traffic: [{ version: Number(bVersion), percent: 100 }],
          })
          .expect(200);
        const moved = await request(app.server)
          .get(OTHER)
          .set('If-None-Match', b.headers.etag)
          .expect(200);
        expect(moved.body.nodes.map((n: { id: string }) => n.id)).toContain(
          'inferenceservice:default/svc2',
        );
        const bTag = moved.headers.etag;
        // a write that does not say what it changes (a statement outside the registry's
        // transactions) changes every answer
        await app
          .knex('kubeai_model_versions')
          .where({ model_ref: 'model:default/clf', version: 1 })
          .update({ description: 'touched by hand' });
        await new Promise(resolve => setTimeout(resolve, 50));
        const after = await request(app.server)
          .get(OTHER)
          .set('If-None-Match', bTag)
          .expect(200);
        expect(after.headers.etag).not.toBe(bTag);
        expect(after.body).toEqual(moved.body);
      });
    });
  },
);
