/*
 * Kueue admission and team usage on the local control plane (`yarn cluster:start`, the project's
 * minimal Workload CRD), through the plugin's HTTP API, on SQLite and PostgreSQL. No Kueue runs
 * there: the test plays it — a Workload per Job (owner reference, job-uid label, pod sets), then
 * its status as Kueue writes it (quota reserved / pending / finished). Every Workload written is
 * valid against upstream Kueue v0.19.2's v1beta2 schema. Expected: the runs show "admitted to
 * `<queue>` on `<flavor>`" or why they wait, and GET /pools/usage adds up exactly.
 */
import request from 'supertest';
import {
  admittedStatus,
  finishedStatus,
  kueueWorkload,
  pendingStatus,
  teamClusterQueue,
  type PodSetFixture,
} from '../__testUtils__/kueue';
import {
  createTestDatabases,
  postgresSupport,
} from '../__testUtils__/databases';
import { validateAgainstCrd } from '../manifests/__testUtils__/crdSchemas';
import { waitFor } from './__testUtils__/kube';
import { informersSuite } from './__testUtils__/informersSuite';

jest.setTimeout(240_000);

const { ns, suffix, kube, paths, job, now, startBackend, tearDown } =
  informersSuite('infadm');
const databases = createTestDatabases();
const GI = 2 ** 30;
const CQ = '/apis/kueue.x-k8s.io/v1beta2/clusterqueues';
const WORKLOADS = `/apis/kueue.x-k8s.io/v1beta2/namespaces/${ns}/workloads`;

beforeAll(async () => {
  await kube.create('/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: ns },
  });
});

