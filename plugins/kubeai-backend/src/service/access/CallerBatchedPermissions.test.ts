import { mockCredentials } from '@backstage/backend-test-utils';
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import {
  AuthorizeResult,
  type AuthorizePermissionRequest,
} from '@backstage/plugin-permission-common';
import {
  kubeaiClusterObjectCreatePermission,
  kubeaiClusterObjectDeletePermission,
} from '@kubeai/plugin-kubeai-common';
import { CallerBatchedPermissions } from './CallerBatchedPermissions';

const create = (namespace: string): AuthorizePermissionRequest => ({
  permission: kubeaiClusterObjectCreatePermission,
  resourceRef: `local/${namespace}`,
});

/** A permission backend whose answers wait until `release()`; allows namespaces starting with 'cv'. */
function gatedPermissions() {
  const calls: Array<{
    requests: AuthorizePermissionRequest[];
    credentials: BackstageCredentials;
  }> = [];
  let gates: Array<() => void> = [];
  const authorize = jest.fn(
    async (
      requests: AuthorizePermissionRequest[],
      options: { credentials: BackstageCredentials },
    ) => {
      calls.push({ requests, credentials: options.credentials });
      await new Promise<void>(resolve => gates.push(resolve));
      return requests.map(r => ({
        result:
          'resourceRef' in r && r.resourceRef?.startsWith('local/cv')
            ? AuthorizeResult.ALLOW
            : AuthorizeResult.DENY,
      }));
    },
  );
  const release = async () => {
    const open = gates;
    gates = [];
    open.forEach(go => go());
    // let the answers and the next request of the lane happen
    await new Promise(resolve => setImmediate(resolve));
  };
  return { permissions: { authorize } as never, calls, authorize, release };
}

describe('CallerBatchedPermissions', () => {
  const alice = mockCredentials.user('user:default/alice');
  const bob = mockCredentials.user('user:default/bob');

  it('asks an idle caller’s question at once', async () => {
    const gated = gatedPermissions();
    const batched = new CallerBatchedPermissions(gated.permissions);
    const answer = batched.authorize([create('cv')], alice);
    expect(gated.calls).toHaveLength(1);
    await gated.release();
    await expect(answer).resolves.toEqual([{ result: AuthorizeResult.ALLOW }]);
  });

  it('sends what one caller asks while a request is in flight together, each question once, and answers each in its order', async () => {
    const gated = gatedPermissions();
    const batched = new CallerBatchedPermissions(gated.permissions);
    const first = batched.authorize([create('cv')], alice);
    const second = batched.authorize([create('biz'), create('cv-2')], alice);
    const third = batched.authorize(
      [
        create('cv-2'),
        {
          permission: kubeaiClusterObjectDeletePermission,
          resourceRef: 'local/cv',
        },
      ],
      alice,
    );
    expect(gated.calls).toHaveLength(1); // the others wait for the one in flight
    await gated.release();
    expect(gated.calls).toHaveLength(2);
    expect(gated.calls[1].requests).toEqual([
      create('biz'),
      create('cv-2'),
      {
        permission: kubeaiClusterObjectDeletePermission,
        resourceRef: 'local/cv',
      },
    ]);
    expect(gated.calls[1].credentials).toBe(alice);
    await gated.release();
    await expect(first).resolves.toEqual([{ result: AuthorizeResult.ALLOW }]);
    await expect(second).resolves.toEqual([
      { result: AuthorizeResult.DENY },
      { result: AuthorizeResult.ALLOW },
    ]);
    await expect(third).resolves.toEqual([
      { result: AuthorizeResult.ALLOW },
      { result: AuthorizeResult.ALLOW },
    ]);
  });

  it('never mixes callers: each is asked with its own credentials', async () => {
    const gated = gatedPermissions();
    const batched = new CallerBatchedPermissions(gated.permissions);
    const fromAlice = batched.authorize([create('cv')], alice);
    const fromBob = batched.authorize([create('cv')], bob);
    expect(gated.calls.map(c => c.credentials)).toEqual([alice, bob]);
    await gated.release();
    await Promise.all([fromAlice, fromBob]);
  });

  it('fails every waiting question when the permission backend fails, and recovers', async () => {
    const authorize = jest
      .fn()
      .mockRejectedValueOnce(new Error('permission backend unavailable'))
      .mockResolvedValue([{ result: AuthorizeResult.ALLOW }]);
    const batched = new CallerBatchedPermissions({ authorize } as never);
    await expect(batched.authorize([create('cv')], alice)).rejects.toThrow(
      'permission backend unavailable',
    );
    await expect(batched.authorize([create('cv')], alice)).resolves.toEqual([
      { result: AuthorizeResult.ALLOW },
    ]);
  });

  it('asks credentials without a token alone', async () => {
    const authorize = jest.fn(async (requests: unknown[]) =>
      requests.map(() => ({ result: AuthorizeResult.ALLOW })),
    );
    const batched = new CallerBatchedPermissions({ authorize } as never);
    const anonymous = { ...alice }; // the spread drops the non-enumerable token
    await Promise.all([
      batched.authorize([create('cv')], anonymous),
      batched.authorize([create('cv')], anonymous),
    ]);
    expect(authorize).toHaveBeenCalledTimes(2);
  });
});
