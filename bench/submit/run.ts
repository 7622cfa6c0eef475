/*
 * Submit benchmark: 20,000 periodic-forecast training tasks (CronJobs running Prophet, the daily
 * volume of the business-forecasting users) through `POST /api/kubeai/jobs` of the real plugin to
 * the local kube-apiserver (`yarn cluster:start`), and in the same run, for the same objects:
 *   (a) `kubectl apply -f` per task on a sample, extrapolated to all tasks;
 *   (b) raw `@kubernetes/client-node` creates (`KubernetesObjectApi.create`), same concurrency.
 *
 *   node --require @backstage/cli/config/nodeTransform.cjs bench/submit/run.ts
 *     [--count 20000] [--concurrency 32] [--kubectl-sample 50] [--postgres] [--no-write]
 *
 * The plugin runs in this process (startTestBackend: the permission backend with the allow-all
 * policy, mock catalog and auth, the registry in a SQLite file — or PostgreSQL with --postgres,
 * from `eval "$(bash scripts/postgres.sh start)"`); the requests come from a separate process
 * (bench/submit/load.mjs), as users' would. Each phase uses its own namespace; objects are removed
 * with one deletecollection per namespace after each phase (so every phase starts from the same
 * apiserver state), and the namespaces at the end.
 *
 * Prints a Markdown report and writes it into docs/benchmarks.md (section "Submit").
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import knexFactory, { Knex } from 'knex';
import YAML from 'yaml';
import kubeaiPlugin from '../../plugins/kubeai-backend/src';
import { permissionPolicyModule } from '../../packages/backend/src/permissionPolicy';
import { Access } from '../../plugins/kubeai-backend/src/service/access/Access';
import { realAuth } from '../../plugins/kubeai-backend/src/service/__testUtils__/realAuth';
import { buildTraining } from '../../plugins/kubeai-backend/src/manifests';
import {
  localClusterState,
  localKubernetesConfig,
} from '../../plugins/kubeai-backend/src/service/__testUtils__/clusterRoutes';
import { localKubeconfigPath } from '../../plugins/kubeai-backend/src/__testUtils__/localCluster';
import { cpuPerTask, cpuSample } from './cpu';
import {
  fmt,
  submitReport,
  writeSection,
  type ApiPhaseResult,
  type LoadReport,
} from './report';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const COUNT = arg('count', 20_000);
const CONCURRENCY = arg('concurrency', 32);
const KUBECTL_SAMPLE = arg('kubectl-sample', 50);
/** Tasks per `POST /jobs/batch`, and batches in flight (× 16 applies each = CONCURRENCY). */
const BATCH = arg('batch', 100);
const BATCH_CONCURRENCY = Math.max(1, Math.round(CONCURRENCY / 16));
const WARMUP = Math.min(300, COUNT);
const POSTGRES = process.argv.includes('--postgres');
const WRITE = !process.argv.includes('--no-write');
const KEEP_ALIVE = process.argv.includes('--keep-alive');
/**
 * The configuration a company runs (default): the `ownership` policy (the team of the namespaces
 * owns them: every write decided per namespace) and Kubernetes impersonation (every apply sent as
 * the user, decided by the cluster's RBAC too). `--allow-all`: the allow-all policy, no
 * impersonation (the earlier configuration).
 */
const ALLOW_ALL = process.argv.includes('--allow-all');
/** The team of the forecasting users, owner of the benchmark's namespaces. */
const TEAM = 'group:default/biz-forecasting';

/**
 * What the permission decisions cost: the routes' one decision step (Access.authorize: every check
 * of a request, conditional decisions applied to the namespaces by the permission backend) is timed in this process, where
 * the plugin runs. Per phase: calls, checks, and the mean time a request spends deciding.
 */
const decisions = { calls: 0, checks: 0, ms: 0 };
const decide = Access.prototype.authorize;
Access.prototype.authorize = async function timedAuthorize(
  this: Access,
  ...args: Parameters<typeof decide>
) {
  const start = performance.now();
  try {
    return await decide.apply(this, args);
  } finally {
    decisions.calls += 1;
    decisions.checks += args[1].length;
    decisions.ms += performance.now() - start;
  }
};
const PROFILE =
  process.argv.indexOf('--profile') > 0
    ? process.argv[process.argv.indexOf('--profile') + 1]
    : undefined;

