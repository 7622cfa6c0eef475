/*
 * The shared setup of the clusterRoutes.*.test.ts suites (the cluster routes against the real
 * local kube-apiserver 1.20 with the real CRDs, `yarn cluster:start`): each suite file calls
 * {@link clusterRoutesSuite} once at its top level and gets namespaces of its own, created before
 * and purged after its tests, and the backend starter with the catalog the tests refer to.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { Knex } from 'knex';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { createTestDatabases } from '../../__testUtils__/databases';
import { kubeaiPlugin } from '../../plugin';
import {
  deleteNamespace,
  localClusterState,
  localKubernetesConfig,
  testGateway,
} from './clusterRoutes';

export const API = '/api/kubeai';

export const ARTIFACT = (v: number) => ({
  uri: `s3://models/shoe-brand/${v}/model.onnx`,
  format: 'onnx',
});

const entity = (
  kind: string,
  name: string,
  spec: Entity['spec'] = {},
  annotations?: Record<string, string>,
): Entity => ({
  apiVersion: 'kubeai.io/v1alpha1',
  kind,
  metadata: {
    name,
    namespace: 'default',
    ...(annotations ? { annotations } : {}),
  },
  spec,
});

type Feature = Parameters<typeof startTestBackend>[0]['features'];

/**
 * Namespaces `kubeai-<suite>-<hex>` (good requests) and `kubeai-<suite>bad-<hex>` (bad requests:
 * it must stay empty) of one suite file, with what the suite needs around them. `suite` is
 * `[a-z0-9]+` (the name scripts/test-cleanup.mjs recognises). Registers the `beforeAll` that
 * creates the namespaces and the `afterAll` that purges them.
 */
export function clusterRoutesSuite(suite: string) {
  const suffix = randomBytes(3).toString('hex');
  /** Where the good requests create objects. */
  const NS = `kubeai-${suite}-${suffix}`;
  /** Where the bad requests point: it must stay empty. */
  const BAD_NS = `kubeai-${suite}bad-${suffix}`;

  /** What the (mock) catalog knows. */
  const entities: Entity[] = [
    entity('Model', 'shoe-brand'),
    entity('Model', 'sales-forecast'),
    entity('Model', 'other-model'),
    entity('Dataset', 'shoe-images', {
      source: { type: 'pvc', claimName: 'shoe-images', namespace: NS },
    }),
    entity('Dataset', 'bad-shoe-images', {
      source: { type: 'pvc', claimName: 'shoe-images', namespace: BAD_NS },
    }),
    entity('Dataset', 'clicks', {
      source: { type: 'table', engine: 'odps', project: 'dw', table: 'clicks' },
    }),
    entity('Dataset', 'holdout', {
      source: { type: 'oss', bucket: 'shoe-data', prefix: 'holdout' },
      cache: { engine: 'alluxio', capacity: '10Gi' },
    }),
    entity('InferenceService', 'preexisting'),
  ];

  async function startBackend(knex: Knex | undefined, features: Feature = []) {
    return startTestBackend({
      features: [
        kubeaiPlugin,
        ...(knex ? [mockServices.database.factory({ knex })] : []),
        catalogServiceMock.factory({ entities }),
        mockServices.rootConfig.factory({
          data: {
            backend: { baseUrl: 'http://localhost:7007' },
            kubeai: {
              registry: { validateResponses: true },
              informers: { enabled: false },
            },
            kubernetes: localKubernetesConfig(),
          },
        }),
        ...(features ?? []),
      ],
    });
  }

  const databases = createTestDatabases();
  const gateway = testGateway();
  const state = localClusterState();

  beforeAll(async () => {
    await gateway.apply('local', [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: BAD_NS } },
    ]);
  });

  afterAll(async () => {
    await deleteNamespace(gateway, NS);
    await deleteNamespace(gateway, BAD_NS);
  });

  /** Reads an object back from the apiserver (as the admin). */
  const readBack = (
    apiVersion: string,
    kind: string,
    name: string,
    namespace = NS,
  ) =>
    gateway.get('local', { apiVersion, kind, namespace, name }) as Promise<any>;

  /**
   * The registry the SQLite suites start from: shoe-brand v1, v2 (alias candidate), v3
   * (archived), and shoe-images v1 (its claim in NS).
   */
  async function seedRegistry(server: Parameters<typeof request>[0]) {
    for (const v of [1, 2, 3]) {
      await request(server)
        .post(`${API}/models/default/shoe-brand/versions`)
        .send({
          artifact: ARTIFACT(v),
          framework: 'pytorch',
          ...(v === 2 ? { aliases: ['candidate'] } : {}),
        })
        .expect(201);
    }
    await request(server)
      .patch(`${API}/models/default/shoe-brand/versions/3`)
      .send({ state: 'archived' })
      .expect(200);
    await request(server)
      .post(`${API}/datasets/default/shoe-images/versions`)
      .send({ version: 'v1', uri: `pvc://local/${NS}/shoe-images` })
      .expect(201);
  }

  return {
    suffix,
    NS,
    BAD_NS,
    entities,
    startBackend,
    databases,
    gateway,
    state,
    readBack,
    seedRegistry,
  };
}
