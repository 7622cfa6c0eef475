/*
 * Kubernetes RBAC as a second wall (`kubeai.tenancy.impersonation`), against the real local
 * kube-apiserver (`yarn cluster:start`) with Backstage's real auth, httpAuth and userInfo services.
 *
 * The portal talks to the cluster as its own identity `kubeai-portal` (not system:masters; RBAC
 * grants it every ordinary verb and `impersonate`). Two test-owned namespaces stand for two teams:
 * in OWN the Kubernetes group `backstage:group:default/cv-team` may edit, in OTHER only
 * `backstage:group:default/search-reco` (RoleBindings to the control plane's
 * `kubeai:namespace-edit`). The portal's policy allows everything, so every refusal here is the
 * cluster's.
 *
 * - Impersonation on: alice (cv-team) creates a notebook in OWN → 201, and the apiserver's audit log
 *   shows the write made by `kubeai-portal` as `backstage:user:default/alice` with her groups; in
 *   OTHER → 403 naming the namespace and the impersonated user, nothing created (dry runs, batch
 *   items and deletes alike); bob (search-reco) may not delete her notebook, she may; a service
 *   caller is impersonated too (and refused); a cluster whose account may not impersonate answers
 *   a 403 that says so.
 * - Impersonation off: the same request of alice in OTHER is decided by the portal only: 201 with
 *   allow-all (the audit log shows the portal, nobody impersonated), 403 naming the permission when
 *   the portal denies it.
 */
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { createTestDatabases } from '../__testUtils__/databases';
import type { KubeObject } from '../manifests';
import {
  deleteNamespace,
  listCreated,
  portalControlPlane,
  testGateway,
} from './__testUtils__/clusterRoutes';
import { startImpersonatingBackend } from './__testUtils__/impersonatingBackend';

// The first import() of @kubernetes/client-node under jest's VM modules takes seconds.
jest.setTimeout(180_000);

const API = '/api/kubeai';
const OWN = `kubeai-impcv-${randomBytes(3).toString('hex')}`;
const OTHER = `kubeai-impsearch-${randomBytes(3).toString('hex')}`;
const ALICE = 'user:default/alice';
const BOB = 'user:default/bob';
const CV = 'group:default/cv-team';
const SEARCH = 'group:default/search-reco';

/** The apiserver's audit events of writes in a namespace (one JSON object per line). */
function auditEvents(auditLog: string, namespace: string): any[] {
  return fs
    .readFileSync(auditLog, 'utf8')
    .split('\n')
    .filter(line => line.includes(namespace))
    .map(line => JSON.parse(line))
    .filter(e => e.objectRef?.namespace === namespace);
}

const teamEdit = (namespace: string, group: string): KubeObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name: 'team-edit', namespace },
  roleRef: {
    apiGroup: 'rbac.authorization.k8s.io',
    kind: 'ClusterRole',
    name: 'kubeai:namespace-edit',
  },
  subjects: [
    {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Group',
      name: `backstage:${group}`,
    },
  ],
});

const notebook = (namespace: string, name: string, cluster = 'local') => ({
  cluster,
  namespace,
  name,
  image: 'jupyter/base-notebook:latest',
});

const job = (namespace: string, name: string) => ({
  cluster: 'local',
  namespace,
  name,
  kind: 'Job',
  image: 'ghcr.io/acme/shoe-trainer:1.4',
  command: ['python', '-m', 'train'],
});

/** The portal's policy: allow-all, or deny-all when `deny.all`. */
const deny = { all: false };
const authorize = async (requests: unknown[]) =>
  requests.map(() => ({
    result: deny.all ? AuthorizeResult.DENY : AuthorizeResult.ALLOW,
  }));

const plane = portalControlPlane();
const gateway = testGateway();
const databases = createTestDatabases();

async function startBackend(impersonation: boolean) {
  const backend = await startImpersonatingBackend({
    databases,
    authorize,
    impersonation,
    validateResponses: true,
  });
  const service = async () => ({
    Authorization: `Bearer ${await backend.serviceToken()}`,
  });
  return {
    server: backend.server,
    stop: backend.stop,
    alice: backend.as(ALICE, [CV]),
    bob: backend.as(BOB, [SEARCH]),
    service,
  };
}

