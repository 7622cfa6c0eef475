/*
 * Many teams on one portal (issue 14): who may write where, decided by the permission policy of
 * this backend for every mutating route of the KubeAI API and every kubeai:* scaffolder action.
 *
 * Three portals (startTestBackend), one per policy — `ownership`, `allow-all`, `read-only` — each
 * with the real permission stack (permission backend + this repo's policy module + the real
 * permissions service), the real catalog with the KubeAI kinds (so `isEntityOwner` is applied by
 * the catalog to entities it processed, with their ownedBy relations), the scaffolder with the
 * kubeai:* actions, and the KubeAI plugin against the local control plane (`yarn cluster:start`).
 * They share one registry (SQLite): what a cell needs beforehand is created through the allow-all
 * portal, as the owner would.
 *
 * Two teams: cv-team (alice) and search-reco (bob), each with a namespace labelled
 * `kubeai.io/owner` and its own Model, Dataset and InferenceService entities; carol is in the
 * platform-admin group (`kubeai.tenancy.platformAdmins`). Users' ownership refs come from a table
 * instead of a sign-in, in tokens Backstage's real auth services accept (__testUtils__/realAuth.ts
 * says why not mock auth): the identity provider is not tested here, the decisions made on those
 * refs are.
 *
 * The matrix: rows = the mutating operations of the served OpenAPI document and the kubeai:*
 * actions of the scaffolder (a new one without a row fails the test), columns = policy × caller ×
 * whose namespace / entities. Each cell: 2xx or 403 as the policy says (__testUtils__/
 * tenancyMatrix.ts restates its rules); after a 403 the registry, the catalog and every object of
 * the two namespaces are unchanged; an allowed write changed something. The matrix is printed.
 */
import { TestDatabases } from '@backstage/backend-test-utils';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PolicyName } from './permissionPolicy';
import {
  createNamespace,
  kubeClient,
  namespacedResourceTypes,
  purgeNamespaces,
} from './__testUtils__/localCluster';
import {
  call,
  type Knex,
  must,
  type Portal,
  startPortal,
  waitForCatalog,
} from './__testUtils__/portalBackend';
import { realAuth } from './__testUtils__/realAuth';
import {
  ADMIN,
  ADMIN_GROUP,
  catalogFile,
  type CellResult,
  columns,
  differences,
  formatMatrix,
  type MatrixContext,
  membersOf,
  ownerLabel,
  runCell,
  snapshot,
  teams,
} from './__testUtils__/tenancyMatrix';
import {
  ACTION_ROWS,
  mutatingOperations,
  POOLS_PREFIX,
  ROUTE_ROWS,
  ROWS,
  type SpecOperation,
} from './__testUtils__/tenancyRows';

// Three backends, a catalog each, ~250 writes against the local control plane.
jest.setTimeout(900_000);

const suffix = randomBytes(3).toString('hex');
const { cv, search } = teams(suffix);
const members = membersOf(cv, search);
const identities = realAuth(members);
const COLUMNS = columns(cv, search);
const POLICIES: PolicyName[] = ['ownership', 'allow-all', 'read-only'];

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });
const kube = kubeClient();
const portals = new Map<PolicyName, Portal>();
let scratch: string;
let knex: Knex;
let ctx: MatrixContext;

beforeAll(async () => {
  for (const team of [cv, search]) {
    await createNamespace(kube, team.namespace, {
      'kubeai.io/owner': ownerLabel(team),
    });
  }
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-tenancy-'));
  const catalog = catalogFile(cv, search, ROWS, COLUMNS);
  const entitiesFile = path.join(scratch, 'entities.yaml');
  fs.writeFileSync(entitiesFile, catalog.text);
  knex = await databases.init('SQLITE_3');
  for (const policy of POLICIES) {
    portals.set(
      policy,
      await startPortal({
        policy,
        kubeaiDatabase: knex,
        newDatabase: () => databases.init('SQLITE_3'),
        identities,
        entitiesFile,
        workingDirectory: scratch,
        tenancy: { platformAdmins: [ADMIN_GROUP] },
      }),
    );
  }
  for (const portal of portals.values()) {
    await waitForCatalog(portal, ADMIN, catalog.refs);
  }
  const allowAll = portals.get('allow-all')!;
  // two live versions of each team's model (deploy v1, canary v2)
  for (const team of [cv, search]) {
    for (const v of [1, 2]) {
      await must(
        allowAll,
        team.user,
        'post',
        `/api/kubeai/models/default/${team.model}/versions`,
        {
          artifact: {
            uri: `s3://models/${team.model}/${v}/model.onnx`,
            format: 'onnx',
          },
        },
      );
    }
  }
  const doc = await must(allowAll, ADMIN, 'get', '/api/kubeai/openapi.json');
  ctx = {
    knex,
    kube,
    resourceTypes: await namespacedResourceTypes(kube),
    namespaces: [cv.namespace, search.namespace],
    setupPortal: allowAll,
    operations: new Map(
      mutatingOperations(doc).map(op => [op.operationId, op] as const),
    ),
    members,
  };
});

