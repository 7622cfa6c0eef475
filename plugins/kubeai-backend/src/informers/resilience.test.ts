/*
 * Resilience of the informers on a control plane of this test's own (KUBEAI_CLUSTER_DIR in a temp
 * directory; the shared one is never touched): the kube-apiserver is killed by its PID in the
 * middle of 200 status changes and restarted on the same etcd. The registry must end equal to the
 * cluster — every Job's phase as the cluster says, no final phase missing, no duplicate run —
 * within 10 s of the last change. Then the apiserver is killed again and `yarn cluster:start`'s
 * code path (startCluster) restarts it in place (same port, certificates, tokens, etcd data): a
 * status change written afterwards shows in the run within 10 s of the apiserver being back.
 */
import {
  mockServices,
  startTestBackend,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { Knex } from 'knex';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { kubeaiMetadata } from '../manifests/labels';
import { kubeaiPlugin } from '../plugin';
import { kindSpec } from './kinds';
import { observe } from './observe';
import {
  clusterConfig,
  clusterScript,
  Kube,
  readClusterState,
  waitFor,
  type ClusterState,
} from './__testUtils__/kube';

jest.setTimeout(900_000);

const JOBS = 40;
const CHANGES_PER_JOB = 5; // 200 status changes
const KILL_AFTER = 100;
const ns = 'resilience';
const jobsPath = `/apis/batch/v1/namespaces/${ns}/jobs`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-resilience-'));
const noCrds = path.join(dir, 'no-crds'); // absent: the project's small fallback CRDs
/** No CRD cache and no local copy of the pinned CRDs: the fallback CRDs, as for every start here. */
const crdEnv = { KUBEAI_CRDS_DIR: noCrds, KUBEAI_CRDS_CACHE: noCrds };
const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

const stamp = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** The k-th status change of a job: three running states, then Complete or Failed. */
function statusChange(job: number, k: number): Record<string, unknown> {
  switch (k) {
    case 0:
      return { startTime: stamp(), active: 1 };
    case 1:
      return { active: 2 };
    case 2:
      return { active: 1, failed: 1 };
    case 3:
      return { active: 1, failed: 2 };
    default:
      return job % 2 === 0
        ? {
            active: 0,
            succeeded: 1,
            completionTime: stamp(),
            conditions: [
              { type: 'Complete', status: 'True', lastTransitionTime: stamp() },
            ],
          }
        : {
            active: 0,
            failed: 3,
            conditions: [
              {
                type: 'Failed',
                status: 'True',
                reason: 'BackoffLimitExceeded',
                message: 'Job has reached the specified backoff limit',
                lastTransitionTime: stamp(),
              },
            ],
          };
  }
}

/** Resolves once the process is gone (or a zombie). */
async function exited(pid: number, timeoutMs = 10_000) {
  const gone = () => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8') === '';
    } catch {
      return true;
    }
  };
  await waitFor(async () => gone(), timeoutMs, `pid ${pid} exited`, 20);
}

/** A fixed interleaving of the jobs' changes; each job's own changes stay in order. */
function schedule(): { job: number; k: number }[] {
  const next = new Array(JOBS).fill(0);
  const out: { job: number; k: number }[] = [];
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  while (out.length < JOBS * CHANGES_PER_JOB) {
    const open = next
      .map((k, job) => ({ k, job }))
      .filter(x => x.k < CHANGES_PER_JOB);
    const pick = open[Math.floor(random() * open.length)];
    out.push({ job: pick.job, k: pick.k });
    next[pick.job]++;
  }
  return out;
}

