/*
 * Writes the routes authorize beyond their own object: what a pipeline does when it runs
 * (registers model versions, moves traffic), the catalog entity a create route registers with
 * `catalogEntity`, the entities a delete ends (an InferenceService's service entity, a removed
 * portal entity) and the run it stops, and archiving a model version that still serves traffic
 * (409). Every refusal changes nothing: the registry, the cluster namespace and the portal's
 * entities stay as they were.
 *
 * The pipeline and `catalogEntity` cases run against the local control plane (`yarn cluster:start`);
 * the archive cases against the registry only, on SQLite and PostgreSQL.
 */
import {
  mockServices,
  startTestBackend,
  TestDatabaseId,
} from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { Knex } from 'knex';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import {
  createTestDatabases,
  postgresSupport,
  snapshotRegistry,
} from '../__testUtils__/databases';
import { kubeaiPlugin } from '../plugin';
import {
  deleteNamespace,
  listCreated,
  localKubernetesConfig,
  testGateway,
} from './__testUtils__/clusterRoutes';

// The first import() of @kubernetes/client-node under jest's VM modules takes seconds.
jest.setTimeout(180_000);

const suffix = randomBytes(3).toString('hex');
const NS = `kubeai-perms-${suffix}`;
const API = '/api/kubeai';

const entity = (
  kind: string,
  name: string,
  spec: Entity['spec'] = {},
): Entity => ({
  apiVersion: 'kubeai.io/v1alpha1',
  kind,
  metadata: { name, namespace: 'default' },
  spec,
});

/** What the (mock) catalog knows. */
const entities: Entity[] = [
  entity('Model', 'shoe-brand'),
  entity('Model', 'other-model'),
  entity('InferenceService', 'preexisting'),
  entity('InferenceService', 'svc2'),
  entity('Dataset', 'images', {
    source: { type: 'pvc', claimName: 'images', namespace: NS },
  }),
  // the service entity of a deployed service, and portal entities the catalog has processed
  entity('InferenceService', 'owned-svc'),
  entity('InferenceService', 'portal-svc'),
  entity('Dataset', 'portal-ds'),
];

const ARTIFACT = (v: number) => ({
  uri: `s3://models/shoe-brand/${v}/model.onnx`,
  format: 'onnx',
});

/**
 * The permission policy of the tests: allows everything but the denied keys (`<permission>`, or
 * `<permission> on <resourceRef>`), and records every question as such a key.
 */
const policy = { denied: new Set<string>(), asked: [] as string[] };
const authorize = async (
  requests: { permission: { name: string }; resourceRef?: string }[],
) =>
  requests.map(r => {
    const key = r.resourceRef
      ? `${r.permission.name} on ${r.resourceRef}`
      : r.permission.name;
    policy.asked.push(key);
    return {
      result:
        policy.denied.has(key) || policy.denied.has(r.permission.name)
          ? AuthorizeResult.DENY
          : AuthorizeResult.ALLOW,
    };
  });

/** Runs `fn` with `denied` denied (and a fresh record of the questions). */
async function denying<T>(denied: string[], fn: () => Promise<T>): Promise<T> {
  policy.denied = new Set(denied);
  policy.asked = [];
  try {
    return await fn();
  } finally {
    policy.denied = new Set();
  }
}

async function startBackend(knex: Knex, withCluster: boolean) {
  return startTestBackend({
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
          },
          ...(withCluster ? { kubernetes: localKubernetesConfig() } : {}),
        },
      }),
    ],
  });
}

const databases = createTestDatabases();

