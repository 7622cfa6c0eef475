import {
  AuthorizeResult,
  createPermission,
} from '@backstage/plugin-permission-common';
import { ConfigReader } from '@backstage/config';
import { createPolicy, readServiceTeams } from './permissionPolicy';

// The shape of `kubeaiClusterObjectDeletePermission` of @kubeai/plugin-kubeai-common (not a
// dependency of this package): what the policy decides on is the action attribute.
const clusterObjectDelete = createPermission({
  name: 'kubeai.cluster.object.delete',
  attributes: { action: 'delete' },
});
const clusterObjectCreate = createPermission({
  name: 'kubeai.cluster.object.create',
  attributes: { action: 'create' },
});
const runLogsRead = createPermission({
  name: 'kubeai.run.logs.read',
  attributes: { action: 'read' },
});

describe('the read-only policy', () => {
  const policy = createPolicy('read-only');

  it('denies deleting and creating cluster objects, and allows reads', async () => {
    const decide = async (permission: typeof clusterObjectDelete) =>
      (await policy.handle({ permission })).result;
    expect(await decide(clusterObjectDelete)).toBe(AuthorizeResult.DENY);
    expect(await decide(clusterObjectCreate)).toBe(AuthorizeResult.DENY);
    expect(await decide(runLogsRead)).toBe(AuthorizeResult.ALLOW);
  });
});

describe('the ownership policy', () => {
  const policy = createPolicy(
    'ownership',
    new ConfigReader({
      kubeai: { tenancy: { platformAdmins: ['group:default/ml-platform'] } },
    }),
  );
  const userOf = (...groups: string[]) => ({
    identity: {
      type: 'user' as const,
      userEntityRef: 'user:default/alice',
      ownershipEntityRefs: ['user:default/alice', ...groups],
    },
    token: 'token',
    credentials: {} as never,
    info: {
      userEntityRef: 'user:default/alice',
      ownershipEntityRefs: ['user:default/alice', ...groups],
    },
  });
  const nsCreate = createPermission({
    name: 'kubeai.cluster.object.create',
    attributes: { action: 'create' },
    resourceType: 'kubeai-cluster-namespace',
  });
  const deploymentUpdate = createPermission({
    name: 'kubeai.deployment.update',
    attributes: { action: 'update' },
    resourceType: 'catalog-entity',
  });
  const runCreate = createPermission({
    name: 'kubeai.run.create',
    attributes: { action: 'create' },
    resourceType: 'kubeai-cluster-namespace',
  });
  // a creation with no place yet (the catalog's basic permission of registering an entity)
  const entityCreate = createPermission({
    name: 'catalog.entity.create',
    attributes: { action: 'create' },
  });

  it('lets everybody read', async () => {
    expect(
      (await policy.handle({ permission: runLogsRead }, userOf())).result,
    ).toBe(AuthorizeResult.ALLOW);
  });

  it.each([
    ['a cluster write', nsCreate],
    ['a run record', runCreate],
  ])(
    'decides %s by the namespace owner, for the kubeai plugin to apply',
    async (_what, permission) => {
      expect(
        await policy.handle({ permission }, userOf('group:default/cv-team')),
      ).toEqual({
        result: AuthorizeResult.CONDITIONAL,
        pluginId: 'kubeai',
        resourceType: 'kubeai-cluster-namespace',
        conditions: {
          rule: 'IS_NAMESPACE_OWNER',
          resourceType: 'kubeai-cluster-namespace',
          params: {
            claims: ['user:default/alice', 'group:default/cv-team'],
          },
        },
      });
    },
  );

  it('decides an entity change by the entity owner, for the catalog to apply', async () => {
    expect(
      await policy.handle(
        { permission: deploymentUpdate },
        userOf('group:default/cv-team'),
      ),
    ).toMatchObject({
      result: AuthorizeResult.CONDITIONAL,
      pluginId: 'catalog',
      resourceType: 'catalog-entity',
      conditions: {
        rule: 'IS_ENTITY_OWNER',
        params: { claims: ['user:default/alice', 'group:default/cv-team'] },
      },
    });
  });

  it('lets only platform admins change pools and quotas (kubeai.pool.update)', async () => {
    const poolUpdate = createPermission({
      name: 'kubeai.pool.update',
      attributes: { action: 'update' },
    });
    const decide = async (...groups: string[]) =>
      (await policy.handle({ permission: poolUpdate }, userOf(...groups)))
        .result;
    expect(await decide('group:default/ml-platform')).toBe(
      AuthorizeResult.ALLOW,
    );
    expect(await decide('group:default/cv-team')).toBe(AuthorizeResult.DENY);
    expect(await decide()).toBe(AuthorizeResult.DENY);
    expect(
      (await policy.handleService({ permission: poolUpdate }, 'external:ci'))
        .result,
    ).toBe(AuthorizeResult.DENY);
  });

  it('lets platform admins do everything, and creations without a place every user', async () => {
    for (const permission of [
      nsCreate,
      runCreate,
      deploymentUpdate,
      clusterObjectDelete,
    ]) {
      expect(
        (
          await policy.handle(
            { permission } as never,
            userOf('group:default/ml-platform'),
          )
        ).result,
      ).toBe(AuthorizeResult.ALLOW);
    }
    expect(
      (await policy.handle({ permission: entityCreate }, userOf())).result,
    ).toBe(AuthorizeResult.ALLOW);
  });

  it('refuses writes of callers without a user', async () => {
    for (const permission of [runCreate, entityCreate]) {
      expect((await policy.handle({ permission } as never)).result).toBe(
        AuthorizeResult.DENY,
      );
    }
    expect((await policy.handle({ permission: runLogsRead })).result).toBe(
      AuthorizeResult.ALLOW,
    );
  });
});

