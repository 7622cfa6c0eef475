/**
 * Pipelines: `POST /pipelines` (an Argo Workflow or CronWorkflow, recorded as a run), its status
 * and its `DELETE` under `/clusters/{cluster}/namespaces/{namespace}/pipelines/{name}`.
 */
import { namespaceChecks } from '../access/Access';
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import {
  clusterNamespaceRef,
  kubeaiClusterObjectCreatePermission,
  kubeaiDeploymentUpdatePermission,
  kubeaiModelVersionCreatePermission,
  kubeaiRunCreatePermission,
  type CreatePipelineRequest,
  type DatasetMount,
  type Run,
  type RunInput,
} from '@kubeai/plugin-kubeai-common';
import { UnprocessableEntityError } from '../../errors';
import {
  buildPipeline,
  KUBEAI_ANNOTATIONS,
  normalizeModelRef,
  pipelineInputSchema,
} from '../../manifests';
import { normalizeRef } from '../../refs';
import {
  type Check,
  type ClusterApi,
  type ClusterContext,
  compact,
  requestPathOf,
  type ResolvedDatasets,
  type TableRead,
} from './context';
import type { ClusterWritePlan, ClusterWriteSteps } from './ClusterWriteFlow';
import { createObjectHelpers } from './objects';
import { type PoolChoice, PoolRouter, routeTask } from './poolRouting';
import type { RunCredentialScope } from '../../database/RunCredentialStore';

