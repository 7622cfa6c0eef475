import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  kubeaiClusterObjectCreatePermission,
  kubeaiDeploymentCreatePermission,
  kubeaiModelVersionCreatePermission,
} from '@kubeai/plugin-kubeai-common';
import { catalogEntityCreatePermission } from '@backstage/plugin-catalog-common/alpha';
import { Access, namespaceChecks } from './Access';

const MODEL = {
  apiVersion: 'kubeai.io/v1alpha1',
  kind: 'Model',
  metadata: { name: 'churn', namespace: 'default' },
};

function accessWith(
  authorize: jest.Mock = jest.fn(async (requests: unknown[]) =>
    requests.map(() => ({ result: AuthorizeResult.ALLOW })),
  ),
) {
  const catalog = catalogServiceMock({ entities: [MODEL] });
  const access = new Access({
    httpAuth: mockServices.httpAuth(),
    auth: mockServices.auth(),
    permissions: { authorize, authorizeConditional: jest.fn() } as never,
    catalog,
  });
  return { access, authorize, catalog };
}

describe('Access', () => {
  const user = mockCredentials.user('user:default/alice');
  const service = mockCredentials.service('plugin:scaffolder');

  it('records users by entity ref and services by subject', () => {
    const { access } = accessWith();
    expect(access.actorOf(user)).toBe('user:default/alice');
    expect(access.actorOf(service)).toBe('plugin:scaffolder');
  });

  it('asks for basic and resource permissions in one batch', async () => {
    const { access, authorize } = accessWith();
    await access.authorize(user, [
      { permission: catalogEntityCreatePermission },
      {
        permission: kubeaiModelVersionCreatePermission,
        resourceRef: 'model:default/churn',
      },
    ]);
    expect(authorize).toHaveBeenCalledTimes(1);
    expect(authorize).toHaveBeenCalledWith(
      [
        { permission: catalogEntityCreatePermission },
        {
          permission: kubeaiModelVersionCreatePermission,
          resourceRef: 'model:default/churn',
        },
      ],
      { credentials: user },
    );
  });

  it('throws NotAllowedError naming the first denied permission and resource', async () => {
    const { access } = accessWith(
      jest.fn(async () => [
        { result: AuthorizeResult.ALLOW },
        { result: AuthorizeResult.DENY },
      ]),
    );
    await expect(
      access.authorize(user, [
        { permission: catalogEntityCreatePermission },
        {
          permission: kubeaiModelVersionCreatePermission,
          resourceRef: 'model:default/churn',
        },
      ]),
    ).rejects.toMatchObject({
      name: 'NotAllowedError',
      message: 'kubeai.model.version.create denied on model:default/churn',
    });
  });

  it('does not call the permission framework without checks', async () => {
    const { access, authorize } = accessWith();
    await access.authorize(user, []);
    expect(authorize).not.toHaveBeenCalled();
  });

  it('finds catalog entities by lower-case ref', async () => {
    const { access } = accessWith();
    const found = await access.catalogEntities(user, [
      'Model:default/Churn',
      'model:default/churn',
      'model:default/missing',
    ]);
    expect([...found.keys()]).toEqual(['model:default/churn']);
  });

  it('answers a missing path entity with 404 and a missing body entity with 422 naming the field', async () => {
    const { access } = accessWith();
    await expect(
      access.assertInCatalog(user, [{ ref: 'model:default/churn' }]),
    ).resolves.toBeUndefined();
    await expect(
      access.assertInCatalog(user, [{ ref: 'model:default/gone' }]),
    ).rejects.toMatchObject({
      name: 'NotFoundError',
      message: 'model:default/gone not found in the catalog',
    });
    await expect(
      access.assertInCatalog(user, [
        { ref: 'model:default/churn', field: 'request/body/modelRef' },
        {
          ref: 'Dataset:default/Gone',
          field: 'request/body/inputs/0/datasetRef',
          hint: '; register it first',
        },
      ]),
    ).rejects.toMatchObject({
      name: 'UnprocessableEntityError',
      statusCode: 422,
      message:
        'request/body/inputs/0/datasetRef: dataset:default/gone not found in the catalog; register it first',
    });
  });

  it('accepts refs known elsewhere', async () => {
    const { access } = accessWith();
    const alsoKnown = jest.fn(async (ref: string) => ref === 'model:default/x');
    await expect(
      access.assertInCatalog(
        user,
        [{ ref: 'model:default/x', field: 'f' }],
        alsoKnown,
      ),
    ).resolves.toBeUndefined();
    expect(alsoKnown).toHaveBeenCalledWith('model:default/x');
  });

  it('asks each permission on each resource once (a batch in one namespace is one decision)', async () => {
    const { access, authorize } = accessWith();
    const jobs = Array.from({ length: 500 }, (_, i) => ({
      metadata: { name: `forecast-${i}`, namespace: i % 2 ? 'biz' : 'cv' },
    }));
    await access.authorize(user, [
      ...namespaceChecks(kubeaiClusterObjectCreatePermission, 'local', jobs),
      ...jobs.map(() => ({ permission: catalogEntityCreatePermission })),
    ]);
    expect(authorize.mock.calls[0][0]).toEqual([
      {
        permission: kubeaiClusterObjectCreatePermission,
        resourceRef: 'local/cv',
      },
      {
        permission: kubeaiClusterObjectCreatePermission,
        resourceRef: 'local/biz',
      },
      { permission: catalogEntityCreatePermission },
    ]);
  });

  it('decides one caller’s concurrent requests together: one request to the permission framework while another is in flight', async () => {
    const { access, authorize } = accessWith();
    const write = (namespace: string) =>
      access.authorize(
        user,
        namespaceChecks(kubeaiClusterObjectCreatePermission, 'local', [
          { metadata: { namespace } },
        ]),
      );
    await Promise.all([write('cv'), write('cv'), write('biz'), write('cv')]);
    // the first goes at once; the three that arrive meanwhile go together, each namespace once
    expect(authorize.mock.calls.map(call => call[0])).toEqual([
      [
        {
          permission: kubeaiClusterObjectCreatePermission,
          resourceRef: 'local/cv',
        },
      ],
      [
        {
          permission: kubeaiClusterObjectCreatePermission,
          resourceRef: 'local/cv',
        },
        {
          permission: kubeaiClusterObjectCreatePermission,
          resourceRef: 'local/biz',
        },
      ],
    ]);
  });

  it('names the namespace of a denied cluster write', async () => {
    const { access } = accessWith(
      jest.fn(async (requests: Array<{ resourceRef?: string }>) =>
        requests.map(r => ({
          result:
            r.resourceRef === 'local/biz'
              ? AuthorizeResult.DENY
              : AuthorizeResult.ALLOW,
        })),
      ),
    );
    await expect(
      access.authorize(
        user,
        namespaceChecks(kubeaiClusterObjectCreatePermission, 'local', [
          { metadata: { namespace: 'cv' } },
          { metadata: { namespace: 'biz' } },
        ]),
      ),
    ).rejects.toThrow('kubeai.cluster.object.create denied on local/biz');
  });

  it('leaves a check on an entity the request registers to the other checks until the catalog has it', async () => {
    const { access, authorize } = accessWith();
    await access.authorize(user, [
      {
        permission: kubeaiDeploymentCreatePermission,
        resourceRef: 'inferenceservice:default/new-one',
        newEntity: true,
      },
      { permission: catalogEntityCreatePermission },
    ]);
    expect(authorize.mock.calls[0][0]).toEqual([
      { permission: catalogEntityCreatePermission },
    ]);
    // an entity the catalog has is decided as usual, even when the request re-registers it
    await access.authorize(user, [
      {
        permission: kubeaiModelVersionCreatePermission,
        resourceRef: 'model:default/churn',
        newEntity: true,
      },
    ]);
    expect(authorize.mock.calls[1][0]).toEqual([
      {
        permission: kubeaiModelVersionCreatePermission,
        resourceRef: 'model:default/churn',
      },
    ]);
  });
});
