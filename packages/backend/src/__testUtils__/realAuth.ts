/*
 * Backstage's REAL auth, httpAuth and userInfo services (@backstage/backend-defaults) for test
 * backends, with user tokens signed by a stand-in for the auth backend: a plugin `auth` serving
 * its public key at `/api/auth/.well-known/jwks.json` and the users' ownership refs at
 * `/api/auth/v1/userinfo`, as plugin-auth-backend does (the same stand-in as
 * plugins/kubeai-backend/src/service/__testUtils__/realAuth.ts, without its service caller).
 *
 * Why not mock auth: a token a plugin gets on behalf of a user from mock auth authenticates as
 * the user without the calling plugin as actor, and the permission backend refuses such "direct
 * user requests" for resource permissions without a resourceRef — which is how the catalog asks
 * for `catalog.entity.read` of a list. Real auth issues on-behalf-of tokens with the actor.
 *
 * The ownership refs (`ent`) are given per user: the identity provider is not what the tests using
 * this are about, the decisions made on those refs are.
 */
import { authServiceFactory } from '@backstage/backend-defaults/auth';
import { httpAuthServiceFactory } from '@backstage/backend-defaults/httpAuth';
import { userInfoServiceFactory } from '@backstage/backend-defaults/userInfo';
import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';

const b64 = (value: object) =>
  Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Signed user tokens of `members` (user ref → ownership refs) and the features that make every
 * plugin of a backend accept them. One instance can serve several backends (same keys).
 */
export function realAuth(members: Record<string, string[]>) {
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = randomUUID();
  const signed = (input: string) =>
    sign('sha256', Buffer.from(input), {
      key: keys.privateKey,
      dsaEncoding: 'ieee-p1363',
    }).toString('base64url');

  /**
   * A user token with its ownership refs (`ent`) and its user identity proof (`uip`: the
   * signature of the limited token of the same user and times, as plugin-auth-backend issues
   * it), so plugins can call others on the user's behalf.
   */
  function userToken(userEntityRef: string) {
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
      ent: members[userEntityRef] ?? [userEntityRef],
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
          // a plain handler (no router package needed): the two routes of plugin-auth-backend
          http.use(async (req, res, next) => {
            try {
              if (req.method === 'GET' && req.path === '/v1/userinfo') {
                // what a limited (on-behalf-of) token does not carry: the user's ownership refs
                const credentials = await httpAuth.credentials(req, {
                  allow: ['user'],
                  allowLimitedAccess: true,
                });
                const sub = credentials.principal.userEntityRef;
                res.json({ claims: { sub, ent: members[sub] ?? [sub] } });
              } else if (
                req.method === 'GET' &&
                req.path === '/.well-known/jwks.json'
              ) {
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
              } else {
                next();
              }
            } catch (error) {
              next(error);
            }
          });
          http.addAuthPolicy({
            path: '/.well-known',
            allow: 'unauthenticated',
          });
          // the route checks the (possibly limited) token itself, as plugin-auth-backend does
          http.addAuthPolicy({
            path: '/v1/userinfo',
            allow: 'unauthenticated',
          });
        },
      });
    },
  });

  return {
    userToken,
    features: [
      authStandIn,
      authServiceFactory,
      httpAuthServiceFactory,
      userInfoServiceFactory,
    ],
  };
}
