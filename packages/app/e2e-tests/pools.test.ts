import { test, expect, type APIRequestContext } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { clusterAdmin, removeObject } from './cluster';
import { demoUsers, saveScreenshot, signInAs, userToken } from './helpers';

// A team's usage of its Kueue queue on its Group page (Pools tab), against GET /pools/usage. No
// Kueue runs on the local control plane: the test writes Workloads and their status as Kueue would
// (one admitted on the queue's first flavor, one waiting), in cv-team's namespace, and removes them
// after — and cv-team's ClusterQueue too when the test made it.
const TEAM = 'cv-team';
const CQ = '/apis/kueue.x-k8s.io/v1beta2/clusterqueues';
const WORKLOADS = `/apis/kueue.x-k8s.io/v1beta2/namespaces/${TEAM}/workloads`;
const GI = 2 ** 30;

/** As the Pools tab shows an amount (TeamPoolsContent's formatResourceAmount). */
const shown = (resource: string, amount: number) => {
  const round = (n: number) => String(Math.round(n * 100) / 100);
  return resource === 'memory' ? `${round(amount / GI)} Gi` : round(amount);
};

function workload(name: string, cpu: string) {
  const uid = `00000000-0000-4000-8000-${randomBytes(6).toString('hex')}`;
  return {
    apiVersion: 'kueue.x-k8s.io/v1beta2',
    kind: 'Workload',
    metadata: {
      name,
      namespace: TEAM,
      labels: { 'kueue.x-k8s.io/job-uid': uid },
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'Job', name, uid, controller: true },
      ],
    },
    spec: {
      queueName: TEAM,
      podSets: [
        {
          name: 'main',
          count: 2,
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [
                {
                  name: 'main',
                  image: 'busybox:1.36',
                  resources: { requests: { cpu, memory: '1Gi' } },
                },
              ],
            },
          },
        },
      ],
    },
  };
}

const condition = (type: string, status: string, message: string) => ({
  type,
  status,
  reason: status === 'True' ? type : 'Pending',
  message,
  lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
});

test.describe('team usage', () => {
  let kube: APIRequestContext;
  const made: string[] = [];
  const suffix = randomBytes(3).toString('hex');
  const admitted = `e2e-pools-run-${suffix}`;
  const waiting = `e2e-pools-wait-${suffix}`;

  test.beforeAll(async () => {
    kube = await clusterAdmin();
    // cv-team's queue as POST /pools builds it, unless the cluster has one already (then it stays)
    if ((await kube.get(`${CQ}/${TEAM}`)).status() === 404) {
      const res = await kube.post(CQ, {
        data: {
          apiVersion: 'kueue.x-k8s.io/v1beta2',
          kind: 'ClusterQueue',
          metadata: { name: TEAM },
          spec: {
            cohortName: `e2e-${suffix}`,
            namespaceSelector: {
              matchExpressions: [
                {
                  key: 'kubernetes.io/metadata.name',
                  operator: 'In',
                  values: [TEAM],
                },
              ],
            },
            resourceGroups: [
              {
                coveredResources: ['cpu', 'memory'],
                flavors: [
                  {
                    name: 'elastic',
                    resources: [
                      { name: 'cpu', nominalQuota: '16' },
                      { name: 'memory', nominalQuota: '64Gi' },
                    ],
                  },
                ],
              },
            ],
          },
        },
      });
      expect(res.status(), await res.text()).toBe(201);
      made.push(`${CQ}/${TEAM}`);
    }
    const queue = await (await kube.get(`${CQ}/${TEAM}`)).json();
    const flavor: string = queue.spec.resourceGroups[0].flavors[0].name;
    for (const [name, cpu] of [
      [admitted, '3'],
      [waiting, '40'],
    ]) {
      const res = await kube.post(WORKLOADS, { data: workload(name, cpu) });
      expect(res.status(), await res.text()).toBe(201);
      made.push(`${WORKLOADS}/${name}`);
    }
    const status = async (name: string, body: unknown) => {
      const res = await kube.patch(`${WORKLOADS}/${name}/status`, {
        headers: { 'Content-Type': 'application/merge-patch+json' },
        data: { status: body },
      });
      expect(res.status(), await res.text()).toBe(200);
    };
    await status(admitted, {
      admission: {
        clusterQueue: TEAM,
        podSetAssignments: [
          {
            name: 'main',
            count: 2,
            flavors: { cpu: flavor, memory: flavor },
            resourceUsage: { cpu: '6', memory: '2Gi' },
          },
        ],
      },
      conditions: [
        condition(
          'QuotaReserved',
          'True',
          `Quota reserved in ClusterQueue ${TEAM}`,
        ),
        condition('Admitted', 'True', 'The workload is admitted'),
      ],
    });
    await status(waiting, {
      conditions: [
        condition(
          'QuotaReserved',
          'False',
          `couldn't assign flavors to pod set main: insufficient quota for cpu in flavor ${flavor}`,
        ),
      ],
    });
  });

  test.afterAll(async () => {
    for (const p of made.reverse()) await removeObject(kube, p);
    await kube.dispose();
  });

  test("the team page's usage bars show the numbers of GET /pools/usage", async ({
    page,
    request,
  }, testInfo) => {
    const token = await userToken(request, demoUsers.cvTeam);
    // the informers have seen both Workloads (and the queue)
    let usage: any;
    await expect(async () => {
      const res = await request.get(`/api/kubeai/pools/usage?team=${TEAM}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(res.status()).toBe(200);
      usage = (await res.json()).items.find((u: any) => u.cluster === 'local');
      expect(usage?.pending.map((p: any) => p.name)).toContain(waiting);
      expect(usage.admitted).toBeGreaterThanOrEqual(1);
    }).toPass({ timeout: 30_000 });

    await signInAs(page, demoUsers.cvTeam);
    await page.goto(`/catalog/default/group/${TEAM}/pools`);
    for (const f of usage.flavors) {
      const table = page.getByRole('table', {
        name: `Usage of ${TEAM} on ${f.flavor}`,
      });
      await expect(table).toBeVisible();
      for (const r of f.resources) {
        const row = table.getByRole('row', {
          name: new RegExp(`^${r.resource}`),
        });
        await expect(row.getByRole('cell')).toHaveText([
          shown(r.resource, r.nominal),
          shown(r.resource, r.used),
          shown(r.resource, r.borrowed),
          shown(r.resource, r.lent),
          '',
        ]);
        await expect(
          row.getByRole('img', {
            name: `${r.resource} on ${f.flavor}: used ${shown(
              r.resource,
              r.used,
            )} of nominal ${shown(r.resource, r.nominal)}, borrowed ${shown(
              r.resource,
              r.borrowed,
            )}, lent ${shown(r.resource, r.lent)}`,
          }),
        ).toBeVisible();
      }
    }
    // our admitted Workload counts: 2 × 3 CPU at least
    const cpuUsed = usage.flavors
      .flatMap((f: any) => f.resources)
      .filter((r: any) => r.resource === 'cpu')
      .reduce((sum: number, r: any) => sum + r.used, 0);
    expect(cpuUsed).toBeGreaterThanOrEqual(6);
    const waitingTable = page.getByRole('table', {
      name: `Waiting in ${TEAM}`,
    });
    await expect(
      waitingTable.getByRole('row', { name: new RegExp(waiting) }),
    ).toContainText('cpu 80, memory 2 Gi');
    await saveScreenshot(page, testInfo, 'team-pools');
  });
});
