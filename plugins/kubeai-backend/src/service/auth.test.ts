/*
 * Authentication with Backstage's REAL auth and httpAuth services (@backstage/backend-defaults),
 * not the mocks of the other suites: tokens are verified as in production, signatures included.
 *
 * - Service tokens are issued by the backend itself: a caller plugin asks its own auth service
 *   for a token to kubeai (`getPluginRequestToken`); kubeai fetches the caller's public keys from
 *   `/api/kubeai-test-caller/.backstage/auth/v1/jwks.json` and verifies the signature.
 * - User tokens come from a stand-in for the auth backend: a plugin `auth` that serves its public
 *   key at `/api/auth/.well-known/jwks.json`, as plugin-auth-backend does (plugin-auth-backend and a
 *   sign-in provider are not dependencies of this package). Their verification is Backstage's own.
 *
 * Both are accepted on every mutating operation of src/schema/openapi.yaml (a 400 validation
 * answer to a deliberately invalid request, and real registry writes). The same tokens with their
 * signature altered, their payload altered, `alg: none`, re-signed by another key, expired,
 * addressed to another plugin, garbage, or no token: 401 on every mutating operation, for the
 * right reason (the jose error Backstage logs), and nothing is written to the registry. No
 * cluster is configured: nothing can reach one.
 *
 * Needs PostgreSQL (`eval "$(bash scripts/postgres.sh start)"`).
 */
import { authServiceFactory } from '@backstage/backend-defaults/auth';
import { httpAuthServiceFactory } from '@backstage/backend-defaults/httpAuth';
import {
  AuthService,
  coreServices,
  createBackendPlugin,
  createServiceFactory,
  RootLoggerService,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import express from 'express';
import { Knex } from 'knex';
import {
  generateKeyPairSync,
  KeyObject,
  randomUUID,
  sign as signWith,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import request from 'supertest';
import YAML from 'yaml';
import {
  createTestDatabases,
  POSTGRES_ID,
  postgresSupport,
  snapshotRegistry,
} from '../__testUtils__/databases';
import { kubeaiPlugin } from '../plugin';

jest.setTimeout(60_000);

const API = '/api/kubeai';
const CALLER = 'kubeai-test-caller';
const USER = 'user:default/alice';

// ------------------------------------------------------------------ the spec

type Method = 'post' | 'put' | 'patch' | 'delete';

const doc = YAML.parse(
  readFileSync(resolve(__dirname, '../schema/openapi.yaml'), 'utf8'),
);

const deref = (node: any): any =>
  node?.$ref
    ? node.$ref
        .replace(/^#\//, '')
        .split('/')
        .reduce((n: any, key: string) => n?.[key], doc)
    : node;

interface Operation {
  id: string;
  method: Method;
  path: string;
  pathParams: string[];
  /** The example body of the spec. */
  example?: unknown;
}

const mutating: Operation[] = Object.entries(doc.paths).flatMap(
  ([path, item]: [string, any]) =>
    (['post', 'put', 'patch', 'delete'] as Method[])
      .filter(method => item[method])
      .map(method => {
        const op = item[method];
        return {
          id: op.operationId,
          method,
          path,
          pathParams: [...(item.parameters ?? []), ...(op.parameters ?? [])]
            .map(deref)
            .filter(p => p.in === 'path')
            .map(p => p.name),
          example: op.requestBody?.content?.['application/json']?.example,
        };
      }),
);

/** What the registry holds: written with the real tokens, then the target of the forged ones. */
const seed = { runId: '' };

/**
 * The body of the registry operations: one that WRITES with a real token (checked by the last
 * test), so "nothing written" means something. The cluster operations send the example of the
 * spec (with a real token they would need a cluster; none is configured).
 */
const REGISTRY_BODIES: Record<string, () => object> = {
  createModelVersion: () => ({
    artifact: { uri: 's3://models/clf/2/model.onnx', format: 'onnx' },
    aliases: ['canary'],
    runId: seed.runId,
  }),
  updateModelVersion: () => ({ aliases: ['stable'], description: 'changed' }),
  createRun: () => ({
    kind: 'training',
    cluster: 'local',
    namespace: 'default',
    name: 'train-clf-2',
    modelRef: 'model:default/clf',
    inputs: [{ datasetRef: 'dataset:default/images', version: 'v1' }],
  }),
  updateRun: () => ({ phase: 'Succeeded', message: 'done' }),
  createDatasetVersion: () => ({
    version: 'v2',
    uri: 's3://datasets/images/v2/',
  }),
  createDeployment: () => ({
    serviceRef: 'inferenceservice:default/svc2',
    cluster: 'local',
    namespace: 'default',
    name: 'svc2',
    modelRef: 'model:default/clf',
    traffic: [{ version: 1, percent: 100 }],
  }),
  updateDeployment: () => ({
    modelRef: 'model:default/clf',
    traffic: [{ version: 1, percent: 100 }],
    desired: { replicas: 2 },
  }),
};
const bodyOf = (op: Operation) => REGISTRY_BODIES[op.id]?.() ?? op.example;
const CLUSTER_PATHS =
  /^\/(notebooks|jobs|datasets$|inference-services|pipelines|clusters|pools)/;

/** Valid-looking path parameters, pointing at what the registry holds. */
function urlOf(op: Operation): string {
  const values: Record<string, string> = {
    namespace: 'default',
    version: '1',
    cluster: 'local',
    id: seed.runId,
  };
  if (op.path.startsWith('/deployments')) values.name = 'svc';
  else if (op.path.startsWith('/datasets')) values.name = 'images';
  else if (op.path.startsWith('/models')) values.name = 'clf';
  else values.name = 'svc';
  return (
    API +
    op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
      if (!values[name]) throw new Error(`${op.id}: no value for ${name}`);
      return encodeURIComponent(values[name]);
    })
  );
}

// ------------------------------------------------------------------ JWTs

const b64 = (value: object) =>
  Buffer.from(JSON.stringify(value)).toString('base64url');
const parts = (token: string) => {
  const [header, payload, signature] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')),
    signature,
  };
};

