/**
 * Notebooks: `POST /notebooks` (the Notebook and its workspace PVC, recorded as a run), its status
 * and its `DELETE` under `/clusters/{cluster}/namespaces/{namespace}/notebooks/{name}`.
 */
import {
  kubeaiClusterObjectCreatePermission,
  kubeaiRunCreatePermission,
  type Run,
} from '@kubeai/plugin-kubeai-common';
import {
  buildNotebook,
  notebookInputSchema,
  type DatasetMountInput,
} from '../../manifests';
import { normalizeRef } from '../../refs';
import { type ClusterApi, type ClusterContext, compact } from './context';
import { createObjectHelpers } from './objects';

/** Registers the notebook routes. */
export function registerNotebookRoutes(
  api: ClusterApi,
  ctx: ClusterContext,
): void {
  const {
    store,
    assertCluster,
    authorizeAll,
    assertModelInCatalog,
    zodCheck,
    resolveDatasets,
    applyObjects,
    recordAfterApply,
    result,
    modelUrl,
  } = ctx;
  const { readFirst, preferred, statusOf, runOf, companionsOf, deleteManaged } =
    createObjectHelpers(ctx);

  // ------------------------------------------------------------------ notebooks

  api.post('/notebooks', async (req, res) => {
    const credentials = await ctx.credentialsOf(req);
    const body = req.body;
    const dryRun = body.dryRun ?? false;
    const input = {
      name: body.name,
      namespace: body.namespace,
      entityRef: body.entityRef,
      image: body.image,
      resources: body.resources,
      env: body.env,
      workspace: body.workspace,
      datasets: undefined as DatasetMountInput[] | undefined,
      modelRef: body.modelRef,
      serviceAccountName: body.serviceAccountName,
      priorityClassName: body.priorityClassName,
      nodeSelector: body.nodeSelector,
    };
    // validate (the datasets' mounts once they are resolved), then resolve
    zodCheck(notebookInputSchema, compact(input));
    assertCluster(body.cluster, 'body');
    await assertModelInCatalog(
      body.modelRef,
      'request/body/modelRef',
      credentials,
    );
    const datasets = await resolveDatasets(
      body.datasets,
      'request/body/datasets',
      body,
      credentials,
    );
    if (datasets.mounts) {
      input.datasets = datasets.mounts;
      zodCheck(notebookInputSchema, compact(input));
    }
    await authorizeAll(
      [
        { permission: kubeaiClusterObjectCreatePermission },
        { permission: kubeaiRunCreatePermission },
      ],
      credentials,
    );
    const built = buildNotebook(compact(input) as any);
    const applied = await applyObjects(body.cluster, built, dryRun);
    const main = built.length - 1;
    const notebook = applied[main];
    let run: Run | undefined;
    if (!dryRun) {
      run = (
        await recordAfterApply(applied, body.cluster, () =>
          store.upsertObjectRun(
            {
              kind: 'notebook',
              cluster: body.cluster,
              namespace: body.namespace,
              name: body.name,
              uid: String(notebook.metadata.uid),
              modelRef: body.modelRef,
              inputs: datasets.inputs,
              params: compact({
                objectKind: 'Notebook',
                image: body.image,
                gpu: body.resources?.gpu,
              }),
            },
            ctx.actorOf(credentials),
          ),
        )
      ).run;
    }
    res.status(201).json(
      result(body.cluster, built, applied, main, dryRun, {
        ...(run ? { run } : {}),
        ...(body.entityRef ? { entityRef: normalizeRef(body.entityRef) } : {}),
        url: modelUrl(body.modelRef),
        message: `${dryRun ? 'Would create' : 'Applied'} Notebook ${
          body.namespace
        }/${body.name} in cluster ${body.cluster}`,
      }),
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
      const credentials = await ctx.credentialsOf(req);
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
