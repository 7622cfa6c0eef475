/*
 * The local control plane's RBAC for the tenancy (scripts/cluster/setup.mjs), against the real
 * kube-apiserver (`yarn cluster:start`), checked against what the backend itself reads:
 *
 * - coverage: for every kind the portal writes — each workload and data object of the workload
 *   table and each companion deleted with them, its resource name as the apiserver serves it — and
 *   every verb its writes use (server-side apply: create, patch; delete), a member of a namespace's
 *   owning group may write there (the namespaces kubeai.tenancy of app-config.yaml +
 *   app-config.production.yaml gives owners in cluster `local`, read with the backend's own
 *   reader, and the team namespaces owned by their label), a member of another team may not, and
 *   a member of a platform-admin group (kubeai.tenancy.platformAdmins) may everywhere, in an
 *   unowned namespace too. Asked with SubjectAccessReviews, as the apiserver decides an
 *   impersonated request;
 * - end to end, with impersonation on: the platform admin creates and deletes a notebook in
 *   another team's namespace through the API, a team member writes only in her own (403 naming
 *   the cluster's RBAC elsewhere, nothing created, and she may not delete the admin's notebook).
 */
import { startTestBackend } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  DATA_OBJECTS,
  WORKLOADS,
  type ClusterKindSpec,
} from '@kubeai/plugin-kubeai-common';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import YAML from 'yaml';
import { createTestDatabases } from '../__testUtils__/databases';
import { Kube, readClusterState } from '../informers/__testUtils__/kube';
import type { KubeObject } from '../manifests';
import { readTenancyConfig } from '../tenancy/tenancyConfig';
import { listCreated, testGateway } from './__testUtils__/clusterRoutes';
import { startImpersonatingBackend } from './__testUtils__/impersonatingBackend';

// The first import() of @kubernetes/client-node under jest's VM modules takes seconds.
jest.setTimeout(180_000);

const API = '/api/kubeai';
const REPO_ROOT = path.resolve(__dirname, '../../../..');
/** The impersonation prefix of app-config (kubeai.tenancy.impersonation's default). */
const PREFIX = 'backstage:';
/** Namespaces of the control plane owned by their `kubeai.io/owner` label (setup.mjs TEAMS). */
const LABELLED = {
  'cv-team': 'group:default/cv-team',
  'search-reco': 'group:default/search-reco',
};
/** A namespace nobody owns: only platform admins write there. */
const UNOWNED = 'team-a';

/** kubeai.tenancy of app-config.yaml + app-config.production.yaml, as the backend reads it. */
function appConfigTenancy() {
  const configs = ['app-config.yaml', 'app-config.production.yaml'].map(
    file => ({
      context: file,
      data: YAML.parse(fs.readFileSync(path.join(REPO_ROOT, file), 'utf8')),
    }),
  );
  return readTenancyConfig(ConfigReader.fromConfigs(configs));
}

const tenancy = appConfigTenancy();
/** Namespace → owning group: the labelled team namespaces and app-config's (which win). */
const OWNERS: Record<string, string> = {
  ...LABELLED,
  ...Object.fromEntries(
    tenancy.namespaces
      .filter(n => n.cluster === 'local')
      .map(n => [n.namespace, n.owner]),
  ),
};
const ADMIN_GROUP = tenancy.platformAdmins[0];

const state = readClusterState();
const kube = new Kube(state);
afterAll(() => kube.close());

/** A Kubernetes user as the portal impersonates a member of `group`. */
const memberOf = (group: string) => ({
  user: `${PREFIX}user:default/member-of-${group.replace(/\W+/g, '-')}`,
  groups: [`${PREFIX}${group}`, 'system:authenticated'],
});

/** The resource `<plural>` of a group/version/kind as the apiserver serves it, or undefined. */
async function servedResource(group: string, version: string, kind: string) {
  const res = await kube.request(
    'GET',
    group ? `/apis/${group}/${version}` : `/api/${version}`,
  );
  if (res.status !== 200) return undefined;
  return (res.body.resources as Array<{ name: string; kind: string }>).find(
    r => r.kind === kind && !r.name.includes('/'),
  )?.name;
}

/**
 * Every kind the portal writes: [kind, group, resource]. A kind this control plane does not serve
 * (TrainJob: its CRD needs a newer apiserver) is checked by the table's resource name — RBAC does
 * not need the resource to exist; a served one must be served under that name.
 */
