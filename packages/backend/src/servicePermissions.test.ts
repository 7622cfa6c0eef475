/*
 * Who ServicePermissions decides itself and how: callers from outside pass their token's access
 * restrictions and then the policy; the backend's own plugins, users and a portal with permissions
 * off go to Backstage's service as before. (The conditions of a conditional decision, applied by
 * the owning plugin, are tested against a running backend in externalCallers.test.ts.)
 */
import type { PermissionsService } from '@backstage/backend-plugin-api';
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import {
  AuthorizeResult,
  createPermission,
} from '@backstage/plugin-permission-common';
import { createPolicy } from './permissionPolicy';
import { ServicePermissions } from './servicePermissions';

const read = createPermission({
  name: 'kubeai.run.logs.read',
  attributes: { action: 'read' },
});
const create = createPermission({
  name: 'catalog.entity.create',
  attributes: { action: 'create' },
});
const nsCreate = createPermission({
  name: 'kubeai.cluster.object.create',
  attributes: { action: 'create' },
  resourceType: 'kubeai-cluster-namespace',
});

/** Backstage's service, standing in: it answers a marker so a test sees who decided. */
const inner: PermissionsService = {
  authorize: async requests =>
    requests.map(() => ({ result: AuthorizeResult.ALLOW, inner: true } as any)),
  authorizeConditional: async requests =>
    requests.map(() => ({ result: AuthorizeResult.ALLOW, inner: true } as any)),
};

function permissions(policy: string, enabled = true) {
  return new ServicePermissions({
    inner,
    policy: createPolicy(
      policy,
      new ConfigReader({
        kubeai: {
          tenancy: {
            serviceTeams: [
              { subject: 'order-platform', team: 'group:default/search-reco' },
            ],
          },
        },
      }),
    ),
    auth: mockServices.auth(),
    discovery: mockServices.discovery(),
    enabled,
  });
}

describe('ServicePermissions', () => {
  it("leaves the backend's own plugins, users and a portal without permissions to Backstage's service", async () => {
    const ownership = permissions('ownership');
    for (const credentials of [
      mockCredentials.service('plugin:catalog'),
      mockCredentials.user('user:default/alice'),
    ]) {
      expect(
        await ownership.authorize([{ permission: create }], { credentials }),
      ).toEqual([{ result: AuthorizeResult.ALLOW, inner: true }]);
    }
    expect(
      await permissions('ownership', false).authorize(
        [{ permission: create }],
        { credentials: mockCredentials.service('other-platform') },
      ),
    ).toEqual([{ result: AuthorizeResult.ALLOW, inner: true }]);
  });

  it('refuses a caller from outside what its access restrictions do not name, whatever the policy', async () => {
    const allowAll = permissions('allow-all');
    const named = mockCredentials.service('order-platform', {
      permissionNames: ['kubeai.run.logs.read'],
    });
    const reads = mockCredentials.service('order-platform', {
      permissionAttributes: { action: ['read'] },
    });
    for (const credentials of [named, reads]) {
      expect(
        await allowAll.authorize(
          [{ permission: read }, { permission: create }],
          { credentials },
        ),
      ).toEqual([
        { result: AuthorizeResult.ALLOW },
        { result: AuthorizeResult.DENY },
      ]);
    }
  });

  it('has the policy decide within them: an unmapped caller reads only, a mapped one as its team', async () => {
    const ownership = permissions('ownership');
    const unmapped = mockCredentials.service('other-platform');
    expect(
      await ownership.authorize(
        [{ permission: read }, { permission: create }],
        { credentials: unmapped },
      ),
    ).toEqual([
      { result: AuthorizeResult.ALLOW },
      { result: AuthorizeResult.DENY },
    ]);
    const mapped = mockCredentials.service('order-platform');
    // another plugin's creation (the catalog's): never for a caller from outside, mapped or not
    expect(
      await ownership.authorize([{ permission: create }], {
        credentials: mapped,
      }),
    ).toEqual([{ result: AuthorizeResult.DENY }]);
    // a namespace write: the team's conditions, for the kubeai plugin to apply
    expect(
      await ownership.authorizeConditional([{ permission: nsCreate }], {
        credentials: mapped,
      }),
    ).toEqual([
      expect.objectContaining({
        result: AuthorizeResult.CONDITIONAL,
        pluginId: 'kubeai',
        conditions: expect.objectContaining({
          params: { claims: ['group:default/search-reco'] },
        }),
      }),
    ]);
    // conditions cannot be applied without the resource: refused
    expect(
      await ownership.authorize([{ permission: nsCreate } as any], {
        credentials: mapped,
      }),
    ).toEqual([{ result: AuthorizeResult.DENY }]);
  });
});