/** An ES256 JWT signed with `key`. */
function signJwt(header: object, payload: object, key: KeyObject): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const signature = signWith('sha256', Buffer.from(input), {
    key,
    dsaEncoding: 'ieee-p1363',
  }).toString('base64url');
  return `${input}.${signature}`;
}

/** The token with characters in the middle of its signature changed. */
function alterSignature(token: string): string {
  const [header, payload, signature] = token.split('.');
  const chars = [...signature];
  for (const i of [10, 11, 12]) chars[i] = chars[i] === 'A' ? 'B' : 'A';
  const altered = chars.join('');
  if (
    Buffer.from(altered, 'base64url').equals(
      Buffer.from(signature, 'base64url'),
    )
  ) {
    throw new Error('the signature did not change');
  }
  return `${header}.${payload}.${altered}`;
}

/** The token with re-encoded claims and its original signature. */
function alterPayload(token: string, claims: object): string {
  const { header, payload, signature } = parts(token);
  return `${b64(header)}.${b64({ ...payload, ...claims })}.${signature}`;
}

/** The token's claims, unsigned (`alg: none`). */
function algNone(token: string): string {
  const { header, payload } = parts(token);
  return `${b64({ ...header, alg: 'none' })}.${b64(payload)}.`;
}

/** The token's header and claims signed by a key the backend does not know. */
function resignWith(token: string, key: KeyObject): string {
  const { header, payload } = parts(token);
  return signJwt(header, payload, key);
}

const es256 = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const attackerKey = es256().privateKey;

/** The stand-in auth backend: the user-token signing key and its JWKS. */
const userKeys = es256();
const USER_KID = randomUUID();

function userToken(claims: object = {}): string {
  const now = Math.floor(Date.now() / 1000);
  return signJwt(
    { typ: 'vnd.backstage.user', alg: 'ES256', kid: USER_KID },
    {
      iss: 'http://localhost/api/auth',
      sub: USER,
      ent: [USER],
      aud: 'backstage',
      iat: now,
      exp: now + 3600,
      ...claims,
    },
    userKeys.privateKey,
  );
}

const authStandIn = createBackendPlugin({
  pluginId: 'auth',
  register(env) {
    env.registerInit({
      deps: { http: coreServices.httpRouter },
      async init({ http }) {
        const router = express.Router();
        router.get('/.well-known/jwks.json', (_req, res) => {
          res.json({
            keys: [
              {
                ...userKeys.publicKey.export({ format: 'jwk' }),
                kid: USER_KID,
                alg: 'ES256',
                use: 'sig',
              },
            ],
          });
        });
        http.use(router);
        http.addAuthPolicy({ path: '/.well-known', allow: 'unauthenticated' });
      },
    });
  },
});