async function writtenKinds(): Promise<Array<[string, string, string]>> {
  const out = new Map<string, [string, string, string]>();
  const specs = Object.entries({ ...WORKLOADS, ...DATA_OBJECTS }) as Array<
    [string, ClusterKindSpec]
  >;
  const misnamed: string[] = [];
  for (const [kind, spec] of specs) {
    let served: string | undefined;
    for (const version of spec.versions) {
      served ??= await servedResource(spec.group, version, kind);
    }
    if (served !== undefined && served !== spec.plural) {
      misnamed.push(
        `${kind}: served as ${served}, the table says ${spec.plural}`,
      );
    }
    out.set(`${spec.group}/${spec.plural}`, [kind, spec.group, spec.plural]);
    for (const c of spec.companions) {
      // the table names companions by kind only: the apiserver says their resource
      const name = await servedResource(c.group, c.version, c.kind);
      if (!name)
        misnamed.push(`${c.kind} (${c.group}/${c.version}): not served`);
      else out.set(`${c.group}/${name}`, [c.kind, c.group, name]);
    }
  }
  expect(misnamed).toEqual([]);
  return [...out.values()];
}

/** What the apiserver would answer `who` for a verb on a resource in a namespace. */
async function allowed(
  who: { user: string; groups: string[] },
  verb: string,
  group: string,
  resource: string,
  namespace: string,
): Promise<boolean> {
  const res = await kube.request(
    'POST',
    '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: who.user,
        groups: who.groups,
        resourceAttributes: { namespace, verb, group, resource },
      },
    },
  );
  expect(res.status).toBe(201);
  return res.body.status.allowed === true;
}

/** The verbs of the portal's writes: server-side apply (create or patch) and delete. */
const VERBS = ['create', 'patch', 'delete'];

describe('the tenancy RBAC of the local control plane', () => {
  it('app-config names platform admins and owners of the examples’ namespaces', () => {
    expect(ADMIN_GROUP).toBe('group:default/ml-platform');
    expect(OWNERS).toMatchObject({
      'cv-serving': 'group:default/cv-team',
      'search-training': 'group:default/search-reco',
      forecasting: 'group:default/biz-forecasting',
    });
  });

  it('every owned namespace exists, labelled with its owner', async () => {
    for (const [namespace, owner] of Object.entries(OWNERS)) {
      const res = await kube.request('GET', `/api/v1/namespaces/${namespace}`);
      expect({ namespace, status: res.status }).toEqual({
        namespace,
        status: 200,
      });
      expect({
        namespace,
        owner: res.body.metadata.labels?.['kubeai.io/owner'],
      }).toEqual({ namespace, owner: owner.replace(/[:/]/g, '-') });
    }
  });

  it('owners write every kind the portal writes in their namespaces, other teams do not, platform admins everywhere', async () => {
    const kinds = await writtenKinds();
    expect(kinds.length).toBeGreaterThanOrEqual(15);
    const admin = memberOf(ADMIN_GROUP);
    const wrong: string[] = [];
    const check = async (
      who: { user: string },
      expected: boolean,
      namespace: string,
    ) => {
      for (const [kind, group, resource] of kinds) {
        const answers = await Promise.all(
          VERBS.map(verb =>
            allowed(who as never, verb, group, resource, namespace),
          ),
        );
        answers.forEach((answer, i) => {
          if (answer !== expected) {
            wrong.push(
              `${who.user} ${VERBS[i]} ${kind} in ${namespace}: ${
                answer ? 'allowed' : 'denied'
              }`,
            );
          }
        });
      }
    };
    const groups = [...new Set(Object.values(OWNERS))];
    for (const [namespace, owner] of Object.entries(OWNERS)) {
      await check(memberOf(owner), true, namespace);
      const other = groups.find(g => g !== owner)!;
      await check(memberOf(other), false, namespace);
      await check(admin, true, namespace);
    }
    await check(admin, true, UNOWNED);
    await check(memberOf('group:default/cv-team'), false, UNOWNED);
    expect(wrong).toEqual([]);
  });

  it('a team may write only what the portal writes, not RBAC, Secrets or ConfigMaps', async () => {
    const member = memberOf('group:default/cv-team');
    for (const [group, resource] of [
      ['', 'secrets'],
      ['', 'configmaps'],
      ['', 'resourcequotas'],
      ['rbac.authorization.k8s.io', 'rolebindings'],
    ]) {
      expect({
        resource,
        allowed: await allowed(member, 'create', group, resource, 'cv-team'),
      }).toEqual({ resource, allowed: false });
    }
  });
});

// ------------------------------------------------------------------ through the API

const SUFFIX = randomBytes(3).toString('hex');
const ADMIN = 'user:default/li.wei';
const MEMBER = 'user:default/zhang.min';
const CV = 'group:default/cv-team';
const TEAM_NS = 'cv-team';
const OTHER_NS = 'search-reco';

const authorize = async (requests: unknown[]) =>
  requests.map(() => ({ result: AuthorizeResult.ALLOW }));
const databases = createTestDatabases();
const gateway = testGateway();

