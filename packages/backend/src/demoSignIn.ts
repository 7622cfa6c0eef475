/*
 * Development sign-in as one of the example catalog's people (`auth.providers.demo`), so a local
 * portal can be seen through the eyes of different teams. A proxy auth provider: the browser (or a
 * script) asks `GET /api/auth/demo/refresh?user=<name or ref>` and gets a real Backstage user token
 * issued by the catalog's resolver `signInWithCatalogUser`, so its `ent` claim holds the groups the
 * user is a member of — what the permission policy and Kubernetes impersonation read. No password:
 * like the guest provider it refuses outside NODE_ENV=development unless
 * `dangerouslyAllowOutsideDevelopment`, and it is off unless configured (`enabled: false` turns it
 * off where app-config.yaml is merged with another file, as in app-config.production.yaml).
 */
import { createBackendModule } from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import { InputError, NotAllowedError } from '@backstage/errors';
import {
  authProvidersExtensionPoint,
  createProxyAuthenticator,
  createProxyAuthProviderFactory,
} from '@backstage/plugin-auth-node';

/** The provider id: `auth.providers.demo`, `/api/auth/demo/refresh`. */
export const DEMO_PROVIDER_ID = 'demo';

/** A person one may sign in as (`auth.providers.demo.users[]`). */
export interface DemoUser {
  /** `user:default/zhang.min` */
  entityRef: string;
  title?: string;
  description?: string;
}

interface DemoContext {
  users: DemoUser[];
  /** Why sign-in is refused, when it is. */
  refusal?: string;
}

/** `user:default/zhang.min` from a ref or a bare name (default kind user, namespace default). */
export function normalizeUserRef(value: string): string {
  const text = value.trim().toLowerCase();
  const match = /^(?:([a-z0-9-]+):)?(?:([a-z0-9._-]+)\/)?([a-z0-9._-]+)$/.exec(
    text,
  );
  if (!match || (match[1] && match[1] !== 'user')) {
    throw new InputError(`'${value}' is not a user entity reference`);
  }
  return `user:${match[2] ?? 'default'}/${match[3]}`;
}

/** Reads `auth.providers.demo`; the users' refs are normalized. */
export function readDemoConfig(config: Config): DemoContext {
  const users = (config.getOptionalConfigArray('users') ?? []).map(u => ({
    entityRef: normalizeUserRef(u.getString('entityRef')),
    title: u.getOptionalString('title'),
    description: u.getOptionalString('description'),
  }));
  let refusal: string | undefined;
  if (config.getOptionalBoolean('enabled') === false) {
    refusal = 'Demo sign-in is turned off (auth.providers.demo.enabled)';
  } else if (
    process.env.NODE_ENV !== 'development' &&
    config.getOptionalBoolean('dangerouslyAllowOutsideDevelopment') !== true
  ) {
    refusal =
      "Demo sign-in works only in development (NODE_ENV=development) unless 'auth.providers.demo.dangerouslyAllowOutsideDevelopment' is set";
  }
  return { users, refusal };
}

const demoAuthenticator = createProxyAuthenticator<
  DemoContext,
  { userEntityRef: string },
  undefined
>({
  initialize: ({ config }) => readDemoConfig(config),
  async authenticate({ req }, ctx) {
    if (ctx.refusal) throw new NotAllowedError(ctx.refusal);
    const asked = req.query.user;
    const names = ctx.users.map(u => u.entityRef).join(', ');
    if (typeof asked !== 'string' || !asked) {
      throw new InputError(
        `Say who to sign in as: ?user=<one of ${
          names || 'no configured user'
        }>`,
      );
    }
    const userEntityRef = normalizeUserRef(asked);
    if (!ctx.users.some(u => u.entityRef === userEntityRef)) {
      throw new NotAllowedError(
        `${userEntityRef} is not a demo user (auth.providers.demo.users: ${
          names || 'none'
        })`,
      );
    }
    return { result: { userEntityRef } };
  },
  // The profile the sidebar shows, from the user's catalog entity.
  async defaultProfileTransform({ userEntityRef }, ctx) {
    const { entity } = await ctx.findCatalogUser({ entityRef: userEntityRef });
    const profile = (entity.spec?.profile ?? {}) as {
      displayName?: string;
      email?: string;
      picture?: string;
    };
    return {
      profile: {
        displayName: profile.displayName ?? entity.metadata.name,
        email: profile.email,
        picture: profile.picture,
      },
    };
  },
});

/** The `demo` auth provider (see the file comment). */
export const demoSignInModule = createBackendModule({
  pluginId: 'auth',
  moduleId: 'kubeai-demo-provider',
  register(reg) {
    reg.registerInit({
      deps: { providers: authProvidersExtensionPoint },
      async init({ providers }) {
        providers.registerProvider({
          providerId: DEMO_PROVIDER_ID,
          factory: createProxyAuthProviderFactory({
            authenticator: demoAuthenticator,
            // the catalog decides: the user must exist, and `ent` gets their groups
            signInResolver: async ({ result }, ctx) =>
              ctx.signInWithCatalogUser({ entityRef: result.userEntityRef }),
          }),
        });
      },
    });
  },
});
