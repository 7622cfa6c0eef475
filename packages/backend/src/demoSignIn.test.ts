import path from 'node:path';
import request from 'supertest';
import { authServiceFactory } from '@backstage/backend-defaults/auth';
import { httpAuthServiceFactory } from '@backstage/backend-defaults/httpAuth';
import { userInfoServiceFactory } from '@backstage/backend-defaults/userInfo';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import authPlugin from '@backstage/plugin-auth-backend';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import { demoSignInModule } from './demoSignIn';

jest.setTimeout(120_000);

// The example catalog's people and teams (zhang.min in cv-team, wang.fang in search-reco).
const orgFile = path.resolve(__dirname, '../../../examples/org.yaml');

const users = [
  { entityRef: 'user:default/zhang.min', title: 'Zhang Min' },
  { entityRef: 'wang.fang' },
  // configured, but not in the catalog
  { entityRef: 'user:default/nobody' },
];

type Server = Awaited<ReturnType<typeof startTestBackend>>['server'];

/**
 * A backend with the real auth plugin and services (tokens are real, the user info is what the
 * auth plugin stored at sign-in), the real catalog and the demo provider, configured by `demo`.
 */
async function backendWith(demo: object | undefined, catalog = false) {
  const { server } = await startTestBackend({
    features: [
      authServiceFactory,
      httpAuthServiceFactory,
      userInfoServiceFactory,
      authPlugin,
      demoSignInModule,
      ...(catalog ? [catalogPlugin] : []),
      mockServices.rootConfig.factory({
        data: {
          app: { baseUrl: 'http://localhost:3000' },
          auth: { providers: demo ? { demo } : {} },
          catalog: {
            rules: [{ allow: ['Group', 'User'] }],
            locations: [{ type: 'file', target: orgFile }],
          },
        },
      }),
    ],
  });
  return server;
}

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());

describe('the demo sign-in provider', () => {
  let server: Server;

  const entOf = async (token: string) => {
    const res = await request(server)
      .get('/api/auth/v1/userinfo')
      .set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    return res.body.claims.ent;
  };

  beforeAll(async () => {
    server = await backendWith(
      // NODE_ENV is `test` here: the flag stands for the development mode of `yarn start`
      { users, dangerouslyAllowOutsideDevelopment: true },
      true,
    );
    // the catalog has processed the people once a sign-in succeeds
    const deadline = Date.now() + 90_000;
    for (;;) {
      const res = await request(server).get(
        '/api/auth/demo/refresh?user=zhang.min',
      );
      if (res.status === 200 || Date.now() > deadline) break;
      await new Promise(resolve => setTimeout(resolve, 500));
    }
  });

  it('issues a user token whose ownership claims are the groups the catalog lists for the user', async () => {
    for (const user of [
      'zhang.min',
      'user:default/zhang.min',
      'User:default/Zhang.Min',
    ]) {
      const res = await request(server).get(
        `/api/auth/demo/refresh?user=${encodeURIComponent(user)}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.profile).toEqual({
        displayName: 'Zhang Min',
        email: 'zhang.min@kubeai.example.com',
      });
      const { identity, token } = res.body.backstageIdentity;
      expect(identity).toEqual({
        type: 'user',
        userEntityRef: 'user:default/zhang.min',
        ownershipEntityRefs: [
          'user:default/zhang.min',
          'group:default/cv-team',
        ],
      });
      expect(claimsOf(token).sub).toBe('user:default/zhang.min');
      // the `ent` claim as plugins read it (userInfo service; 1.55 keeps it out of the token)
      expect(await entOf(token)).toEqual([
        'user:default/zhang.min',
        'group:default/cv-team',
      ]);
    }
    const other = await request(server).get(
      '/api/auth/demo/refresh?user=wang.fang',
    );
    expect(other.status).toBe(200);
    expect(await entOf(other.body.backstageIdentity.token)).toEqual([
      'user:default/wang.fang',
      'group:default/search-reco',
    ]);
  });

  it('refuses people who are not configured, bad refs and a missing user, naming what is wrong', async () => {
    const platform = await request(server).get(
      '/api/auth/demo/refresh?user=li.wei',
    );
    expect(platform.status).toBe(403);
    expect(platform.body.error.message).toBe(
      'user:default/li.wei is not a demo user (auth.providers.demo.users: user:default/zhang.min, user:default/wang.fang, user:default/nobody)',
    );
    const group = await request(server).get(
      `/api/auth/demo/refresh?user=${encodeURIComponent(
        'group:default/cv-team',
      )}`,
    );
    expect(group.status).toBe(400);
    expect(group.body.error.message).toBe(
      "'group:default/cv-team' is not a user entity reference",
    );
    const missing = await request(server).get('/api/auth/demo/refresh');
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(
      /^Say who to sign in as: \?user=/,
    );
  });

  it('refuses a configured user the catalog does not know', async () => {
    const res = await request(server).get('/api/auth/demo/refresh?user=nobody');
    expect(res.status).toBe(404);
    expect(res.body.error.name).toBe('NotFoundError');
    expect(res.body).not.toHaveProperty('backstageIdentity');
  });
});

describe('the demo sign-in provider when it may not be used', () => {
  it('is refused when turned off (as app-config.production.yaml does, from a string)', async () => {
    const server = await backendWith({
      users,
      enabled: 'false',
      dangerouslyAllowOutsideDevelopment: true,
    });
    const res = await request(server).get(
      '/api/auth/demo/refresh?user=zhang.min',
    );
    expect(res.status).toBe(403);
    expect(res.body.error.message).toBe(
      'Demo sign-in is turned off (auth.providers.demo.enabled)',
    );
  });

  it('is refused outside development without the explicit flag', async () => {
    const server = await backendWith({ users });
    const res = await request(server).get(
      '/api/auth/demo/refresh?user=zhang.min',
    );
    expect(res.status).toBe(403);
    expect(res.body.error.message).toMatch(/works only in development/);
  });

  it('does not exist when app-config does not configure it', async () => {
    const server = await backendWith(undefined);
    const res = await request(server).get(
      '/api/auth/demo/refresh?user=zhang.min',
    );
    expect(res.status).toBe(404);
    expect(res.body.error.message).toBe(
      "No auth provider registered for 'demo'",
    );
  });
});