describe('callers from outside (external access tokens)', () => {
  const policy = createPolicy(
    'ownership',
    new ConfigReader({
      kubeai: {
        tenancy: {
          platformAdmins: ['group:default/ml-platform'],
          serviceTeams: [
            { subject: 'order-platform', team: 'group:default/search-reco' },
            { subject: 'external:ci-bot', team: 'cv-team' },
          ],
        },
      },
    }),
  );
  const nsCreate = createPermission({
    name: 'kubeai.cluster.object.create',
    attributes: { action: 'create' },
    resourceType: 'kubeai-cluster-namespace',
  });

  it('are decided as members of the team their subject is mapped to', async () => {
    expect(
      await policy.handleService({ permission: nsCreate }, 'order-platform'),
    ).toEqual({
      result: AuthorizeResult.CONDITIONAL,
      pluginId: 'kubeai',
      resourceType: 'kubeai-cluster-namespace',
      conditions: {
        rule: 'IS_NAMESPACE_OWNER',
        resourceType: 'kubeai-cluster-namespace',
        params: { claims: ['group:default/search-reco'] },
      },
    });
    // a bare group name is a group of the default namespace
    expect(
      await policy.handleService({ permission: nsCreate }, 'external:ci-bot'),
    ).toMatchObject({
      conditions: { params: { claims: ['group:default/cv-team'] } },
    });
  });

  it("write KubeAI's objects only, never the catalog's, even for a mapped subject", async () => {
    const catalogWrites = [
      createPermission({
        name: 'catalog.location.create',
        attributes: { action: 'create' },
      }),
      createPermission({
        name: 'catalog.location.delete',
        attributes: { action: 'delete' },
      }),
      createPermission({
        name: 'catalog.entity.refresh',
        attributes: { action: 'update' },
        resourceType: 'catalog-entity',
      }),
    ];
    for (const permission of catalogWrites) {
      expect(
        (await policy.handleService({ permission } as never, 'order-platform'))
          .result,
      ).toBe(AuthorizeResult.DENY);
    }
    const catalogRead = createPermission({
      name: 'catalog.entity.read',
      attributes: { action: 'read' },
      resourceType: 'catalog-entity',
    });
    expect(
      (
        await policy.handleService(
          { permission: catalogRead } as never,
          'order-platform',
        )
      ).result,
    ).toBe(AuthorizeResult.ALLOW);
  });

  it('read only when their subject is not mapped', async () => {
    for (const permission of [nsCreate, clusterObjectDelete]) {
      expect(
        (
          await policy.handleService(
            { permission } as never,
            'external:someone',
          )
        ).result,
      ).toBe(AuthorizeResult.DENY);
    }
    expect(
      (
        await policy.handleService(
          { permission: runLogsRead },
          'external:someone',
        )
      ).result,
    ).toBe(AuthorizeResult.ALLOW);
  });

  it('follow the read-only and allow-all policies like users', async () => {
    expect(
      (
        await createPolicy('read-only').handleService(
          { permission: nsCreate },
          'order-platform',
        )
      ).result,
    ).toBe(AuthorizeResult.DENY);
    expect(
      (
        await createPolicy('allow-all').handleService(
          { permission: nsCreate },
          'x',
        )
      ).result,
    ).toBe(AuthorizeResult.ALLOW);
  });

  it('refuses a team that is not a group, and a subject mapped twice, naming the entry', () => {
    expect(() =>
      readServiceTeams(
        new ConfigReader({
          kubeai: {
            tenancy: {
              serviceTeams: [{ subject: 'a', team: 'user:default/bob' }],
            },
          },
        }),
      ),
    ).toThrow(
      "kubeai.tenancy.serviceTeams[0].team: not a group reference: 'user:default/bob'",
    );
    expect(() =>
      readServiceTeams(
        new ConfigReader({
          kubeai: {
            tenancy: {
              serviceTeams: [
                { subject: 'a', team: 'group:default/x' },
                { subject: 'a', team: 'group:default/y' },
              ],
            },
          },
        }),
      ),
    ).toThrow("kubeai.tenancy.serviceTeams[1].subject: 'a' is mapped twice");
  });
});

describe('createPolicy', () => {
  it('names the accepted policies for an unknown one', () => {
    expect(() => createPolicy('everyone')).toThrow(
      "permission.policy must be one of allow-all, read-only, ownership; got 'everyone'",
    );
  });
});
