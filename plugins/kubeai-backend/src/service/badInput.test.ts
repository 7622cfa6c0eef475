/*
 * The bad-input sweep: malformed requests GENERATED from src/schema/openapi.yaml at test time.
 *
 * For every operation that takes a request body or path parameters, the sweep walks the body
 * schema (every field, nested objects and the objects of arrays) and sends the operation's valid
 * sample body with one field broken at a time: deleted (when required), null, of the wrong type,
 * 70,000 characters long, 5,000 items long, negative / fractional where a non-negative integer is
 * expected, injection strings (shell, SQL, path traversal, newlines, Argo placeholders, unicode
 * and right-to-left marks) where a name or reference is expected; then whole bodies that are not
 * JSON, a bare string, an array, 5 MB, nested 5,000 deep; then path segments with traversal, 300
 * characters, NUL and the injection strings.
 *
 * Every answer must be a 4xx naming the field or parameter (a clear message for bodies that are
 * not JSON or too large); nothing may change in the registry or in the target namespace of the
 * local cluster. Every mutating operation answers 401 without a token and with a forged one
 * (the backend runs without default credentials). The cluster tokens appear in no answer and no
 * log line of the run.
 *
 * Needs PostgreSQL (`eval "$(bash scripts/postgres.sh start)"`) and the local cluster
 * (`yarn cluster:start`).
 */
import {
  coreServices,
  createServiceFactory,
  RootLoggerService,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { Knex } from 'knex';
import { format, inspect } from 'node:util';
import request from 'supertest';
import {
  createTestDatabases,
  POSTGRES_ID,
  postgresSupport,
  snapshotRegistry,
} from '../__testUtils__/databases';
import { kubeaiPlugin } from '../plugin';
import {
  deleteNamespace,
  listCreated,
  localClusterState,
  localKubernetesConfig,
  testGateway,
} from './__testUtils__/clusterRoutes';
import {
  Case,
  DEEP,
  deepJson,
  bodyCases,
  wholeBodyCases,
  pathCases,
} from './__testUtils__/badInputCases';
import {
  API,
  BAD_NS,
  deref,
  Operation,
  swept,
  mutating,
  seed,
  BODIES,
  PATHS,
  urlOf,
} from './__testUtils__/badInputSamples';

// The first import() of @kubernetes/client-node under jest's VM modules takes seconds.
jest.setTimeout(300_000);

/** Parallel requests per batch. */
const BATCH = 8;

/** Every log line of the backend (and every console line) of the run. */
const logLines: string[] = [];
/** Every answer of the run. */
const answers: string[] = [];

function collectingLogger(fields: object = {}): RootLoggerService {
  const write = (level: string) => (message: string, meta?: Error | object) => {
    logLines.push(
      `${level} ${JSON.stringify(fields)} ${message}${
        meta === undefined ? '' : ` ${inspect(meta, { depth: 20 })}`
      }`,
    );
  };
  return {
    error: write('error'),
    warn: write('warn'),
    info: write('info'),
    debug: write('debug'),
    child: (meta: object) => collectingLogger({ ...fields, ...meta }),
  };
}

const entity = (kind: string, name: string): Entity => ({
  apiVersion: 'kubeai.io/v1alpha1',
  kind,
  metadata: { name, namespace: 'default' },
  spec: {},
});

const entities: Entity[] = [
  entity('Model', 'clf'),
  entity('Dataset', 'images'),
  entity('InferenceService', 'svc'),
  entity('InferenceService', 'svc2'),
  entity('InferenceService', 'isvc'),
  entity('Component', 'trainer'),
  entity('Component', 'explorer'),
  entity('Component', 'retrain'),
  entity('Group', 'cv'),
  entity('System', 'shoes'),
];

const databases = createTestDatabases();
const gateway = testGateway();
const state = localClusterState();
const secrets = [
  state.adminToken,
  state.restrictedToken,
  process.env.KUBEAI_CLUSTER_TOKEN,
].filter((s): s is string => typeof s === 'string' && s.length >= 8);

let server: Awaited<ReturnType<typeof startTestBackend>>['server'];
let stopBackend = async () => {};
let knex: Knex;
const USER = mockCredentials.user.header();

const consoleSpies = (['log', 'info', 'warn', 'error', 'debug'] as const).map(
  level =>
    jest.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      logLines.push(`console.${level} ${format(...args)}`);
    }),
);

