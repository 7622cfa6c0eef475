/**
 * What the registry reads of Kueue's objects (kueue.ts) and a team's usage (queueUsage.ts), on
 * fixtures as Kueue writes them — each validated against the upstream v1beta2 CRD schema (Workload:
 * Kueue v0.19.2's, pinned under newest/ since a 1.20 apiserver refuses it) — and every field the code
 * reads checked to exist in that schema.
 */
import {
  admittedStatus,
  finishedStatus,
  kueueWorkload,
  pendingStatus,
  teamClusterQueue,
  type PodSetFixture,
} from '../../__testUtils__/kueue';
import {
  crdSchema,
  validateAgainstCrd,
} from '../../manifests/__testUtils__/crdSchemas';
import {
  clusterQueueSummary,
  formatAmount,
  KUEUE_FIELDS_READ,
  podRequests,
  workloadSummary,
} from './kueue';
import { computeUsage, pendingMessage, type QueueRecord } from './queueUsage';

const AT = '2026-12-03T10:00:00Z';
const GI = 2 ** 30;
const owner = (name: string) => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  name,
  uid: `uid-${name}`,
});

const bigSets: PodSetFixture[] = [
  { name: 'main', count: 4, requests: { cpu: '5', memory: '8Gi' } },
];
const mpiSets: PodSetFixture[] = [
  { name: 'launcher', count: 1, requests: { cpu: '500m', memory: '1Gi' } },
  { name: 'worker', count: 3, requests: { cpu: '1500m', memory: '2Gi' } },
];
const waitingSets: PodSetFixture[] = [
  { name: 'main', count: 1, requests: { cpu: '10' } },
];
const doneSets: PodSetFixture[] = [
  { name: 'main', count: 2, requests: { cpu: '3' } },
];

const workload = (name: string, podSets: PodSetFixture[], status: object) => ({
  ...kueueWorkload({
    name: `job-${name}-1a2b3`,
    namespace: 'cv-team',
    owner: owner(name),
    queueName: 'cv-team',
    podSets,
  }),
  status,
});

const big = workload(
  'big',
  bigSets,
  admittedStatus('cv-team', bigSets, { main: 'elastic' }, AT),
);
const mpi = workload(
  'mpi',
  mpiSets,
  admittedStatus(
    'cv-team',
    mpiSets,
    { launcher: 'regular', worker: 'regular' },
    AT,
  ),
);
const kueueSays =
  "couldn't assign flavors to pod set main: insufficient unused quota for cpu in flavor elastic, 10 more needed";
const waiting = workload('waiting', waitingSets, pendingStatus(kueueSays, AT));
const done = workload(
  'done',
  doneSets,
  finishedStatus(
    admittedStatus('cv-team', doneSets, { main: 'elastic' }, AT),
    AT,
  ),
);

const cvQueue = teamClusterQueue({
  name: 'cv-team',
  cohort: 'shared',
  namespaces: ['cv-team', 'cv-team-dev'],
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
});
const searchQueue = teamClusterQueue({
  name: 'search-reco',
  cohort: 'shared',
  namespaces: ['search-reco'],
  flavors: [
    {
      name: 'elastic',
      resources: [
        { name: 'cpu', nominalQuota: '8', lendingLimit: '4' },
        { name: 'memory', nominalQuota: '32Gi' },
      ],
    },
  ],
});

