/*
 * Run credentials are short-lived and renewed while their run lives, on SQLite and PostgreSQL,
 * against the local kube-apiserver: a credential works until it expires and not after; the renewal
 * task puts a new token in the run's Secret (keeping its owner) for unfinished runs only, and
 * forgets expired ones. Concurrent single requests share a Secret; a run later than its group
 * adds its key and owner to the Secret already written.
 */
import { mockServices } from '@backstage/backend-test-utils';
import { randomBytes } from 'node:crypto';
import { RegistryStore } from '../../database/RegistryStore';
import {
  createTestDatabases,
  postgresSupport,
} from '../../__testUtils__/databases';
import { deleteNamespace, testGateway } from '../__testUtils__/clusterRoutes';
import { RunIdentities } from './runIdentities';

jest.setTimeout(120_000);

const NS = `kubeai-runcreds-${randomBytes(3).toString('hex')}`;
const databases = createTestDatabases();
const gateway = testGateway();
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
type Planned = Awaited<ReturnType<RunIdentities['plan']>>[number];

/** A registry on `id` and run identities writing to the local cluster. */
async function setUp(
  id: Parameters<typeof databases.init>[0],
  options: Partial<ConstructorParameters<typeof RunIdentities>[0]>,
) {
  const knex = await databases.init(id);
  const store = await RegistryStore.create({
    database: mockServices.database({ knex }),
  });
  const identities = new RunIdentities({
    runs: store.runs,
    credentials: store.runCredentials,
    gateway: () => gateway,
    logger: mockServices.logger.mock(),
    ...options,
  });
  /** Applies the run's main object (a ConfigMap), records the run and issues its credential. */
  const issue = async (planned: Planned, name: string) => {
    const [owner] = await gateway.apply('local', [
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, namespace: NS },
      } as any,
    ]);
    await store.upsertObjectRun(
      {
        id: planned.runId,
        kind: 'training',
        cluster: 'local',
        namespace: NS,
        name,
        uid: String(owner.metadata.uid),
      },
      'user:default/tester',
    );
    await identities.issue('local', [{ owner, run: planned }]);
    return owner;
  };
  return { knex, store, identities, issue };
}

beforeAll(async () => {
  await gateway.apply('local', [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
  ]);
});
afterAll(() => deleteNamespace(gateway, NS));

it('has PostgreSQL for the registry side', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

describe.each(databases.eachSupportedId())('run credentials on %s', id => {
  it('expire, and are renewed in the Secret while the run is unfinished', async () => {
    const { knex, store, identities, issue } = await setUp(id, {
      config: { apiUrl: 'http://kubeai.test/api/kubeai', ttlSeconds: 2 },
    });
    const name = `renew-${id.toLowerCase().replace(/_/g, '')}`;
    const [planned] = await identities.plan('training', 'local', [
      { namespace: NS, name, modelRef: 'model:default/shoe-brand' },
    ]);
    // the run's main object owns the Secret
    const owner = await issue(planned, name);
    const secretRef = {
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: NS,
      name: planned.identity.secretName,
    };
    const tokenOf = async () =>
      Buffer.from(
        ((await gateway.get('local', secretRef)) as any).data.token,
        'base64',
      ).toString();
    const first = await tokenOf();
    expect(await store.runCredentials.verify(first)).toMatchObject({
      runId: planned.runId,
      modelRef: 'model:default/shoe-brand',
    });
    expect(await store.runCredentials.verify(`${first}x`)).toBeUndefined();

    // past half its life: renewed, the Secret keeps its owner, the old token still works
    await sleep(1100);
    expect(await identities.renew()).toBe(1);
    const second = await tokenOf();
    expect(second).not.toBe(first);
    expect(await store.runCredentials.verify(second)).toMatchObject({
      runId: planned.runId,
    });
    expect(await store.runCredentials.verify(first)).toBeDefined();
    const secret = (await gateway.get('local', secretRef)) as any;
    expect(secret.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'ConfigMap', uid: owner.metadata.uid }),
    ]);

    // expired: refused, and forgotten by the next renewal; a finished run is not renewed
    await sleep(1100);
    expect(await store.runCredentials.verify(first)).toBeUndefined();
    await store.updateRun(planned.runId, { phase: 'Succeeded' });
    await sleep(1100);
    expect(await identities.renew()).toBe(0);
    expect(await store.runCredentials.verify(second)).toBeUndefined();
    const left = await knex('kubeai_run_credentials')
      .where({ run_id: planned.runId })
      .count({ n: '*' });
    expect(Number(left[0].n)).toBe(0);
  });

  it('shares a Secret between runs planned together; a run later than its group merges in', async () => {
    const { store, identities, issue } = await setUp(id, {
      groupSettleMs: 100,
    });
    const prefix = `group-${id.toLowerCase().replace(/_/g, '')}`;
    const plan = async (name: string) => {
      const [planned] = await identities.plan(
        'training',
        'local',
        [{ namespace: NS, name }],
        { coalesce: true },
      );
      return planned;
    };
    const alone = await plan(`${prefix}-alone`);
    const onTime = await plan(`${prefix}-on-time`);
    const late = await plan(`${prefix}-late`);
    expect(alone.identity.secretName).toBe(`${prefix}-alone-kubeai-run`);
    expect(late.identity.secretName).toBe(onTime.identity.secretName);
    identities.release([alone]);
    // written without the late run, after the group's wait
    const onTimeOwner = await issue(onTime, `${prefix}-on-time`);
    const secretRef = {
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: NS,
      name: onTime.identity.secretName,
    };
    expect(
      Object.keys(((await gateway.get('local', secretRef)) as any).data),
    ).toEqual([onTime.runId]);
    const lateOwner = await issue(late, `${prefix}-late`);
    const secret = (await gateway.get('local', secretRef)) as any;
    expect(Object.keys(secret.data).sort()).toEqual(
      [onTime.runId, late.runId].sort(),
    );
    expect(
      secret.metadata.ownerReferences.map((o: any) => o.uid).sort(),
    ).toEqual([onTimeOwner.metadata.uid, lateOwner.metadata.uid].sort());
    for (const planned of [onTime, late]) {
      const token = Buffer.from(
        secret.data[planned.runId],
        'base64',
      ).toString();
      expect(await store.runCredentials.verify(token)).toMatchObject({
        runId: planned.runId,
      });
    }
    // a revoked run's key goes, the other stays
    await identities.revoke(late.runId);
    expect(
      Object.keys(((await gateway.get('local', secretRef)) as any).data),
    ).toEqual([onTime.runId]);
  });
});
