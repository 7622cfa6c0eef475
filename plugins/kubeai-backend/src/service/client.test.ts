import {
  mockServices,
  startTestBackend,
  TestDatabaseId,
} from '@backstage/backend-test-utils';
import { ResponseError } from '@backstage/errors';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { KubeaiClient } from '@kubeai/plugin-kubeai-common';
import request from 'supertest';
import {
  createTestDatabases,
  postgresSupport,
} from '../__testUtils__/databases';
import { kubeaiPlugin } from '../plugin';

jest.setTimeout(60_000);

const databases = createTestDatabases();

/**
 * The typed client of @kubeai/plugin-kubeai-common against the real plugin: the frontend and the
 * scaffolder module use exactly this. Jest forbids network requests, so its fetch goes through
 * supertest; responses are validated against the spec by the backend (`validateResponses`).
 */
async function clientFor(databaseId: TestDatabaseId) {
  const knex = await databases.init(databaseId);
  const backend = await startTestBackend({
    features: [
      kubeaiPlugin,
      mockServices.database.factory({ knex }),
      mockServices.rootConfig.factory({
        data: { kubeai: { registry: { validateResponses: true } } },
      }),
      catalogServiceMock.factory({
        entities: ['Model:clf', 'Dataset:images', 'InferenceService:svc'].map(
          kn => {
            const [kind, name] = kn.split(':');
            return {
              apiVersion: 'kubeai.io/v1alpha1',
              kind,
              metadata: { name, namespace: 'default' },
              spec: {},
            };
          },
        ),
      }),
    ],
  });
  const fetchViaSupertest = async (
    input: string | URL | Request,
    init?: RequestInit,
  ): Promise<Response> => {
    const url = new URL(String(input));
    const method = (init?.method ?? 'GET').toLowerCase();
    let req = (
      request(backend.server) as unknown as Record<
        string,
        (p: string) => request.Test
      >
    )[method](url.pathname + url.search);
    for (const [key, value] of Object.entries(
      (init?.headers ?? {}) as Record<string, string>,
    )) {
      req = req.set(key, value);
    }
    if (init?.body) req = req.send(init.body as string);
    const res = await req;
    return new Response(res.text, {
      status: res.status,
      statusText: res.status >= 400 ? 'Error' : 'OK',
      headers: { 'content-type': String(res.headers['content-type']) },
    });
  };
  const client = new KubeaiClient({
    discoveryApi: {
      getBaseUrl: async pluginId => `http://localhost/api/${pluginId}`,
    },
    fetchApi: { fetch: fetchViaSupertest as typeof fetch },
  });
  return { client, stop: () => backend.stop() };
}

it('runs against SQLite and PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

describe.each(databases.eachSupportedId())(
  'KubeaiClient against the plugin on %p',
  databaseId => {
    it('covers the registry workflow', async () => {
      const { client, stop } = await clientFor(databaseId);
      try {
        const clf = { namespace: 'default', name: 'clf' };
        const images = { namespace: 'default', name: 'images' };
        const svc = { namespace: 'default', name: 'svc' };

        await client.createDatasetVersion(images, {
          version: '2026-11-01',
          uri: 's3://datasets/images/2026-11-01/',
        });
        expect((await client.getDatasetVersion(images, '2026-11-01')).uri).toBe(
          's3://datasets/images/2026-11-01/',
        );
        expect((await client.listDatasetVersions(images)).totalItems).toBe(1);

        const run = await client.createRun({
          kind: 'training',
          cluster: 'prod',
          namespace: 'team-cv',
          name: 'train-clf',
          modelRef: 'model:default/clf',
          inputs: [
            { datasetRef: 'dataset:default/images', version: '2026-11-01' },
          ],
        });
        const v1 = await client.createModelVersion(clf, {
          artifact: { uri: 's3://m/clf/1', format: 'onnx' },
          metrics: { auc: 0.9 },
          runId: run.id,
          aliases: ['production'],
        });
        expect(v1.version).toBe(1);
        await client.updateRun(run.id, { phase: 'Succeeded' });
        expect((await client.getRun(run.id)).outputs).toEqual([
          { modelRef: 'model:default/clf', version: 1 },
        ]);
        expect(
          (await client.listRuns({ model: 'model:default/clf' })).totalItems,
        ).toBe(1);

        const v2 = await client.createModelVersion(clf, {
          artifact: { uri: 's3://m/clf/2', format: 'onnx' },
        });
        await client.updateModelVersion(clf, v2.version, {
          aliases: ['canary'],
          tags: ['candidate'],
        });
        expect(
          (await client.getModelVersionByAlias(clf, 'canary')).version,
        ).toBe(2);
        expect((await client.getModelVersion(clf, 2)).tags).toEqual([
          'candidate',
        ]);
        expect(
          (await client.listModelVersions(clf, { tag: 'candidate' })).items,
        ).toHaveLength(1);

        await client.createDeployment({
          serviceRef: 'inferenceservice:default/svc',
          cluster: 'prod',
          namespace: 'team-cv',
          name: 'svc',
          modelRef: 'model:default/clf',
          traffic: [
            { version: 1, percent: 90 },
            { version: 2, percent: 10 },
          ],
        });
        await client.updateDeployment(svc, {
          traffic: [{ version: 2, percent: 100 }],
        });
        expect((await client.getDeployment(svc)).revision).toBe(2);
        expect((await client.listDeploymentRevisions(svc)).totalItems).toBe(2);
        expect(
          (
            await client.listDeployments({
              model: 'model:default/clf',
              version: 2,
            })
          ).totalItems,
        ).toBe(1);
        expect((await client.listModelDeployments(clf)).totalItems).toBe(1);

        const graph = await client.getLineage({
          entityRef: 'inferenceservice:default/svc',
          direction: 'upstream',
          depth: 3,
        });
        expect(graph.nodes.map(n => n.id).sort()).toEqual(
          [
            'inferenceservice:default/svc',
            'model:default/clf',
            'model:default/clf@2',
          ].sort(),
        );

        const error = await client
          .getModelVersion(clf, 9)
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ResponseError);
        expect((error as ResponseError).statusCode).toBe(404);
        expect((error as ResponseError).body.error.message).toBe(
          'model:default/clf has no version 9',
        );
      } finally {
        await stop();
      }
    });
  },
);