it('has PostgreSQL for the registry side', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

describe('write permissions of the cluster routes (SQLite registry)', () => {
  const gateway = testGateway();
  let knex: Knex;
  let server: Awaited<ReturnType<typeof startBackend>>['server'];
  let stop = async () => {};

  beforeAll(async () => {
    await gateway.apply('local', [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    ]);
    knex = await databases.init('SQLITE_3');
    const backend = await startBackend(knex, true);
    server = backend.server;
    stop = () => backend.stop();
    for (const v of [1, 2]) {
      await request(server)
        .post(`${API}/models/default/shoe-brand/versions`)
        .send({ artifact: ARTIFACT(v), framework: 'pytorch' })
        .expect(201);
    }
    // a service recorded for inferenceservice:default/preexisting (no object in the cluster)
    await request(server)
      .post(`${API}/deployments`)
      .send({
        serviceRef: 'inferenceservice:default/preexisting',
        cluster: 'local',
        namespace: NS,
        name: 'live-svc',
        modelRef: 'model:default/shoe-brand',
        traffic: [{ version: 1, percent: 100 }],
      })
      .expect(201);
  });

  afterAll(async () => {
    await stop();
    await deleteNamespace(gateway, NS);
  });

  /** The registry, what KubeAI created in the namespace and the portal's entities. */
  async function everything() {
    const objects = await listCreated(gateway, NS);
    const portal = await request(server)
      .get(`${API}/catalog-entities`)
      .expect(200);
    return {
      registry: await snapshotRegistry(knex),
      cluster: objects
        .map(o => `${o.kind} ${o.metadata.name} ${o.metadata.resourceVersion}`)
        .sort(),
      portalEntities: portal.body.items,
    };
  }

  const post = (path: string, body: object) =>
    request(server).post(`${API}${path}`).send(body);

  /** Whether an object exists in the namespace (as the admin sees it). */
  const exists = (apiVersion: string, kind: string, name: string) =>
    gateway.get('local', { apiVersion, kind, namespace: NS, name }).then(
      () => true,
      error => {
        if (error?.name === 'NotFoundError') return false;
        throw error;
      },
    );

  // ---------------------------------------------------------------- pipelines

  const register = (patch: Record<string, unknown> = {}) => ({
    name: 'register',
    type: 'registerModelVersion',
    artifact: {
      uri: 's3://models/shoe-brand/{{workflow.name}}/model.onnx',
      format: 'onnx',
    },
    ...patch,
  });
  const canary = (inferenceService: Record<string, unknown> = {}) => ({
    name: 'canary',
    type: 'deployCanary',
    dependsOn: ['register'],
    inferenceService: {
      name: 'shoe-canary',
      modelVersion: '{{tasks.register.outputs.parameters.version}}',
      canaryTrafficPercent: 10,
      ...inferenceService,
    },
  });
  const promote = (service: string, dependsOn: string[]) => ({
    name: 'promote',
    type: 'promote',
    dependsOn,
    inferenceService: service,
  });
  const evaluate = {
    name: 'evaluate',
    type: 'container',
    image: 'python:3.12',
    command: ['python', '-c', 'print(1)'],
  };
  const pipeline = (name: string, steps: unknown[], extra = {}) => ({
    cluster: 'local',
    namespace: NS,
    name,
    modelRef: 'model:default/shoe-brand',
    steps,
    ...extra,
  });
  const workflowExists = (name: string) =>
    exists('argoproj.io/v1alpha1', 'Workflow', name);

  it('needs kubeai.model.version.create on the models a pipeline registers versions of', async () => {
    const before = await everything();
    const cases: [object, string][] = [
      [
        pipeline('denied-register', [
          evaluate,
          register({ dependsOn: ['evaluate'] }),
        ]),
        'kubeai.model.version.create on model:default/shoe-brand',
      ],
      [
        // the step's own model
        pipeline('denied-register', [
          register({ modelRef: 'model:default/other-model' }),
        ]),
        'kubeai.model.version.create on model:default/other-model',
      ],
      [
        pipeline('denied-register', [register()], { dryRun: true }),
        'kubeai.model.version.create on model:default/shoe-brand',
      ],
    ];
    for (const [body, denied] of cases) {
      const res = await denying([denied], () => post('/pipelines', body));
      expect(res.status).toBe(403);
      expect(res.body.error).toMatchObject({
        name: 'NotAllowedError',
        message: denied.replace(' on ', ' denied on '),
      });
    }
    expect(await workflowExists('denied-register')).toBe(false);
    expect(await everything()).toEqual(before);
  });

  it('needs kubeai.deployment.update on every service a canary or promote step deploys to', async () => {
    const before = await everything();
    const cases: [object, string][] = [
      [
        pipeline('denied-rollout', [register(), canary()]),
        'kubeai.deployment.update on inferenceservice:default/shoe-canary',
      ],
      [
        pipeline('denied-rollout', [
          register(),
          canary(),
          promote('shoe-canary', ['canary']),
        ]),
        'kubeai.deployment.update on inferenceservice:default/shoe-canary',
      ],
      [
        // a promote of a service deployed before: the entity of its deployment record
        pipeline('denied-rollout', [
          evaluate,
          promote('live-svc', ['evaluate']),
        ]),
        'kubeai.deployment.update on inferenceservice:default/preexisting',
      ],
    ];
    for (const [body, denied] of cases) {
      const res = await denying([denied], () => post('/pipelines', body));
      expect(res.status).toBe(403);
      expect(res.body.error.message).toBe(
        denied.replace(' on ', ' denied on '),
      );
    }
    expect(await workflowExists('denied-rollout')).toBe(false);
    expect(await everything()).toEqual(before);
  });

  it('refuses a placeholder as the service or model a step writes to (its permission cannot be checked)', async () => {
    const before = await everything();
    const templated = await request(server)
      .post(`${API}/pipelines`)
      .send(
        pipeline(
          'templated-rollout',
          [register(), canary({ name: 'svc-{{workflow.parameters.target}}' })],
          { parameters: [{ name: 'target', value: 'a' }] },
        ),
      );
    // a service name is a plain DNS label: no placeholder gets that far
    expect(templated.status).toBe(400);
    expect(templated.body.error.message).toContain(
      'request/body/steps/1/inferenceService/name',
    );
    expect(await workflowExists('templated-rollout')).toBe(false);
    expect(await everything()).toEqual(before);
  });

  it('creates the pipeline when every write is allowed, after asking about each', async () => {
    const body = pipeline('allowed-rollout', [
      register(),
      canary(),
      promote('shoe-canary', ['canary']),
    ]);
    const res = await denying([], () =>
      request(server).post(`${API}/pipelines`).send(body),
    );
    expect(res.status).toBe(201);
    expect(res.body.object).toMatchObject({
      kind: 'Workflow',
      name: 'allowed-rollout',
    });
    expect(policy.asked).toEqual(
      expect.arrayContaining([
        `kubeai.cluster.object.create on local/${NS}`,
        `kubeai.run.create on local/${NS}`,
        'kubeai.model.version.create on model:default/shoe-brand',
        'kubeai.deployment.update on inferenceservice:default/shoe-canary',
      ]),
    );
    expect(await workflowExists('allowed-rollout')).toBe(true);
  });

  // ---------------------------------------------------------------- catalogEntity

  const dataset = (name: string, extra = {}) => ({
    cluster: 'local',
    namespace: NS,
    name,
    source: { type: 'pvc', size: '1Gi' },
    catalogEntity: { owner: 'group:default/cv-team' },
    ...extra,
  });
  const service = (name: string, extra = {}) => ({
    cluster: 'local',
    namespace: NS,
    name,
    model: 'model:default/shoe-brand',
    modelVersion: 1,
    catalogEntity: { owner: 'group:default/cv-team' },
    ...extra,
  });

  it('needs catalog.entity.create to register an entity with catalogEntity', async () => {
    const before = await everything();
    const cases: [string, object][] = [
      ['/datasets', dataset('denied-ds')],
      ['/datasets', dataset('denied-ds', { dryRun: true })],
      ['/inference-services', service('denied-svc')],
    ];
    for (const [path, body] of cases) {
      const res = await denying(['catalog.entity.create'], () =>
        post(path, body),
      );
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
      expect(res.body.error).toMatchObject({
        name: 'NotAllowedError',
        message: 'catalog.entity.create denied',
      });
      expect(policy.asked).toContain('catalog.entity.create');
    }
    expect(await exists('v1', 'PersistentVolumeClaim', 'denied-ds')).toBe(
      false,
    );
    expect(
      await exists(
        'serving.kserve.io/v1beta1',
        'InferenceService',
        'denied-svc',
      ),
    ).toBe(false);
    expect(await everything()).toEqual(before);
  });

  it('does not ask for catalog.entity.create without catalogEntity', async () => {
    const res = await denying(['catalog.entity.create'], () =>
      request(server)
        .post(`${API}/datasets`)
        .send({
          ...dataset('images'),
          catalogEntity: undefined,
          datasetRef: 'dataset:default/images',
          dryRun: true,
        }),
    );
    expect(res.status).toBe(201);
    expect(policy.asked).not.toContain('catalog.entity.create');
  });

  it('registers the entity when catalog.entity.create is allowed', async () => {
    const res = await denying([], () =>
      request(server).post(`${API}/datasets`).send(dataset('allowed-ds')),
    );
    expect(res.status).toBe(201);
    expect(res.body.entityRef).toBe('dataset:default/allowed-ds');
    expect(policy.asked).toContain('catalog.entity.create');
    expect(await exists('v1', 'PersistentVolumeClaim', 'allowed-ds')).toBe(
      true,
    );
    const portal = await request(server).get(`${API}/catalog-entities`);
    expect(
      portal.body.items.map((e: Entity) => `${e.kind}:${e.metadata.name}`),
    ).toContain('Dataset:allowed-ds');
  });

  // ---------------------------------------------------------------- deletes

  const objectPath = (kind: string, name: string, query = '') =>
    `${API}/clusters/local/namespaces/${NS}/${kind}/${name}${query}`;
  /** Asks the delete with `denied` denied: 403 naming it, nothing changed, the object kept. */
  async function refusedDelete(
    path: string,
    denied: string,
    stillThere: () => Promise<boolean>,
  ) {
    const before = await everything();
    const dryRun = `${path}${path.includes('?') ? '&' : '?'}dryRun=true`;
    const app = server;
    for (const url of [path, dryRun]) {
      const res = await denying([denied], () => request(app).delete(url));
      expect({ url, status: res.status }).toEqual({ url, status: 403 });
      expect(res.body.error).toMatchObject({
        name: 'NotAllowedError',
        message: denied.replace(' on ', ' denied on '),
      });
    }
    expect(await stillThere()).toBe(true);
    expect(await everything()).toEqual(before);
  }

  it('needs kubeai.deployment.update on the service entity to delete an InferenceService', async () => {
    await post(
      '/inference-services',
      service('del-svc', {
        catalogEntity: undefined,
        serviceRef: 'inferenceservice:default/owned-svc',
      }),
    ).expect(201);
    const svcExists = () =>
      exists('serving.kserve.io/v1beta1', 'InferenceService', 'del-svc');
    const path = objectPath('inference-services', 'del-svc');
    await refusedDelete(
      path,
      'kubeai.deployment.update on inferenceservice:default/owned-svc',
      svcExists,
    );
    const res = await denying([], () => request(server).delete(path));
    expect(res.status).toBe(200);
    expect(policy.asked).toEqual([
      `kubeai.cluster.object.delete on local/${NS}`,
      'kubeai.deployment.update on inferenceservice:default/owned-svc',
    ]);
    expect(await svcExists()).toBe(false);
  });

  it('needs catalog.entity.delete on the portal entity a delete removes', async () => {
    await post('/inference-services', service('portal-svc')).expect(201);
    await post('/datasets', dataset('portal-ds')).expect(201);
    const svcPath = objectPath('inference-services', 'portal-svc');
    const svcExists = () =>
      exists('serving.kserve.io/v1beta1', 'InferenceService', 'portal-svc');
    for (const denied of [
      'catalog.entity.delete on inferenceservice:default/portal-svc',
      'kubeai.deployment.update on inferenceservice:default/portal-svc',
    ]) {
      await refusedDelete(svcPath, denied, svcExists);
    }
    const dsPath = objectPath('datasets', 'portal-ds');
    await refusedDelete(
      dsPath,
      'catalog.entity.delete on dataset:default/portal-ds',
      () => exists('v1', 'PersistentVolumeClaim', 'portal-ds'),
    );
    const svc = await denying([], () => request(server).delete(svcPath));
    expect(svc.status).toBe(200);
    expect(svc.body.removedEntityRef).toBe(
      'inferenceservice:default/portal-svc',
    );
    expect(policy.asked).toEqual([
      `kubeai.cluster.object.delete on local/${NS}`,
      'kubeai.deployment.update on inferenceservice:default/portal-svc',
      'catalog.entity.delete on inferenceservice:default/portal-svc',
    ]);
    const ds = await denying([], () => request(server).delete(dsPath));
    expect(ds.status).toBe(200);
    expect(ds.body.removedEntityRef).toBe('dataset:default/portal-ds');
    expect(policy.asked).toEqual([
      `kubeai.cluster.object.delete on local/${NS}`,
      'catalog.entity.delete on dataset:default/portal-ds',
    ]);
  });

  it('leaves an entity the catalog does not have to the namespace check', async () => {
    // registered by the portal, not (yet) processed by the catalog: nobody owns it there
    await post('/inference-services', service('unprocessed-svc')).expect(201);
    const res = await denying(
      [
        'kubeai.deployment.update on inferenceservice:default/unprocessed-svc',
        'catalog.entity.delete on inferenceservice:default/unprocessed-svc',
      ],
      () =>
        request(server).delete(
          objectPath('inference-services', 'unprocessed-svc'),
        ),
    );
    expect(res.status).toBe(200);
    expect(res.body.removedEntityRef).toBe(
      'inferenceservice:default/unprocessed-svc',
    );
    expect(policy.asked).toEqual([
      `kubeai.cluster.object.delete on local/${NS}`,
    ]);
  });

  it('needs kubeai.run.update on the run’s namespace to stop the run of a deleted job', async () => {
    await post('/jobs', {
      cluster: 'local',
      namespace: NS,
      name: 'del-job',
      kind: 'Job',
      image: 'python:3.12',
      command: ['python', '-c', 'print(1)'],
    }).expect(201);
    await refusedDelete(
      objectPath('jobs', 'del-job', '?kind=Job'),
      `kubeai.run.update on local/${NS}`,
      () => exists('batch/v1', 'Job', 'del-job'),
    );
    expect(policy.asked).toEqual([
      `kubeai.cluster.object.delete on local/${NS}`,
      `kubeai.run.update on local/${NS}`,
    ]);
  });
});

// ---------------------------------------------------------------- archiving a served version

describe.each(databases.eachSupportedId())(
  'archiving a model version on %p',
  (databaseId: TestDatabaseId) => {
    const MODEL = `${API}/models/default/shoe-brand`;
    let knex: Knex;
    let server: Awaited<ReturnType<typeof startBackend>>['server'];
    let stop = async () => {};

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      const backend = await startBackend(knex, false);
      server = backend.server;
      stop = () => backend.stop();
      for (const v of [1, 2, 3]) {
        await request(server)
          .post(`${MODEL}/versions`)
          .send({ artifact: ARTIFACT(v) })
          .expect(201);
      }
      await request(server)
        .post(`${API}/deployments`)
        .send({
          serviceRef: 'inferenceservice:default/preexisting',
          cluster: 'local',
          namespace: 'team-a',
          name: 'shoe-api',
          modelRef: 'model:default/shoe-brand',
          traffic: [
            { version: 1, percent: 90 },
            { version: 2, percent: 10 },
          ],
        })
        .expect(201);
      await request(server)
        .post(`${API}/deployments`)
        .send({
          serviceRef: 'inferenceservice:default/svc2',
          cluster: 'prod',
          namespace: 'team-b',
          name: 'shoe-b',
          modelRef: 'model:default/shoe-brand',
          traffic: [{ version: 1, percent: 100 }],
        })
        .expect(201);
    });
    afterAll(() => stop());

    it('answers 409 naming the services that still serve it, and changes nothing', async () => {
      const before = await snapshotRegistry(knex);
      const one = await request(server)
        .patch(`${MODEL}/versions/1`)
        .send({ state: 'archived' });
      expect(one.status).toBe(409);
      expect(one.body.error.name).toBe('ConflictError');
      expect(one.body.error.message).toBe(
        'request/body/state: version 1 of model:default/shoe-brand cannot be archived while it serves traffic: ' +
          'team-a/shoe-api in cluster local (inferenceservice:default/preexisting, 90%), ' +
          'team-b/shoe-b in cluster prod (inferenceservice:default/svc2, 100%); ' +
          'move the traffic to another version first (deploy, promote or roll back)',
      );
      // with the other changes of the request too
      const two = await request(server)
        .patch(`${MODEL}/versions/2`)
        .send({ state: 'archived', aliases: [], tags: ['old'] });
      expect(two.status).toBe(409);
      expect(two.body.error.message).toContain(
        'serves traffic: team-a/shoe-api in cluster local (inferenceservice:default/preexisting, 10%);',
      );
      expect(two.body.error.message).not.toContain('team-b/shoe-b');
      expect(await snapshotRegistry(knex)).toEqual(before);
      const stored = await request(server).get(`${MODEL}/versions/2`);
      expect(stored.body.state).toBe('live');
      expect(stored.body.tags ?? []).toEqual([]);
    });

    it('archives a version no deployment serves, and one whose traffic moved', async () => {
      await request(server)
        .patch(`${MODEL}/versions/3`)
        .send({ state: 'archived' })
        .expect(200);
      await request(server)
        .patch(`${API}/deployments/default/preexisting`)
        .send({ traffic: [{ version: 1, percent: 100 }] })
        .expect(200);
      const archived = await request(server)
        .patch(`${MODEL}/versions/2`)
        .send({ state: 'archived' });
      expect(archived.status).toBe(200);
      expect(archived.body.state).toBe('archived');
    });
  },
);
