/*
 * The external callers of app-config.production.yaml, as Backstage loads that file (env
 * substitution included) and as its real auth services read it: without the secrets in the
 * environment no token is accepted; with KUBEAI_PLATFORM_TOKEN the platform's token reaches the
 * kubeai plugin (with the permissions it names) and the catalog, and no other plugin; the ownership
 * policy maps its subject to a team.
 */
import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { ConfigSources, FileConfigSource } from '@backstage/config-loader';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import request from 'supertest';
import { readServiceTeams } from './permissionPolicy';
import { realAuth } from './__testUtils__/realAuth';

const PRODUCTION = path.resolve(
  __dirname,
  '../../../app-config.production.yaml',
);

/** app-config.production.yaml with `env` as the environment. */
async function productionConfig(env: Record<string, string>) {
  const config = await ConfigSources.toConfig(
    FileConfigSource.create({
      path: PRODUCTION,
      watch: false,
      substitutionFunc: async name => env[name],
    }),
  );
  try {
    return config.get() as Record<string, any>;
  } finally {
    config.close();
  }
}

/** A plugin answering who called it. */
const probe = (pluginId: string) =>
  createBackendPlugin({
    pluginId,
    register(env) {
      env.registerInit({
        deps: {
          router: coreServices.httpRouter,
          httpAuth: coreServices.httpAuth,
        },
        async init({ router, httpAuth }) {
          router.use(async (req, res, next) => {
            try {
              const { principal } = await httpAuth.credentials(req, {
                allow: ['service'],
              });
              res.json(principal);
            } catch (error) {
              next(error);
            }
          });
        },
      });
    },
  });

async function backendWith(app: Record<string, any>) {
  const { server } = await startTestBackend({
    features: [
      probe('kubeai'),
      probe('catalog'),
      probe('scaffolder'),
      ...realAuth({}).features,
      mockServices.rootConfig.factory({
        data: {
          backend: {
            baseUrl: 'http://localhost:7007',
            auth: app.backend.auth,
          },
        },
      }),
    ],
  });
  return server;
}

const ENV = {
  POSTGRES_HOST: 'localhost',
  POSTGRES_PORT: '5432',
  POSTGRES_USER: 'backstage',
  POSTGRES_PASSWORD: 'secret',
};

describe('the external callers of app-config.production.yaml', () => {
  it('accept no token while their secrets are unset', async () => {
    const app = await productionConfig(ENV);
    const server = await backendWith(app);
    const [platform] = app.backend.auth.externalAccess;
    // the placeholder is no value an HTTP request can carry (header values are Latin-1)
    const authorization = `Bearer ${platform.options.token}`;
    expect(() =>
      http.request('http://localhost:1/', { headers: { authorization } }),
    ).toThrow(/Invalid character in header content/);
    expect(() => new Headers({ authorization })).toThrow(/ByteString/);
    for (const token of [
      platform.options.token.replace(/[^\x21-\x7e]/g, '-'),
      randomBytes(24).toString('hex'),
    ]) {
      const res = await request(server)
        .get('/api/kubeai/')
        .set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(401);
    }
  });

  it('let the platform token reach the kubeai plugin with its named permissions, and the catalog', async () => {
    const token = randomBytes(24).toString('hex');
    const app = await productionConfig({
      ...ENV,
      KUBEAI_PLATFORM_TOKEN: token,
    });
    const server = await backendWith(app);
    const kubeai = await request(server)
      .get('/api/kubeai/')
      .set('Authorization', `Bearer ${token}`);
    expect(kubeai.status).toBe(200);
    expect(kubeai.body).toMatchObject({
      type: 'service',
      subject: 'order-platform',
      accessRestrictions: {
        permissionNames: expect.arrayContaining([
          'kubeai.deployment.create',
          'kubeai.run.logs.read',
        ]),
      },
    });
    const catalog = await request(server)
      .get('/api/catalog/')
      .set('Authorization', `Bearer ${token}`);
    expect(catalog.status).toBe(200);
    const scaffolder = await request(server)
      .get('/api/scaffolder/')
      .set('Authorization', `Bearer ${token}`);
    expect(scaffolder.status).toBe(403);
    expect(scaffolder.body.error.message).toMatch(/restricted to plugin/);
    // the ownership policy writes for it where its team may
    expect([...readServiceTeams(new ConfigReader(app))]).toEqual([
      ['order-platform', 'group:default/search-reco'],
    ]);
  });
});
