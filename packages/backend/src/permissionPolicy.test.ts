import {
  AuthorizeResult,
  createPermission,
} from '@backstage/plugin-permission-common';
import { createPolicy } from './permissionPolicy';

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
