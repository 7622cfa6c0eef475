/*
 * Two replicas of the portal in two processes on one PostgreSQL and the local kube-apiserver
 * (`yarn cluster:start`): one leads the cluster's informers (a Lease), the other stands by; the
 * leader is killed (SIGKILL) during a stream of Job status changes, the other leads within 15 s,
 * resumes the watch where the leader's stored cursor says, and the registry ends with exactly the
 * changes made, each recorded once.
 */
import { TestDatabases } from '@backstage/backend-test-utils';
import { randomBytes } from 'node:crypto';
import { Knex } from 'knex';
import { RegistryStore } from '../database/RegistryStore';
import { kubeaiMetadata } from '../manifests/labels';
import { POSTGRES_ID } from '../__testUtils__/databases';
import { purgeNamespaces } from '../__testUtils__/localCluster';
import { startReplica, type Replica } from './__testUtils__/startReplica';
import {
  clusterConfig,
  Kube,
  readClusterState,
  waitFor,
} from './__testUtils__/kube';

jest.setTimeout(180_000);

const state = readClusterState();
const kube = new Kube(state);
const suffix = randomBytes(3).toString('hex');
const ns = `kubeai-replicas-${suffix}`;
const jobsPath = `/apis/batch/v1/namespaces/${ns}/jobs`;
const JOBS = 150;
const databases = TestDatabases.create({ ids: [POSTGRES_ID] });

/** A replica of this test: its own process, the shared PostgreSQL and the local apiserver. */
function startTestReplica(label: string, knex: Knex): Promise<Replica> {
  return startReplica({
    label,
    client: 'pg',
    // knex keeps the password out of JSON (non-enumerable): name it
    connection: {
      ...knex.client.config.connection,
      password: knex.client.config.connection.password,
    },
    entities: ['a', 'b'].map(name => ({
      apiVersion: 'kubeai.io/v1alpha1',
      kind: 'Model',
      metadata: { name: `${name}-${suffix}`, namespace: 'default' },
      spec: {},
    })),
    config: {
      kubernetes: clusterConfig([{ name: 'local', state }]),
      kubeai: {
        informers: { kinds: ['Job'], flushIntervalMs: 20 },
        // the defaults (lease 6 s, retry 1.5 s: ≤ 9 s to take over), as shipped
      },
    },
    logLevel: 'info',
  });
}

async function clusterStatus(replica: Replica) {
  const res = await fetch(`${replica.base}/clusters/status`);
  const body = await res.json();
  return body.items.find((c: any) => c.name === 'local');
}

const replicas: Replica[] = [];
let knex: Knex;
let leasePath: string | undefined;

beforeAll(async () => {
  knex = await databases.init(POSTGRES_ID);
  await RegistryStore.migrate(knex);
  await kube.create('/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: ns },
  });
  for (let i = 0; i < JOBS; i++) {
    const name = `task-${String(i).padStart(3, '0')}`;
    await kube.create(jobsPath, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: kubeaiMetadata(name, ns, {}),
      spec: {
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [{ name: 'main', image: 'busybox:1.36' }],
          },
        },
      },
    });
  }
});

afterAll(async () => {
  // graceful stops: the leader deletes its Lease
  await Promise.all(
    replicas.map(
      r =>
        new Promise<void>(resolve => {
          if (r.child.exitCode !== null || r.child.signalCode) {
            resolve();
          } else {
            r.child.once('exit', () => resolve());
            r.child.kill('SIGTERM');
          }
        }),
    ),
  );
  // gone already unless a replica could not stop gracefully
  if (leasePath) await kube.remove(leasePath);
  await purgeNamespaces(ns);
  kube.close();
});