beforeAll(async () => {
  await gateway.apply('local', [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: BAD_NS } },
  ]);
  knex = await databases.init(POSTGRES_ID);
  const backend = await startTestBackend({
    features: [
      kubeaiPlugin,
      mockServices.database.factory({ knex }),
      catalogServiceMock.factory({ entities }),
      // tokens are checked: no default credentials, invalid tokens refused
      mockServices.httpAuth.factory({
        defaultCredentials: mockCredentials.none(),
      }),
      createServiceFactory({
        service: coreServices.rootLogger,
        deps: {},
        factory: () => collectingLogger(),
      }),
      mockServices.rootConfig.factory({
        data: {
          backend: { baseUrl: 'http://localhost:7007' },
          kubeai: {
            registry: { maxBodySize: '1mb' },
            informers: { enabled: false },
          },
          kubernetes: localKubernetesConfig(),
        },
      }),
    ],
  });
  server = backend.server;
  stopBackend = () => backend.stop();

  // the registry the samples point at
  const post = (path: string, body: object) =>
    request(server).post(`${API}${path}`).set('Authorization', USER).send(body);
  const expectCreated = (res: request.Response) => {
    if (res.status !== 201) {
      throw new Error(`seeding failed: ${res.status} ${res.text}`);
    }
    return res.body;
  };
  expectCreated(
    await post('/datasets/default/images/versions', {
      version: 'v1',
      uri: 's3://datasets/images/v1/',
    }),
  );
  seed.runId = expectCreated(
    await post('/runs', {
      kind: 'training',
      cluster: 'local',
      namespace: BAD_NS,
      name: 'train-clf-1',
      modelRef: 'model:default/clf',
      inputs: [{ datasetRef: 'dataset:default/images', version: 'v1' }],
    }),
  ).id;
  expectCreated(
    await post('/models/default/clf/versions', {
      artifact: { uri: 's3://models/clf/1/model.onnx', format: 'onnx' },
      aliases: ['production'],
      runId: seed.runId,
    }),
  );
  expectCreated(
    await post('/deployments', {
      serviceRef: 'inferenceservice:default/svc',
      cluster: 'local',
      namespace: BAD_NS,
      name: 'svc',
      modelRef: 'model:default/clf',
      traffic: [{ version: 1, percent: 100 }],
    }),
  );
});

afterAll(async () => {
  await stopBackend();
  await deleteNamespace(gateway, BAD_NS);
  consoleSpies.forEach(spy => spy.mockRestore());
});

let sent = 0;

async function send(c: Case): Promise<request.Response> {
  let req = request(server)[c.method](c.url);
  const headers = c.headers ?? { Authorization: USER };
  for (const [name, value] of Object.entries(headers))
    req = req.set(name, value);
  let res: request.Response;
  const text = c.body === undefined ? '' : JSON.stringify(c.body);
  if (c.raw) {
    res = await req.set('Content-Type', c.raw.type).send(c.raw.data);
  } else if (text.includes(DEEP)) {
    res = await req
      .set('Content-Type', 'application/json')
      .send(text.replace(`"${DEEP}"`, deepJson(5000)));
  } else if (c.body !== undefined) {
    res = await req.send(c.body as object);
  } else {
    res = await req;
  }
  sent += 1;
  answers.push(res.text ?? '');
  return res;
}

/** Sends the cases in batches; returns a line per case answered wrongly. */
async function sweep(cases: Case[]): Promise<string[]> {
  const failures: string[] = [];
  for (let i = 0; i < cases.length; i += BATCH) {
    const batch = cases.slice(i, i + BATCH);
    const responses = await Promise.all(batch.map(send));
    responses.forEach((res, j) => {
      const c = batch[j];
      const message: string = res.body?.error?.message ?? '';
      // a body over the size limit is refused before it is read: a clear message is enough
      const names =
        res.status === 413
          ? ['request/body is larger than the limit']
          : c.names;
      let problem: string | undefined;
      if (res.status < 400 || res.status >= 500) {
        problem = `answered ${res.status}`;
      } else if (!names.every(n => message.includes(n))) {
        problem = `answered ${res.status} without naming ${names.join(' + ')}`;
      }
      if (problem) {
        failures.push(
          `${c.label}: ${problem}: ${(message || res.text || '').slice(
            0,
            300,
          )}`,
        );
      }
    });
  }
  return failures;
}

// ------------------------------------------------------------------ the tests