/** A CPU profile of this process (the backend) during the API phase, for `--profile <file>`. */
async function startProfile() {
  const inspector = await import('node:inspector');
  const session = new inspector.Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<any>((resolve, reject) =>
      session.post(method, params, (err, result) =>
        err ? reject(err) : resolve(result),
      ),
    );
  await post('Profiler.enable');
  await post('Profiler.start');
  return {
    async stop(file: string) {
      const { profile } = await post('Profiler.stop');
      fs.writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

const state = localClusterState();
const ca = fs.readFileSync(state.caFile);

/** One raw call to the apiserver as the admin. */
function kube(
  method: string,
  apiPath: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(apiPath, state.server),
      {
        method,
        ca,
        headers: {
          Authorization: `Bearer ${state.adminToken}`,
          Accept: 'application/json',
          ...(body ? { 'Content-Type': 'application/json' } : {}),
        },
      },
      res => {
        let text = '';
        res.on('data', c => (text += c));
        res.on('end', () => {
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', reject);
    if (body) req.write(JSON.stringify(body));
    req.end();
  });
}

const cronJobs = (ns: string) =>
  `/apis/batch/v1beta1/namespaces/${ns}/cronjobs`;

async function countCronJobs(ns: string): Promise<number> {
  let total = 0;
  let token: string | undefined;
  do {
    const res = await kube(
      'GET',
      `${cronJobs(ns)}?limit=5000${
        token ? `&continue=${encodeURIComponent(token)}` : ''
      }`,
    );
    total += res.body.items.length;
    token = res.body.metadata?.continue || undefined;
  } while (token);
  return total;
}

async function createNamespace(name: string) {
  const res = await kube('POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      labels: {
        'kubeai.io/bench': 'submit',
        // owned by the forecasting team (the ownership policy reads it)
        'kubeai.io/owner': 'group-default-biz-forecasting',
      },
    },
  });
  if (res.status !== 201) throw new Error(`namespace ${name}: ${res.status}`);
  // the team may edit batch objects in its namespace (what impersonated writes are decided by;
  // a Role of its own: the built-in `edit` is aggregated by a controller this control plane lacks)
  const role = await kube(
    'POST',
    `/apis/rbac.authorization.k8s.io/v1/namespaces/${name}/roles`,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'batch-edit' },
      rules: [
        { apiGroups: ['batch'], resources: ['cronjobs', 'jobs'], verbs: ['*'] },
      ],
    },
  );
  if (role.status !== 201) throw new Error(`role in ${name}: ${role.status}`);
  const binding = await kube(
    'POST',
    `/apis/rbac.authorization.k8s.io/v1/namespaces/${name}/rolebindings`,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'biz-forecasting-edit' },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Role',
        name: 'batch-edit',
      },
      subjects: [
        {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'Group',
          name: `backstage:${TEAM}`,
        },
      ],
    },
  );
  if (binding.status !== 201) {
    throw new Error(`rolebinding in ${name}: ${binding.status}`);
  }
}

/**
 * Removes every CronJob of a namespace with one deletecollection, in the background (the default
 * for batch/v1beta1 is orphaning, which needs the garbage collector this control plane lacks).
 */
async function clearCronJobs(ns: string) {
  // 20,000 objects take longer than the apiserver's request timeout (60 s): the deletion goes on
  // as far as it got; send it again until nothing is left.
  for (let attempt = 1; ; attempt++) {
    const res = await kube(
      'DELETE',
      `${cronJobs(ns)}?propagationPolicy=Background`,
    );
    if (res.status === 200 && (await countCronJobs(ns)) === 0) return;
    if (res.status !== 200 && res.status !== 504 && res.status !== 500) {
      throw new Error(`deletecollection ${ns}: ${res.status}`);
    }
    if (attempt >= 30)
      throw new Error(`deletecollection ${ns}: still not empty`);
  }
}

async function deleteNamespace(ns: string) {
  await clearCronJobs(ns).catch(() => undefined);
  // No namespace controller runs locally: the namespace stays Terminating, which is harmless.
  await kube('DELETE', `/api/v1/namespaces/${ns}`).catch(() => undefined);
}

/** Runs the load generator in its own process; resolves with its JSON report. */