describe('informers across an apiserver crash', () => {
  let state: ClusterState;
  let kube: Kube;
  let knex: Knex;
  let backend: Awaited<ReturnType<typeof startTestBackend>>;

  beforeAll(async () => {
    await clusterScript(dir, 'startCluster', 600_000, crdEnv);
    state = readClusterState(dir);
    kube = new Kube(state);
    await kube.create('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns },
    });
    knex = await databases.init('SQLITE_3');
    backend = await startTestBackend({
      features: [
        kubeaiPlugin,
        mockServices.database.factory({ knex }),
        catalogServiceMock.factory({ entities: [] }),
        mockServices.rootConfig.factory({
          // the informers' defaults (backoff 250 ms … 10 s, flush 50 ms)
          data: { kubernetes: clusterConfig([{ name: 'own', state }]) },
        }),
      ],
    });
    // Synced within this hook: the informers load @kubernetes/client-node (ESM) on first use, and
    // jest refuses `import` between a hook and a test.
    await waitFor(
      async () =>
        (
          await request(backend.server).get('/api/kubeai/clusters/status')
        ).body.items?.[0]?.state === 'synced',
      60_000,
      'informers synced',
    );
  });

  afterAll(async () => {
    await backend?.stop();
    kube?.close();
    await clusterScript(dir, 'stopCluster').catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('watches a kind whose CRD is installed after the start within seconds', async () => {
    const api = () => request(backend.server);
    const trainJob = async () => {
      const res = await api().get('/api/kubeai/clusters/status').expect(200);
      const own = res.body.items.find((c: any) => c.name === 'own');
      return own.kinds.find((k: any) => k.kind === 'TrainJob');
    };
    // the fallback CRDs have no Trainer v2: the informer skips the kind
    await waitFor(
      async () => (await trainJob())?.state === 'notInstalled',
      20_000,
      'TrainJob reported not installed',
    );
    await kube.create(
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
      {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'trainjobs.trainer.kubeflow.org' },
        spec: {
          group: 'trainer.kubeflow.org',
          scope: 'Namespaced',
          names: {
            plural: 'trainjobs',
            singular: 'trainjob',
            kind: 'TrainJob',
            listKind: 'TrainJobList',
          },
          versions: [
            {
              name: 'v1alpha1',
              served: true,
              storage: true,
              subresources: { status: {} },
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  'x-kubernetes-preserve-unknown-fields': true,
                },
              },
            },
          ],
        },
      },
    );
    // the CRD is served a moment after it is created
    await waitFor(
      async () =>
        kube.create(
          `/apis/trainer.kubeflow.org/v1alpha1/namespaces/${ns}/trainjobs`,
          {
            apiVersion: 'trainer.kubeflow.org/v1alpha1',
            kind: 'TrainJob',
            metadata: kubeaiMetadata('late-crd', ns, {}),
            spec: { runtimeRef: { name: 'torch-distributed' } },
          },
        ),
      10_000,
      'a TrainJob created',
      250,
    );
    // the first look again is 5 s after the first miss
    const seen = await waitFor(
      async () =>
        (
          await api().get(
            `/api/kubeai/observed/objects?kind=TrainJob&namespace=${ns}`,
          )
        ).body.totalItems === 1,
      15_000,
      'the TrainJob observed',
    );
    // observed from the list; the watch that follows it opens a moment later
    await waitFor(
      async () => (await trainJob())?.state === 'watching',
      5_000,
      'the TrainJob watched',
    );
    expect(await trainJob()).toMatchObject({
      state: 'watching',
      apiVersion: 'trainer.kubeflow.org/v1alpha1',
      synced: true,
    });
    // eslint-disable-next-line no-console
    console.log(`TrainJob observed ${seen.ms} ms after its CRD was created`);
  });

  it('ends equal to the cluster, with every final phase, within 10 s of the last change', async () => {
    const api = () => request(backend.server);
    for (let j = 0; j < JOBS; j++) {
      await kube.create(jobsPath, {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: kubeaiMetadata(`job-${j}`, ns, {}),
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
    await waitFor(
      async () =>
        (
          await api().get(
            `/api/kubeai/observed/objects?kind=Job&namespace=${ns}&limit=1000`,
          )
        ).body.totalItems === JOBS,
      // not the measured property (that is the convergence after the crash, below): a loaded CI
      // machine may need a few informer retries against a control plane that has just started
      60_000,
      'all jobs observed',
    ).catch(async error => {
      // say what the informers were doing
      const status = await api().get('/api/kubeai/clusters/status');
      throw new Error(
        `${error.message}; informers: ${JSON.stringify(status.body)}`,
      );
    });

    const changes = schedule();
    let killedPid: number | undefined;
    let restarted: Promise<unknown> | undefined;
    let failedWrites = 0;
    for (const [i, { job, k }] of changes.entries()) {
      if (i === KILL_AFTER) {
        killedPid = readClusterState(dir).pids.apiserver;
        process.kill(killedPid, 'SIGKILL');
        // restart on the same etcd while the writes below keep failing and retrying
        restarted = new Promise(r => setTimeout(r, 1500)).then(() =>
          clusterScript(dir, 'restartApiserver'),
        );
      }
      for (;;) {
        try {
          await kube.patchStatus(
            `${jobsPath}/job-${job}`,
            statusChange(job, k),
          );
          break;
        } catch {
          failedWrites++; // the apiserver is down: as a controller would, try again
          await new Promise(r => setTimeout(r, 100));
        }
      }
    }
    const lastChange = Date.now();
    await restarted;
    expect(killedPid).toBeDefined();
    expect(readClusterState(dir).pids.apiserver).not.toBe(killedPid);
    expect(failedWrites).toBeGreaterThan(0);

    // what the cluster says now
    const listed = await kube.must('GET', `${jobsPath}`);
    const expected = new Map<string, string>(
      listed.items.map((item: any) => [
        item.metadata.name,
        observe('own', kindSpec('Job')!, {
          ...item,
          apiVersion: 'batch/v1',
          kind: 'Job',
        }).phase,
      ]),
    );
    expect([...expected.values()].filter(p => p === 'Succeeded')).toHaveLength(
      JOBS / 2,
    );
    expect([...expected.values()].filter(p => p === 'Failed')).toHaveLength(
      JOBS / 2,
    );

    const registry = async () => {
      const res = await api().get(`/api/kubeai/runs?limit=1000`);
      return (res.body.items ?? []).filter(
        (r: any) => r.namespace === ns && r.name.startsWith('job-'),
      );
    };
    const converged = await waitFor(
      async () => {
        const runs = await registry();
        const same =
          runs.length === JOBS &&
          runs.every((r: any) => expected.get(r.name) === r.phase);
        return same ? runs : undefined;
      },
      10_000,
      'registry equal to the cluster',
      50,
    );
    const convergedAfterMs = Date.now() - lastChange;
    // eslint-disable-next-line no-console
    console.log(
      `apiserver pid ${killedPid} killed after ${KILL_AFTER} of ${changes.length} status changes; ` +
        `${failedWrites} writes retried while it was down; registry equal to the cluster ` +
        `${convergedAfterMs} ms after the last change`,
    );
    expect(convergedAfterMs).toBeLessThanOrEqual(10_000);
    // no final phase missing, no duplicates, the failures with their reason
    const runs: any[] = converged.value;
    expect(new Set(runs.map(r => r.name)).size).toBe(JOBS);
    for (const run of runs) {
      const failed = Number(run.name.slice('job-'.length)) % 2 === 1;
      expect(run).toMatchObject({
        phase: failed ? 'Failed' : 'Succeeded',
        finishedAt: expect.any(String),
        ...(failed ? { reason: 'BackoffLimitExceeded' } : {}),
      });
    }
    const status = await api().get('/api/kubeai/clusters/status');
    const own = status.body.items.find((c: any) => c.name === 'own');
    expect(own.state).toBe('synced');
    const jobInformer = own.kinds.find((k: any) => k.kind === 'Job');
    // eslint-disable-next-line no-console
    console.log(`Job informer: ${JSON.stringify(jobInformer)}`);
    // listed at start, and again after the restart (410) or resumed from its resourceVersion
    expect(jobInformer.relists + jobInformer.reconnects).toBeGreaterThanOrEqual(
      2,
    );
  });

  it('sees a status change within 10 s after `yarn cluster:start` restarts a killed apiserver in place', async () => {
    const api = () => request(backend.server);
    const name = 'restart-in-place';
    const jobPath = `${jobsPath}/${name}`;
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
    const run = async () => {
      const res = await api().get(`/api/kubeai/runs?limit=1000`);
      return (res.body.items ?? []).find(
        (r: any) => r.namespace === ns && r.name === name,
      );
    };
    await waitFor(run, 20_000, 'the job observed as a run');
    await kube.patchStatus(jobPath, { startTime: stamp(), active: 1 });
    await waitFor(
      async () => (await run())?.phase === 'Running',
      10_000,
      'the run running',
    );

    const before = readClusterState(dir);
    // when the backend's Job informer watches again (after it noticed the crash)
    const jobInformer = async () =>
      (await api().get('/api/kubeai/clusters/status')).body.items
        .find((c: any) => c.name === 'own')
        .kinds.find((k: any) => k.kind === 'Job');
    let polling = true;
    const watchingAgain = (async () => {
      let down = false;
      while (polling) {
        const now = (await jobInformer().catch(() => undefined))?.state;
        if (now && now !== 'watching') down = true;
        else if (down && now === 'watching') return Date.now();
        await new Promise(r => setTimeout(r, 50));
      }
      return undefined;
    })();

    const killedAt = Date.now();
    process.kill(before.pids.apiserver, 'SIGKILL');
    await exited(before.pids.apiserver);
    // what `yarn cluster:start` runs: it finds the apiserver dead and restarts it in place
    let started: any;
    try {
      started = await clusterScript(dir, 'startCluster', 300_000, crdEnv);
    } catch (error) {
      polling = false;
      throw error;
    }
    expect(started).toMatchObject({
      alreadyRunning: false,
      restarted: ['kube-apiserver'],
    });
    const after = readClusterState(dir) as ClusterState & {
      restartedAt: string;
    };
    expect(after.server).toBe(before.server);
    expect(after.tokens).toEqual(before.tokens);
    expect(after.pids.etcd).toBe(before.pids.etcd);
    expect(after.pids.apiserver).not.toBe(before.pids.apiserver);
    // the apiserver answered /readyz at `restartedAt` (startCluster then re-applies RBAC and CRDs)
    const readyAt = Date.parse(after.restartedAt);

    // as a controller would: the job completes
    await waitFor(
      () =>
        kube.patchStatus(jobPath, {
          active: 0,
          succeeded: 1,
          completionTime: stamp(),
          conditions: [
            { type: 'Complete', status: 'True', lastTransitionTime: stamp() },
          ],
        }),
      5_000,
      'the status change written',
      100,
    );
    const written = Date.now();
    await waitFor(
      async () => (await run())?.phase === 'Succeeded',
      10_000,
      'the run succeeded',
      50,
    );
    const seen = Date.now();
    const watchedAt = await Promise.race([
      watchingAgain,
      new Promise<undefined>(r => {
        const timer = setTimeout(r, Math.max(0, readyAt + 10_000 - Date.now()));
        watchingAgain.finally(() => clearTimeout(timer));
      }),
    ]);
    polling = false;
    // eslint-disable-next-line no-console
    console.log(
      `apiserver pid ${before.pids.apiserver} killed; ready again after ${
        readyAt - killedAt
      } ms, startCluster (in place) done after ${
        written - killedAt
      } ms; the Job informer watched again ${
        watchedAt === undefined ? '(not seen)' : `${watchedAt - readyAt} ms`
      } after the apiserver was ready; the status change seen ${
        seen - written
      } ms after it was written`,
    );
    expect(watchedAt).toBeDefined();
    expect(watchedAt! - readyAt).toBeLessThanOrEqual(10_000);
    expect(seen - written).toBeLessThanOrEqual(10_000);
    const status = await api().get('/api/kubeai/clusters/status');
    expect(status.body.items.find((c: any) => c.name === 'own').state).toBe(
      'synced',
    );
  });
});
