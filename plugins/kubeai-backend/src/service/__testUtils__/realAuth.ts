/*
 * Backstage's REAL auth, httpAuth and userInfo services (@backstage/backend-defaults) for a test
 * backend, with the two kinds of callers they accept:
 *
 * - user tokens signed by a stand-in for the auth backend: a plugin `auth` serving its public key
 *   at `/api/auth/.well-known/jwks.json`, as plugin-auth-backend does; the token's `ent` claim is
 *   what the userInfo service answers as the user's ownership refs (their groups);
 * - service tokens that a caller plugin of the same backend asks its own auth service for.
 */
import { authServiceFactory } from '@backstage/backend-defaults/auth';
import { httpAuthServiceFactory } from '@backstage/backend-defaults/httpAuth';
import { userInfoServiceFactory } from '@backstage/backend-defaults/userInfo';
import {
  AuthService,
  coreServices,
  createBackendPlugin,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import express from 'express';
import { Knex } from 'knex';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';

const b64 = (value: object) =>
  Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * The real services and the callers. `databaseOf(pluginId)` gives each plugin its database (the
 * auth service keeps every plugin's keys there).
 */
export function realAuth(callerPluginId = 'kubeai-test-caller') {
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = randomUUID();

  /** The ownership refs of the users tokens were issued for (what `/v1/userinfo` answers). */
  const issued = new Map<string, string[]>();
  const signed = (input: string) =>
    sign('sha256', Buffer.from(input), {
      key: keys.privateKey,
      dsaEncoding: 'ieee-p1363',
    }).toString('base64url');

  /**
   * A user token of `userEntityRef` whose ownership refs are `ent` (the user itself by default),
   * with its user identity proof (`uip`: the signature of the limited token of the same user and
   * times, as plugin-auth-backend issues it), so plugins can call others on the user's behalf.
   */
  function userToken(userEntityRef: string, ent: string[] = [userEntityRef]) {
    issued.set(userEntityRef, ent);
    const now = Math.floor(Date.now() / 1000);
    const exp = now + 3600;
    const uip = signed(
      `${b64({ typ: 'vnd.backstage.limited-user', alg: 'ES256', kid })}.${b64({
        sub: userEntityRef,
        iat: now,
        exp,
      })}`,
    );
    const input = `${b64({
      typ: 'vnd.backstage.user',
      alg: 'ES256',
      kid,
    })}.${b64({
      iss: 'http://localhost/api/auth',
      sub: userEntityRef,
      ent,
      aud: 'backstage',
      iat: now,
      exp,
      uip,
    })}`;
    return `${input}.${signed(input)}`;
  }

  const authStandIn = createBackendPlugin({
    pluginId: 'auth',
    register(env) {
      env.registerInit({
        deps: {
          http: coreServices.httpRouter,
          httpAuth: coreServices.httpAuth,
        },
        async init({ http, httpAuth }) {
          const router = express.Router();
          // what a limited (on-behalf-of) token does not carry: the user's ownership refs, asked
          // by the userInfo service of a plugin the user's request went through
          router.get('/v1/userinfo', async (req, res) => {
            const credentials = await httpAuth.credentials(req, {
              allow: ['user'],
              allowLimitedAccess: true,
            });
            const sub = credentials.principal.userEntityRef;
            res.json({ claims: { sub, ent: issued.get(sub) ?? [sub] } });
          });
          router.get('/.well-known/jwks.json', (_req, res) => {
            res.json({
              keys: [
                {
                  ...keys.publicKey.export({ format: 'jwk' }),
                  kid,
                  alg: 'ES256',
                  use: 'sig',
                },
              ],
            });
          });
          http.use(router);
          http.addAuthPolicy({
            path: '/.well-known',
            allow: 'unauthenticated',
          });
          // the route checks the (possibly limited) token itself, as plugin-auth-backend does
          http.addAuthPolicy({ path: '/v1/userinfo', allow: 'unauthenticated' });
        },
      });
    },
  });

  const caller: { auth?: AuthService } = {};
  const callerPlugin = createBackendPlugin({
    pluginId: callerPluginId,
    register(env) {
      env.registerInit({
        deps: { auth: coreServices.auth },
        async init({ auth }) {
          caller.auth = auth;
        },
      });
    },
  });

  /** A service token of the caller plugin to kubeai (its subject: `plugin:<callerPluginId>`). */
  async function serviceToken(): Promise<string> {
    const auth = caller.auth!;
    const { token } = await auth.getPluginRequestToken({
      onBehalfOf: await auth.getOwnServiceCredentials(),
      targetPluginId: 'kubeai',
    });
    return token;
  }

  /** The features: the real services, the auth stand-in, the caller, a database per plugin. */
  function features(databaseOf: (pluginId: string) => Promise<Knex>) {
    return [
      authStandIn,
      callerPlugin,
      authServiceFactory,
      httpAuthServiceFactory,
      userInfoServiceFactory,
      createServiceFactory({
        service: coreServices.database,
        deps: { plugin: coreServices.pluginMetadata },
        async factory({ plugin }) {
          const client = await databaseOf(plugin.getId());
          return { getClient: async () => client };
        },
      }),
    ];
  }

  return { userToken, serviceToken, features };
}
