/*
 * The sync benchmark with two replicas (issue 17): `run.ts --replicas 2`, after
 * `eval "$(bash scripts/postgres.sh start)"`.
 *
 * 1. A control plane of its own (as run.ts) with `--jobs` labelled Jobs (default 100,000), and a
 *    fresh PostgreSQL database (dropped at the end).
 * 2. Two replicas of the backend (plugins/kubeai-backend/src/informers/__testUtils__/replica.ts:
 *    the kubeai plugin with its defaults — informers and leader election — on that database), each
 *    in a process of its own, started together. Waits until one leads and `GET /runs` counts every
 *    Job; the other must stand by with the leader as the Lease's holder.
 * 3. Flip lag as in run.ts (`--flips` at `--rate` per second; the count polled every 20 ms, the
 *    reads alternating between the replicas). Peak RSS (VmHWM) of the leader and the stand-by.
 * 4. Failover: a second stream of flips (`--failover-flips` at `--failover-rate` per second); after
 *    `--kill-after` of them the leader gets SIGKILL. Measured through the surviving replica: the
 *    time until it reports `leadership.role: leader`, and the gap until a flip made after the kill
 *    is visible in its API (watch order again: the k-th flip by resourceVersion is visible when the
 *    count reaches k). At the end every Job is one run, and exactly the flipped ones Succeeded.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory, { Knex } from 'knex';
import { RegistryStore } from '../../plugins/kubeai-backend/src/database/RegistryStore';
import { kubeaiMetadata } from '../../plugins/kubeai-backend/src/manifests/labels';
import {
  startReplica,
  type Replica,
} from '../../plugins/kubeai-backend/src/informers/__testUtils__/startReplica';
import {
  clusterConfig,
  Kube,
  readClusterState,
} from '../../plugins/kubeai-backend/src/informers/__testUtils__/kube';
import {
  clusterCli,
  formatMarkdown,
  getJson,
  log,
  mapLimit,
  mib,
  ms,
  now,
  procStatus,
  REPLICAS_HEADING,
  sleep,
  stats,
  writeSyncSection,
} from './common';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const NS = 'bench';
const jobsPath = `/apis/batch/v1/namespaces/${NS}/jobs`;
const CLUSTER = 'bench';

function startBenchReplica(
  label: string,
  config: unknown,
  connection: Knex.PgConnectionConfig,
): Promise<Replica> {
  return startReplica({
    label,
    client: 'pg',
    connection,
    config,
    logLevel: process.env.KUBEAI_BENCH_LOG_LEVEL ?? 'warn',
    detached: true,
  });
}

async function clusterStatus(r: Replica): Promise<any> {
  const body = await getJson(`${r.base}/clusters/status`);
  return body.items?.find((c: any) => c.name === CLUSTER);
}

async function stopReplica(r: Replica) {
  if (r.child.exitCode !== null || r.child.signalCode) return;
  const exited = new Promise(resolve => r.child.once('exit', resolve));
  try {
    process.kill(-r.child.pid!, 'SIGTERM');
  } catch {
    return;
  }
  const done = await Promise.race([exited.then(() => true), sleep(15000)]);
  if (!done) {
    try {
      process.kill(-r.child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

interface Flip {
  name: string;
  sent: number;
  done: number;
  rv: number;
}

export async function runReplicas() {
  const JOBS = arg('jobs', 100_000);
  const FLIPS = arg('flips', 1_000);
  const RATE = arg('rate', 100);
  const FAIL_FLIPS = arg('failover-flips', 600);
  const FAIL_RATE = arg('failover-rate', 20);
  const KILL_AFTER = arg('kill-after', 100);
  const SETTLE_S = arg('settle', 2);
  const CREATE_CONCURRENCY = arg('create-concurrency', 16);
  const WRITE = !process.argv.includes('--no-write');
  if (!process.env.POSTGRES_HOST) {
    throw new Error(
      'two replicas need PostgreSQL: eval "$(bash scripts/postgres.sh start)" first',
    );
  }
  const loadAtStart = os.loadavg().map(l => l.toFixed(1));
  const benchStart = now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-bench-sync2-'));
  process.env.KUBEAI_CLUSTER_DIR = path.join(dir, 'cluster');
  // no mirror: the verified CRD cache when there is one, else the small fallback CRDs
  process.env.KUBEAI_CRDS_DIR = path.join(dir, 'no-crds');
  const server: Knex.PgConnectionConfig = {
    host: process.env.POSTGRES_HOST,
    port: Number(process.env.POSTGRES_PORT),
    user: process.env.POSTGRES_USER,
    password: process.env.POSTGRES_PASSWORD,
  };
  const dbName = `kubeai_bench_sync_${randomBytes(4).toString('hex')}`;
  const admin = knexFactory({
    client: 'pg',
    connection: { ...server, database: 'postgres' },
    pool: { min: 0, max: 1 },
  });
  let db: Knex | undefined;
  let created = false;
  const replicas: Replica[] = [];
  let kube: Kube | undefined;
  try {
    log(`starting a control plane in ${process.env.KUBEAI_CLUSTER_DIR}`);
    clusterCli('start');
    const state = readClusterState(process.env.KUBEAI_CLUSTER_DIR);
    kube = new Kube(state);
    const k = kube;
    await k.create('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NS },
    });

    // ---- the Jobs
    const width = String(JOBS - 1).length;
    const names = Array.from(
      { length: JOBS },
      (_, i) => `job-${String(i).padStart(width, '0')}`,
    );
    const createStart = now();
    let createdJobs = 0;
    await mapLimit(names, CREATE_CONCURRENCY, async name => {
      await k.create(jobsPath, {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: kubeaiMetadata(name, NS, { modelRef: 'model:default/bench' }),
        spec: {
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [{ name: 'main', image: 'busybox:1.36' }],
            },
          },
        },
      });
      if (++createdJobs % 10000 === 0)
        log(
          `${createdJobs} Jobs (${((now() - createStart) / 1000).toFixed(
            0,
          )} s)`,
        );
    });
    const createSeconds = (now() - createStart) / 1000;
    log(`created ${JOBS} Jobs in ${createSeconds.toFixed(1)} s`);

    // ---- a fresh database, migrated once (as a deployment's first replica would)
    await admin.raw(`CREATE DATABASE ${dbName}`);
    created = true;
    // diagnosis: the server logs this database's statements slower than that many ms
    if (process.env.KUBEAI_BENCH_PG_LOG_MS)
      await admin.raw(
        `ALTER DATABASE ${dbName} SET log_min_duration_statement = ${Number(
          process.env.KUBEAI_BENCH_PG_LOG_MS,
        )}`,
      );
    const connection = { ...server, database: dbName };
    db = knexFactory({ client: 'pg', connection, pool: { min: 0, max: 2 } });
    await RegistryStore.migrate(db);

    // ---- two replicas, started together
    const config = { kubernetes: clusterConfig([{ name: CLUSTER, state }]) };
    const syncStart = now();
    replicas.push(
      ...(await Promise.all(
        ['A', 'B'].map(label => startBenchReplica(label, config, connection)),
      )),
    );
    const listenedAt = now();
    let leader: Replica | undefined;
    let standby: Replica | undefined;
    let leaderStatus: any;
    let lastLog = 0;
    for (;;) {
      const statuses = await Promise.all(
        replicas.map(r => clusterStatus(r).catch(() => undefined)),
      );
      const i = statuses.findIndex(s => s?.leadership?.role === 'leader');
      if (i >= 0 && statuses[i].state === 'synced') {
        const body = await getJson(`${replicas[i].base}/runs?limit=1`).catch(
          () => undefined,
        );
        if (body?.totalItems === JOBS) {
          leader = replicas[i];
          standby = replicas[1 - i];
          leaderStatus = statuses[i];
          break;
        }
      }
      if (now() - lastLog > 10000) {
        lastLog = now();
        log(
          `waiting for the initial sync: ${statuses
            .map(s => `${s?.leadership?.role ?? '?'}/${s?.state ?? '?'}`)
            .join(', ')}`,
        );
      }
      if (now() - syncStart > 30 * 60_000)
        throw new Error('no replica led and synced within 30 min');
      await sleep(200);
    }
    const syncSeconds = (now() - syncStart) / 1000;
    const syncAfterListenSeconds = (now() - listenedAt) / 1000;
    const holder = leaderStatus.leadership.holder as string;
    const standbyStatus = await clusterStatus(standby);
    const standbyOk =
      standbyStatus?.state === 'standby' &&
      standbyStatus.leadership?.role === 'standby' &&
      standbyStatus.leadership?.holder === holder;
    const leaderAfterSync = procStatus(leader.child.pid!);
    log(
      `replica ${
        leader.label
      } leads (${holder}), synced ${JOBS} runs in ${syncSeconds.toFixed(
        1,
      )} s; RSS ${mib(leaderAfterSync.rss)}; replica ${standby.label}: ${
        standbyStatus?.state
      } (${standbyOk ? 'ok' : JSON.stringify(standbyStatus?.leadership)})`,
    );
    const L = leader;
    const S = standby;
    await sleep(SETTLE_S * 1000);

    // ---- flip lag, reads through either replica
    const flipCount = FLIPS + FAIL_FLIPS;
    if (flipCount > JOBS) {
      // every flip changes a Job of its own
      throw new Error(
        `--flips ${FLIPS} + --failover-flips ${FAIL_FLIPS} need at least as many --jobs (${JOBS})`,
      );
    }
    const step = Math.max(1, Math.floor(JOBS / flipCount));
    const targets = Array.from(
      { length: flipCount },
      (_, i) => names[i * step],
    );
    const streamOne = targets.slice(0, FLIPS);
    const streamTwo = targets.slice(FLIPS);
    const flipJob = async (name: string): Promise<Flip> => {
      const sent = now();
      const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      const body = await k.patchStatus(`${jobsPath}/${name}`, {
        startTime: stamp,
        succeeded: 1,
        completionTime: stamp,
        conditions: [
          { type: 'Complete', status: 'True', lastTransitionTime: stamp },
        ],
      });
      return {
        name,
        sent,
        done: now(),
        rv: Number(body.metadata.resourceVersion),
      };
    };
    const paced = async (
      items: string[],
      rate: number,
      concurrency: number,
      after?: (i: number) => void,
    ) => {
      const out: Flip[] = [];
      const start = now();
      await mapLimit(items, concurrency, async (name, i) => {
        const wait = start + (i * 1000) / rate - now();
        if (wait > 0) await sleep(wait);
        out.push(await flipJob(name));
        after?.(i);
      });
      return out;
    };
    const countPoller = (sources: Replica[]) => {
      const counts: { t: number; count: number }[] = [];
      // how long each answer took: the resolution of the lag measured through it
      const took: number[] = [];
      let stop = false;
      const done = (async () => {
        let last = -1;
        for (let n = 0; !stop; n++) {
          const r = sources[n % sources.length];
          const asked = now();
          const body = await getJson(
            `${r.base}/runs?phase=Succeeded&limit=1`,
          ).catch(() => undefined);
          const t = now();
          took.push(t - asked);
          if (typeof body?.totalItems === 'number' && body.totalItems > last) {
            last = body.totalItems;
            counts.push({ t, count: last });
          }
          await sleep(20);
        }
      })();
      return {
        counts,
        took,
        latest: () => counts[counts.length - 1]?.count ?? 0,
        stop: async () => {
          stop = true;
          await done;
        },
      };
    };
    const lagsOf = (
      flips: Flip[],
      counts: { t: number; count: number }[],
      offset: number,
    ) => {
      const sorted = [...flips].sort((a, b) => a.rv - b.rv);
      // per flip in resourceVersion order; undefined: never seen
      const lagAt = sorted.map((flip, i) => {
        const seen = counts.find(c => c.count >= offset + i + 1);
        return seen ? Math.max(0, seen.t - flip.done) : undefined;
      });
      const lags = lagAt.filter((x): x is number => x !== undefined);
      return { sorted, lagAt, lags, missing: sorted.length - lags.length };
    };
    const waitCount = async (
      poller: { latest: () => number },
      target: number,
      timeoutMs: number,
    ) => {
      const deadline = now() + timeoutMs;
      while (poller.latest() < target && now() < deadline) await sleep(100);
    };

    const rssSamples: { phase: string; label: string; rss: number }[] = [];
    let phase = 'steady';
    const sampler = setInterval(() => {
      for (const r of replicas)
        if (r.child.exitCode === null && !r.child.signalCode)
          rssSamples.push({
            phase,
            label: r.label,
            rss: procStatus(r.child.pid!).rss,
          });
    }, 200);

    phase = 'flips';
    const poll1 = countPoller([L, S]);
    const flipStart = now();
    const flips1 = await paced(streamOne, RATE, 16);
    const flipSeconds = (now() - flipStart) / 1000;
    await waitCount(poll1, FLIPS, 60_000);
    await poll1.stop();
    const one = lagsOf(flips1, poll1.counts, 0);
    const lag1 = stats(one.lags);
    // the lag along the stream (a backlog drains, a steady cost stays): p50 per tenth of the flips
    const tenth = Math.max(1, Math.floor(one.sorted.length / 10));
    const lagAlong = Array.from({ length: 10 }, (_, d) =>
      stats(
        one.lagAt
          .slice(d * tenth, (d + 1) * tenth)
          .filter((x): x is number => x !== undefined),
      ),
    );
    if (process.env.KUBEAI_BENCH_DUMP)
      fs.writeFileSync(
        process.env.KUBEAI_BENCH_DUMP,
        JSON.stringify({
          flips1: one.sorted,
          lags1: one.lagAt,
          counts1: poll1.counts,
        }),
      );
    log(
      `flips: p50 ${ms(lag1.p50)}, p95 ${ms(lag1.p95)}, p99 ${ms(lag1.p99)} (${
        lag1.n
      }/${FLIPS})`,
    );
    const leaderPeak = procStatus(L.child.pid!);
    const standbyPeakBefore = procStatus(S.child.pid!);

    // ---- failover: kill -9 the leader in the middle of a stream of flips
    phase = 'failover';
    const poll2 = countPoller([S]);
    const roles: {
      t: number;
      role: string;
      holder?: string;
      state?: string;
    }[] = [];
    let watchRoles = true;
    const rolePoller = (async () => {
      let last = '';
      while (watchRoles) {
        const s = await clusterStatus(S).catch(() => undefined);
        const t = now();
        const key = `${s?.leadership?.role}/${s?.leadership?.holder}/${s?.state}`;
        if (s && key !== last) {
          last = key;
          roles.push({
            t,
            role: s.leadership?.role,
            holder: s.leadership?.holder,
            state: s.state,
          });
        }
        await sleep(50);
      }
    })();
    let killedAt = 0;
    const failStart = now();
    const flips2 = await paced(streamTwo, FAIL_RATE, 4, i => {
      if (i === KILL_AFTER - 1 && !killedAt) {
        process.kill(-L.child.pid!, 'SIGKILL');
        killedAt = now();
        log(`killed the leader (replica ${L.label}, pid ${L.child.pid})`);
      }
    });
    const failSeconds = (now() - failStart) / 1000;
    await waitCount(poll2, FLIPS + FAIL_FLIPS, 120_000);
    const takeover = roles.find(r => r.t > killedAt && r.role === 'leader');
    const resumed = roles.find(
      r => r.t > killedAt && r.role === 'leader' && r.state === 'synced',
    );
    watchRoles = false;
    await Promise.all([poll2.stop(), rolePoller]);
    clearInterval(sampler);
    const two = lagsOf(flips2, poll2.counts, FLIPS);
    const firstAfter = two.sorted.findIndex(f => f.sent > killedAt);
    const visibleAfter =
      firstAfter >= 0
        ? poll2.counts.find(c => c.count >= FLIPS + firstAfter + 1)
        : undefined;
    const gapMs = visibleAfter ? visibleAfter.t - killedAt : NaN;
    const takeoverMs = takeover ? takeover.t - killedAt : NaN;
    const lag2 = stats(two.lags);
    const lagsWhere = (keep: (f: Flip) => boolean) =>
      stats(
        two.sorted.flatMap((f, i) => {
          const lag = two.lagAt[i];
          return keep(f) && lag !== undefined ? [lag] : [];
        }),
      );
    const lagBeforeKill = lagsWhere(f => f.done < killedAt);
    const lagAfterKill = lagsWhere(f => f.sent > killedAt);
    log(
      `failover: takeover after ${ms(
        takeoverMs,
      )}, a flip made after the kill visible after ${ms(gapMs)}`,
    );

    // ---- the registry: each Job one run; exactly the flipped ones Succeeded
    const perName = await db('kubeai_runs')
      .where({ namespace: NS })
      .select('name')
      .count({ n: '*' })
      .groupBy('name');
    const duplicates = perName.filter(r => Number(r.n) !== 1).length;
    const succeededNames = new Set(
      (
        await db('kubeai_runs')
          .where({ namespace: NS, phase: 'Succeeded' })
          .select('name')
      ).map(r => r.name as string),
    );
    const exactlyFlipped =
      succeededNames.size === flipCount &&
      targets.every(n => succeededNames.has(n));
    const viaSurvivor = await getJson(`${S.base}/runs?limit=1`);
    const survivorStatus = await clusterStatus(S);
    const jobKind = survivorStatus?.kinds?.find((x: any) => x.kind === 'Job');
    const survivorPeak = procStatus(S.child.pid!);
    const loadAtEnd = os.loadavg().map(l => l.toFixed(1));
    const peakOf = (label: string, ph?: string) =>
      rssSamples
        .filter(s => s.label === label && (!ph || s.phase === ph))
        .reduce((a, b) => Math.max(a, b.rss), 0);
    const totalMinutes = (now() - benchStart) / 60_000;

    const mb = (kib: number) => Math.round((kib * 1024) / 1e6);
    const met = (ok: boolean) => (ok ? '**met**' : '**missed**');
    const cpu = os.cpus();
    const raw = [
      REPLICAS_HEADING,
      '',
      `Measured ${new Date()
        .toISOString()
        .slice(
          0,
          10,
        )} by \`bench/sync/run.ts --replicas 2\` (\`bench/sync/replicas.ts\`) on ${
        cpu.length
      } × ${cpu[0]?.model?.trim() ?? 'CPU'}, Node ${
        process.version
      }; a control plane of its own (kube-apiserver ${
        state.binaries?.apiserverVersion ?? ''
      }, etcd on the same machine); PostgreSQL 15 (\`scripts/postgres.sh\`, a fresh database for the run, dropped afterwards); two replicas of the backend, each a process of its own (\`plugins/kubeai-backend/src/informers/__testUtils__/replica.ts\`: the kubeai plugin in startTestBackend with the informers and the leader election at their defaults — Lease 6 s, retry 1.5 s, cursor saved every second). Load average (1/5/15 min) at the start ${loadAtStart.join(
        ' / ',
      )}, at the end ${loadAtEnd.join(
        ' / ',
      )}: 2 cores shared with other work, so every figure here is under contention.`,
      '',
      `- **Cluster**: ${JOBS.toLocaleString(
        'en-US',
      )} Jobs labelled \`app.kubernetes.io/managed-by: kubeai\` (created in ${createSeconds.toFixed(
        1,
      )} s, ${CREATE_CONCURRENCY} at a time).`,
      `- **Start**: both replicas started together; replica ${
        L.label
      } took the Lease, and \`GET /runs\` counted all ${JOBS.toLocaleString(
        'en-US',
      )} runs ${syncSeconds.toFixed(
        1,
      )} s after the start (${syncAfterListenSeconds.toFixed(
        1,
      )} s after both listened); the flips began ${SETTLE_S} s later. The other replica: state \`${
        standbyStatus?.state
      }\`, \`leadership.role: ${standbyStatus?.leadership?.role}\`, holder ${
        standbyStatus?.leadership?.holder === holder
          ? 'the leader'
          : `\`${standbyStatus?.leadership?.holder}\``
      }.`,
      `- **Flips**: ${FLIPS.toLocaleString(
        'en-US',
      )} Jobs set to Complete through \`PATCH …/status\`, ${RATE} per second (${flipSeconds.toFixed(
        1,
      )} s); lag = from the apiserver's answer until \`GET /api/kubeai/runs?phase=Succeeded\` counts it, polled every 20 ms alternately through the leader and the stand-by (an answer took ${ms(
        stats(poll1.took).p50,
      )} p50 / ${ms(
        stats(poll1.took).max,
      )} max: the lag includes that) (the *k*-th flip by resourceVersion is visible at the first answer counting *k*, as in the one-replica run).`,
      `- **Failover**: a second stream of ${FAIL_FLIPS} flips, ${FAIL_RATE} per second (${failSeconds.toFixed(
        1,
      )} s); after the ${KILL_AFTER}th the leader got SIGKILL. Read through the surviving replica only: its \`/clusters/status\` every 50 ms, its \`/runs\` count every 20 ms.`,
      '',
      '| measure | value | target | |',
      '| ------- | ----- | ------ | - |',
      `| flip lag p50 / p95 / p99 / max | ${ms(lag1.p50)} / **${ms(
        lag1.p95,
      )}** / ${ms(lag1.p99)} / ${ms(lag1.max)} (${
        lag1.n
      } / ${FLIPS} seen) | p95 ≤ 1 s | ${met(
        lag1.p95 <= 1000 && one.missing === 0,
      )} |`,
      `| leader peak RSS (VmHWM, start to kill) | **${mb(
        leaderPeak.hwm,
      )} MB** (${mib(leaderPeak.hwm)}; ${mib(
        leaderAfterSync.rss,
      )} right after the sync) | ≤ 600 MB | ${met(
        leaderPeak.hwm * 1024 <= 600e6,
      )} |`,
      `| stand-by peak RSS before the kill | ${mb(
        standbyPeakBefore.hwm,
      )} MB (${mib(standbyPeakBefore.hwm)}) | — | |`,
      `| failover gap: kill → a flip made after the kill visible through the survivor | **${ms(
        gapMs,
      )}** | ≤ 15 s | ${met(gapMs <= 15000)} |`,
      `| kill → the survivor reports \`leadership.role: leader\` | ${ms(
        takeoverMs,
      )}${
        resumed ? ` (\`synced\` after ${ms(resumed.t - killedAt)})` : ''
      } | — | |`,
      `| survivor peak RSS (whole run, leading after the kill) | ${mb(
        survivorPeak.hwm,
      )} MB (${mib(survivorPeak.hwm)}) | ≤ 600 MB | ${met(
        survivorPeak.hwm * 1024 <= 600e6,
      )} |`,
      '',
      `Flip lag along the first stream (p50 of each tenth, in resourceVersion order): ${lagAlong
        .map(x => ms(x.p50))
        .join(', ')}.`,
      '',
      `Failover stream lags: flips answered before the kill p50 ${ms(
        lagBeforeKill.p50,
      )} / max ${ms(lagBeforeKill.max)}; the ${
        lagAfterKill.n
      } flips made after the kill p50 ${ms(lagAfterKill.p50)} / max ${ms(
        lagAfterKill.max,
      )} (all ${lag2.n} / ${FAIL_FLIPS} seen${
        two.missing ? `, ${two.missing} never` : ''
      }). The survivor's Job informer: ${
        jobKind?.relists ?? '?'
      } list(s) (0 = resumed from the leader's cursor without listing again), ${
        jobKind?.events ?? '?'
      } events, ${
        jobKind?.reconnects ?? '?'
      } reconnect(s). Its leadership as polled: ${roles
        .map(
          r =>
            `${r.t < killedAt ? '−' : '+'}${ms(Math.abs(r.t - killedAt))} ${
              r.role
            }/${r.state}`,
        )
        .join(', ')} (times from the kill).`,
      '',
      `Registry afterwards (read in PostgreSQL): ${perName.length.toLocaleString(
        'en-US',
      )} Job names, ${duplicates} with other than one run — ${
        duplicates === 0 && perName.length === JOBS
          ? '**every Job exactly one run**'
          : '**not one run per Job**'
      }; ${
        exactlyFlipped
          ? `exactly the ${flipCount.toLocaleString(
              'en-US',
            )} flipped Jobs Succeeded`
          : `**Succeeded runs (${succeededNames.size}) differ from the ${flipCount} flipped Jobs**`
      }; \`GET /runs\` through the survivor counts ${viaSurvivor?.totalItems?.toLocaleString(
        'en-US',
      )}. Memory samples every 200 ms: leader ${mib(
        peakOf(L.label, 'flips'),
      )} during the flips, stand-by ${mib(
        peakOf(S.label, 'flips'),
      )} during the flips and ${mib(
        peakOf(S.label, 'failover'),
      )} after taking over.`,
      '',
      `Run it: \`eval "$(bash scripts/postgres.sh start)"; node --require @backstage/cli/config/nodeTransform.cjs bench/sync/run.ts --replicas 2\` (about ${Math.max(
        1,
        Math.round(totalMinutes),
      )} min here; \`--jobs\`, \`--flips\`, \`--rate\`, \`--failover-flips\`, \`--failover-rate\`, \`--kill-after\`, \`--no-write\`).`,
      '',
    ].join('\n');
    const report = formatMarkdown(raw);
    process.stdout.write(`${report}\n`);
    for (const r of replicas)
      if (r.child.exitCode === null && !r.child.signalCode)
        process.stderr.write(
          `--- replica ${r.label} log tail\n${r.output().slice(-2000)}\n`,
        );
    if (WRITE) writeSyncSection('replicas', report);
  } finally {
    await Promise.all(replicas.map(stopReplica));
    kube?.close();
    await db?.destroy().catch(() => undefined);
    if (created) {
      await admin
        .raw(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
        .catch((e: unknown) => log(`dropping ${dbName}: ${e}`));
    }
    await admin.destroy().catch(() => undefined);
    try {
      clusterCli('stop');
    } catch (e) {
      log(`stopping the control plane: ${e}`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