function load(
  baseUrl: string,
  ns: string,
  count: number,
  options: { offset?: number; batch?: number; concurrency?: number } = {},
): Promise<LoadReport> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        path.join(__dirname, 'load.mjs'),
        baseUrl,
        ns,
        String(count),
        String(options.concurrency ?? CONCURRENCY),
        String(options.offset ?? 0),
        String(options.batch ?? 1),
      ],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`load.mjs failed: ${error.message}\n${stderr}`));
          return;
        }
        resolve(JSON.parse(stdout.trim().split('\n').pop()!));
      },
    );
  });
}

async function pool<T>(
  items: T[],
  concurrency: number,
  fn: (item: T) => Promise<unknown>,
) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next++];
        await fn(item);
      }
    }),
  );
}

/**
 * `--keep-alive`: client-node 1.4 creates a new https.Agent (so a new TLS connection, and a CA
 * parse) for every request; the plugin's gateway keeps one keep-alive agent per cluster
 * (ClusterGateway's reuseOneAgent, on its own KubeConfig instances). This gives the raw client the
 * same: one keep-alive agent per cluster and CA.
 */
async function keepAliveAgents() {
  const k8s: any = await import('@kubernetes/client-node');
  const original = k8s.KubeConfig.prototype.createAgent;
  const agents = new Map<string, unknown>();
  k8s.KubeConfig.prototype.createAgent = function createAgent(
    cluster: any,
    options: any,
  ) {
    if (cluster?.proxyUrl || !String(cluster?.server).startsWith('https')) {
      return original.call(this, cluster, options);
    }
    const key = `${cluster.server}|${options.rejectUnauthorized}|${String(
      options.ca ?? '',
    )}|${String(options.cert ?? '')}`;
    let agent = agents.get(key);
    if (!agent) {
      agent = new https.Agent({ ...options, keepAlive: true, maxSockets: 64 });
      agents.set(key, agent);
    }
    return agent;
  };
}