const names = (objects: KubeObject[]) =>
  objects.map(o => `${o.kind}/${o.metadata.name}`).sort();

beforeAll(async () => {
  for (const namespace of [OWN, OTHER]) {
    await gateway.apply('local', [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    ]);
  }
  await gateway.apply('local', [teamEdit(OWN, CV), teamEdit(OTHER, SEARCH)]);
});

afterAll(async () => {
  await deleteNamespace(gateway, OWN);
  await deleteNamespace(gateway, OTHER);
});

describe('impersonation on: the cluster’s RBAC decides for the signed-in user', () => {
  let backend: Awaited<ReturnType<typeof startBackend>>;
  beforeAll(async () => {
    backend = await startBackend(true);
  });
  afterAll(() => backend?.stop());

  it('a member of cv-team creates a notebook in her team’s namespace; the audit log shows her', async () => {
    const res = await request(backend.server)
      .post(`${API}/notebooks`)
      .set(backend.alice)
      .send(notebook(OWN, 'nb-alice'));
    expect(res.status).toBe(201);
    expect(res.body.run.createdBy).toBe(ALICE);
    expect(names(await listCreated(gateway, OWN))).toEqual([
      'Notebook/nb-alice',
      'Secret/nb-alice-kubeai-run',
    ]);

    const writes = auditEvents(plane.auditLog, OWN).filter(
      e =>
        e.objectRef.resource === 'notebooks' &&
        e.objectRef.name === 'nb-alice' &&
        e.stage === 'ResponseComplete',
    );
    const applied = writes.find(e => !/dryRun/.test(e.requestURI));
    expect(applied).toMatchObject({
      verb: 'patch',
      user: {
        username: 'kubeai-portal',
        groups: ['kubeai:portal', 'system:authenticated'],
      },
      impersonatedUser: {
        username: 'backstage:user:default/alice',
        groups: ['backstage:group:default/cv-team', 'system:authenticated'],
      },
      responseStatus: { code: 201 },
    });
  });

  it('the same user in search-reco’s namespace: 403 naming the namespace and the impersonated user, nothing created', async () => {
    const res = await request(backend.server)
      .post(`${API}/notebooks`)
      .set(backend.alice)
      .send(notebook(OTHER, 'nb-alice'));
    expect(res.status).toBe(403);
    expect(res.body.error.name).toBe('NotAllowedError');
    expect(res.body.error.message).toBe(
      `user:default/alice may not apply Notebook "nb-alice" in namespace "${OTHER}" of cluster "local": ` +
        `the cluster's RBAC forbids it for Kubernetes user "backstage:user:default/alice" ` +
        `(groups backstage:group:default/cv-team, system:authenticated)`,
    );
    expect(await listCreated(gateway, OTHER)).toEqual([]);
    // the apiserver refused the impersonated user (not the portal)
    const refused = auditEvents(plane.auditLog, OTHER).filter(
      e => e.objectRef.name === 'nb-alice' && e.stage === 'ResponseComplete',
    );
    expect(refused.length).toBeGreaterThan(0);
    for (const e of refused) {
      expect(e.user.username).toBe('kubeai-portal');
      expect(e.impersonatedUser.username).toBe('backstage:user:default/alice');
      expect(e.responseStatus.code).toBe(403);
    }
  });

  it('dry runs and batch items go as the user too', async () => {
    const dry = await request(backend.server)
      .post(`${API}/notebooks`)
      .set(backend.alice)
      .send({ ...notebook(OTHER, 'nb-dry'), dryRun: true });
    expect(dry.status).toBe(403);
    expect(dry.body.error.message).toContain(`in namespace "${OTHER}"`);

    const batch = await request(backend.server)
      .post(`${API}/jobs/batch`)
      .set(backend.alice)
      .send({ items: [job(OTHER, 'job-alice')] });
    expect(batch.body.items[0]).toMatchObject({ index: 0, status: 403 });
    expect(batch.body.items[0].error.message).toContain(
      `in namespace "${OTHER}" of cluster "local": the cluster's RBAC forbids it for Kubernetes user "backstage:user:default/alice"`,
    );
    expect(await listCreated(gateway, OTHER)).toEqual([]);

    const ownDry = await request(backend.server)
      .post(`${API}/notebooks`)
      .set(backend.alice)
      .send({ ...notebook(OWN, 'nb-dry'), dryRun: true });
    expect(ownDry.status).toBe(201);
    expect(names(await listCreated(gateway, OWN))).toEqual([
      'Notebook/nb-alice',
      'Secret/nb-alice-kubeai-run',
    ]);
  });

  it('deletes go as the user: a member of search-reco may not delete cv-team’s notebook, its member may', async () => {
    const url = `${API}/clusters/local/namespaces/${OWN}/notebooks/nb-alice`;
    const denied = await request(backend.server).delete(url).set(backend.bob);
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toMatch(
      new RegExp(
        `^user:default/bob may not delete Notebook "nb-alice" in namespace "${OWN}" of cluster "local": ` +
          `the cluster's RBAC forbids it for Kubernetes user "backstage:user:default/bob"`,
      ),
    );
    expect(names(await listCreated(gateway, OWN))).toEqual([
      'Notebook/nb-alice',
      'Secret/nb-alice-kubeai-run',
    ]);

    const deleted = await request(backend.server)
      .delete(url)
      .set(backend.alice);
    expect(deleted.status).toBe(200);
    expect(await listCreated(gateway, OWN)).toEqual([]);
    // bob's dry run was refused (so nothing was deleted); alice's dry run and delete went through
    const deletes = auditEvents(plane.auditLog, OWN).filter(
      e =>
        e.verb === 'delete' &&
        e.objectRef.name === 'nb-alice' &&
        e.stage === 'ResponseComplete',
    );
    expect(
      deletes.map(e => [
        e.impersonatedUser.username,
        /dryRun=All/.test(e.requestURI) ? 'dry run' : 'delete',
        e.responseStatus.code,
      ]),
    ).toEqual([
      ['backstage:user:default/bob', 'dry run', 403],
      ['backstage:user:default/alice', 'dry run', 200],
      ['backstage:user:default/alice', 'delete', 200],
    ]);
  });

  it('the run credential: its Secret is the portal’s write, and it passes Backstage’s real auth for its own run only', async () => {
    const res = await request(backend.server)
      .post(`${API}/jobs`)
      .set(backend.alice)
      .send(job(OWN, 'job-credential'));
    expect(res.status).toBe(201);
    const secretName = 'job-credential-kubeai-run';
    const secretWrite = auditEvents(plane.auditLog, OWN).find(
      e =>
        e.objectRef.resource === 'secrets' &&
        e.objectRef.name === secretName &&
        e.stage === 'ResponseComplete' &&
        !/dryRun/.test(e.requestURI),
    );
    // alice's team may not write Secrets; the credential is the portal's own object
    expect(secretWrite).toMatchObject({
      user: { username: 'kubeai-portal' },
      responseStatus: { code: 201 },
    });
    expect(secretWrite.impersonatedUser).toBeUndefined();

    const secret = (await gateway.get('local', {
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: OWN,
      name: secretName,
    })) as any;
    const token = Buffer.from(secret.data.token, 'base64').toString();
    const asRun = { Authorization: `Bearer ${token}` };
    const reported = await request(backend.server)
      .patch(`${API}/runs/${res.body.run.id}`)
      .set(asRun)
      .send({ phase: 'Running', metrics: { loss: 0.5 } });
    expect(reported.status).toBe(200);
    expect(reported.body).toMatchObject({ phase: 'Running' });
    // not a Backstage token anywhere else: the httpRouter's own barrier refuses it
    const elsewhere = await request(backend.server)
      .get(`${API}/runs`)
      .set(asRun);
    expect(elsewhere.status).toBe(401);
    const notebooks = await request(backend.server)
      .post(`${API}/notebooks`)
      .set(asRun)
      .send(notebook(OWN, 'nb-by-run'));
    expect(notebooks.status).toBe(401);

    // deleted by alice: the credential is revoked and its Secret removed by the portal
    await request(backend.server)
      .delete(`${API}/clusters/local/namespaces/${OWN}/jobs/job-credential`)
      .set(backend.alice)
      .expect(200);
    expect(await listCreated(gateway, OWN)).toEqual([]);
    const late = await request(backend.server)
      .patch(`${API}/runs/${res.body.run.id}`)
      .set(asRun)
      .send({ phase: 'Succeeded' });
    expect(late.status).toBe(401);
  });

  it('a service caller is impersonated as a service, not let through as the portal', async () => {
    const res = await request(backend.server)
      .post(`${API}/notebooks`)
      .set(await backend.service())
      .send(notebook(OWN, 'nb-service'));
    expect(res.status).toBe(403);
    expect(res.body.error.message).toContain(
      `plugin:kubeai-test-caller may not apply Notebook "nb-service" in namespace "${OWN}" of cluster "local": ` +
        `the cluster's RBAC forbids it for Kubernetes user "backstage:service:plugin:kubeai-test-caller" ` +
        `(groups backstage:services, system:authenticated)`,
    );
    expect(await listCreated(gateway, OWN)).toEqual([]);
  });

  it('a cluster whose account may not impersonate: 403 saying so, nothing created', async () => {
    const res = await request(backend.server)
      .post(`${API}/notebooks`)
      .set(backend.alice)
      .send(notebook(OWN, 'nb-restricted', 'local-restricted'));
    expect(res.status).toBe(403);
    expect(res.body.error.message).toBe(
      `cluster "local-restricted" does not let the portal impersonate user:default/alice ` +
        `(Kubernetes user "backstage:user:default/alice") to apply Notebook "nb-restricted" in namespace "${OWN}" ` +
        `of cluster "local-restricted": grant the portal's account the impersonate verb on users and groups ` +
        `(kubeai.tenancy.impersonation)`,
    );
    expect(await listCreated(gateway, OWN)).toEqual([]);
  });
});

