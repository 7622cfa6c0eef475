/**
 * Notebooks: `POST /notebooks` (the Notebook and its workspace PVC, recorded as a run), its status
 * and its `DELETE` under `/clusters/{cluster}/namespaces/{namespace}/notebooks/{name}`.
 */
import { namespaceChecks } from '../access/Access';
import {
  clusterNamespaceRef,
  kubeaiClusterObjectCreatePermission,
  kubeaiRunCreatePermission,
  type CreateNotebookRequest,
  type Run,
} from '@kubeai/plugin-kubeai-common';
import { buildNotebook, notebookInputSchema } from '../../manifests';
import { normalizeRef } from '../../refs';
import {
  type ClusterApi,
  type ClusterContext,
  compact,
  requestPathOf,
  type ResolvedDatasets,
} from './context';
import type { ClusterWritePlan, ClusterWriteSteps } from './ClusterWriteFlow';
import { createObjectHelpers } from './objects';
import { PoolRouter, routeTask } from './poolRouting';

/** Registers the notebook routes. */
export function registerNotebookRoutes(
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
  const { readFirst, preferred, statusOf, runOf, companionsOf, deleteManaged } =
    createObjectHelpers(ctx);

  // ------------------------------------------------------------------ notebooks

  type NotebookRequest = CreateNotebookRequest;

  /** The builder input of a notebook (its datasets and tables once resolved). */
  const notebookInput = (
    body: NotebookRequest,
    datasets?: Pick<ResolvedDatasets, 'mounts' | 'tables'>,
  ) =>
    compact({
      name: body.name,
      namespace: body.namespace,
      entityRef: body.entityRef,
      image: body.image,
      resources: body.resources,
      env: body.env,
      workspace: body.workspace,
      datasets: datasets?.mounts,
      tables: datasets?.tables,
      modelRef: body.modelRef,
      serviceAccountName: body.serviceAccountName,
      priorityClassName: body.priorityClassName,
      nodeSelector: body.nodeSelector,
      queue: body.queue,
    });

  /** A notebook: its workspace PVC and the Notebook (main, last), recorded as a run. */
  const notebookWrite: ClusterWriteSteps<
    NotebookRequest,
    ClusterWritePlan<{ run: Run }>
  > = {
    validate: body => zodCheck(notebookInputSchema, notebookInput(body)),
    async resolve(request, credentials) {
      assertCluster(request.cluster, 'body');
      // its namespace's LocalQueue, flavor by size, priority by kind (kubeai.pools.routing): 422
      // before anything is applied
      const router = ctx.poolRouting
        ? new PoolRouter(ctx.gatewayOf, ctx.poolRouting)
        : undefined;
      const body = await routeTask(
        router,
        { ...request, kind: 'Notebook' },
        'request/body',
      );
      const pool = router?.choiceOf(body);
      await assertModelInCatalog(
        body.modelRef,
        'request/body/modelRef',
        credentials,
      );
      // a table dataset is read by the notebook's code (env), its partition the run's input version
      const datasets = await resolveDatasets(
        body.datasets,
        'request/body/datasets',
        body,
        credentials,
      );
      const input = notebookInput(body, datasets);
      if (datasets.mounts || datasets.tables) {
        zodCheck(notebookInputSchema, input, path =>
          ['request/body', ...requestPathOf(path, datasets.from)].join('/'),
        );
      }
      const [run] = await runs.plan('notebook', body.cluster, [
        {
          namespace: body.namespace,
          name: body.name,
          modelRef: body.modelRef ? normalizeRef(body.modelRef) : undefined,
        },
      ]);
      // the run's label, env and credential in the notebook's pod
      const objects = runs.label(buildNotebook(input as any), run);
      return {
        cluster: body.cluster,
        objects,
        checks: [
          ...namespaceChecks(
            kubeaiClusterObjectCreatePermission,
            body.cluster,
            objects,
          ),
          {
            permission: kubeaiRunCreatePermission,
            resourceRef: clusterNamespaceRef(body.cluster, body.namespace),
          },
          // registering the table partitions it reads
          ...datasets.checks,
        ],
        record: async (applied, actor) => {
          const main = applied[objects.length - 1];
          const recorded = await store.upsertObjectRun(
            {
              id: run.runId,
              kind: 'notebook',
              cluster: body.cluster,
              namespace: body.namespace,
              name: body.name,
              uid: String(main.metadata.uid),
              modelRef: body.modelRef,
              inputs: await recordTableReads(
                datasets.inputs,
                datasets.reads,
                actor,
              ),
              params: compact({
                objectKind: 'Notebook',
                image: body.image,
                gpu: body.resources?.gpu,
                // its requests: what its cost is computed from
                cpu: body.resources?.cpu,
                memory: body.resources?.memory,
              }),
              ...pool,
            },
            actor,
          );
          await runs.issue(body.cluster, [{ owner: main, run }]);
          return recorded;
        },
      };
    },
  };

  api.post('/notebooks', async (req, res) => {
    const body = req.body;
    const dryRun = body.dryRun ?? false;
    const credentials = await access.credentials(req);
    const { plan, applied, recorded } = await flow.write(
      credentials,
      body,
      dryRun,
      notebookWrite,
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
          message: `${dryRun ? 'Would create' : 'Applied'} Notebook ${
            body.namespace
          }/${body.name} in cluster ${body.cluster}`,
        },
      ),
    );
  });

  api.get(
    '/clusters/:cluster/namespaces/:namespace/notebooks/:name',
    async (req, res) => {
      const object = await readFirst(req.params, 'Notebook', [
        preferred('Notebook'),
      ]);
      res.json(
        await statusOf(req.params.cluster, object, {
          run: await runOf(req.params.cluster, object),
        }),
      );
    },
  );

  api.delete(
    '/clusters/:cluster/namespaces/:namespace/notebooks/:name',
    async (req, res) => {
      const credentials = await access.credentials(req);
      const { cluster } = req.params;
      const object = await readFirst(req.params, 'Notebook', [
        preferred('Notebook'),
      ]);
      // the workspace PVC POST /notebooks created (not an existing claim it mounts)
      const related = await companionsOf(cluster, object);
      res.json(
        await deleteManaged(
          req,
          credentials,
          req.query.dryRun ?? false,
          object,
          {
            related,
            run: await runOf(cluster, object),
          },
        ),
      );
    },
  );
}