const notebook = (namespace: string, name: string) => ({
  cluster: 'local',
  namespace,
  name,
  image: 'jupyter/base-notebook:latest',
});
const mine = (objects: KubeObject[]) =>
  objects
    .filter(o => o.metadata.name?.endsWith(SUFFIX))
    .map(o => `${o.kind}/${o.metadata.name}`);

describe('through the API with impersonation: platform admin anywhere, a team member in her namespace only', () => {
  let server: Awaited<ReturnType<typeof startTestBackend>>['server'];
  let stop = async () => {};
  let admin: Record<string, string>;
  let member: Record<string, string>;

  beforeAll(async () => {
    // the portal's policy allows everything: every refusal here is the cluster's
    const backend = await startImpersonatingBackend({ databases, authorize });
    server = backend.server;
    stop = backend.stop;
    admin = backend.as(ADMIN, [ADMIN_GROUP]);
    member = backend.as(MEMBER, [CV]);
  });

  afterAll(async () => {
    await stop();
    // nothing of this test stays in the shared namespaces, whatever failed
    for (const namespace of [TEAM_NS, OTHER_NS]) {
      for (const o of await listCreated(gateway, namespace)) {
        if (o.metadata.name?.endsWith(SUFFIX)) {
          await gateway.delete('local', {
            apiVersion: o.apiVersion,
            kind: o.kind,
            namespace,
            name: o.metadata.name!,
          });
        }
      }
    }
  });

  it('dry runs: the admin may write in both teams’ namespaces, the member in hers only', async () => {
    const cases = [
      ['admin', TEAM_NS, 201],
      ['admin', OTHER_NS, 201],
      ['admin', 'search-serving', 201],
      ['member', TEAM_NS, 201],
      ['member', 'cv-serving', 201],
      ['member', OTHER_NS, 403],
      ['member', 'search-serving', 403],
    ] as const;
    const answers = [];
    for (const [who, namespace] of cases) {
      const res = await request(server)
        .post(`${API}/notebooks`)
        .set(who === 'admin' ? admin : member)
        .send({ ...notebook(namespace, `nb-dry-${SUFFIX}`), dryRun: true });
      answers.push([who, namespace, res.status, res.body.error?.message]);
    }
    expect(answers).toEqual(
      cases.map(([who, namespace, status]) => [
        who,
        namespace,
        status,
        status === 403
          ? `user:default/zhang.min may not apply Notebook "nb-dry-${SUFFIX}" in namespace "${namespace}" of cluster "local": ` +
            `the cluster's RBAC forbids it for Kubernetes user "backstage:user:default/zhang.min" ` +
            `(groups backstage:group:default/cv-team, system:authenticated)`
          : undefined,
      ]),
    );
    expect(mine(await listCreated(gateway, OTHER_NS))).toEqual([]);
  });

  it('the admin creates a notebook in search-reco; the cv-team member may not delete it, the admin does', async () => {
    const name = `nb-admin-${SUFFIX}`;
    const created = await request(server)
      .post(`${API}/notebooks`)
      .set(admin)
      .send(notebook(OTHER_NS, name));
    expect(created.status).toBe(201);
    expect(created.body.run.createdBy).toBe(ADMIN);
    expect(mine(await listCreated(gateway, OTHER_NS))).toEqual([
      `Notebook/${name}`,
    ]);

    const url = `${API}/clusters/local/namespaces/${OTHER_NS}/notebooks/${name}`;
    const denied = await request(server).delete(url).set(member);
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toContain(
      `the cluster's RBAC forbids it for Kubernetes user "backstage:user:default/zhang.min"`,
    );
    expect(mine(await listCreated(gateway, OTHER_NS))).toEqual([
      `Notebook/${name}`,
    ]);

    const deleted = await request(server).delete(url).set(admin);
    expect(deleted.status).toBe(200);
    expect(mine(await listCreated(gateway, OTHER_NS))).toEqual([]);
  });

  it('the member creates and deletes a notebook in her team’s namespace; in search-reco nothing is created', async () => {
    const name = `nb-member-${SUFFIX}`;
    const refused = await request(server)
      .post(`${API}/notebooks`)
      .set(member)
      .send(notebook(OTHER_NS, name));
    expect(refused.status).toBe(403);
    expect(mine(await listCreated(gateway, OTHER_NS))).toEqual([]);

    const created = await request(server)
      .post(`${API}/notebooks`)
      .set(member)
      .send(notebook(TEAM_NS, name));
    expect(created.status).toBe(201);
    expect(mine(await listCreated(gateway, TEAM_NS))).toEqual([
      `Notebook/${name}`,
    ]);
    const deleted = await request(server)
      .delete(`${API}/clusters/local/namespaces/${TEAM_NS}/notebooks/${name}`)
      .set(member);
    expect(deleted.status).toBe(200);
    expect(mine(await listCreated(gateway, TEAM_NS))).toEqual([]);
  });
});
