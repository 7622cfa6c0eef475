/**
 * Training tasks: `POST /jobs`, `POST /jobs/batch` (many tasks in one request), their status and
 * their `DELETE` under `/clusters/{cluster}/namespaces/{namespace}/jobs/{name}`.
 */
import { namespaceChecks } from '../access/Access';
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import {
  clusterNamespaceRef,
  isTrainingWorkloadKind,
  kubeaiClusterObjectCreatePermission,
  kubeaiRunCreatePermission,
  TRAINING_WORKLOAD_KINDS,
  WORKLOADS,
  type CreateJobRequest,
  type Run,
  type RunInput,
  type TrainingWorkloadKind,
} from '@kubeai/plugin-kubeai-common';
import { clusterAnswerStatus } from '../../cluster/errors';
import { UnprocessableEntityError } from '../../errors';
import {
  buildTraining,
  trainingInputSchema,
  type KubeObject,
} from '../../manifests';
import { normalizeRef } from '../../refs';
import {
  type ClusterApi,
  type ClusterContext,
  type Check,
  compact,
  requestPathOf,
  stripServerFields,
} from './context';
import type { ClusterWritePlan, ClusterWriteSteps } from './ClusterWriteFlow';
import type { PlannedRun } from './runIdentities';
import { createObjectHelpers } from './objects';
import { PoolRouter, routeTask } from './poolRouting';

/** Objects of a batch applied at the same time. */
export const BATCH_APPLY_CONCURRENCY = 16;

/** Runs `fn` over `items` with at most `concurrency` calls in flight. */
async function inParallel<T>(
  items: T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}

