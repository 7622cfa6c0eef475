/*
 * The mapping of Backstage identities to Impersonate-User / Impersonate-Group values and its
 * configuration (no cluster; the headers on the wire and the apiserver's decisions are
 * ../service/impersonation.test.ts).
 */
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { ClusterGateway } from './ClusterGateway';
import {
  CallerImpersonation,
  impersonationOf,
  readImpersonationConfig,
  type ImpersonationConfig,
} from './impersonation';

const on: ImpersonationConfig = {
  enabled: true,
  userPrefix: 'backstage:',
  groupPrefix: 'backstage:',
  services: 'impersonate',
};

describe('readImpersonationConfig', () => {
  it('is off by default, with the backstage: prefixes and impersonated services', () => {
    expect(readImpersonationConfig(new ConfigReader({}))).toEqual({
      ...on,
      enabled: false,
    });
  });

  it('reads kubeai.tenancy.impersonation', () => {
    expect(
      readImpersonationConfig(
        new ConfigReader({
          kubeai: {
            tenancy: {
              impersonation: {
                enabled: true,
                userPrefix: 'oidc:',
                groupPrefix: 'oidc-groups:',
                services: 'portal',
              },
            },
          },
        }),
      ),
    ).toEqual({
      enabled: true,
      userPrefix: 'oidc:',
      groupPrefix: 'oidc-groups:',
      services: 'portal',
    });
  });

  it('names the key of an unknown services value', () => {
    expect(() =>
      readImpersonationConfig(
        new ConfigReader({
          kubeai: { tenancy: { impersonation: { services: 'anyone' } } },
        }),
      ),
    ).toThrow(
      "kubeai.tenancy.impersonation.services: must be 'impersonate' or 'portal', got 'anyone'",
    );
  });
});

describe('impersonationOf', () => {
  it('a user: the prefixed entity ref, one group per group among the ownership refs, system:authenticated', () => {
    expect(
      impersonationOf(
        {
          type: 'user',
          userEntityRef: 'user:default/Alice',
          ownershipEntityRefs: [
            'user:default/alice',
            'group:default/search-reco',
            'Group:default/CV-Team',
            'group:default/cv-team',
            'not a ref:',
          ],
        },
        on,
      ),
    ).toEqual({
      user: 'backstage:user:default/alice',
      groups: [
        'backstage:group:default/cv-team',
        'backstage:group:default/search-reco',
        'system:authenticated',
      ],
      actor: 'user:default/Alice',
    });
  });

  it('a user in no group: only system:authenticated; other prefixes', () => {
    expect(
      impersonationOf(
        {
          type: 'user',
          userEntityRef: 'user:default/guest',
          ownershipEntityRefs: ['user:default/guest'],
        },
        { ...on, userPrefix: 'u:', groupPrefix: 'g:' },
      ),
    ).toEqual({
      user: 'u:user:default/guest',
      groups: ['system:authenticated'],
      actor: 'user:default/guest',
    });
  });

  it('a service: backstage:service:<subject> in backstage:services, or the portal when configured', () => {
    const service = { type: 'service' as const, subject: 'plugin:scaffolder' };
    expect(impersonationOf(service, on)).toEqual({
      user: 'backstage:service:plugin:scaffolder',
      groups: ['backstage:services', 'system:authenticated'],
      actor: 'plugin:scaffolder',
    });
    expect(
      impersonationOf(service, { ...on, services: 'portal' }),
    ).toBeUndefined();
  });

  it('nobody is impersonated when it is off', () => {
    expect(
      impersonationOf(
        {
          type: 'user',
          userEntityRef: 'user:default/alice',
          ownershipEntityRefs: [],
        },
        { ...on, enabled: false },
      ),
    ).toBeUndefined();
  });
});

describe('CallerImpersonation', () => {
  it('asks userInfo for the groups of a user', async () => {
    const impersonation = new CallerImpersonation(
      on,
      mockServices.userInfo({
        ownershipEntityRefs: ['user:default/alice', 'group:default/cv-team'],
      }),
    );
    expect(
      await impersonation.of(mockCredentials.user('user:default/alice')),
    ).toEqual({
      user: 'backstage:user:default/alice',
      groups: ['backstage:group:default/cv-team', 'system:authenticated'],
      actor: 'user:default/alice',
    });
    expect(
      await impersonation.of(mockCredentials.service('plugin:catalog')),
    ).toMatchObject({ user: 'backstage:service:plugin:catalog' });
  });

  it('refuses to be on without userInfo, and to impersonate nobody', async () => {
    expect(() => new CallerImpersonation(on)).toThrow(
      /needs the userInfo service/,
    );
    const impersonation = new CallerImpersonation(on, mockServices.userInfo());
    await expect(impersonation.of(mockCredentials.none())).rejects.toThrow(
      "cannot impersonate a caller of type 'none'",
    );
  });
});

describe('the gateway with impersonation on', () => {
  const quiet = () => undefined;
  const logger = { debug: quiet, info: quiet, warn: quiet, error: quiet };
  const gateway = () =>
    ClusterGateway.fromConfig(
      new ConfigReader({
        kubeai: { tenancy: { impersonation: { enabled: true } } },
        kubernetes: {
          clusterLocatorMethods: [
            {
              type: 'config',
              clusters: [
                {
                  name: 'c',
                  // nothing listens: a write that got past the check would fail differently
                  url: 'https://127.0.0.1:1',
                  serviceAccountToken: 'token',
                },
              ],
            },
          ],
        },
      }),
      { logger, userInfo: mockServices.userInfo(), retry: { retries: 0 } },
    );

  it('says so, and refuses a write without a caller before sending anything', async () => {
    const g = gateway();
    expect(g.impersonates).toBe(true);
    const object = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'a', namespace: 'ns' },
    };
    await expect(g.apply('c', [object])).rejects.toThrow(
      'kubeai cluster write without a caller while kubeai.tenancy.impersonation is enabled',
    );
    await expect(
      g.delete('c', { apiVersion: 'v1', kind: 'ConfigMap', name: 'a' }),
    ).rejects.toThrow(/write without a caller/);
  });

  it('needs the userInfo service', () => {
    expect(() =>
      ClusterGateway.fromConfig(
        new ConfigReader({
          kubeai: { tenancy: { impersonation: { enabled: true } } },
        }),
        { logger },
      ),
    ).toThrow(/needs the userInfo service/);
  });
});
