import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { NotAllowedError } from '@backstage/errors';
import { kubeaiRunCreatePermission } from '@kubeai/plugin-kubeai-common';
import type { ClusterGateway } from '../../cluster';
import type { KubeObject } from '../../manifests';
import type { Access } from '../access/Access';
import { ClusterWriteFlow, PartialWriteError } from './ClusterWriteFlow';

const OBJECT: KubeObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'a', namespace: 'ns' },
};

function setup(options: { deny?: boolean; recordFails?: boolean } = {}) {
  const calls: string[] = [];
  const access = {
    authorize: jest.fn(async () => {
      calls.push('authorize');
      if (options.deny) throw new NotAllowedError('denied');
    }),
    actorOf: () => 'user:default/mock',
    // a user's request, not a run credential's
    runCallerOf: () => undefined,
  } as unknown as Access;
  /** Who each gateway write was sent as (the caller the gateway may impersonate). */
  const sentAs: unknown[] = [];
  const gateway = {
    apply: jest.fn(
      async (
        _c: string,
        objects: KubeObject[],
        o: { dryRun?: boolean; as?: unknown },
      ) => {
        calls.push(o.dryRun ? 'dry-run' : 'apply');
        sentAs.push(o.as);
        return objects.map(x => ({
          ...x,
          metadata: { ...x.metadata, uid: 'u' },
        }));
      },
    ),
    delete: jest.fn(
      async (_c: string, _ref: object, o: { dryRun: boolean; as: unknown }) => {
        calls.push(o.dryRun ? 'dry-run delete' : 'delete');
        sentAs.push(o.as);
        return true;
      },
    ),
  } as unknown as ClusterGateway;
  const flow = new ClusterWriteFlow({
    access,
    gateway,
    logger: mockServices.logger.mock(),
  });
  const steps = {
    validate: jest.fn(() => {
      calls.push('validate');
    }),
    resolve: jest.fn(async (input: { objects: KubeObject[] }) => {
      calls.push('resolve');
      return {
        cluster: 'local',
        objects: input.objects,
        checks: [
          { permission: kubeaiRunCreatePermission, resourceRef: 'local/ns' },
        ],
        record: async (applied: KubeObject[], actor: string) => {
          calls.push('record');
          if (options.recordFails) throw new Error('db down');
          return { actor, uid: applied[0].metadata.uid };
        },
      };
    }),
  };
  return { flow, steps, calls, access, sentAs };
}

describe('ClusterWriteFlow', () => {
  const credentials = mockCredentials.user();

  it('validates, resolves, authorizes, applies and records, in that order', async () => {
    const { flow, steps, calls, sentAs } = setup();
    const out = await flow.write(
      credentials,
      { objects: [OBJECT, OBJECT] },
      false,
      steps,
    );
    expect(calls).toEqual([
      'validate',
      'resolve',
      'authorize',
      'dry-run',
      'apply',
      'record',
    ]);
    expect(out.recorded).toEqual({ actor: 'user:default/mock', uid: 'u' });
    // the dry run and the apply both go as the caller (impersonated when impersonation is on)
    expect(sentAs).toEqual([credentials, credentials]);
  });

  it('deletes as the caller: the dry runs and the deletes', async () => {
    const { flow, calls, sentAs } = setup();
    const out = await flow.delete(credentials, false, {
      cluster: 'local',
      objects: [OBJECT],
      checks: [
        { permission: kubeaiRunCreatePermission, resourceRef: 'local/ns' },
      ],
      record: async gone => gone.length,
    });
    expect(calls).toEqual(['authorize', 'dry-run delete', 'delete']);
    expect(sentAs).toEqual([credentials, credentials]);
    expect(out.recorded).toBe(1);
  });

  it('only dry-runs and records nothing on a dry run', async () => {
    const { flow, steps, calls } = setup();
    const out = await flow.write(
      credentials,
      { objects: [OBJECT] },
      true,
      steps,
    );
    expect(calls).toEqual(['validate', 'resolve', 'authorize', 'dry-run']);
    expect(out.recorded).toBeUndefined();
  });

  it('writes nothing when a permission is denied', async () => {
    const { flow, steps, calls } = setup({ deny: true });
    await expect(
      flow.write(credentials, { objects: [OBJECT] }, false, steps),
    ).rejects.toThrow(NotAllowedError);
    expect(calls).toEqual(['validate', 'resolve', 'authorize']);
  });

  it('says what exists when recording fails after the apply', async () => {
    const { flow, steps } = setup({ recordFails: true });
    const error = await flow
      .write(credentials, { objects: [OBJECT] }, false, steps)
      .catch(e => e);
    expect(error).toBeInstanceOf(PartialWriteError);
    expect(error.message).toContain(
      'applied ConfigMap ns/a to cluster "local"',
    );
  });

  it('answers 422 when no cluster is configured', () => {
    const flow = new ClusterWriteFlow({
      access: {} as Access,
      logger: mockServices.logger.mock(),
    });
    expect(() => flow.gateway()).toThrow(/no clusters are configured/);
  });
});