/** Registers the pipeline routes. */
export function registerPipelineRoutes(
  api: ClusterApi,
  ctx: ClusterContext,
): void {
  const {
    store,
    access,
    flow,
    assertCluster,
    assertModelInCatalog,
    zodCheck,
    resolveDatasets,
    recordTableReads,
    result,
    modelUrl,
    runs,
  } = ctx;
  const { readFirst, preferred, statusOf, runOf, deleteManaged } =
    createObjectHelpers(ctx);

  // ------------------------------------------------------------------ pipelines

  type PipelineRequest = CreatePipelineRequest;

  /** A pipeline: one Workflow or CronWorkflow, recorded as a run. */
  const pipelineWrite: ClusterWriteSteps<
    PipelineRequest,
    ClusterWritePlan<{ run: Run }>
  > = {
    validate: validatePipeline,
    async resolve(body, credentials) {
      assertCluster(body.cluster, 'body');
      await assertModelInCatalog(
        body.modelRef,
        'request/body/modelRef',
        credentials,
      );
      const { steps, inputs, reads, tableChecks, from, pool } =
        await resolveSteps(body, credentials);
      const { cluster, dryRun: _d, ...rest } = body;
      const input = compact({ ...rest, steps });
      zodCheck(pipelineInputSchema, input, path =>
        ['request/body', ...stepPathOf(path, from)].join('/'),
      );
      // what the pipeline does when it runs: register model versions, move traffic
      const writes = await writesOf(body);
      const [run] = await runs.plan('pipeline', cluster, [
        {
          namespace: body.namespace,
          name: body.name,
          modelRef: body.modelRef ? normalizeRef(body.modelRef) : undefined,
        },
      ]);
      // every pod of the workflow (and what its training steps create) acts as this run
      const objects = [buildPipeline(input as any, run.identity)];
      return {
        cluster,
        objects,
        checks: [
          ...namespaceChecks(
            kubeaiClusterObjectCreatePermission,
            cluster,
            objects,
          ),
          {
            permission: kubeaiRunCreatePermission,
            resourceRef: clusterNamespaceRef(cluster, body.namespace),
          },
          ...writes.checks,
          // registering the table partitions its steps read
          ...tableChecks,
        ],
        record: async (applied, actor) => {
          const recorded = await store.upsertObjectRun(
            {
              id: run.runId,
              kind: 'pipeline',
              cluster,
              namespace: body.namespace,
              name: body.name,
              uid: String(applied[0].metadata.uid),
              modelRef: body.modelRef,
              inputs: await recordTableReads(inputs, reads, actor),
              params: compact({
                objectKind: objects[0].kind,
                schedule: body.schedule,
                steps: body.steps.map(s => s.name).join(','),
              }),
              ...pool,
            },
            actor,
          );
          // what its steps may do with the run's credential: what was authorized above
          await runs.issue(cluster, [
            { owner: applied[0], run, scope: writes.scope },
          ]);
          return recorded;
        },
      };
    },
  };

  api.post('/pipelines', async (req, res) => {
    const credentials = await access.credentials(req);
    const body = req.body;
    const dryRun = body.dryRun ?? false;
    const { plan, applied, recorded } = await flow.write(
      credentials,
      body,
      dryRun,
      pipelineWrite,
    );
    const built = plan.objects;
    res.status(201).json(
      result(body.cluster, built, applied, 0, dryRun, {
        ...(recorded ? { run: recorded.run } : {}),
        ...(body.entityRef ? { entityRef: normalizeRef(body.entityRef) } : {}),
        url: modelUrl(body.modelRef),
        message: `${dryRun ? 'Would create' : 'Applied'} ${built[0].kind} ${
          body.namespace
        }/${body.name} in cluster ${body.cluster}`,
      }),
    );
  });

  /** Validates a pipeline before anything is resolved (its datasets' mounts come later). */
  function validatePipeline(body: PipelineRequest) {
    body.steps.forEach((step, i) => {
      const training = step.training as Record<string, unknown> | undefined;
      ((training?.datasets as unknown[] | undefined) ?? []).forEach((m, j) => {
        if (
          !m ||
          typeof m !== 'object' ||
          typeof (m as DatasetMount).datasetRef !== 'string'
        ) {
          throw new InputError(
            `request/body/steps/${i}/training/datasets/${j}/datasetRef is required (a registered dataset)`,
          );
        }
      });
    });
    const { cluster: _c, dryRun: _d, ...unresolved } = body;
    zodCheck(
      pipelineInputSchema,
      compact({
        ...unresolved,
        steps: body.steps.map(step => {
          const { datasets: _ds, ...rest } = step;
          const training = step.training as Record<string, unknown> | undefined;
          if (!training) return rest;
          const { datasets: _t, ...trainingRest } = training;
          return { ...rest, training: trainingRest };
        }),
      }),
    );
  }

  /**
   * The steps with their datasets resolved to mounts and table inputs (container and training
   * steps read tables as training tasks do), the run's inputs, the partitions to register when it
   * is recorded and the permission to, and where each step's mounts and tables were in the request.
   */
  async function resolveSteps(
    body: PipelineRequest,
    credentials: BackstageCredentials,
  ) {
    const inputs: RunInput[] = [];
    const reads: TableRead[] = [];
    const tableChecks: Check[] = [];
    const steps: Record<string, unknown>[] = [];
    const pools: PoolChoice[] = [];
    const from = new Map<string, ResolvedDatasets['from']>();
    const router = ctx.poolRouting
      ? new PoolRouter(ctx.gatewayOf, ctx.poolRouting)
      : undefined;
    const take = (resolved: ResolvedDatasets) => {
      // a read's index is into this resolution's inputs: shift it to the run's
      reads.push(
        ...resolved.reads.map(r => ({ ...r, input: r.input + inputs.length })),
      );
      inputs.push(...resolved.inputs);
      tableChecks.push(...resolved.checks);
    };
    for (const [i, step] of body.steps.entries()) {
      const next: Record<string, unknown> = { ...step };
      if (step.datasets) {
        const resolved = await resolveDatasets(
          step.datasets,
          `request/body/steps/${i}/datasets`,
          body,
          credentials,
        );
        next.datasets = resolved.mounts;
        if (resolved.tables) next.tables = resolved.tables;
        from.set(`${i}`, resolved.from);
        take(resolved);
      }
      const training = step.training as Record<string, unknown> | undefined;
      if (training && Array.isArray(training.datasets)) {
        const mounts = training.datasets as DatasetMount[];
        const resolved = await resolveDatasets(
          mounts,
          `request/body/steps/${i}/training/datasets`,
          body,
          credentials,
        );
        next.training = compact({
          ...training,
          datasets: resolved.mounts,
          tables: resolved.tables,
        });
        from.set(`${i}/training`, resolved.from);
        take(resolved);
      }
      // a training step goes to the namespace's LocalQueue (kubeai.pools.routing): 422 before any apply
      // (without routing only checked: a queue must then be named)
      if (
        next.training &&
        (router || (next.training as { queue?: unknown }).queue)
      ) {
        const sent = await routeTask(
          router,
          {
            ...(next.training as { kind: string }),
            cluster: body.cluster,
            namespace: body.namespace,
            periodic: Boolean(body.schedule),
          },
          `request/body/steps/${i}/training`,
        );
        const { cluster: _c, periodic: _p, ...routed } = sent;
        const choice = router?.choiceOf(sent);
        if (choice) pools.push(choice);
        next.training = routed;
      }
      steps.push(next);
    }
    // the run's pool: its training steps' ClusterQueue and flavor when they share one
    const pool = Object.fromEntries(
      (['clusterQueue', 'flavor'] as const).flatMap(key => {
        const values = new Set(pools.map(p => p[key]));
        const [value] = values;
        return values.size === 1 && value ? [[key, value]] : [];
      }),
    ) as PoolChoice;
    return { steps, inputs, reads, tableChecks, from, pool };
  }

  /** A builder issue's path in the request: a step's `datasets/<j>` and `tables/<j>` are its `datasets/<i>`. */
  function stepPathOf(
    path: (string | number)[],
    from: Map<string, ResolvedDatasets['from']>,
  ): (string | number)[] {
    const [steps, i, ...rest] = path;
    if (steps !== 'steps' || typeof i !== 'number') return path;
    if (rest[0] === 'training') {
      const known = from.get(`${i}/training`);
      const tail = rest.slice(1);
      return [
        steps,
        i,
        'training',
        ...(known ? requestPathOf(tail, known) : tail),
      ];
    }
    const known = from.get(`${i}`);
    return [steps, i, ...(known ? requestPathOf(rest, known) : rest)];
  }

  /**
   * The checks of what a pipeline's steps write when it runs: `kubeai.model.version.create` on
   * the pipeline's model and on the model of every `registerModelVersion` step, and
   * `kubeai.deployment.update` on the InferenceService entity of every service a `deployCanary`
   * or `promote` step deploys to. Those targets are fixed at creation (422 for a placeholder).
   * The same targets are the `scope` of the pipeline run's credential: what its steps may do.
   */
  async function writesOf(body: {
    cluster: string;
    namespace: string;
    modelRef?: string;
    entityRef?: string;
    steps: ReadonlyArray<object>;
  }): Promise<{ checks: Check[]; scope: RunCredentialScope }> {
    const models = new Set<string>();
    if (body.modelRef) models.add(normalizeModelRef(body.modelRef));
    const services = new Map<string, Set<string>>();
    const target = (namespace: string, name: string) => {
      const key = `${namespace}/${name}`;
      if (!services.has(key)) services.set(key, new Set());
      return services.get(key)!;
    };
    const fixedValue = (value: unknown, at: string, what: string) => {
      if (typeof value === 'string' && value.includes('{{')) {
        throw new UnprocessableEntityError(
          `${at}: ${what} cannot be a placeholder (its permission is checked when the pipeline is created)`,
        );
      }
      return value as string;
    };
    body.steps.forEach((raw, i) => {
      const step = raw as Record<string, unknown>;
      const at = `request/body/steps/${i}`;
      if (step.type === 'registerModelVersion') {
        const modelRef = (step.modelRef as string | undefined) ?? body.modelRef;
        if (modelRef) {
          models.add(
            normalizeModelRef(
              fixedValue(modelRef, `${at}/modelRef`, 'the model it registers'),
            ),
          );
        }
      } else if (step.type === 'deployCanary') {
        // deployed through the API in the pipeline's namespace (a DNS label: never a placeholder)
        target(
          body.namespace,
          (step.inferenceService as { name: string }).name,
        );
      } else if (step.type === 'promote') {
        target(body.namespace, step.inferenceService as string);
      }
    });
    const checks: Check[] = [...models].map(ref => ({
      permission: kubeaiModelVersionCreatePermission,
      resourceRef: ref,
    }));
    const scope: RunCredentialScope = compact({
      models: models.size ? [...models] : undefined,
      // every rollout step deploys in the pipeline's namespace
      inferenceServices: services.size
        ? [...services.keys()].map(key => key.split('/')[1])
        : undefined,
    });
    const gateway = ctx.gatewayOf();
    for (const [key, refs] of services) {
      const [namespace, name] = key.split('/');
      // the service's entity as the rollout routes find it: its deployment record, else the
      // entity the object names (the step's or the live object's), else the default
      const deployment = await store.findDeploymentByObject(
        body.cluster,
        namespace,
        name,
      );
      if (deployment) refs.add(normalizeRef(deployment.serviceRef));
      if (refs.size === 0) {
        const live = await gateway
          .get(body.cluster, {
            apiVersion: 'serving.kserve.io/v1beta1',
            kind: 'InferenceService',
            namespace,
            name,
          })
          .catch(error => {
            if ((error as Error)?.name === 'NotFoundError') return undefined;
            throw flow.clusterError(error, body.cluster);
          });
        const annotated =
          live?.metadata.annotations?.[KUBEAI_ANNOTATIONS.entityRef];
        refs.add(normalizeRef(annotated ?? `inferenceservice:default/${name}`));
      }
      for (const ref of refs) {
        checks.push({
          permission: kubeaiDeploymentUpdatePermission,
          resourceRef: ref,
        });
      }
    }
    return { checks, scope };
  }

  api.get(
    '/clusters/:cluster/namespaces/:namespace/pipelines/:name',
    async (req, res) => {
      const object = await readFirst(req.params, 'pipeline', [
        preferred('Workflow'),
        preferred('CronWorkflow'),
      ]);
      res.json(
        await statusOf(req.params.cluster, object, {
          run: await runOf(req.params.cluster, object),
        }),
      );
    },
  );

  api.delete(
    '/clusters/:cluster/namespaces/:namespace/pipelines/:name',
    async (req, res) => {
      const credentials = await access.credentials(req);
      const object = await readFirst(req.params, 'pipeline', [
        preferred('Workflow'),
        preferred('CronWorkflow'),
      ]);
      res.json(
        await deleteManaged(
          req,
          credentials,
          req.query.dryRun ?? false,
          object,
          {
            run: await runOf(req.params.cluster, object),
          },
        ),
      );
    },
  );
}
