/*
 * The refusals of the plugin's router on SQLite and PostgreSQL: malformed requests answered 4xx
 * naming the field with nothing written, and the permission checks (403 under a deny policy,
 * what the policy is asked, the permissions registered).
 */
import { mockServices, TestDatabaseId } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { Knex } from 'knex';
import request from 'supertest';
import { postgresSupport, snapshotRegistry } from '../__testUtils__/databases';
import { RegistryStore } from '../database/RegistryStore';
import {
  artifact,
  databases,
  MODEL,
  startBackend,
  useBackend,
} from './__testUtils__/router';

jest.setTimeout(120_000);

it('runs against SQLite and PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

describe.each(databases.eachSupportedId())(
  'kubeai router on %p',
  (databaseId: TestDatabaseId) => {
    describe('malformed requests', () => {
      const app = useBackend(databaseId);
      let runId: string;

      beforeAll(async () => {
        await request(app.server)
          .post('/api/kubeai/datasets/default/images/versions')
          .send({ version: 'v1', uri: 's3://d/images/v1' })
          .expect(201);
        const run = await request(app.server)
          .post('/api/kubeai/runs')
          .send({
            kind: 'training',
            cluster: 'prod',
            namespace: 'team-cv',
            name: 'train',
            uid: '6f1c2a0e-3b7d-4c55-9d7e-0a8b1f2c3d4e',
          })
          .expect(201);
        runId = run.body.id;
        await request(app.server)
          .post(`${MODEL}/versions`)
          .send({ artifact, runId, aliases: ['production'] })
          .expect(201);
        await request(app.server)
          .post('/api/kubeai/deployments')
          .send({
            serviceRef: 'inferenceservice:default/svc',
            cluster: 'prod',
            namespace: 'team-cv',
            name: 'svc',
            modelRef: 'model:default/clf',
            traffic: [{ version: 1, percent: 100 }],
          })
          .expect(201);
      });

      const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
      const run = (extra: object) => ({
        kind: 'training',
        cluster: 'prod',
        namespace: 'team-cv',
        name: 'train-2',
        ...extra,
      });
      const deployment = (extra: object) => ({
        serviceRef: 'inferenceservice:default/svc2',
        cluster: 'prod',
        namespace: 'team-cv',
        name: 'svc2',
        modelRef: 'model:default/clf',
        traffic: [{ version: 1, percent: 100 }],
        ...extra,
      });
      const version = (extra: object) => ({ artifact, ...extra });
      const raw = (json: string) => ({ raw: json });
      const points = (n: number) =>
        Array.from({ length: n }, () => ({ fpr: 0.1, tpr: 0.2 }));

      /** [what, method, path, body, status, the field or ref the message must name] */
      // prettier-ignore
      const cases: [string, string, string, unknown, number, string][] = [
        ['missing artifact', 'post', `${MODEL}/versions`, {}, 400, 'request/body/artifact'],
        ['uri of the wrong type', 'post', `${MODEL}/versions`, version({ artifact: { uri: 42, format: 'onnx' } }), 400, 'request/body/artifact/uri'],
        ['uri that is no URI', 'post', `${MODEL}/versions`, version({ artifact: { uri: 'not a uri', format: 'onnx' } }), 400, 'request/body/artifact/uri'],
        ['missing format', 'post', `${MODEL}/versions`, version({ artifact: { uri: 's3://a/b' } }), 400, 'request/body/artifact/format'],
        ['negative size', 'post', `${MODEL}/versions`, version({ artifact: { ...artifact, size: -1 } }), 400, 'request/body/artifact/size'],
        ['size as a string', 'post', `${MODEL}/versions`, version({ artifact: { ...artifact, size: '10' } }), 400, 'request/body/artifact/size'],
        ['fractional size', 'post', `${MODEL}/versions`, version({ artifact: { ...artifact, size: 1.5 } }), 400, 'request/body/artifact/size'],
        ['bad digest', 'post', `${MODEL}/versions`, version({ artifact: { ...artifact, digest: 'md5' } }), 400, 'request/body/artifact/digest'],
        ['"NaN" metric', 'post', `${MODEL}/versions`, version({ metrics: { auc: 'NaN' } }), 400, 'request/body/metrics/auc'],
        ['NaN literal (not JSON)', 'post', `${MODEL}/versions`, raw('{"artifact":{"uri":"s3://a/b","format":"onnx"},"metrics":{"auc":NaN}}'), 400, 'request/body is not valid JSON'],
        ['Infinity metric (1e999)', 'post', `${MODEL}/versions`, raw('{"artifact":{"uri":"s3://a/b","format":"onnx"},"metrics":{"auc":1e999}}'), 400, 'request/body/metrics/auc'],
        ['metrics as a list', 'post', `${MODEL}/versions`, version({ metrics: [1, 2] }), 400, 'request/body/metrics'],
        ['bad metric name', 'post', `${MODEL}/versions`, version({ metrics: { 'bad key!': 1 } }), 400, 'request/body/metrics'],
        ['ROC point out of range', 'post', `${MODEL}/versions`, version({ curves: { roc: [{ fpr: 1.5, tpr: 0 }] } }), 400, 'request/body/curves/roc/0/fpr'],
        ['ROC point without tpr', 'post', `${MODEL}/versions`, version({ curves: { roc: [{ fpr: 0.5 }] } }), 400, 'request/body/curves/roc/0/tpr'],
        ['unknown curve', 'post', `${MODEL}/versions`, version({ curves: { lift: [] } }), 400, 'request/body/curves/lift'],
        ['too many curve points', 'post', `${MODEL}/versions`, version({ curves: { roc: points(2001) } }), 400, 'request/body/curves/roc'],
        ['nested parameter', 'post', `${MODEL}/versions`, version({ params: { a: { b: 1 } } }), 400, 'request/body/params/a'],
        ['huge parameter', 'post', `${MODEL}/versions`, version({ params: { a: 'x'.repeat(5000) } }), 400, 'request/body/params/a'],
        ['tags as a string', 'post', `${MODEL}/versions`, version({ tags: 'prod' }), 400, 'request/body/tags'],
        ['SQL-ish tag', 'post', `${MODEL}/versions`, version({ tags: ["x'; DROP TABLE kubeai_model_versions;--"] }), 400, 'request/body/tags/0'],
        ['duplicate tags', 'post', `${MODEL}/versions`, version({ tags: ['a', 'a'] }), 400, 'request/body/tags'],
        ['bad alias', 'post', `${MODEL}/versions`, version({ aliases: ['Prod!'] }), 400, 'request/body/aliases/0'],
        ['reserved alias latest', 'post', `${MODEL}/versions`, version({ aliases: ['latest'] }), 400, 'request/body/aliases/0'],
        ['runId that is no id', 'post', `${MODEL}/versions`, version({ runId: 'abc' }), 400, 'request/body/runId'],
        ['unknown runId', 'post', `${MODEL}/versions`, version({ runId: UNKNOWN_ID }), 422, 'request/body/runId'],
        ['unknown property', 'post', `${MODEL}/versions`, version({ owner: 'me' }), 400, 'request/body/owner'],
        ['body over 1 MB', 'post', `${MODEL}/versions`, version({ description: 'x'.repeat(1_100_000) }), 413, 'request/body is larger than the limit of 1mb'],
        ['no body', 'post', `${MODEL}/versions`, undefined, 400, 'request/body is required'],
        ['a list as body', 'post', `${MODEL}/versions`, [], 400, 'request/body'],
        ['model not in the catalog', 'post', '/api/kubeai/models/default/ghost/versions', version({}), 404, 'model:default/ghost not found in the catalog'],
        ['SQL-ish model name', 'post', `/api/kubeai/models/default/clf'%3B%20DROP%20TABLE%20x/versions`, version({}), 400, 'request/params/name'],
        ['version that is no number', 'get', `${MODEL}/versions/abc`, undefined, 400, 'request/params/version'],
        ['version 0', 'get', `${MODEL}/versions/0`, undefined, 400, 'request/params/version'],
        ['unknown version', 'get', `${MODEL}/versions/99`, undefined, 404, 'model:default/clf has no version 99'],
        ['unknown alias', 'get', `${MODEL}/versions/by-alias/nope`, undefined, 404, "request/params/alias: model:default/clf has no alias 'nope'"],
        ['empty patch', 'patch', `${MODEL}/versions/1`, {}, 400, 'request/body'],
        ['unknown state', 'patch', `${MODEL}/versions/1`, { state: 'deleted' }, 400, 'request/body/state'],
        ['archiving an aliased version', 'patch', `${MODEL}/versions/1`, { state: 'archived' }, 409, 'request/body/state'],
        ['patching an unknown version', 'patch', `${MODEL}/versions/99`, { tags: [] }, 404, 'model:default/clf has no version 99'],
        ['limit 0', 'get', `${MODEL}/versions?limit=0`, undefined, 400, 'request/query/limit'],
        ['limit that is no number', 'get', `${MODEL}/versions?limit=abc`, undefined, 400, 'request/query/limit'],
        ['unknown query parameter', 'get', `${MODEL}/versions?bogus=1`, undefined, 400, "'bogus'"],
        ['run without anything', 'post', '/api/kubeai/runs', {}, 400, 'request/body/kind'],
        ['unknown run kind', 'post', '/api/kubeai/runs', run({ kind: 'batch' }), 400, 'request/body/kind'],
        ['bad Kubernetes namespace', 'post', '/api/kubeai/runs', run({ namespace: 'Team_CV' }), 400, 'request/body/namespace'],
        ['bad timestamp', 'post', '/api/kubeai/runs', run({ startedAt: 'yesterday' }), 400, 'request/body/startedAt'],
        ['model ref as dataset', 'post', '/api/kubeai/runs', run({ inputs: [{ datasetRef: 'model:default/clf' }] }), 400, 'request/body/inputs/0/datasetRef'],
        ['dataset not in the catalog', 'post', '/api/kubeai/runs', run({ inputs: [{ datasetRef: 'dataset:default/ghost' }] }), 422, 'request/body/inputs/0/datasetRef: dataset:default/ghost not found in the catalog'],
        ['unknown dataset version', 'post', '/api/kubeai/runs', run({ inputs: [{ datasetRef: 'dataset:default/images', version: 'v9' }] }), 422, 'request/body/inputs/0/version'],
        ['model not in the catalog', 'post', '/api/kubeai/runs', run({ modelRef: 'model:default/ghost' }), 422, 'request/body/modelRef'],
        ['duplicate uid', 'post', '/api/kubeai/runs', run({ uid: '6f1c2a0e-3b7d-4c55-9d7e-0a8b1f2c3d4e' }), 409, 'request/body/uid'],
        ['run id that is no id', 'get', '/api/kubeai/runs/not-an-id', undefined, 400, 'request/params/id'],
        ['unknown run', 'get', `/api/kubeai/runs/${UNKNOWN_ID}`, undefined, 404, `run ${UNKNOWN_ID} not found`],
        ['unknown phase', 'patch', '/api/kubeai/runs/RUN', { phase: 'Done' }, 400, 'request/body/phase'],
        ['patching an unknown run', 'patch', `/api/kubeai/runs/${UNKNOWN_ID}`, { phase: 'Failed' }, 404, `run ${UNKNOWN_ID} not found`],
        ['unknown phase filter', 'get', '/api/kubeai/runs?phase=done', undefined, 400, 'request/query/phase'],
        ['duplicate dataset version', 'post', '/api/kubeai/datasets/default/images/versions', { version: 'v1', uri: 's3://x/y' }, 409, 'request/body/version'],
        ['path-like dataset version', 'post', '/api/kubeai/datasets/default/images/versions', { version: '../etc', uri: 's3://x/y' }, 400, 'request/body/version'],
        ['negative dataset size', 'post', '/api/kubeai/datasets/default/images/versions', { version: 'v2', uri: 's3://x/y', size: -5 }, 400, 'request/body/size'],
        ['dataset not in the catalog', 'post', '/api/kubeai/datasets/default/ghost/versions', { version: 'v1', uri: 's3://x/y' }, 404, 'dataset:default/ghost not found in the catalog'],
        ['shares not adding up', 'post', '/api/kubeai/deployments', deployment({ traffic: [{ version: 1, percent: 90 }] }), 422, 'request/body/traffic'],
        ['empty traffic', 'post', '/api/kubeai/deployments', deployment({ traffic: [] }), 400, 'request/body/traffic'],
        ['share over 100', 'post', '/api/kubeai/deployments', deployment({ traffic: [{ version: 1, percent: 101 }] }), 400, 'request/body/traffic/0/percent'],
        ['model ref as service', 'post', '/api/kubeai/deployments', deployment({ serviceRef: 'model:default/clf' }), 400, 'request/body/serviceRef'],
        ['service not in the catalog', 'post', '/api/kubeai/deployments', deployment({ serviceRef: 'inferenceservice:default/ghost' }), 422, 'request/body/serviceRef: inferenceservice:default/ghost not found in the catalog'],
        ['second deployment of a service', 'post', '/api/kubeai/deployments', deployment({ serviceRef: 'inferenceservice:default/svc' }), 409, 'request/body/serviceRef'],
        ['unknown version in traffic', 'post', '/api/kubeai/deployments', deployment({ traffic: [{ version: 9, percent: 100 }] }), 422, 'request/body/traffic/0/version'],
        ['patch with bad shares', 'patch', '/api/kubeai/deployments/default/svc', { traffic: [{ version: 1, percent: 50 }] }, 422, 'request/body/traffic'],
        ['patching an unknown deployment', 'patch', '/api/kubeai/deployments/default/ghost', { desired: {} }, 404, 'inferenceservice:default/ghost has no deployment'],
        ['version filter without model', 'get', '/api/kubeai/deployments?version=1', undefined, 400, 'request/query/version'],
        ['model filter that is no ref', 'get', '/api/kubeai/deployments?model=clf', undefined, 400, 'request/query/model'],
        ['lineage without a start', 'get', '/api/kubeai/lineage', undefined, 400, 'request/query/entityRef'],
        ['lineage with two starts', 'get', `/api/kubeai/lineage?entityRef=model:default/clf&runId=${UNKNOWN_ID}`, undefined, 400, 'request/query/entityRef'],
        ['lineage of a user', 'get', '/api/kubeai/lineage?entityRef=user:default/x', undefined, 400, 'request/query/entityRef'],
        ['lineage depth 11', 'get', '/api/kubeai/lineage?entityRef=model:default/clf&depth=11', undefined, 400, 'request/query/depth'],
        ['lineage depth -1', 'get', '/api/kubeai/lineage?entityRef=model:default/clf&depth=-1', undefined, 400, 'request/query/depth'],
        ['lineage direction', 'get', '/api/kubeai/lineage?entityRef=model:default/clf&direction=sideways', undefined, 400, 'request/query/direction'],
        ['lineage model version that is no number', 'get', '/api/kubeai/lineage?entityRef=model:default/clf&version=abc', undefined, 400, 'request/query/version'],
        ['lineage of an unknown version', 'get', '/api/kubeai/lineage?entityRef=model:default/clf&version=9', undefined, 404, 'model:default/clf has no version 9'],
        ['lineage of an unknown model', 'get', '/api/kubeai/lineage?entityRef=model:default/ghost', undefined, 404, 'model:default/ghost not found in the catalog'],
        ['SQL-ish lineage ref', 'get', `/api/kubeai/lineage?entityRef=${encodeURIComponent("model:default/clf' OR 1=1--")}`, undefined, 400, 'request/query/entityRef'],
      ];

      it(`answers ${cases.length} malformed requests with 4xx naming the field, writing nothing`, async () => {
        expect(cases.length).toBeGreaterThanOrEqual(40);
        const before = await snapshotRegistry(app.knex);
        const failures: string[] = [];
        for (const [what, method, rawPath, body, status, named] of cases) {
          const path = rawPath.replace('/RUN', `/${runId}`);
          let req = (
            request(app.server) as unknown as Record<
              string,
              (p: string) => request.Test
            >
          )[method](path);
          if (body && typeof body === 'object' && 'raw' in body) {
            req = req
              .set('Content-Type', 'application/json')
              .send((body as { raw: string }).raw);
          } else if (body !== undefined) {
            req = req.send(body as object);
          }
          const res = await req;
          const message: string = res.body?.error?.message ?? '';
          if (res.status !== status || !message.includes(named)) {
            failures.push(
              `${what}: ${method.toUpperCase()} ${path} → ${
                res.status
              } ${message.slice(0, 200)} (expected ${status} naming ${named})`,
            );
          }
        }
        expect(failures).toEqual([]);
        expect(await snapshotRegistry(app.knex)).toEqual(before);
      });
    });

    describe('permissions', () => {
      let knex: Knex;
      let runId: string;

      beforeAll(async () => {
        knex = await databases.init(databaseId);
        await RegistryStore.migrate(knex);
        const store = new RegistryStore(knex);
        const u = 'user:default/seed';
        await store.createDatasetVersion(
          'dataset:default/images',
          { version: 'v1', uri: 's3://d/v1' },
          u,
        );
        runId = (
          await store.createRun(
            { kind: 'training', cluster: 'c', namespace: 'ns', name: 'r' },
            u,
          )
        ).id;
        await store.createModelVersion(
          'model:default/clf',
          { artifact, aliases: ['production'] },
          u,
        );
        await store.createDeployment(
          {
            serviceRef: 'inferenceservice:default/svc',
            cluster: 'c',
            namespace: 'ns',
            name: 'svc',
            modelRef: 'model:default/clf',
            traffic: [{ version: 1, percent: 100 }],
          },
          u,
        );
      });

      const mutations = (): [string, string, object][] => [
        ['post', `${MODEL}/versions`, { artifact, aliases: ['production'] }],
        ['patch', `${MODEL}/versions/1`, { aliases: [], state: 'archived' }],
        [
          'post',
          '/api/kubeai/runs',
          { kind: 'notebook', cluster: 'c', namespace: 'ns', name: 'nb' },
        ],
        ['patch', `/api/kubeai/runs/${runId}`, { phase: 'Failed' }],
        [
          'post',
          '/api/kubeai/datasets/default/images/versions',
          { version: 'v2', uri: 's3://d/v2' },
        ],
        [
          'post',
          '/api/kubeai/deployments',
          {
            serviceRef: 'inferenceservice:default/svc2',
            cluster: 'c',
            namespace: 'ns',
            name: 'svc2',
            modelRef: 'model:default/clf',
            traffic: [{ version: 1, percent: 100 }],
          },
        ],
        [
          'patch',
          '/api/kubeai/deployments/default/svc',
          { desired: { replicas: 3 } },
        ],
      ];

      const send = (
        server: Parameters<typeof request>[0],
        [method, path, body]: [string, string, object],
      ) =>
        (
          request(server) as unknown as Record<
            string,
            (p: string) => request.Test
          >
        )
          [method](path)
          .send(body);

      it('answers 403 to every change under a deny policy, and writes nothing', async () => {
        const backend = await startBackend(knex, [
          mockServices.permissions.factory({ result: AuthorizeResult.DENY }),
        ]);
        try {
          const before = await snapshotRegistry(knex);
          for (const mutation of mutations()) {
            const res = await send(backend.server, mutation);
            expect({ route: mutation.slice(0, 2), status: res.status }).toEqual(
              {
                route: mutation.slice(0, 2),
                status: 403,
              },
            );
            expect(res.body.error.name).toBe('NotAllowedError');
          }
          expect(await snapshotRegistry(knex)).toEqual(before);
          // reads stay open to any principal
          await request(backend.server).get(`${MODEL}/versions`).expect(200);
        } finally {
          await backend.stop();
        }
      });

      it('asks the policy with the permission, the entity ref and the caller', async () => {
        const authorize = jest.fn(
          async (
            requests: { permission: { name: string }; resourceRef?: string }[],
            _options: {
              credentials: { principal: { userEntityRef?: string } };
            },
          ) =>
            requests.map(r => ({
              // "allow by ownership": only changes of model:default/clf are allowed here
              result:
                r.permission.name !== 'kubeai.model.version.create' ||
                r.resourceRef === 'model:default/clf'
                  ? AuthorizeResult.ALLOW
                  : AuthorizeResult.DENY,
            })),
        );
        const backend = await startBackend(knex, [
          mockServices.permissions.mock({ authorize } as never).factory,
        ]);
        try {
          await request(backend.server)
            .post(`${MODEL}/versions`)
            .send({ artifact })
            .expect(201);
          const denied = await request(backend.server)
            .post('/api/kubeai/models/default/det/versions')
            .send({ artifact });
          expect(denied.status).toBe(403);
          expect(denied.body.error.message).toBe(
            'kubeai.model.version.create denied on model:default/det',
          );
          for (const mutation of mutations().slice(1)) {
            await send(backend.server, mutation);
          }
          const asked = authorize.mock.calls.map(([requests, options]) => [
            requests[0].permission.name,
            requests[0].resourceRef,
            options.credentials.principal.userEntityRef,
          ]);
          expect(asked).toEqual([
            [
              'kubeai.model.version.create',
              'model:default/clf',
              'user:default/mock',
            ],
            [
              'kubeai.model.version.create',
              'model:default/det',
              'user:default/mock',
            ],
            [
              'kubeai.model.version.update',
              'model:default/clf',
              'user:default/mock',
            ],
            // a run: the namespace it names (the stored one for a PATCH)
            ['kubeai.run.create', 'c/ns', 'user:default/mock'],
            ['kubeai.run.update', 'c/ns', 'user:default/mock'],
            [
              'kubeai.dataset.version.create',
              'dataset:default/images',
              'user:default/mock',
            ],
            [
              'kubeai.deployment.create',
              'inferenceservice:default/svc2',
              'user:default/mock',
            ],
            [
              'kubeai.deployment.update',
              'inferenceservice:default/svc',
              'user:default/mock',
            ],
          ]);
        } finally {
          await backend.stop();
        }
      });

      it('registers its permissions with the permission framework', async () => {
        const backend = await startBackend(knex);
        try {
          const metadata = await request(backend.server).get(
            '/api/kubeai/.well-known/backstage/permissions/metadata',
          );
          expect(metadata.status).toBe(200);
          expect(
            metadata.body.permissions
              .map((p: { name: string }) => p.name)
              .sort(),
          ).toEqual([
            'kubeai.cluster.object.create',
            'kubeai.cluster.object.delete',
            'kubeai.dataset.version.create',
            'kubeai.deployment.create',
            'kubeai.deployment.update',
            'kubeai.model.version.create',
            'kubeai.model.version.update',
            'kubeai.pool.update',
            'kubeai.run.create',
            'kubeai.run.logs.read',
            'kubeai.run.update',
          ]);
        } finally {
          await backend.stop();
        }
      });
    });
  },
);