/** Another plugin of the backend: it asks its (real) auth service for tokens to kubeai. */
const caller: { auth?: AuthService } = {};
const callerPlugin = createBackendPlugin({
  pluginId: CALLER,
  register(env) {
    env.registerInit({
      deps: { auth: coreServices.auth },
      async init({ auth }) {
        caller.auth = auth;
      },
    });
  },
});

async function serviceToken(targetPluginId = 'kubeai'): Promise<string> {
  const auth = caller.auth!;
  const { token } = await auth.getPluginRequestToken({
    onBehalfOf: await auth.getOwnServiceCredentials(),
    targetPluginId,
  });
  return token;
}

// ------------------------------------------------------------------ the backend

interface LogEntry {
  level: string;
  message: string;
  code?: string;
}
const logs: LogEntry[] = [];

function collectingLogger(): RootLoggerService {
  const write = (level: string) => (message: string, meta?: unknown) => {
    const code = (meta as { code?: unknown } | undefined)?.code;
    logs.push({
      level,
      message,
      code: typeof code === 'string' ? code : undefined,
    });
  };
  return {
    error: write('error'),
    warn: write('warn'),
    info: write('info'),
    debug: write('debug'),
    child: () => collectingLogger(),
  };
}

const entity = (kind: string, name: string): Entity => ({
  apiVersion: 'kubeai.io/v1alpha1',
  kind,
  metadata: { name, namespace: 'default' },
  spec: {},
});

const databases = createTestDatabases();
let knex: Knex;
let server: Awaited<ReturnType<typeof startTestBackend>>['server'];
let stopBackend = async () => {};

beforeAll(async () => {
  knex = await databases.init(POSTGRES_ID);
  const backend = await startTestBackend({
    features: [
      kubeaiPlugin,
      callerPlugin,
      authStandIn,
      // the real services: plugin keys in each plugin's database, JWKS fetched over HTTP
      authServiceFactory,
      httpAuthServiceFactory,
      // kubeai on PostgreSQL, every other plugin on its own SQLite (its own key store)
      createServiceFactory({
        service: coreServices.database,
        deps: { plugin: coreServices.pluginMetadata },
        async factory({ plugin }) {
          const client =
            plugin.getId() === 'kubeai'
              ? knex
              : await databases.init('SQLITE_3');
          return { getClient: async () => client };
        },
      }),
      createServiceFactory({
        service: coreServices.rootLogger,
        deps: {},
        factory: () => collectingLogger(),
      }),
      catalogServiceMock.factory({
        entities: [
          entity('Model', 'clf'),
          entity('Dataset', 'images'),
          entity('InferenceService', 'svc'),
          entity('InferenceService', 'svc2'),
        ],
      }),
      mockServices.rootConfig.factory({
        data: { kubeai: { informers: { enabled: false } } },
      }),
    ],
  });
  server = backend.server;
  stopBackend = () => backend.stop();
});

afterAll(() => stopBackend());

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function send(
  op: Operation,
  headers: Record<string, string>,
  options: { body?: unknown; query?: string } = {},
): Promise<request.Response> {
  let req = request(server)[op.method](urlOf(op) + (options.query ?? ''));
  for (const [name, value] of Object.entries(headers)) {
    req = req.set(name, value);
  }
  const body = 'body' in options ? options.body : bodyOf(op);
  return body === undefined ? req : req.send(body as object);
}

// ------------------------------------------------------------------ the tests

