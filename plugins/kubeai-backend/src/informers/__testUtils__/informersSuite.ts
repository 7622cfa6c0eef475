/*
 * The shared setup of the informers.*.test.ts suites (the cluster informers against the real local
 * kube-apiserver, `yarn cluster:start`, through the plugin's HTTP API): each suite file calls
 * {@link informersSuite} once at its top level and gets a namespace of its own, the backend
 * starter with the catalog the tests refer to, and builders of the objects the tests create.
 */
import {
  mockServices,
  startTestBackend,
  TestDatabases,
} from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { Knex } from 'knex';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { kubeaiMetadata } from '../../manifests/labels';
import { kubeaiPlugin } from '../../plugin';
import { purgeNamespaces } from '../../__testUtils__/localCluster';
import { clusterConfig, Kube, readClusterState, waitFor } from './kube';

/**
 * One suite file's namespace `kubeai-<suite>-<hex>` (`suite` is `[a-z0-9]+`, the name
 * scripts/test-cleanup.mjs recognises) and what its tests need around it. The suite's
 * `beforeAll` calls `setUp`, its `afterAll` `tearDown`.
 */
export function informersSuite(suite: string) {
  const suffix = randomBytes(3).toString('hex');
  const ns = `kubeai-${suite}-${suffix}`;
  const state = readClusterState();
  const kube = new Kube(state);

  const entity = (kind: string, name: string): Entity => ({
    apiVersion: 'kubeai.io/v1alpha1',
    kind,
    metadata: { name, namespace: 'default' },
    spec: {},
  });
  const MODEL = `clf-${suffix}`;
  const entities = [
    entity('Model', MODEL),
    entity('InferenceService', `svc-${suffix}`),
    entity('InferenceService', `drift-${suffix}`),
    // the data the runs' volumes are matched to
    entity('Dataset', `imgs-${suffix}`),
  ];
  const artifact = (v: number) => `s3://models/${MODEL}/${v}/model.joblib`;

  const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

  function backendConfig(extra: Record<string, unknown> = {}) {
    return {
      kubernetes: clusterConfig([
        { name: 'local', state },
        // nothing listens there: unreachable from the start
        { name: 'down', url: 'https://127.0.0.1:1', token: 'nope' },
      ]),
      kubeai: {
        registry: { validateResponses: true },
        informers: {
          flushIntervalMs: 20,
          backoff: { initialMs: 100, maxMs: 1000 },
          watchTimeoutSeconds: 60,
          reconcileIntervalMs: 300,
          notebookUrlTemplate:
            'https://kubeflow.example.com/notebook/{namespace}/{name}/',
          ...extra,
        },
      },
    };
  }

  async function startBackend(knex: Knex, features: any[] = [], extra = {}) {
    return startTestBackend({
      features: [
        kubeaiPlugin,
        mockServices.database.factory({ knex }),
        catalogServiceMock.factory({ entities }),
        mockServices.rootConfig.factory({ data: backendConfig(extra) }),
        ...features,
      ],
    });
  }

  const paths = {
    jobs: `/apis/batch/v1/namespaces/${ns}/jobs`,
    cronjobs: `/apis/batch/v1beta1/namespaces/${ns}/cronjobs`,
    tfjobs: `/apis/kubeflow.org/v1/namespaces/${ns}/tfjobs`,
    notebooks: `/apis/kubeflow.org/v1/namespaces/${ns}/notebooks`,
    isvcs: `/apis/serving.kserve.io/v1beta1/namespaces/${ns}/inferenceservices`,
    pods: `/api/v1/namespaces/${ns}/pods`,
    datasets: `/apis/data.fluid.io/v1alpha1/namespaces/${ns}/datasets`,
  };
  const created: string[] = [];

  async function create(collection: string, object: any) {
    const body = await kube.create(collection, object);
    created.push(`${collection}/${object.metadata.name}`);
    return body;
  }

  const container = { name: 'main', image: 'busybox:1.36' };
  const job = (
    name: string,
    labels: Parameters<typeof kubeaiMetadata>[2] = {},
  ) => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: kubeaiMetadata(name, ns, labels),
    spec: {
      template: { spec: { restartPolicy: 'Never', containers: [container] } },
    },
  });
  const isvc = (
    name: string,
    storageUri: string,
    managed: boolean,
    extra: any = {},
  ) => ({
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: managed
      ? kubeaiMetadata(name, ns, {
          entityRef: `inferenceservice:default/${name}`,
          modelRef: `model:default/${MODEL}`,
          modelVersion: '1',
        })
      : { name, namespace: ns },
    spec: {
      predictor: {
        model: { modelFormat: { name: 'sklearn' }, storageUri },
        ...extra,
      },
    },
  });
  const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

  /**
   * A fresh SQLite registry, the namespace, a backend whose informers have synced the cluster
   * `local`, and model versions 1..3 of MODEL.
   */
  async function setUp() {
    const knex = await databases.init('SQLITE_3');
    await kube.create('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns },
    });
    const backend = await startBackend(knex);
    const api = () => request(backend.server);
    await waitFor(
      async () => {
        const res = await api().get('/api/kubeai/clusters/status');
        return (
          res.body.items?.find((c: any) => c.name === 'local')?.state ===
          'synced'
        );
      },
      60_000,
      'cluster local synced',
    );
    // model versions the tests deploy and discover
    for (const v of [1, 2, 3]) {
      await api()
        .post(`/api/kubeai/models/default/${MODEL}/versions`)
        .send({ artifact: { uri: artifact(v), format: 'joblib' } })
        .expect(201);
    }
    return { knex, backend };
  }

  /** Stops the backend, removes what the tests created, then the namespace. */
  async function tearDown(backend: { stop(): Promise<void> } | undefined) {
    await backend?.stop();
    for (const objectPath of created.reverse()) {
      await kube.remove(objectPath).catch(() => undefined);
    }
    // Everything left in it, then the namespace (no namespace controller runs to do it).
    await purgeNamespaces(ns);
    kube.close();
  }

  return {
    suffix,
    ns,
    state,
    kube,
    MODEL,
    entities,
    artifact,
    backendConfig,
    startBackend,
    paths,
    created,
    create,
    container,
    job,
    isvc,
    now,
    setUp,
    tearDown,
  };
}