it('one replica leads; killed mid-stream, the other leads within 15 s and the registry has every change once', async () => {
  const a = await startTestReplica('A', knex);
  replicas.push(a);
  const synced = await waitFor(
    async () => {
      const s = await clusterStatus(a);
      return s?.state === 'synced' && s.leadership?.role === 'leader' && s;
    },
    60_000,
    'replica A leads and has synced',
  );
  const holderA = synced.value.leadership.holder;
  leasePath = `/apis/coordination.k8s.io/v1/namespaces/${synced.value.leadership.lease.replace(
    '/',
    '/leases/',
  )}`;
  expect(synced.value.leadership.lease).toMatch(
    /^kube-system\/kubeai-informers-[0-9a-f]{10}-local$/,
  );
  await waitFor(
    async () =>
      Number(
        (
          await knex('kubeai_runs').where({ namespace: ns }).count({ n: '*' })
        )[0].n,
      ) === JOBS,
    30_000,
    'every Job a run',
  );

  const b = await startTestReplica('B', knex);
  replicas.push(b);
  const { value: standby } = await waitFor(
    async () => {
      const s = await clusterStatus(b);
      return s?.leadership?.holder && s;
    },
    10_000,
    'replica B sees the Lease',
  );
  expect(standby.state).toBe('standby');
  expect(standby.leadership).toMatchObject({
    role: 'standby',
    holder: holderA,
  });
  // the stand-by answers reads from the shared registry
  const runsViaB = await (
    await fetch(`${b.base}/runs?kind=training&limit=1000`)
  ).json();
  expect(
    runsViaB.items?.filter((r: any) => r.namespace === ns) ?? runsViaB,
  ).toHaveLength(JOBS);

  // Both replicas answer the same lineage with the same ETag (versions of its scopes from the
  // shared database), and a write through one touching model A leaves model B's answer valid on both.
  const lineage = (r: Replica, model: string, etag?: string) =>
    fetch(`${r.base}/lineage?entityRef=model:default/${model}-${suffix}`, {
      // fetch adds `Cache-Control: no-cache` to a conditional request unless told otherwise,
      // and a server must not answer no-cache with 304
      headers: etag
        ? { 'If-None-Match': etag, 'Cache-Control': 'max-age=0' }
        : {},
    });
  for (const [replica, model] of [
    [a, 'a'],
    [b, 'b'],
  ] as const) {
    const res = await fetch(
      `${replica.base}/models/default/${model}-${suffix}/versions`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          artifact: { uri: `s3://m/${model}-${suffix}/1`, format: 'onnx' },
        }),
      },
    );
    expect(res.status).toBe(201);
  }
  const tagOf = async (r: Replica, model: string) => {
    const res = await lineage(r, model);
    expect(res.status).toBe(200);
    return res.headers.get('etag')!;
  };
  const tagB = await tagOf(a, 'b');
  expect(tagB).toMatch(/^W\/"lineage-/);
  expect(await tagOf(b, 'b')).toBe(tagB);
  const tagA = await tagOf(b, 'a');
  expect(await tagOf(a, 'a')).toBe(tagA);
  // model A's second version, through replica B
  await fetch(`${b.base}/models/default/a-${suffix}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      artifact: { uri: `s3://m/a-${suffix}/2`, format: 'onnx' },
    }),
  });
  for (const r of [a, b]) {
    expect((await lineage(r, 'b', tagB)).status).toBe(304);
    expect((await lineage(r, 'a', tagA)).status).toBe(200);
  }
  expect(await tagOf(a, 'a')).toBe(await tagOf(b, 'a'));

  // a stream of status changes, 10 per second; the leader dies after 20, the rest before, during and after the takeover
  const stamps = new Map<string, string>();
  let killedAt = 0;
  const t0 = Date.now();
  const seen: string[] = [];
  let polling = true;
  (async () => {
    let last = '';
    while (polling) {
      const s = await clusterStatus(b).catch(() => undefined);
      const now = `${s?.leadership?.role}/${s?.leadership?.holder}`;
      if (now !== last)
        seen.push(
          `${Date.now() - t0}ms ${now} (killed at ${
            killedAt ? killedAt - t0 : '-'
          })`,
        );
      last = now;
      await new Promise(r => setTimeout(r, 50));
    }
  })();
  const flips = (async () => {
    for (let i = 0; i < JOBS; i++) {
      const name = `task-${String(i).padStart(3, '0')}`;
      const stamp = new Date(Date.UTC(2026, 11, 3, 10, 0, i))
        .toISOString()
        .replace(/\.\d+Z$/, 'Z');
      stamps.set(name, stamp);
      await kube.patchStatus(`${jobsPath}/${name}`, {
        startTime: stamp,
        succeeded: 1,
        completionTime: stamp,
        conditions: [
          { type: 'Complete', status: 'True', lastTransitionTime: stamp },
        ],
      });
      if (i === 20) {
        a.child.kill('SIGKILL');
        killedAt = Date.now();
      }
      await new Promise(r => setTimeout(r, 100));
    }
  })();
  await waitFor(async () => killedAt > 0, 30_000, 'the kill');
  const takeover = await waitFor(
    async () => {
      const s = await clusterStatus(b);
      return s?.leadership?.role === 'leader' && s;
    },
    20_000,
    'replica B leads',
    100,
  );
  const gapMs = Date.now() - killedAt;
  polling = false;
  process.stdout.write(`${seen.join('\n')}\n`);
  expect(gapMs).toBeLessThan(15_000);
  expect(takeover.value.leadership.holder).not.toBe(holderA);
  await flips;

  // every change made, in the registry, once
  await waitFor(
    async () =>
      Number(
        (
          await knex('kubeai_runs')
            .where({ namespace: ns, phase: 'Succeeded' })
            .count({ n: '*' })
        )[0].n,
      ) === JOBS,
    30_000,
    'every flip recorded',
  );
  const runs = await knex('kubeai_runs')
    .where({ namespace: ns })
    .select('name', 'phase', 'finished_at');
  expect(runs).toHaveLength(JOBS);
  expect(new Set(runs.map(r => r.name)).size).toBe(JOBS);
  for (const run of runs) {
    expect(run.phase).toBe('Succeeded');
    expect(run.finished_at?.replace(/\.\d+Z$/, 'Z')).toBe(stamps.get(run.name));
  }
  // B resumed from A's cursor (no relist), and stores its own up to the last change
  const jobs = await kube.request('GET', jobsPath);
  const lastChange = Math.max(
    ...jobs.body.items.map((j: any) => Number(j.metadata.resourceVersion)),
  );
  await waitFor(
    async () => {
      const row = await knex('kubeai_informer_cursors')
        .where({ cluster: 'local', kind: 'Job' })
        .first();
      return (
        row?.written_by === takeover.value.leadership.holder &&
        Number(row.resource_version) >= lastChange
      );
    },
    5_000,
    "B's cursor at the last change",
  );
  // (read now: at the moment B took the Lease its informers may not have been created yet)
  const jobKind = (await clusterStatus(b))?.kinds.find(
    (k: any) => k.kind === 'Job',
  );
  expect(jobKind?.relists).toBe(0);
  process.stdout.write(
    `informer failover: leader killed → the other leads after ${gapMs} ms; ${JOBS} status changes, each recorded once\n`,
  );
});
