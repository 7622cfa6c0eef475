/*
 * Leader election with a real Lease on the local kube-apiserver (`yarn cluster:start`): replicas
 * in one process, with short durations so the takeovers take seconds.
 */
import { ConfigReader } from '@backstage/config';
import { randomBytes } from 'node:crypto';
import { ClusterGateway } from '../cluster/ClusterGateway';
import {
  clusterConfig,
  Kube,
  readClusterState,
  waitFor,
} from './__testUtils__/kube';
import { LeaderLease, microTime } from './LeaderLease';

jest.setTimeout(30_000);

const state = readClusterState();
const kube = new Kube(state);
const logger = { debug() {}, info() {}, warn() {}, error() {} };
const gateway = ClusterGateway.fromConfig(
  new ConfigReader({
    kubernetes: clusterConfig([{ name: 'local', state }]),
  }),
  { logger },
);
const NAME = `kubeai-informers-test-${randomBytes(3).toString('hex')}`;
const LEASE_PATH = `/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/${NAME}`;

/** Every replica a test made: stopped after it, even when it failed midway. */
const started: LeaderLease[] = [];

/** A replica: its elector and what it was told. */
function replica(
  identity: string,
  extra: Partial<ConstructorParameters<typeof LeaderLease>[0]> = {},
) {
  const events: string[] = [];
  const lease: LeaderLease = new LeaderLease({
    gateway,
    cluster: 'local',
    namespace: 'kube-system',
    name: NAME,
    identity,
    leaseDurationSeconds: 2,
    renewDeadlineMs: 1500,
    retryPeriodMs: 250,
    logger,
    onStartedLeading: () => {
      events.push('started');
    },
    onStoppedLeading: () => {
      events.push('stopped');
    },
    ...extra,
  });
  started.push(lease);
  return { lease, events };
}

async function readLease() {
  const res = await kube.request('GET', LEASE_PATH);
  return res.status === 404 ? undefined : res.body;
}

afterAll(async () => {
  await kube.remove(LEASE_PATH);
  kube.close();
});

afterEach(async () => {
  await Promise.all(started.splice(0).map(lease => lease.stop()));
  await kube.remove(LEASE_PATH);
});

it('elects exactly one of three replicas, and a stand-by takes over at once when the leader stops', async () => {
  const replicas = ['a', 'b', 'c'].map(id => replica(id));
  for (const r of replicas) r.lease.start();
  await waitFor(
    async () => replicas.some(r => r.lease.leading),
    10_000,
    'a leader',
  );
  // a few rounds of renewals: still exactly one, and every replica agrees who it is
  await new Promise(r => setTimeout(r, 1200));
  const leaders = replicas.filter(r => r.lease.leading);
  expect(leaders).toHaveLength(1);
  const leader = leaders[0];
  const lease = await readLease();
  expect(lease.spec.holderIdentity).toBe(leader.lease.status().holder);
  for (const r of replicas) {
    expect(r.lease.status().holder).toBe(lease.spec.holderIdentity);
  }
  expect(lease.spec).toMatchObject({
    leaseDurationSeconds: 2,
    leaseTransitions: 0,
  });
  expect(leader.events).toEqual(['started']);

  // a graceful stop deletes the Lease: another replica leads within a retry period or two
  const stoppedAt = Date.now();
  await leader.lease.stop();
  expect(leader.events).toEqual(['started', 'stopped']);
  const rest = replicas.filter(r => r !== leader);
  await waitFor(
    async () => rest.some(r => r.lease.leading),
    5_000,
    'a new leader',
  );
  expect(Date.now() - stoppedAt).toBeLessThan(1500);
  expect(rest.filter(r => r.lease.leading)).toHaveLength(1);
  for (const r of rest) await r.lease.stop();
  expect(await readLease()).toBeUndefined();
});

it('takes over from a leader that died (stopped renewing) only after the lease duration', async () => {
  // the Lease of a replica that was killed: held, renewed just now, never again
  const created = await kube.request(
    'POST',
    '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases',
    {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: NAME, namespace: 'kube-system' },
      spec: {
        holderIdentity: 'killed',
        leaseDurationSeconds: 2,
        acquireTime: microTime(new Date()),
        renewTime: microTime(new Date()),
        leaseTransitions: 4,
      },
    },
  );
  expect(created.status).toBe(201);
  const contender = replica('b');
  const startedAt = Date.now();
  contender.lease.start();
  await new Promise(r => setTimeout(r, 1000));
  expect(contender.lease.leading).toBe(false);
  expect(contender.lease.status()).toMatchObject({
    role: 'standby',
    holder: 'killed',
  });
  const { ms } = await waitFor(
    async () => contender.lease.leading,
    6_000,
    'the takeover',
  );
  const took = ms + 1000;
  // not before the lease ran out (2 s from when the contender first saw it), and soon after
  expect(Date.now() - startedAt).toBeGreaterThanOrEqual(2000);
  expect(took).toBeLessThan(3500);
  const lease = await readLease();
  expect(lease.spec).toMatchObject({
    holderIdentity: 'b',
    leaseTransitions: 5,
  });
  await contender.lease.stop();
});

it('a leader that cannot renew stops leading before its lease runs out for the others', async () => {
  const flaky = { down: false };
  const r = replica('a', {
    gateway: {
      get: (...a: Parameters<ClusterGateway['get']>) =>
        flaky.down
          ? Promise.reject(new Error('connect ECONNREFUSED'))
          : gateway.get(...a),
      putPortalObject: (...a: Parameters<ClusterGateway['putPortalObject']>) =>
        flaky.down
          ? Promise.reject(new Error('connect ECONNREFUSED'))
          : gateway.putPortalObject(...a),
      delete: (...a: Parameters<ClusterGateway['delete']>) =>
        gateway.delete(...a),
    },
  });
  r.lease.start();
  await waitFor(async () => r.lease.leading, 5_000, 'leading');
  flaky.down = true;
  const cutAt = Date.now();
  await waitFor(async () => !r.lease.leading, 5_000, 'stepping down');
  // renew deadline 1.5 s < lease duration 2 s: nobody else could have taken it yet
  expect(Date.now() - cutAt).toBeLessThan(2000);
  expect(r.events).toEqual(['started', 'stopped']);
  flaky.down = false;
  await waitFor(async () => r.lease.leading, 5_000, 'leading again');
  await r.lease.stop();
});