afterAll(async () => {
  for (const portal of portals.values()) await portal.stop();
  await purgeNamespaces(cv.namespace, search.namespace);
  // the cluster-scoped ClusterQueues of the pools rows (their LocalQueues went with the namespaces)
  const queues = await kube(
    'GET',
    '/apis/kueue.x-k8s.io/v1beta2/clusterqueues',
  );
  for (const q of queues.body?.items ?? []) {
    if (q.metadata.name.startsWith(POOLS_PREFIX)) {
      await kube(
        'DELETE',
        `/apis/kueue.x-k8s.io/v1beta2/clusterqueues/${q.metadata.name}`,
      );
    }
  }
  kube.close();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

describe('tenancy: who may write where, per policy', () => {
  it('has a row for every mutating operation of the spec and every kubeai:* action', async () => {
    const operations: SpecOperation[] = [...ctx.operations.values()];
    expect(operations.length).toBeGreaterThan(0);
    expect(
      operations
        .map(o => o.operationId)
        .filter(id => !ROUTE_ROWS.some(r => r.operationId === id)),
    ).toEqual([]);
    expect(
      ROUTE_ROWS.map(r => r.operationId).filter(id => !ctx.operations.has(id)),
    ).toEqual([]);
    const actions = await must(
      portals.get('allow-all')!,
      ADMIN,
      'get',
      '/api/scaffolder/v2/actions',
    );
    const kubeaiActions = actions
      .map((a: { id: string }) => a.id)
      .filter((id: string) => id.startsWith('kubeai:'));
    expect(kubeaiActions.length).toBeGreaterThan(0);
    expect(
      kubeaiActions.filter(
        (id: string) => !ACTION_ROWS.some(r => r.action === id),
      ),
    ).toEqual([]);
    expect(
      ACTION_ROWS.map(r => r.action).filter(id => !kubeaiActions.includes(id)),
    ).toEqual([]);
  });

  it('the matrix: every write allowed or refused as the policy says, nothing written after a 403', async () => {
    const results: CellResult[] = [];
    for (const column of COLUMNS) {
      const portal = portals.get(column.policy)!;
      for (const row of ROWS) {
        results.push(await runCell(ctx, portal, row, column));
      }
    }
    const matrix = formatMatrix(results, ROWS, COLUMNS, ctx.operations);
    process.stdout.write(`\n${matrix}\n\n`);
    expect(results).toHaveLength(ROWS.length * COLUMNS.length);
    expect(
      results
        .filter(r => r.problem)
        .map(r => `${r.row.key} [${r.column.key}]: ${r.problem}`),
    ).toEqual([]);
  });

  it('a batch with one task in the other team’s namespace is refused whole, nothing applied', async () => {
    const ownership = portals.get('ownership')!;
    const job = (namespace: string, name: string) => ({
      cluster: 'local',
      namespace,
      name,
      kind: 'Job',
      image: 'ghcr.io/acme/trainer:1.2',
      command: ['python', '-m', 'train'],
    });
    const before = await snapshot(ctx, ownership);
    const res = await call(
      ownership,
      cv.user,
      'post',
      '/api/kubeai/jobs/batch',
      {
        items: [
          job(cv.namespace, `batch-own-${suffix}`),
          job(search.namespace, `batch-other-${suffix}`),
          job(cv.namespace, `batch-own2-${suffix}`),
        ],
      },
    );
    expect(res.status).toBe(403);
    expect(res.body.error.message).toBe(
      `kubeai.cluster.object.create denied on local/${search.namespace}`,
    );
    expect(differences(before, await snapshot(ctx, ownership))).toEqual([]);
    // the same batch in her namespace only is applied
    const own = await call(
      ownership,
      cv.user,
      'post',
      '/api/kubeai/jobs/batch',
      {
        items: [
          job(cv.namespace, `batch-own-${suffix}`),
          job(cv.namespace, `batch-own2-${suffix}`),
        ],
      },
    );
    expect(own.status).toBe(201);
    expect(own.body.items.map((i: { status: number }) => i.status)).toEqual([
      201, 201,
    ]);
  });

  it('lists the namespaces a user may write in first, each with its owner', async () => {
    const listed = async (policy: PolicyName, user: string) => {
      const body = await must(
        portals.get(policy)!,
        user,
        'get',
        '/api/kubeai/clusters/local/namespaces',
      );
      const items: Array<{
        name: string;
        owner?: string;
        ownerSource?: string;
        access: string;
      }> = body.items;
      const at = (name: string) => items.findIndex(i => i.name === name);
      return {
        items,
        own: items[at(cv.namespace)],
        other: items[at(search.namespace)],
        at,
      };
    };
    const alice = await listed('ownership', cv.user);
    expect(alice.own).toEqual({
      name: cv.namespace,
      owner: cv.group,
      ownerSource: 'label',
      access: 'write',
    });
    expect(alice.other).toEqual({
      name: search.namespace,
      owner: search.group,
      ownerSource: 'label',
      access: 'read',
    });
    expect(alice.at(cv.namespace)).toBeLessThan(alice.at(search.namespace));
    // writable first: no read-only namespace before a writable one
    const firstRead = alice.items.findIndex(i => i.access === 'read');
    expect(alice.items.slice(firstRead).every(i => i.access === 'read')).toBe(
      true,
    );
    // the same namespaces, as the others see them
    const bob = await listed('ownership', search.user);
    expect([bob.own.access, bob.other.access]).toEqual(['read', 'write']);
    expect(bob.at(search.namespace)).toBeLessThan(bob.at(cv.namespace));
    const admin = await listed('ownership', ADMIN);
    expect([admin.own.access, admin.other.access]).toEqual(['write', 'write']);
    const readOnly = await listed('read-only', cv.user);
    expect([readOnly.own.access, readOnly.other.access]).toEqual([
      'read',
      'read',
    ]);
    expect(readOnly.own.owner).toBe(cv.group);
  });
});