async function main() {
  const { forecastTask } = await import('./tasks.mjs');
  if (KEEP_ALIVE) await keepAliveAgents();
  const loadAtStart = os.loadavg()[0].toFixed(1);
  const stamp = Date.now().toString(36);
  const ns = {
    warmup: `bench-submit-warmup-${stamp}`,
    api: `bench-submit-api-${stamp}`,
    // its own namespace: the same task names in the batch's namespace would continue the batch's
    // runs (a run is planned by place and name; the informers, off here, would see the deletes)
    apiSingle: `bench-submit-single-${stamp}`,
    raw: `bench-submit-raw-${stamp}`,
    kubectl: `bench-submit-kubectl-${stamp}`,
  };
  for (const name of Object.values(ns)) await createNamespace(name);

  // the registry
  let knex: Knex;
  let dbLabel: string;
  let cleanupDb = async () => {};
  const scratch = fs.mkdtempSync(
    path.join(os.tmpdir(), 'kubeai-bench-submit-'),
  );
  if (POSTGRES) {
    const url =
      Object.entries(process.env).find(([k]) =>
        /^BACKSTAGE_TEST_DATABASE_POSTGRES\d+_CONNECTION_STRING$/.test(k),
      )?.[1] ?? '';
    if (!url) {
      throw new Error(
        'no PostgreSQL: eval "$(bash scripts/postgres.sh start)" first',
      );
    }
    const admin = knexFactory({
      client: 'pg',
      connection: `${url}/postgres`,
    });
    const database = `kubeai_bench_submit_${stamp}`;
    await admin.raw(`CREATE DATABASE ${database}`);
    knex = knexFactory({
      client: 'pg',
      connection: `${url}/${database}`,
      pool: { min: 0, max: 10 },
    });
    dbLabel = 'PostgreSQL';
    cleanupDb = async () => {
      await knex.destroy();
      await admin.raw(`DROP DATABASE IF EXISTS ${database}`);
      await admin.destroy();
    };
  } else {
    knex = knexFactory({
      client: 'better-sqlite3',
      connection: { filename: path.join(scratch, 'registry.sqlite') },
      useNullAsDefault: true,
      pool: {
        // write-ahead log: a commit appends instead of rewriting the journal (what a SQLite
        // deployment that takes writes would use)
        afterCreate: (conn: any, done: (err: Error | null, c: any) => void) => {
          conn.pragma('journal_mode = WAL');
          conn.pragma('synchronous = NORMAL');
          done(null, conn);
        },
      },
    });
    dbLabel = 'SQLite (better-sqlite3, file database in WAL mode)';
    cleanupDb = async () => {
      await knex.destroy();
    };
  }

  // the forecasting users' token: a member of the team that owns the namespaces
  const auth = realAuth();
  const backend = await startTestBackend({
    features: [
      kubeaiPlugin,
      import('@backstage/plugin-permission-backend'),
      ...(ALLOW_ALL
        ? [
            import(
              '@backstage/plugin-permission-backend-module-allow-all-policy'
            ),
            mockServices.database.factory({ knex }),
          ]
        : [
            permissionPolicyModule,
            // Backstage's real auth: conditional decisions need the on-behalf-of tokens it
            // issues; the other plugins' own databases in memory
            ...auth.features(async pluginId =>
              pluginId === 'kubeai'
                ? knex
                : knexFactory({
                    client: 'better-sqlite3',
                    connection: ':memory:',
                    useNullAsDefault: true,
                  }),
            ),
          ]),
      catalogServiceMock.factory({
        entities: [
          {
            apiVersion: 'kubeai.io/v1alpha1',
            kind: 'Model',
            metadata: { name: 'forecast-gmv', namespace: 'default' },
            spec: {},
          },
        ],
      }),
      mockServices.rootConfig.factory({
        data: {
          permission: {
            enabled: true,
            ...(ALLOW_ALL ? {} : { policy: 'ownership' }),
          },
          kubeai: {
            informers: { enabled: false },
            ...(ALLOW_ALL
              ? {}
              : { tenancy: { impersonation: { enabled: true } } }),
          },
          kubernetes: localKubernetesConfig(),
        },
      }),
    ],
  });
  const baseUrl = `http://localhost:${backend.server.port()}/api/kubeai`;
  if (!ALLOW_ALL) {
    process.env.KUBEAI_BENCH_TOKEN = auth.userToken('user:default/forecaster', [
      'user:default/forecaster',
      TEAM,
    ]);
  }

  try {
    // ---------------------------------------------------------- warm-up
    for (const batch of [1, BATCH]) {
      const warm = await load(baseUrl, ns.warmup, WARMUP, {
        batch,
        concurrency: batch === 1 ? CONCURRENCY : BATCH_CONCURRENCY,
      });
      if (warm.statuses['201'] !== WARMUP) {
        throw new Error(`warm-up failed: ${JSON.stringify(warm)}`);
      }
      await clearCronJobs(ns.warmup);
    }

    // ---------------------------------------------------------- the objects, as the route builds them
    const manifests = Array.from({ length: COUNT }, (_, i) => {
      const { cluster: _c, params: _p, ...input } = forecastTask(i, ns.raw);
      return buildTraining(input as any, {
        cronJobApiVersion: 'batch/v1beta1',
      })[0];
    });

    // ---------------------------------------------------------- (1) raw client-node creates, first
    console.error(`creating ${fmt(COUNT)} objects with client-node …`);
    const k8s = await import('@kubernetes/client-node');
    const kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromFile(localKubeconfigPath());
    kubeConfig.setCurrentContext('kubeai-admin');
    const objectApi = kubeConfig.makeApiClient(k8s.KubernetesObjectApi);
    // warm: client-node's discovery of the resource
    await objectApi.create({
      ...manifests[0],
      metadata: { ...manifests[0].metadata, name: 'warm-up' },
    } as any);
    let rawFailed = 0;
    const rawCpuBefore = cpuSample(state.pids);
    const rawStart = performance.now();
    await pool(manifests, CONCURRENCY, async m => {
      try {
        await objectApi.create(m as any);
      } catch {
        rawFailed++;
      }
    });
    const rawMs = performance.now() - rawStart;
    const rawCpu = cpuPerTask(rawCpuBefore, cpuSample(state.pids), COUNT);
    const rawCreated = (await countCronJobs(ns.raw)) - 1; // without the warm-up object
    await clearCronJobs(ns.raw);

    // ---------------------------------------------------------- (2) the API (after the raw client: the apiserver's store is fresher for the baseline)
    const runCount = async () =>
      Number((await knex('kubeai_runs').count({ n: '*' }).first())?.n ?? 0);
    /** One API variant: submit, verify, send the first 200 again, clear. */
    async function apiPhase(
      label: string,
      options: { batch?: number; concurrency?: number },
      namespace: string,
    ): Promise<ApiPhaseResult> {
      console.error(`${label}: submitting ${fmt(COUNT)} tasks …`);
      const runsBefore = await runCount();
      const profiler = PROFILE ? await startProfile() : undefined;
      Object.assign(decisions, { calls: 0, checks: 0, ms: 0 });
      const cpuBefore = cpuSample(state.pids);
      const report = await load(baseUrl, namespace, COUNT, options);
      const cpu = cpuPerTask(
        cpuBefore,
        cpuSample(state.pids),
        COUNT,
        report.cpuMs,
      );
      const decided = { ...decisions };
      if (profiler) await profiler.stop(`${PROFILE}.${options.batch ?? 1}`);
      const created = await countCronJobs(namespace);
      const runs = (await runCount()) - runsBefore;
      const lastTask = forecastTask(COUNT - 1, namespace);
      const sample = await kube('GET', `${cronJobs(namespace)}/${lastTask.name}`);
      const sampleOk =
        sample.body?.spec?.schedule === lastTask.schedule &&
        sample.body?.spec?.jobTemplate?.metadata?.labels?.[
          'kueue.x-k8s.io/queue-name'
        ] === 'biz-forecasting';
      const again = await load(baseUrl, namespace, 200, options);
      const afterRerun = await countCronJobs(namespace);
      const runsAfterRerun = (await runCount()) - runsBefore;
      await clearCronJobs(namespace);
      return {
        label,
        options,
        report,
        created,
        runs,
        sampleOk,
        again,
        afterRerun,
        runsAfterRerun,
        decided,
        cpu,
      };
    }
    const apiBatch = await apiPhase(
      'API, batches',
      { batch: BATCH, concurrency: BATCH_CONCURRENCY },
      ns.api,
    );
    const apiSingle = await apiPhase(
      'API, one task per request',
      { batch: 1, concurrency: CONCURRENCY },
      ns.apiSingle,
    );

    // ---------------------------------------------------------- (3) kubectl apply per task
    console.error(`kubectl apply of ${KUBECTL_SAMPLE} tasks …`);
    const kubectlDir = path.join(scratch, 'kubectl');
    fs.mkdirSync(kubectlDir);
    const step = Math.max(1, Math.floor(COUNT / KUBECTL_SAMPLE));
    const files = Array.from({ length: KUBECTL_SAMPLE }, (_, k) => {
      const m = {
        ...manifests[k * step],
        metadata: { ...manifests[k * step].metadata, namespace: ns.kubectl },
      };
      const file = path.join(kubectlDir, `${k}.yaml`);
      fs.writeFileSync(file, YAML.stringify(m));
      return file;
    });
    const kubectl = (file: string) =>
      execFileSync(
        'kubectl',
        [
          '--kubeconfig',
          localKubeconfigPath(),
          '--context',
          'kubeai-admin',
          'apply',
          '-f',
          file,
        ],
        { stdio: 'pipe' },
      );
    kubectl(files[0]); // warm: kubectl's discovery cache
    await clearCronJobs(ns.kubectl);
    const kubectlTimes: number[] = [];
    for (const file of files) {
      const start = performance.now();
      kubectl(file);
      kubectlTimes.push(performance.now() - start);
    }
    const kubectlCreated = await countCronJobs(ns.kubectl);
    const kubectlMean =
      kubectlTimes.reduce((a, b) => a + b, 0) / kubectlTimes.length;
    const kubectlSorted = [...kubectlTimes].sort((a, b) => a - b);
    const kubectlP50 = kubectlSorted[Math.floor(kubectlSorted.length / 2)];

    // ---------------------------------------------------------- report
    const report = submitReport({
      settings: {
        COUNT,
        BATCH,
        BATCH_CONCURRENCY,
        CONCURRENCY,
        KUBECTL_SAMPLE,
        ALLOW_ALL,
        TEAM,
        dbLabel,
        loadAtStart,
      },
      apiBatch,
      apiSingle,
      raw: { rawMs, rawCpu, rawCreated, rawFailed },
      kubectl: { kubectlTimes, kubectlMean, kubectlP50, kubectlCreated },
    });
    console.log(report);
    if (WRITE) writeSection(report);
  } finally {
    await backend.stop();
    await cleanupDb();
    for (const name of Object.values(ns)) await deleteNamespace(name);
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(
  // the test backend's stop leaves its plugins' database pools (knex, tarn) reaping every second
  () => process.exit(0),
  error => {
    console.error(error);
    process.exit(1);
  },
);
