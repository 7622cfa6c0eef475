/*
 * The shared setup of the router.*.test.ts suites (the registry routes of the plugin's router on
 * SQLite and PostgreSQL, no cluster): the catalog the tests refer to, the backend starter and a
 * backend on a fresh database per `describe`.
 */
import {
  mockServices,
  startTestBackend,
  TestDatabaseId,
} from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { Knex } from 'knex';
import { createTestDatabases } from '../../__testUtils__/databases';
import { kubeaiPlugin } from '../../plugin';

export const databases = createTestDatabases();

const entity = (kind: string, name: string): Entity => ({
  apiVersion: 'kubeai.io/v1alpha1',
  kind,
  metadata: { name, namespace: 'default' },
  spec: {},
});

/** What the catalog knows. `ghost` entities are never in it. */
const entities = [
  entity('Model', 'clf'),
  entity('Model', 'det'),
  entity('Dataset', 'images'),
  entity('InferenceService', 'svc'),
  entity('InferenceService', 'svc2'),
];

export const MODEL = '/api/kubeai/models/default/clf';
export const artifact = { uri: 's3://models/clf/model.onnx', format: 'onnx' };

type Feature = Parameters<typeof startTestBackend>[0]['features'];

export async function startBackend(knex: Knex, features: Feature = []) {
  return startTestBackend({
    features: [
      kubeaiPlugin,
      mockServices.database.factory({ knex }),
      catalogServiceMock.factory({ entities }),
      mockServices.rootConfig.factory({
        data: {
          kubeai: { registry: { validateResponses: true, maxBodySize: '1mb' } },
        },
      }),
      ...(features ?? []),
    ],
  });
}

/** A backend on a fresh database for the enclosing `describe`. */
export function useBackend(databaseId: TestDatabaseId) {
  const app = {} as {
    knex: Knex;
    server: Awaited<ReturnType<typeof startBackend>>['server'];
  };
  let stop = async () => {};
  beforeAll(async () => {
    app.knex = await databases.init(databaseId);
    const backend = await startBackend(app.knex);
    app.server = backend.server;
    stop = () => backend.stop();
  });
  afterAll(() => stop());
  return app;
}