/** Registers the training task routes (`POST /jobs` before `POST /jobs/batch`). */
export function registerJobRoutes(api: ClusterApi, ctx: ClusterContext): void {
  const {
    store,
    access,
    flow,
    gatewayOf,
    assertCluster,
    assertModelInCatalog,
    zodCheck,
    resolveDatasets,
    recordTableReads,
    refOf,
    result,
    modelUrl,
    runs,
  } = ctx;
  const { readFirst, statusOf, runOf, companionsOf, deleteManaged } =
    createObjectHelpers(ctx);

  // ------------------------------------------------------------------ training tasks

  /** A router of one request's tasks (./poolRouting.ts); none without kubeai.pools.routing. */
  const routerOf = () =>
    ctx.poolRouting ? new PoolRouter(gatewayOf, ctx.poolRouting) : undefined;

  type JobRequest = CreateJobRequest;

  /** The builder input of a training task (without its datasets, which need resolving). */
  function jobInput(body: JobRequest) {
    const {
      cluster: _c,
      dryRun: _d,
      params: _p,
      datasets: _ds,
      ...rest
    } = body;
    return rest;
  }

  /** Validates a training task before anything is resolved (400 naming `<at>/<field>`). */
  function validateJob(body: JobRequest, at: string) {
    zodCheck(
      trainingInputSchema,
      compact(jobInput(body)),
      path => [at, ...path].join('/'),
      ` for kind ${body.kind}`,
    );
  }

  /**
   * Resolves one training task and builds its objects; `at` is where the task is in the request
   * (`request/body`, `request/body/items/3`) for the messages. The model is checked by the caller
   * (once per batch).
   */
  async function prepareJob(
    request: JobRequest,
    at: string,
    credentials: BackstageCredentials,
    run: PlannedRun,
    router?: PoolRouter,
  ) {
    const gateway = assertCluster(request.cluster, 'body', at);
    // its namespace's LocalQueue, flavor and priority class (kubeai.pools.routing); 422 before any apply
    const body = await routeTask(router, request, at);
    const datasets = await resolveDatasets(
      body.datasets,
      `${at}/datasets`,
      body,
      credentials,
    );
    const { cluster } = body;
    const input = compact({
      ...jobInput(body),
      datasets: datasets.mounts,
      tables: datasets.tables,
    });
    if (datasets.mounts || datasets.tables) {
      zodCheck(
        trainingInputSchema,
        input,
        path => [at, ...requestPathOf(path, datasets.from)].join('/'),
        ` for kind ${body.kind}`,
      );
    }
    // kinds served in several versions (CronJob: batch/v1 or, on 1.20, batch/v1beta1): discovery
    const { group, versions } = WORKLOADS[body.kind];
    const apiVersion =
      versions.length > 1
        ? await gateway
            .resolveApiVersion(cluster, group, body.kind, [...versions])
            .catch(error => {
              throw flow.clusterError(error, cluster);
            })
        : undefined;
    // its run's label, env and credential volume in every object and pod
    const built = runs.label(buildTraining(input as any, { apiVersion }), run);
    return {
      body,
      run,
      pool: router?.choiceOf(body),
      built,
      inputs: datasets.inputs,
      reads: datasets.reads,
      checks: datasets.checks,
      main: built.length - 1,
    };
  }

  /** Where a task's run is (its id is planned before the objects are built). */
  const jobRunTarget = (body: JobRequest) => ({
    namespace: body.namespace,
    name: body.name,
    modelRef: body.modelRef ? normalizeRef(body.modelRef) : undefined,
  });

  /** The runs of a batch's tasks, one lookup per cluster, in order. */
  async function planRuns(items: JobRequest[]): Promise<PlannedRun[]> {
    const planned: PlannedRun[] = new Array(items.length);
    for (const cluster of new Set(items.map(i => i.cluster))) {
      const at = items.flatMap((item, i) =>
        item.cluster === cluster ? [i] : [],
      );
      const plans = await runs.plan(
        'training',
        cluster,
        at.map(i => jobRunTarget(items[i])),
        { shared: true },
      );
      at.forEach((i, k) => (planned[i] = plans[k]));
    }
    return planned;
  }

  /** The run of an applied training task. */
  const jobRun = (
    job: Awaited<ReturnType<typeof prepareJob>>,
    applied: KubeObject[],
    inputs = job.inputs,
  ) => ({
    id: job.run.runId,
    kind: 'training' as const,
    cluster: job.body.cluster,
    namespace: job.body.namespace,
    name: job.body.name,
    uid: String(applied[job.main].metadata.uid),
    modelRef: job.body.modelRef,
    inputs,
    params: compact({
      ...job.body.params,
      objectKind: job.body.kind,
      image: job.body.image,
      schedule: job.body.schedule,
      gpu: job.body.resources?.gpu,
      // what the run asks per pod and how many pods: its cost (../../cost/runCost.ts) before
      // anything is observed
      cpu: job.body.resources?.cpu,
      memory: job.body.resources?.memory,
      replicas: job.body.replicas
        ? Object.values(job.body.replicas).reduce<number>(
            (n, count) => n + (count ?? 0),
            0,
          )
        : undefined,
      parallelism: job.body.parallelism,
    }),
    ...job.pool,
  });

  /** The checks of training tasks: each namespace they go to, and recording their runs there. */
  const jobChecks = (
    jobs: Array<{ body: JobRequest; built: KubeObject[]; checks: Check[] }>,
  ): Check[] => [
    ...jobs.flatMap(job =>
      namespaceChecks(
        kubeaiClusterObjectCreatePermission,
        job.body.cluster,
        job.built,
      ),
    ),
    ...jobs.map(job => ({
      permission: kubeaiRunCreatePermission,
      resourceRef: clusterNamespaceRef(job.body.cluster, job.body.namespace),
    })),
    // registering the table partitions they read
    ...jobs.flatMap(job => job.checks),
  ];

  /** A training task: its objects (the workload last), recorded as a run. */
  const jobWrite: ClusterWriteSteps<
    JobRequest,
    ClusterWritePlan<{ run: Run }>
  > = {
    validate: body => validateJob(body, 'request/body'),
    async resolve(body, credentials) {
      await assertModelInCatalog(
        body.modelRef,
        'request/body/modelRef',
        credentials,
      );
      // concurrent single requests of a namespace share credential Secrets (./runIdentities.ts)
      const [run] = await runs.plan(
        'training',
        body.cluster,
        [jobRunTarget(body)],
        { coalesce: true },
      );
      const job = await prepareJob(
        body,
        'request/body',
        credentials,
        run,
        routerOf(),
      ).catch(error => {
        runs.release([run]);
        throw error;
      });
      return {
        release: () => runs.release([run]),
        cluster: body.cluster,
        objects: job.built,
        checks: jobChecks([job]),
        record: async (applied, actor) => {
          const recorded = await store.upsertObjectRun(
            jobRun(
              job,
              applied,
              await recordTableReads(job.inputs, job.reads, actor),
            ),
            actor,
          );
          await runs.issue(body.cluster, [{ owner: applied[job.main], run }]);
          return recorded;
        },
      };
    },
  };

  api.post('/jobs', async (req, res) => {
    const credentials = await access.credentials(req);
    const body = req.body;
    const dryRun = body.dryRun ?? false;
    const { plan, applied, recorded } = await flow.write(
      credentials,
      body,
      dryRun,
      jobWrite,
    );
    res.status(201).json(
      result(
        body.cluster,
        plan.objects,
        applied,
        plan.objects.length - 1,
        dryRun,
        {
          ...(recorded ? { run: recorded.run } : {}),
          ...(body.entityRef
            ? { entityRef: normalizeRef(body.entityRef) }
            : {}),
          url: modelUrl(body.modelRef),
          message: `${dryRun ? 'Would create' : 'Applied'} ${body.kind} ${
            body.namespace
          }/${body.name} in cluster ${body.cluster}`,
        },
      ),
    );
  });

  /**
   * Many training tasks in one request (e.g. the daily forecasts of a team). Every task is
   * validated and resolved first — one invalid task refuses the whole batch naming
   * `request/body/items/<i>/…`, and nothing is applied; then every task's permission checks (one
   * forbidden task refuses the batch, nothing applied); then the tasks are applied with {@link BATCH_APPLY_CONCURRENCY} in flight and their runs recorded in one
   * transaction. Tasks the cluster refuses are reported per item (207); the others are applied.
   */
  api.post('/jobs/batch', async (req, res) => {
    const credentials = await access.credentials(req);
    const { items } = req.body;
    const dryRun = req.body.dryRun ?? false;
    items.forEach((item, i) => {
      if (item.dryRun !== undefined) {
        throw new InputError(
          `request/body/items/${i}/dryRun: give dryRun for the whole batch`,
        );
      }
    });
    const seen = new Map<string, number>();
    items.forEach((item, i) => {
      const key = `${item.cluster}/${item.namespace}/${item.kind}/${item.name}`;
      if (seen.has(key)) {
        throw new InputError(
          `request/body/items/${i}/name: ${item.kind} ${item.namespace}/${
            item.name
          } is also items/${seen.get(key)}`,
        );
      }
      seen.set(key, i);
      validateJob(item, `request/body/items/${i}`);
    });
    // each model once
    const models = [
      ...new Set(
        items.filter(i => i.modelRef).map(i => normalizeRef(i.modelRef!)),
      ),
    ];
    const known = await access.catalogEntities(credentials, models, ['kind']);
    items.forEach((item, i) => {
      if (item.modelRef && !known.has(normalizeRef(item.modelRef))) {
        throw new UnprocessableEntityError(
          `request/body/items/${i}/modelRef: ${normalizeRef(
            item.modelRef,
          )} not found in the catalog`,
        );
      }
    });
    const planned = await planRuns(items);
    const router = routerOf();
    const jobs: Array<Awaited<ReturnType<typeof prepareJob>>> = [];
    for (const [i, item] of items.entries()) {
      jobs.push(
        await prepareJob(
          item,
          `request/body/items/${i}`,
          credentials,
          planned[i],
          router,
        ),
      );
    }
    // every task decided before anything is applied: one forbidden task refuses the batch
    await access.authorize(credentials, jobChecks(jobs));

    const outcomes: Array<{ applied?: KubeObject[]; error?: unknown }> =
      new Array(jobs.length);
    await inParallel(jobs, BATCH_APPLY_CONCURRENCY, async (job, i) => {
      try {
        outcomes[i] = {
          applied: await flow.apply(
            job.body.cluster,
            job.built,
            dryRun,
            credentials,
          ),
        };
      } catch (error) {
        outcomes[i] = { error };
      }
    });
    const ok = jobs
      .map((job, i) => ({ job, i, applied: outcomes[i].applied }))
      .filter(x => x.applied);
    const runIds = new Map<number, Run>();
    if (!dryRun && ok.length) {
      const recorded = await flow.recordAfterApply(
        ok.flatMap(x => x.applied!),
        ok[0].job.body.cluster,
        async () => {
          const actor = access.actorOf(credentials);
          const inputs: RunInput[][] = [];
          for (const x of ok) {
            inputs.push(
              await recordTableReads(x.job.inputs, x.job.reads, actor),
            );
          }
          const upserted = await store.upsertObjectRuns(
            ok.map((x, k) => jobRun(x.job, x.applied!, inputs[k])),
            actor,
          );
          // one Secret per cluster and namespace of the batch, a key per run
          for (const cluster of new Set(ok.map(x => x.job.body.cluster))) {
            await runs.issue(
              cluster,
              ok
                .filter(x => x.job.body.cluster === cluster)
                .map(x => ({ owner: x.applied![x.job.main], run: x.job.run })),
            );
          }
          return upserted;
        },
      );
      recorded.forEach((r, k) => runIds.set(ok[k].i, r.run));
    }
    const results = jobs.map((job, i) => {
      const outcome = outcomes[i];
      const object = refOf(
        job.body.cluster,
        outcome.applied?.[job.main] ?? job.built[job.main],
      );
      if (outcome.error !== undefined) {
        const error = flow.clusterError(
          outcome.error,
          job.body.cluster,
        ) as Error;
        return {
          index: i,
          status: clusterAnswerStatus(error),
          object,
          error: {
            name: error?.name ?? 'Error',
            message: String(error?.message ?? error),
          },
        };
      }
      return compact({
        index: i,
        status: 201,
        object,
        runId: runIds.get(i)?.id,
        manifests: dryRun
          ? (outcome.applied ?? []).map(stripServerFields)
          : undefined,
      });
    });
    const failed = results.filter(r => r.status !== 201).length;
    res.status(failed ? 207 : 201).json({
      dryRun,
      created: results.length - failed,
      failed,
      items: results as any,
      message: `${dryRun ? 'Would apply' : 'Applied'} ${
        results.length - failed
      } of ${results.length} training tasks${
        failed ? `; ${failed} refused by the cluster` : ''
      }`,
    });
  });

  const served = (cluster: string, kind: TrainingWorkloadKind) => async () => {
    const { group, versions } = WORKLOADS[kind];
    return {
      apiVersion: await gatewayOf().resolveApiVersion(cluster, group, kind, [
        ...versions,
      ]),
      kind,
    };
  };

  /**
   * The training object `name`: of `kind` when given, else of the kind its run records first, then
   * every training kind.
   */
  const readTrainingObject = async (
    params: { cluster: string; namespace: string; name: string },
    kind: TrainingWorkloadKind | undefined,
  ) => {
    const { cluster, namespace, name } = params;
    let kinds: TrainingWorkloadKind[] = [...TRAINING_WORKLOAD_KINDS];
    if (kind) {
      kinds = [kind];
    } else {
      const recorded = await store.findObjectRun(cluster, namespace, name);
      const recordedKind = recorded?.params?.objectKind;
      if (isTrainingWorkloadKind(recordedKind)) {
        kinds = [recordedKind, ...kinds.filter(k => k !== recordedKind)];
      }
    }
    return readFirst(
      params,
      kind ?? 'training task',
      kinds.map(k => served(cluster, k)),
    );
  };

  api.get(
    '/clusters/:cluster/namespaces/:namespace/jobs/:name',
    async (req, res) => {
      const { cluster } = req.params;
      const object = await readTrainingObject(req.params, req.query.kind);
      res.json(
        await statusOf(cluster, object, { run: await runOf(cluster, object) }),
      );
    },
  );

  api.delete(
    '/clusters/:cluster/namespaces/:namespace/jobs/:name',
    async (req, res) => {
      const credentials = await access.credentials(req);
      const { cluster } = req.params;
      const object = await readTrainingObject(req.params, req.query.kind);
      // its companions (the Volcano PodGroup of gang scheduling, same name)
      res.json(
        await deleteManaged(
          req,
          credentials,
          req.query.dryRun ?? false,
          object,
          {
            related: await companionsOf(cluster, object),
            run: await runOf(cluster, object),
          },
        ),
      );
    },
  );
}