describe('impersonation off: the portal’s policy alone decides', () => {
  let backend: Awaited<ReturnType<typeof startBackend>>;
  beforeAll(async () => {
    backend = await startBackend(false);
  });
  afterAll(() => backend?.stop());

  it('allow-all: the cv-team member creates in search-reco’s namespace, written as the portal', async () => {
    const res = await request(backend.server)
      .post(`${API}/notebooks`)
      .set(backend.alice)
      .send(notebook(OTHER, 'nb-portal'));
    expect(res.status).toBe(201);
    expect(names(await listCreated(gateway, OTHER))).toEqual([
      'Notebook/nb-portal',
      'Secret/nb-portal-kubeai-run',
    ]);
    const applied = auditEvents(plane.auditLog, OTHER).find(
      e =>
        e.objectRef.name === 'nb-portal' &&
        e.stage === 'ResponseComplete' &&
        !/dryRun/.test(e.requestURI),
    );
    expect(applied.user.username).toBe('kubeai-portal');
    expect(applied.impersonatedUser).toBeUndefined();
    expect(applied.responseStatus.code).toBe(201);
  });

  it('the portal denies: 403 naming the permission, nothing created', async () => {
    deny.all = true;
    try {
      const res = await request(backend.server)
        .post(`${API}/notebooks`)
        .set(backend.alice)
        .send(notebook(OTHER, 'nb-denied'));
      expect(res.status).toBe(403);
      // the portal's refusal (Access.authorize), not the cluster's
      expect(res.body.error.message).toMatch(/denied/);
      expect(res.body.error.message).not.toMatch(/RBAC|Kubernetes user/);
    } finally {
      deny.all = false;
    }
    expect(names(await listCreated(gateway, OTHER))).toEqual([
      'Notebook/nb-portal',
      'Secret/nb-portal-kubeai-run',
    ]);
  });
});
