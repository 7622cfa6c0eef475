/**
 * The cluster routes of the KubeAI API: what the portal creates in clusters (notebooks, training
 * tasks, datasets, inference services, pipelines), their status, the clusters and namespaces, and
 * the catalog entities the portal registers. Registered on the typed router of ./router.ts, so
 * requests are validated against `src/schema/openapi.yaml` before a handler runs.
 *
 * Every mutating handler goes (a route describes its write as `ClusterWriteSteps` and
 * ./cluster/ClusterWriteFlow.ts runs them; permissions and catalog checks go through
 * ./access/Access.ts):
 *
 *   validate (spec, then the builder's zod schema for what JSON schema cannot say: cron, per-kind
 *   fields, cross-field rules)
 *   → resolve references (cluster, model version / alias → artifact, datasets → claims,
 *     catalog entities, the live object for rollouts) and check every registry rule that recording
 *     will enforce (dataset version names, traffic versions)
 *   → permission check (403, nothing written)
 *   → build the manifests (pure builders of ../manifests)
 *   → `dryRun`: server-side dry run, return the manifests; otherwise apply with server-side apply
 *     (several objects: dry run of all first, so an invalid or forbidden later object leaves nothing
 *     behind)
 *   → record in the registry (run / deployment revision / dataset version, catalog entity),
 *     idempotently: runs are keyed by (cluster, uid), deployments by entity, dataset versions by
 *     (dataset, version, uri)
 *   → 201 with the object ref, the manifests and what was recorded.
 *
 * Apply comes before record, and recording is idempotent: if recording fails after the apply, the
 * answer is a 500 `PartialWriteError` saying that the objects exist and that sending the same
 * request again records them (it changes nothing in the cluster the second time). Every check that
 * recording could fail on for a reason of the request (unknown dataset version, version conflicts,
 * unknown traffic versions) runs before the apply, so only infrastructure failures get there.
 *
 * The `DELETE` handlers (on the status paths) read the object (404) and what its create route
 * applied with it → refuse objects without `app.kubernetes.io/managed-by: kubeai` (409) →
 * permission check → a server-side dry run of every delete, then the deletes (background
 * propagation) → mark the unfinished run `Stopped` and remove the portal entity (not on `dryRun`).
 */
import type { ApiRouter } from '@backstage/backend-openapi-utils';
import type { KubeaiOpenApiSpec } from '@kubeai/plugin-kubeai-node';
import { registerClusterListRoutes } from './cluster/clusters';
import {
  createClusterContext,
  type ClusterRoutesContext,
} from './cluster/context';
import { registerDatasetRoutes } from './cluster/datasets';
import { registerInferenceServiceRoutes } from './cluster/inferenceServices';
import { registerJobRoutes } from './cluster/jobs';
import { registerNotebookRoutes } from './cluster/notebooks';
import { registerPipelineRoutes } from './cluster/pipelines';
import { registerPoolRoutes } from './cluster/pools';

// One file per resource in ./cluster: the shared context and helpers (context.ts), the write
// flow (ClusterWriteFlow.ts), the status and delete helpers (objects.ts), the catalog entities
// the routes register (entities.ts); the deploy of inference services is inferenceServiceDeploy.ts.
export {
  PartialWriteError,
  type ClusterRoutesContext,
  type ClusterRoutesOptions,
  type PortalEntityPublisher,
} from './cluster/context';
export { BATCH_APPLY_CONCURRENCY } from './cluster/jobs';
export { phaseOf } from './cluster/objects';

/** Registers the cluster routes on the typed router. */
export function registerClusterRoutes(
  api: ApiRouter<KubeaiOpenApiSpec>,
  ctx: ClusterRoutesContext,
): void {
  const context = createClusterContext(ctx);
  registerClusterListRoutes(api, context);
  registerNotebookRoutes(api, context);
  registerJobRoutes(api, context);
  registerDatasetRoutes(api, context);
  registerInferenceServiceRoutes(api, context);
  registerPipelineRoutes(api, context);
  registerPoolRoutes(api, context);
}