it('runs against PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

it('has samples for every operation with a body or path parameters', () => {
  const missing = swept.flatMap(op => [
    ...(op.body && !BODIES[op.id] ? [`${op.id}: body`] : []),
    ...(op.pathParams.length && !PATHS[op.id] ? [`${op.id}: path`] : []),
  ]);
  expect(missing).toEqual([]);
  expect(swept.length).toBeGreaterThanOrEqual(20);
});

it('accepts every sample body (dry run where the operation has one)', async () => {
  const failures: string[] = [];
  for (const op of swept.filter(o => o.body)) {
    const schema = deref(op.body);
    // operations without dryRun: their sample is sent after their sweep
    if (!schema.properties?.dryRun) continue;
    const params = PATHS[op.id]?.() ?? {};
    const res = await send({
      label: op.id,
      method: op.method,
      url: urlOf(op, params),
      body: { ...BODIES[op.id](), dryRun: true },
      names: [],
    });
    // promote / rollback of a service that does not exist: 404 naming it
    if (
      res.status >= 300 &&
      !(res.status === 404 && /promote|rollback/.test(op.id))
    ) {
      failures.push(`${op.id}: ${res.status} ${res.text.slice(0, 400)}`);
    }
  }
  expect(failures).toEqual([]);
});

describe.each(swept.map(op => [`${op.method.toUpperCase()} ${op.path}`, op]))(
  '%s',
  (_name, op: Operation) => {
    it('refuses every malformed body and path, naming the field, and writes nothing', async () => {
      const params = PATHS[op.id]?.() ?? {};
      const url = urlOf(op, params);
      const body = op.body ? BODIES[op.id]() : undefined;
      const cases = [
        ...(op.body ? bodyCases(op, url, body, op.body) : []),
        ...(op.body ? wholeBodyCases(op, url, body) : []),
        ...pathCases(op, params, body),
      ];
      const registryBefore = await snapshotRegistry(knex);
      const clusterBefore = await listCreated(gateway, BAD_NS);
      const failures = await sweep(cases);
      expect(failures).toEqual([]);
      expect(await snapshotRegistry(knex)).toEqual(registryBefore);
      expect(
        (await listCreated(gateway, BAD_NS)).map(
          o => `${o.kind} ${o.metadata.name}`,
        ),
      ).toEqual(clusterBefore.map(o => `${o.kind} ${o.metadata.name}`));
      // the sample itself is accepted (so each case above broke one thing only); with dryRun
      // it was checked before the sweep
      let sample = 'accepted';
      if (op.body && !deref(op.body).properties?.dryRun) {
        const res = await send({
          label: op.id,
          method: op.method,
          url,
          body,
          names: [],
        });
        sample = res.status < 300 ? 'accepted' : `${res.status} ${res.text}`;
      }
      expect(sample).toBe('accepted');
    });
  },
);

describe.each(
  mutating.map(op => [`${op.method.toUpperCase()} ${op.path}`, op]),
)('%s', (_name, op: Operation) => {
  it('answers 401 without a token and with a forged one, and writes nothing', async () => {
    const url = urlOf(op, PATHS[op.id]?.() ?? {});
    const body = op.body ? BODIES[op.id]() : undefined;
    const [header, payload] = [
      { alg: 'ES256', kid: 'forged', typ: 'vnd.backstage.user' },
      { sub: 'user:default/admin', ent: ['user:default/admin'] },
    ].map(part => Buffer.from(JSON.stringify(part)).toString('base64url'));
    const forgedJwt = `${header}.${payload}.${Buffer.from(
      'not-a-signature',
    ).toString('base64url')}`;
    const tokens: Record<string, Record<string, string>> = {
      'no token': {},
      'an empty bearer': { Authorization: 'Bearer ' },
      'a JWT with a forged signature': {
        Authorization: `Bearer ${forgedJwt}`,
      },
      'an invalid user token': {
        Authorization: mockCredentials.user.invalidHeader(),
      },
      'an invalid service token': {
        Authorization: mockCredentials.service.invalidHeader(),
      },
      'a Basic header': {
        Authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}`,
      },
    };
    const registryBefore = await snapshotRegistry(knex);
    const clusterBefore = await listCreated(gateway, BAD_NS);
    const statuses: Record<string, number> = {};
    for (const [what, headers] of Object.entries(tokens)) {
      const res = await send({
        label: `${op.id} ${what}`,
        method: op.method,
        url,
        body,
        headers,
        names: [],
      });
      statuses[what] = res.status;
    }
    expect(statuses).toEqual(
      Object.fromEntries(Object.keys(tokens).map(k => [k, 401])),
    );
    expect(await snapshotRegistry(knex)).toEqual(registryBefore);
    expect((await listCreated(gateway, BAD_NS)).length).toBe(
      clusterBefore.length,
    );
  });
});

it('sent at least 300 malformed requests', () => {
  expect(sent).toBeGreaterThanOrEqual(300);
});

it('never shows a cluster token in an answer or a log line', async () => {
  // a few requests that reach the apiserver, refused by it (RBAC of local-restricted)
  for (const c of [
    {
      method: 'post' as const,
      url: `${API}/notebooks`,
      body: {
        ...BODIES.createNotebook(),
        cluster: 'local-restricted',
        dryRun: true,
      },
    },
    {
      method: 'get' as const,
      url: `${API}/clusters/local-restricted/namespaces/${BAD_NS}/notebooks/explore`,
    },
    { method: 'get' as const, url: `${API}/clusters/local/namespaces` },
  ]) {
    await send({ label: c.url, names: [], ...c });
  }
  expect(secrets.length).toBeGreaterThan(0);
  expect(answers.length).toBe(sent);
  expect(logLines.length).toBeGreaterThan(0);

  for (const secret of secrets) {
    expect(answers.filter(a => a.includes(secret))).toEqual([]);
    expect(logLines.filter(l => l.includes(secret))).toEqual([]);
  }
});