it('has PostgreSQL to run against', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

afterAll(async () => {
  await tearDown(undefined);
});

describe.each(databases.eachSupportedId())('on %s', databaseId => {
  const tag = databaseId === 'SQLITE_3' ? 's' : 'p';
  const team = `adm-${suffix}-${tag}-cv`;
  const lender = `adm-${suffix}-${tag}-search`;
  const cohort = `adm-${suffix}-${tag}`;
  const made: string[] = [];
  let backend: Awaited<ReturnType<typeof startBackend>>;
  const api = () => request(backend.server);

  const bigSets: PodSetFixture[] = [
    { name: 'main', count: 4, requests: { cpu: '5', memory: '8Gi' } },
  ];
  const mpiSets: PodSetFixture[] = [
    { name: 'launcher', count: 1, requests: { cpu: '500m', memory: '1Gi' } },
    { name: 'worker', count: 3, requests: { cpu: '1500m', memory: '2Gi' } },
  ];
  const waitSets: PodSetFixture[] = [
    { name: 'main', count: 1, requests: { cpu: '10' } },
  ];

  /** What Kueue does for a Job: a Workload owned by it (checked against the upstream schema). */
  async function workloadFor(jobName: string, podSets: PodSetFixture[]) {
    const theJob = await kube.must('GET', `${paths.jobs}/${jobName}`);
    const wl = kueueWorkload({
      name: `job-${jobName}-${theJob.metadata.uid.slice(0, 5)}`,
      namespace: ns,
      owner: {
        apiVersion: 'batch/v1',
        kind: 'Job',
        name: jobName,
        uid: theJob.metadata.uid,
      },
      queueName: team,
      podSets,
    });
    expect(validateAgainstCrd(wl, 'newest')).toMatchObject({
      valid: true,
      errors: [],
      pruned: [],
    });
    await kube.create(WORKLOADS, wl);
    made.push(`${WORKLOADS}/${wl.metadata.name}`);
    return { path: `${WORKLOADS}/${wl.metadata.name}`, object: wl };
  }

  /** Kueue's status write, checked against the upstream schema first. */
  async function kueueStatus(wl: { path: string; object: any }, status: any) {
    expect(
      validateAgainstCrd({ ...wl.object, status }, 'newest'),
    ).toMatchObject({ valid: true, errors: [], pruned: [] });
    await kube.patchStatus(wl.path, status);
  }

  async function makeJob(name: string, managed = true) {
    const object: any = job(name);
    if (!managed) delete object.metadata.labels['app.kubernetes.io/managed-by'];
    await kube.create(paths.jobs, object);
    made.push(`${paths.jobs}/${name}`);
  }

  const runOf = async (name: string) => {
    const res = await api().get('/api/kubeai/runs?limit=1000').expect(200);
    return res.body.items.find(
      (r: any) => r.namespace === ns && r.name === name,
    );
  };
  const runWhen = (name: string, what: string, ok: (run: any) => boolean) =>
    waitFor(
      async () => {
        const run = await runOf(name);
        return run && ok(run) ? run : undefined;
      },
      20_000,
      `run ${name}: ${what}`,
    ).then(r => r.value);
  const usageOf = async (queue: string) =>
    (await api().get(`/api/kubeai/pools/usage?team=${queue}`).expect(200)).body
      .items;

  beforeAll(async () => {
    for (const q of [
      teamClusterQueue({
        name: team,
        cohort,
        namespaces: [ns],
        flavors: [
          {
            name: 'elastic',
            resources: [
              { name: 'cpu', nominalQuota: '16', borrowingLimit: '8' },
              { name: 'memory', nominalQuota: '64Gi' },
            ],
          },
          {
            name: 'regular',
            resources: [
              { name: 'cpu', nominalQuota: '8', lendingLimit: '4' },
              { name: 'memory', nominalQuota: '32Gi' },
            ],
          },
        ],
      }),
      teamClusterQueue({
        name: lender,
        cohort,
        namespaces: [`${ns}-nobody`],
        flavors: [
          {
            name: 'elastic',
            resources: [
              { name: 'cpu', nominalQuota: '8', lendingLimit: '4' },
              { name: 'memory', nominalQuota: '32Gi' },
            ],
          },
        ],
      }),
    ]) {
      // (a ClusterQueue the upstream schema would refuse fails the suite here)
      const check = validateAgainstCrd(q, 'top');
      if (!check.valid) throw new Error(check.errors.join('; '));
      await kube.create(CQ, q);
      made.push(`${CQ}/${q.metadata.name}`);
    }
    const knex = await databases.init(databaseId);
    backend = await startBackend(knex);
    await waitFor(
      async () => {
        const res = await api().get('/api/kubeai/clusters/status');
        return (
          res.body.items?.find((c: any) => c.name === 'local')?.state ===
          'synced'
        );
      },
      60_000,
      'cluster local synced',
    );
  });

  afterAll(async () => {
    await backend?.stop();
    for (const p of made.reverse()) await kube.remove(p);
  });

  it('shows admission on the run and why a run waits; usage adds up from the Workloads', async () => {
    const at = now();
    await makeJob(`big-${tag}`);
    await makeJob(`mpi-${tag}`);
    await makeJob(`wait-${tag}`);
    const big = await workloadFor(`big-${tag}`, bigSets);
    const mpi = await workloadFor(`mpi-${tag}`, mpiSets);
    await kueueStatus(
      big,
      admittedStatus(team, bigSets, { main: 'elastic' }, at),
    );
    await kueueStatus(
      mpi,
      admittedStatus(
        team,
        mpiSets,
        { launcher: 'regular', worker: 'regular' },
        at,
      ),
    );
    const wait = await workloadFor(`wait-${tag}`, waitSets);
    const kueueSays = `couldn't assign flavors to pod set main: insufficient unused quota for cpu in flavor elastic, 14 more needed`;
    await kueueStatus(wait, pendingStatus(kueueSays, at));

    const bigRun = await runWhen(
      `big-${tag}`,
      'admitted',
      r => r.admission?.state === 'admitted',
    );
    expect(bigRun).toMatchObject({
      clusterQueue: team,
      flavor: 'elastic',
      admission: {
        state: 'admitted',
        clusterQueue: team,
        flavors: { cpu: 'elastic', memory: 'elastic' },
        message: `admitted to \`${team}\` on \`elastic\``,
        since: at,
        workload: { namespace: ns, name: big.object.metadata.name },
      },
    });
    const mpiRun = await runWhen(
      `mpi-${tag}`,
      'admitted',
      r => r.admission?.state === 'admitted',
    );
    expect(mpiRun.flavor).toBe('regular');
    // (first "waiting for Kueue": created without a status, pending since its creation — which may
    // already read "pending: cpu …" when the other two were observed first; then Kueue's condition)
    const waitRun = await runWhen(
      `wait-${tag}`,
      'pending for quota, since Kueue said so',
      r =>
        /^pending: cpu/.test(r.admission?.message ?? '') &&
        r.admission?.since === at,
    );
    // computed from the queue's quota and the admitted Workloads (the other two may have been
    // observed in the same batch or before it: both count)
    expect(waitRun).toMatchObject({
      clusterQueue: team,
      admission: {
        state: 'pending',
        clusterQueue: team,
        flavors: {},
        message: `pending: cpu 30 of 16 used in \`${team}\` (20 + this run's 10, flavor \`elastic\`), cohort has none to lend`,
        since: at,
      },
    });
    expect(waitRun.flavor).toBeUndefined();

    // usage: 4 × 5 CPU on elastic (4 borrowed from the lender), 0.5 + 3 × 1.5 on regular
    const [usage] = await waitFor(
      async () => {
        const items = await usageOf(team);
        return items.length === 1 && items[0].admitted === 2
          ? items
          : undefined;
      },
      20_000,
      'usage of the team queue',
    ).then(r => r.value);
    expect(usage).toEqual({
      cluster: 'local',
      clusterQueue: team,
      cohort,
      admitted: 2,
      flavors: [
        {
          flavor: 'elastic',
          resources: [
            {
              resource: 'cpu',
              nominal: 16,
              used: 20,
              borrowed: 4,
              lent: 0,
              lendable: 0,
              borrowingLimit: 8,
            },
            {
              resource: 'memory',
              nominal: 64 * GI,
              used: 32 * GI,
              borrowed: 0,
              lent: 0,
              lendable: 32 * GI,
            },
          ],
        },
        {
          flavor: 'regular',
          resources: [
            {
              resource: 'cpu',
              nominal: 8,
              used: 5,
              borrowed: 0,
              lent: 0,
              lendable: 3,
              lendingLimit: 4,
            },
            {
              resource: 'memory',
              nominal: 32 * GI,
              used: 7 * GI,
              borrowed: 0,
              lent: 0,
              lendable: 25 * GI,
            },
          ],
        },
      ],
      pending: [
        {
          namespace: ns,
          name: wait.object.metadata.name,
          runId: waitRun.id,
          state: 'pending',
          requests: { cpu: 10 },
          since: at,
          message: kueueSays,
        },
      ],
    });
    const [lent] = await usageOf(lender);
    expect(lent.flavors[0].resources[0]).toEqual({
      resource: 'cpu',
      nominal: 8,
      used: 0,
      borrowed: 0,
      lent: 4,
      lendable: 4,
      lendingLimit: 4,
    });

    // big finishes, Kueue then admits the waiting one on elastic
    const later = now();
    await kueueStatus(
      big,
      finishedStatus(
        admittedStatus(team, bigSets, { main: 'elastic' }, at),
        later,
      ),
    );
    // the quota big held is free: why the other one waits is said anew (no longer "30 of 16";
    // what is left to say is Kueue's own reason)
    await runWhen(
      `wait-${tag}`,
      "pending reason after big's quota was freed",
      r =>
        r.admission?.state === 'pending' &&
        r.admission.message === `pending: ${kueueSays}`,
    );
    await kueueStatus(
      wait,
      admittedStatus(team, waitSets, { main: 'elastic' }, later),
    );
    const admitted = await runWhen(
      `wait-${tag}`,
      'admitted',
      r => r.admission?.state === 'admitted',
    );
    expect(admitted).toMatchObject({
      flavor: 'elastic',
      admission: {
        message: `admitted to \`${team}\` on \`elastic\``,
        since: later,
      },
    });
    expect(
      (
        await runWhen(
          `big-${tag}`,
          'finished',
          r => r.admission?.state === 'finished',
        )
      ).admission.message,
    ).toBe(`ran in \`${team}\` on \`elastic\``);
    const [after] = await usageOf(team);
    expect(after.flavors[0].resources[0]).toMatchObject({
      used: 10,
      borrowed: 0,
    });
    expect(after.pending).toEqual([]);
    expect((await usageOf(lender))[0].flavors[0].resources[0].lent).toBe(0);
  });

  it('links a Workload observed before its run', async () => {
    // not the portal's until labelled: the Workload is stored first, then the run appears
    await makeJob(`late-${tag}`, false);
    const late = await workloadFor(`late-${tag}`, waitSets);
    await kueueStatus(
      late,
      admittedStatus(team, waitSets, { main: 'regular' }, now()),
    );
    await waitFor(
      async () => {
        const res = await api()
          .get(`/api/kubeai/observed/objects?kind=Workload&namespace=${ns}`)
          .expect(200);
        return res.body.items.some(
          (o: any) =>
            o.name === late.object.metadata.name && o.phase === 'admitted',
        );
      },
      20_000,
      'the Workload observed',
    );
    await kube.mergePatch(`${paths.jobs}/late-${tag}`, {
      metadata: { labels: { 'app.kubernetes.io/managed-by': 'kubeai' } },
    });
    const run = await runWhen(
      `late-${tag}`,
      'admitted',
      r => r.admission?.state === 'admitted',
    );
    expect(run).toMatchObject({ clusterQueue: team, flavor: 'regular' });
  });

  it('refuses an unknown cluster with 404 naming it', async () => {
    const res = await api().get('/api/kubeai/pools/usage?cluster=nowhere');
    expect(res.status).toBe(404);
    expect(res.body.error.message).toContain('"nowhere"');
  });
});
