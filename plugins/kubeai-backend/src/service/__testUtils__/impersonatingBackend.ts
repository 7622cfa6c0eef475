/*
 * The kubeai plugin against the local control plane with Backstage's real auth (./realAuth.ts), a
 * permission policy of the test's own and `kubeai.tenancy.impersonation` on or off; informers off.
 * Shared by the tests of what the cluster's RBAC decides for the signed-in user.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import type { createTestDatabases } from '../../__testUtils__/databases';
import { kubeaiPlugin } from '../../plugin';
import { portalControlPlane } from './clusterRoutes';
import { realAuth } from './realAuth';

export async function startImpersonatingBackend(options: {
  databases: ReturnType<typeof createTestDatabases>;
  /** The portal's policy: one decision per request. */
  authorize: (
    requests: { permission: { name: string } }[],
  ) => Promise<{ result: AuthorizeResult }[]>;
  impersonation?: boolean;
  validateResponses?: boolean;
}) {
  const auth = realAuth();
  const backend = await startTestBackend({
    features: [
      kubeaiPlugin,
      ...auth.features(() => options.databases.init('SQLITE_3')),
      catalogServiceMock.factory({ entities: [] }),
      mockServices.permissions.mock({
        authorize: options.authorize,
      } as never).factory,
      mockServices.rootConfig.factory({
        data: {
          backend: { baseUrl: 'http://localhost:7007' },
          kubeai: {
            ...(options.validateResponses
              ? { registry: { validateResponses: true } }
              : {}),
            informers: { enabled: false },
            tenancy: {
              impersonation: { enabled: options.impersonation ?? true },
            },
          },
          kubernetes: portalControlPlane().kubernetes,
        },
      }),
    ],
  });
  /** `Authorization` of a user token (the user and her groups). */
  const as = (user: string, ownership: string[]) => ({
    Authorization: `Bearer ${auth.userToken(user, [user, ...ownership])}`,
  });
  return {
    server: backend.server,
    stop: () => backend.stop(),
    as,
    serviceToken: () => auth.serviceToken(),
  };
}
