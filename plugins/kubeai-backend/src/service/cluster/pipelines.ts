/**
 * Pipelines: `POST /pipelines` (an Argo Workflow or CronWorkflow, recorded as a run), its status
 * and its `DELETE` under `/clusters/{cluster}/namespaces/{namespace}/pipelines/{name}`.
 */
import { InputError } from '@backstage/errors';
import {
  kubeaiClusterObjectCreatePermission,
  kubeaiRunCreatePermission,
  type DatasetMount,
  type Run,
  type RunInput,
} from '@kubeai/plugin-kubeai-common';
import { buildPipeline, pipelineInputSchema } from '../../manifests';
import { normalizeRef } from '../../refs';
import { type ClusterApi, type ClusterContext, compact } from './context';
import { createObjectHelpers } from './objects';

/** Registers the pipeline routes. */
export function registerPipelineRoutes(
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
  const { readFirst, fixed, statusOf, runOf, deleteManaged } =
    createObjectHelpers(ctx);

  // ------------------------------------------------------------------ pipelines

  api.post('/pipelines', async (req, res) => {
    const credentials = await ctx.credentialsOf(req);
    const body = req.body;
    const dryRun = body.dryRun ?? false;
    // validate (the datasets' mounts once they are resolved), then resolve
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
    {
      const { cluster: _c, dryRun: _d, ...unresolved } = body;
      zodCheck(
        pipelineInputSchema,
        compact({
          ...unresolved,
          steps: body.steps.map(step => {
            const { datasets: _ds, ...rest } = step;
            const training = step.training as
              | Record<string, unknown>
              | undefined;
            if (!training) return rest;
            const { datasets: _t, ...trainingRest } = training;
            return { ...rest, training: trainingRest };
          }),
        }),
      );
    }
    assertCluster(body.cluster, 'body');
    await assertModelInCatalog(
      body.modelRef,
      'request/body/modelRef',
      credentials,
    );
    const inputs: RunInput[] = [];
    const steps: Record<string, unknown>[] = [];
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
        inputs.push(...resolved.inputs);
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
        next.training = { ...training, datasets: resolved.mounts };
        inputs.push(...resolved.inputs);
      }
      steps.push(next);
    }
    const { cluster, dryRun: _d, ...rest } = body;
    const input = compact({ ...rest, steps });
    zodCheck(pipelineInputSchema, input);
    await authorizeAll(
      [
        { permission: kubeaiClusterObjectCreatePermission },
        { permission: kubeaiRunCreatePermission },
      ],
      credentials,
    );
    const built = [buildPipeline(input as any)];
    const applied = await applyObjects(cluster, built, dryRun);
    let run: Run | undefined;
    if (!dryRun) {
      run = (
        await recordAfterApply(applied, cluster, () =>
          store.upsertObjectRun(
            {
              kind: 'pipeline',
              cluster,
              namespace: body.namespace,
              name: body.name,
              uid: String(applied[0].metadata.uid),
              modelRef: body.modelRef,
              inputs,
              params: compact({
                objectKind: built[0].kind,
                schedule: body.schedule,
                steps: body.steps.map(s => s.name).join(','),
              }),
            },
            ctx.actorOf(credentials),
          ),
        )
      ).run;
    }
    res.status(201).json(
      result(cluster, built, applied, 0, dryRun, {
        ...(run ? { run } : {}),
        ...(body.entityRef ? { entityRef: normalizeRef(body.entityRef) } : {}),
        url: modelUrl(body.modelRef),
        message: `${dryRun ? 'Would create' : 'Applied'} ${built[0].kind} ${
          body.namespace
        }/${body.name} in cluster ${cluster}`,
      }),
    );
  });

  api.get(
    '/clusters/:cluster/namespaces/:namespace/pipelines/:name',
    async (req, res) => {
      const object = await readFirst(req.params, 'pipeline', [
        fixed('argoproj.io/v1alpha1', 'Workflow'),
        fixed('argoproj.io/v1alpha1', 'CronWorkflow'),
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
      const credentials = await ctx.credentialsOf(req);
      const object = await readFirst(req.params, 'pipeline', [
        fixed('argoproj.io/v1alpha1', 'Workflow'),
        fixed('argoproj.io/v1alpha1', 'CronWorkflow'),
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