it('runs against PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

it('reads the mutating operations of the spec', () => {
  expect(mutating.length).toBeGreaterThanOrEqual(20);
  // every operation with a body: a sample; every registry operation: one that writes
  expect(
    mutating.filter(op => op.method !== 'delete' && !bodyOf(op)).map(o => o.id),
  ).toEqual([]);
  expect(
    mutating
      .filter(op => !CLUSTER_PATHS.test(op.path) && !REGISTRY_BODIES[op.id])
      .map(o => o.id),
  ).toEqual([]);
});

describe('tokens issued by the backend', () => {
  it('are real: a signed service token from the caller plugin, its key published', async () => {
    const token = await serviceToken();
    const { header, payload } = parts(token);
    expect(header).toMatchObject({ typ: 'vnd.backstage.plugin', alg: 'ES256' });
    expect(payload).toMatchObject({ sub: CALLER, aud: 'kubeai' });
    const jwks = await request(server).get(
      `/api/${CALLER}/.backstage/auth/v1/jwks.json`,
    );
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toContain(
      header.kid,
    );
  });

  it('a service token and a user token are accepted and write to the registry', async () => {
    const service = bearer(await serviceToken());
    const user = bearer(userToken());

    const run = await request(server).post(`${API}/runs`).set(service).send({
      kind: 'training',
      cluster: 'local',
      namespace: 'default',
      name: 'train-clf-1',
      modelRef: 'model:default/clf',
    });
    expect({ status: run.status, body: run.body }).toMatchObject({
      status: 201,
      body: { createdBy: `plugin:${CALLER}` },
    });
    seed.runId = run.body.id;

    const dataset = await request(server)
      .post(`${API}/datasets/default/images/versions`)
      .set(user)
      .send({ version: 'v1', uri: 's3://datasets/images/v1/' });
    expect({ status: dataset.status, body: dataset.body }).toMatchObject({
      status: 201,
      body: { createdBy: USER },
    });

    const model = await request(server)
      .post(`${API}/models/default/clf/versions`)
      .set(service)
      .send({
        artifact: { uri: 's3://models/clf/1/model.onnx', format: 'onnx' },
        aliases: ['production'],
        runId: seed.runId,
      });
    expect(model.status).toBe(201);

    const deployment = await request(server)
      .post(`${API}/deployments`)
      .set(user)
      .send({
        serviceRef: 'inferenceservice:default/svc',
        cluster: 'local',
        namespace: 'default',
        name: 'svc',
        modelRef: 'model:default/clf',
        traffic: [{ version: 1, percent: 100 }],
      });
    expect({ status: deployment.status, body: deployment.body }).toMatchObject({
      status: 201,
      body: { updatedBy: USER },
    });
  });

  it('pass authentication on every mutating operation (400 to an invalid request, nothing written)', async () => {
    const tokens = {
      service: bearer(await serviceToken()),
      user: bearer(userToken()),
    };
    const before = await snapshotRegistry(knex);
    const answers: Record<string, string> = {};
    for (const op of mutating) {
      for (const [who, headers] of Object.entries(tokens)) {
        // same URL as the forged requests below; only the body or a query parameter is invalid
        const res = await send(
          op,
          headers,
          op.method === 'delete' ? { query: '?dryRun=maybe' } : { body: [] },
        );
        answers[`${op.id} ${who}`] = `${res.status} ${
          res.body?.error?.name ?? res.text
        }`;
      }
    }
    expect(answers).toEqual(
      Object.fromEntries(Object.keys(answers).map(k => [k, '400 InputError'])),
    );
    expect(await snapshotRegistry(knex)).toEqual(before);
  });
});

describe('forged, altered and missing tokens', () => {
  interface Variant {
    headers: Record<string, string>;
    /** The message of the 401. */
    message: string;
    /** The codes of the jose errors Backstage logs while refusing it (any one of them). */
    causes?: string[];
  }
  const variants: Record<string, Variant> = {};

  const PLUGIN_FAILED = 'Failed plugin token verification';
  const USER_FAILED = 'Failed user token verification';
  const SIGNATURE = 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED';
  /** jose refuses `alg: none` for keys from a JWKS. */
  const UNSIGNED = 'ERR_JOSE_NOT_SUPPORTED';

  beforeAll(async () => {
    const service = await serviceToken();
    const user = userToken();

    // a real service token, issued an hour and a half ago (same key: it is still published)
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now - 90 * 60_000);
    let expiredService: string;
    try {
      expiredService = await serviceToken();
    } finally {
      clock.mockRestore();
    }
    if (parts(expiredService).header.kid !== parts(service).header.kid) {
      throw new Error('the expired token must be signed by the published key');
    }

    Object.assign(variants, {
      'no token': { headers: {}, message: 'Missing credentials' },
      'an empty bearer': {
        headers: { Authorization: 'Bearer ' },
        message: 'Missing credentials',
      },
      garbage: { headers: bearer('not-a-jwt'), message: 'Illegal token' },
      'three garbage segments': {
        headers: bearer('aaaa.bbbb.cccc'),
        message: 'Illegal token',
      },
      'a service token with its signature altered': {
        headers: bearer(alterSignature(service)),
        message: PLUGIN_FAILED,
        causes: [SIGNATURE],
      },
      'a service token with its payload altered (expiry in a year)': {
        headers: bearer(
          alterPayload(service, {
            exp: Math.floor(now / 1000) + 365 * 24 * 3600,
          }),
        ),
        message: PLUGIN_FAILED,
        causes: [SIGNATURE],
      },
      'a service token with its payload altered (subject: another plugin)': {
        headers: bearer(alterPayload(service, { sub: 'auth' })),
        message: PLUGIN_FAILED,
        // the claimed plugin publishes no key of that id
        causes: ['ERR_JWKS_NO_MATCHING_KEY'],
      },
      'a service token with alg none': {
        headers: bearer(algNone(service)),
        message: PLUGIN_FAILED,
        causes: [UNSIGNED],
      },
      'a service token re-signed by another key': {
        headers: bearer(resignWith(service, attackerKey)),
        message: PLUGIN_FAILED,
        causes: [SIGNATURE],
      },
      'an expired service token': {
        headers: bearer(expiredService),
        message: PLUGIN_FAILED,
        causes: ['ERR_JWT_EXPIRED'],
      },
      'a service token addressed to another plugin': {
        headers: bearer(await serviceToken('catalog')),
        message: PLUGIN_FAILED,
        causes: ['ERR_JWT_CLAIM_VALIDATION_FAILED'],
      },
      'a user token with its signature altered': {
        headers: bearer(alterSignature(user)),
        message: USER_FAILED,
        causes: [SIGNATURE],
      },
      'a user token with its payload altered (another subject)': {
        headers: bearer(
          alterPayload(user, {
            sub: 'user:default/admin',
            ent: ['user:default/admin', 'group:default/admins'],
          }),
        ),
        message: USER_FAILED,
        causes: [SIGNATURE],
      },
      'a user token with alg none': {
        headers: bearer(algNone(user)),
        message: USER_FAILED,
        causes: [UNSIGNED],
      },
      'a user token re-signed by another key': {
        headers: bearer(resignWith(user, attackerKey)),
        message: USER_FAILED,
        causes: [SIGNATURE],
      },
      'an expired user token (signed by the auth backend)': {
        headers: bearer(
          userToken({
            iat: Math.floor(now / 1000) - 7200,
            exp: Math.floor(now / 1000) - 3600,
          }),
        ),
        message: USER_FAILED,
        causes: ['ERR_JWT_EXPIRED'],
      },
    });
  });

  it.each(mutating.map(op => [`${op.method.toUpperCase()} ${op.path}`, op]))(
    '%s answers 401 to every one of them and writes nothing',
    async (_name, op: Operation) => {
      const before = await snapshotRegistry(knex);
      const answers: Record<string, string> = {};
      const expected: Record<string, string> = {};
      const causes: Record<string, string[]> = {};
      for (const [what, variant] of Object.entries(variants)) {
        const from = logs.length;
        const res = await send(op, variant.headers);
        answers[what] = `${res.status} ${res.body?.error?.message ?? res.text}`;
        expected[what] = `401 ${variant.message}`;
        if (variant.causes) {
          const logged = logs
            .slice(from)
            .filter(l => l.level === 'warn' && l.code)
            .map(l => l.code!);
          causes[what] = logged.some(c => variant.causes!.includes(c))
            ? variant.causes
            : logged;
        }
      }
      expect(answers).toEqual(expected);
      expect(causes).toEqual(
        Object.fromEntries(
          Object.entries(variants)
            .filter(([, v]) => v.causes)
            .map(([what, v]) => [what, v.causes]),
        ),
      );
      expect(await snapshotRegistry(knex)).toEqual(before);
    },
  );
});

it('the forged requests were writes: with a real token, the same requests write', async () => {
  const service = bearer(await serviceToken());
  const before = await snapshotRegistry(knex);
  const answers: Record<string, number> = {};
  for (const op of mutating.filter(o => REGISTRY_BODIES[o.id])) {
    answers[op.id] = (await send(op, service)).status;
  }
  expect(answers).toEqual(
    Object.fromEntries(
      Object.keys(answers).map(id => [id, id.startsWith('create') ? 201 : 200]),
    ),
  );
  const after = await snapshotRegistry(knex);
  expect(after).not.toEqual(before);
});
