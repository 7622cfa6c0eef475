/*
 * Pools and quotas under impersonation (`kubeai.tenancy.impersonation`), against the real local
 * kube-apiserver (`yarn cluster:start`) with Backstage's real auth: `POST /pools` writes
 * cluster-scoped Kueue objects (ResourceFlavor, WorkloadPriorityClass, ClusterQueue) and a
 * LocalQueue in a team namespace as the signed-in user.
 *
 * - a platform admin (group ml-platform, bound by the control plane to `kubeai:platform-admin`,
 *   whose rules scripts/cluster/setup.mjs derives from POOL_OBJECTS) applies them: 201, and the
 *   audit log shows the writes made as the admin;
 * - a team member is refused by the portal (403 naming `kubeai.pool.update`), nothing written;
 * - with a policy that allows everything, the cluster's RBAC refuses the team member: 403 naming
 *   the object and the impersonated user, nothing written.
 */
import { startTestBackend } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { createTestDatabases } from '../__testUtils__/databases';
import { KUEUE_API_VERSION } from '../manifests/kueue';
import {
  deleteNamespace,
  portalControlPlane,
  testGateway,
} from './__testUtils__/clusterRoutes';
import { startImpersonatingBackend } from './__testUtils__/impersonatingBackend';

// The first import() of @kubernetes/client-node under jest's VM modules takes seconds.
jest.setTimeout(180_000);

const API = '/api/kubeai';
const hex = randomBytes(3).toString('hex');
const NS = `kubeai-imppools-${hex}`;
const ELASTIC = `elastic-${hex}`;
const PROD = `production-${hex}`;
const TEAM = `team-${hex}`;
const ADMIN = 'user:default/li.wei';
const ALICE = 'user:default/alice';
/** A platform-admin group of app-config.production.yaml (the control plane binds it). */
const ML_PLATFORM = 'group:default/ml-platform';
const CV = 'group:default/cv-team';

const pools = {
  cluster: 'local',
  flavors: [{ name: ELASTIC }],
  priorityClasses: [{ name: PROD, value: 1000 }],
  teams: [
    {
      name: TEAM,
      cohort: `shared-${hex}`,
      namespaces: [NS],
      quotas: [{ flavor: ELASTIC, nominal: { cpu: '4', memory: '8Gi' } }],
    },
  ],
};
const written = [
  ['ResourceFlavor', ELASTIC, undefined],
  ['WorkloadPriorityClass', PROD, undefined],
  ['ClusterQueue', TEAM, undefined],
  ['LocalQueue', TEAM, NS],
] as const;

/** The portal's policy: `kubeai.pool.update` denied while `deny.pools`, else everything allowed. */
const deny = { pools: false };
const authorize = async (requests: { permission: { name: string } }[]) =>
  requests.map(r => ({
    result:
      deny.pools && r.permission.name === 'kubeai.pool.update'
        ? AuthorizeResult.DENY
        : AuthorizeResult.ALLOW,
  }));

const plane = portalControlPlane();
const gateway = testGateway();
const databases = createTestDatabases();

/** Which of the pool objects exist (read as the cluster admin). */
const existing = async () => {
  const found: string[] = [];
  for (const [kind, name, namespace] of written) {
    const present = await gateway
      .get('local', { apiVersion: KUEUE_API_VERSION, kind, name, namespace })
      .then(
        () => true,
        error => {
          if (error?.name === 'NotFoundError') return false;
          throw error;
        },
      );
    if (present) found.push(`${kind}/${name}`);
  }
  return found;
};

let server: Awaited<ReturnType<typeof startTestBackend>>['server'];
let stop = async () => {};
let admin: Record<string, string>;
let alice: Record<string, string>;

beforeAll(async () => {
  await gateway.apply('local', [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
  ]);
  const backend = await startImpersonatingBackend({
    databases,
    authorize,
    validateResponses: true,
  });
  server = backend.server;
  stop = backend.stop;
  admin = backend.as(ADMIN, [ML_PLATFORM]);
  alice = backend.as(ALICE, [CV]);
});

afterAll(async () => {
  await stop();
  for (const [kind, name, namespace] of written) {
    if (namespace) continue; // goes with the namespace
    await gateway.delete('local', {
      apiVersion: KUEUE_API_VERSION,
      kind,
      name,
    });
  }
  await deleteNamespace(gateway, NS);
});

it('refuses a team member in the portal (403 naming kubeai.pool.update), nothing written', async () => {
  deny.pools = true;
  try {
    const res = await request(server)
      .post(`${API}/pools`)
      .set(alice)
      .send(pools);
    expect(res.status).toBe(403);
    expect(res.body.error.message).toContain('kubeai.pool.update');
  } finally {
    deny.pools = false;
  }
  expect(await existing()).toEqual([]);
});

it("with a policy that allows it, the cluster's RBAC refuses the team member: 403 naming the object, nothing written", async () => {
  const res = await request(server).post(`${API}/pools`).set(alice).send(pools);
  expect(res.status).toBe(403);
  expect(res.body.error.name).toBe('NotAllowedError');
  expect(res.body.error.message).toMatch(
    new RegExp(
      `^user:default/alice may not apply ResourceFlavor "${ELASTIC}" .*of cluster "local": ` +
        `the cluster's RBAC forbids it for Kubernetes user "backstage:user:default/alice"`,
    ),
  );
  expect(await existing()).toEqual([]);
  // refused by the apiserver for the impersonated user, not for the portal
  const refused = auditEvents(ELASTIC);
  expect(refused.length).toBeGreaterThan(0);
  for (const e of refused) {
    expect(e.user.username).toBe('kubeai-portal');
    expect(e.impersonatedUser.username).toBe('backstage:user:default/alice');
    expect(e.responseStatus.code).toBe(403);
  }
});

it('lets a platform admin apply the flavors, priority classes, ClusterQueue and LocalQueue as herself', async () => {
  const res = await request(server).post(`${API}/pools`).set(admin).send(pools);
  expect([res.status, res.body.error?.message]).toEqual([201, undefined]);
  expect(await existing()).toEqual(written.map(([k, n]) => `${k}/${n}`));
  for (const [, name] of written) {
    const applied = auditEvents(name).filter(
      e => e.responseStatus.code < 300 && !/dryRun/.test(e.requestURI),
    );
    expect([name, applied.length > 0]).toEqual([name, true]);
    for (const e of applied) {
      expect(e.user.username).toBe('kubeai-portal');
      expect(e.impersonatedUser).toEqual({
        username: 'backstage:user:default/li.wei',
        groups: [`backstage:${ML_PLATFORM}`, 'system:authenticated'],
      });
    }
  }
});

/** The apiserver's completed audit events of writes to a Kueue object of this run, by name. */
function auditEvents(name: string): any[] {
  return fs
    .readFileSync(plane.auditLog, 'utf8')
    .split('\n')
    .filter(line => line.includes(name))
    .map(line => JSON.parse(line))
    .filter(
      e =>
        e.objectRef?.apiGroup === 'kueue.x-k8s.io' &&
        e.objectRef?.name === name &&
        e.stage === 'ResponseComplete' &&
        e.verb !== 'get',
    );
}