/** The schema node at a path of KUEUE_FIELDS_READ, or undefined. */
function schemaAt(schema: any, path: string): any {
  let node = schema;
  for (const part of path.split('.')) {
    const [, name, suffix] = /^([^[{]+)(\[\]|\{\})?$/.exec(part)!;
    node = node?.properties?.[name];
    if (suffix === '[]') node = node?.items;
    if (suffix === '{}') node = node?.additionalProperties;
  }
  return node;
}

describe('Kueue objects against the upstream v1beta2 schemas', () => {
  const schemas = {
    Workload: crdSchema('kueue.x-k8s.io/v1beta2', 'Workload', 'newest'),
    ClusterQueue: crdSchema('kueue.x-k8s.io/v1beta2', 'ClusterQueue', 'top'),
  };

  it.each(
    Object.keys(KUEUE_FIELDS_READ) as Array<keyof typeof KUEUE_FIELDS_READ>,
  )('every field read of a %s is in its schema', kind => {
    expect(schemas[kind]).toBeDefined();
    const missing = KUEUE_FIELDS_READ[kind].filter(
      path => !schemaAt(schemas[kind], path),
    );
    expect(missing).toEqual([]);
    // and the check can fail
    expect(schemaAt(schemas[kind], 'spec.noSuchField')).toBeUndefined();
  });

  it.each([
    ['admitted', big],
    ['admitted, two pod sets', mpi],
    ['pending', waiting],
    ['finished', done],
    ['ClusterQueue', cvQueue],
  ])('the %s fixture is valid, nothing pruned', (_, object) => {
    const set = object.kind === 'Workload' ? 'newest' : 'top';
    const result = validateAgainstCrd(object, set);
    expect(result.errors).toEqual([]);
    expect(result.pruned).toEqual([]);
    expect(result.valid).toBe(true);
  });
});

describe('reading Kueue objects', () => {
  it('formats canonical amounts for people', () => {
    expect(formatAmount('cpu', 18000)).toBe('18');
    expect(formatAmount('cpu', 1500)).toBe('1500m');
    expect(formatAmount('memory', 64 * GI)).toBe('64Gi');
  });

  it('counts a pod as Kueue does: containers summed, init containers as a floor, overhead added', () => {
    expect(
      podRequests({
        containers: [
          { resources: { requests: { cpu: '1', memory: '1Gi' } } },
          { resources: { limits: { cpu: '500m' } } },
        ],
        initContainers: [{ resources: { requests: { cpu: '4' } } }],
        overhead: { memory: '128Mi' },
      }),
    ).toEqual({ cpu: 4000, memory: GI + 128 * 2 ** 20 });
  });

  it('summarises a Workload: state, queue, pod sets, assignments, owner', () => {
    expect(workloadSummary(mpi)).toEqual({
      queueName: 'cv-team',
      clusterQueue: 'cv-team',
      state: 'admitted',
      since: AT,
      message: 'The workload is admitted',
      podSets: [
        { name: 'launcher', count: 1, requests: { cpu: 500, memory: GI } },
        { name: 'worker', count: 3, requests: { cpu: 1500, memory: 2 * GI } },
      ],
      assignments: [
        {
          name: 'launcher',
          count: 1,
          flavors: { cpu: 'regular', memory: 'regular' },
        },
        {
          name: 'worker',
          count: 3,
          flavors: { cpu: 'regular', memory: 'regular' },
        },
      ],
      ownerUid: 'uid-mpi',
    });
    expect(workloadSummary(waiting)).toMatchObject({
      state: 'pending',
      message: kueueSays,
      assignments: [],
    });
    expect(workloadSummary(done).state).toBe('finished');
    expect(
      workloadSummary({ ...waiting, status: { conditions: [] } }).since,
    ).toBeUndefined();
  });

  it('summarises a ClusterQueue', () => {
    expect(clusterQueueSummary(searchQueue)).toEqual({
      cohort: 'shared',
      namespaces: ['search-reco'],
      quotas: [
        {
          flavor: 'elastic',
          resource: 'cpu',
          nominal: 8000,
          lendingLimit: 4000,
        },
        { flavor: 'elastic', resource: 'memory', nominal: 32 * GI },
      ],
    });
  });
});

describe('usage per team', () => {
  const queues: QueueRecord[] = [cvQueue, searchQueue].map(q => ({
    name: q.metadata.name,
    summary: clusterQueueSummary(q),
  }));
  const records = [big, mpi, waiting, done].map(w => ({
    namespace: w.metadata.namespace,
    name: w.metadata.name,
    summary: workloadSummary(w),
  }));
  const usage = computeUsage(queues, records);

  it('adds up exactly from the admitted Workloads: used, borrowed, lendable, lent', () => {
    const cv = usage.get('cv-team')!;
    expect(cv.admitted).toBe(2);
    expect(cv.flavors).toEqual([
      {
        flavor: 'elastic',
        resources: [
          // big: 4 × 5 CPU = 20 of 16 → 4 borrowed (finished `done` no longer counts)
          {
            resource: 'cpu',
            nominal: 16000,
            used: 20000,
            borrowed: 4000,
            lent: 0,
            lendable: 0,
            borrowingLimit: 8000,
          },
          // 4 × 8Gi
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
          // mpi: 1 × 500m + 3 × 1500m = 5 of 8; lendable min(4, 3)
          {
            resource: 'cpu',
            nominal: 8000,
            used: 5000,
            borrowed: 0,
            lent: 0,
            lendable: 3000,
            lendingLimit: 4000,
          },
          // 1 × 1Gi + 3 × 2Gi
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
    ]);
    const search = usage.get('search-reco')!;
    // cv-team's 4 borrowed CPUs on elastic come from the only lender there
    expect(search.flavors[0].resources[0]).toEqual({
      resource: 'cpu',
      nominal: 8000,
      used: 0,
      borrowed: 0,
      lent: 4000,
      lendable: 4000,
      lendingLimit: 4000,
    });
    expect(search.pending).toEqual([]);
  });

  it('lists what waits, with its total requests', () => {
    expect(usage.get('cv-team')!.pending).toEqual([
      {
        namespace: 'cv-team',
        name: 'job-waiting-1a2b3',
        state: 'pending',
        requests: { cpu: 10000 },
        since: AT,
        message: kueueSays,
      },
    ]);
  });

  it('says why a workload waits from quota and usage; nothing when a flavor has room', () => {
    const summary = workloadSummary(waiting);
    const cv = queues[0];
    expect(pendingMessage(summary, cv, usage, queues)).toBe(
      "pending: cpu 30 of 16 used in `cv-team` (20 + this run's 10, flavor `elastic`), cohort has none to lend",
    );
    // routed to regular: only that flavor counts (5 + 10 of 8; search-reco lends no regular)
    expect(pendingMessage(summary, cv, usage, queues, 'regular')).toBe(
      "pending: cpu 15 of 8 used in `cv-team` (5 + this run's 10, flavor `regular`), cohort has none to lend",
    );
    // 3 CPUs fit in regular: Kueue knows better why it waits
    const small = workloadSummary(
      workload(
        'small',
        [{ name: 'main', count: 1, requests: { cpu: '3' } }],
        pendingStatus('x', AT),
      ),
    );
    expect(pendingMessage(small, cv, usage, queues)).toBeUndefined();
    // without the borrowing: search-reco could lend 4 on elastic, cv-team may borrow 8
    const lighter = computeUsage(
      queues,
      records.filter(r => r.name !== big.metadata.name),
    );
    const five = workloadSummary(
      workload(
        'five',
        [{ name: 'main', count: 1, requests: { cpu: '21' } }],
        pendingStatus('x', AT),
      ),
    );
    expect(pendingMessage(five, cv, lighter, queues, 'elastic')).toBe(
      "pending: cpu 21 of 16 used in `cv-team` (0 + this run's 21, flavor `elastic`), cohort has 4 to lend",
    );
  });
});
