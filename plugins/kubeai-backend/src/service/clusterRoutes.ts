/**
 * The cluster routes of the KubeAI API: what the portal creates in clusters (notebooks, training
 * tasks, datasets, inference services, pipelines), their status, the clusters and namespaces, and
 * the catalog entities the portal registers. Registered on the typed router of ./router.ts, so
 * requests are validated against `src/schema/openapi.yaml` before a handler runs.
 *
 * Every mutating handler goes:
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
import type {
  BackstageCredentials,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import {
  CustomErrorBase,
  InputError,
  NotAllowedError,
  NotFoundError,
  ConflictError,
} from '@backstage/errors';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import {
  AuthorizeResult,
  BasicPermission,
  isResourcePermission,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import {
  kubeaiClusterObjectCreatePermission,
  kubeaiClusterObjectDeletePermission,
  kubeaiDatasetVersionCreatePermission,
  kubeaiDeploymentCreatePermission,
  kubeaiDeploymentUpdatePermission,
  kubeaiRunCreatePermission,
  kubeaiRunUpdatePermission,
  KUBEAI_API_VERSION,
  KUBEAI_MANAGER,
  KUBEAI_PORTAL_ENTITY_TOPIC,
  MODEL_FORMATS,
  validateDatasetEntity,
  validateInferenceServiceEntity,
  type ClusterObjectRef,
  type ClusterObjectStatus,
  type ClusterWriteResult,
  type CreateDatasetRequest,
  type CreateJobRequest,
  type DatasetMount,
  type Deployment,
  type ModelVersion,
  type Run,
  type RunInput,
  type TrafficTarget,
  type CatalogEntityInput,
} from '@kubeai/plugin-kubeai-common';
import type { z } from 'zod';
import { ClusterInputError, type ClusterGateway } from '../cluster';
import type { PortalEntity, RegistryStore } from '../database/RegistryStore';
import { UnprocessableEntityError } from '../errors';
import {
  buildDataset,
  buildInferenceService,
  buildNotebook,
  buildPipeline,
  buildTraining,
  canary,
  currentModelVersion,
  datasetInputSchema,
  inferenceServiceInputSchema,
  KUBEAI_ANNOTATIONS,
  KUBEAI_LABELS,
  kserveModelFormat,
  notebookInputSchema,
  notebookWorkspaceClaimName,
  pipelineInputSchema,
  promote,
  rollback,
  stableModelVersion,
  trainingInputSchema,
  type DatasetMountInput,
  type InferenceServiceObject,
  type KubeObject,
  type ModelVersionRef,
} from '../manifests';
import { normalizeRef } from '../refs';
import type { spec } from '../schema/openapi.generated';

/** The part of the events service the routes use (`eventsServiceRef` of plugin-events-node). */
export interface PortalEntityPublisher {
  publish(params: {
    topic: string;
    eventPayload: unknown;
    metadata?: Record<string, string | string[] | undefined>;
  }): Promise<void>;
}

/** What the plugin gives the cluster routes (see plugin.ts). */
export interface ClusterRoutesOptions {
  /** The cluster gateway; without it every cluster route answers that no cluster is configured. */
  gateway?: ClusterGateway;
  /** Announces portal-created catalog entities (the kubeai entity provider listens). */
  events?: PortalEntityPublisher;
}

/** Everything {@link registerClusterRoutes} needs; the helpers come from ./router.ts. */
export interface ClusterRoutesContext extends ClusterRoutesOptions {
  store: RegistryStore;
  permissions: PermissionsService;
  catalog: CatalogService;
  logger: LoggerService;
  credentialsOf(req: unknown): Promise<BackstageCredentials>;
  actorOf(credentials: BackstageCredentials): string;
}

/**
 * The objects were applied, but recording them in the registry failed. Answered as 500; the same
 * request again records them (the apply is idempotent).
 */
export class PartialWriteError extends CustomErrorBase {
  name = 'PartialWriteError' as const;
  statusCode = 500 as const;
}

const TRAINING_GROUPS: Record<string, { group: string; versions: string[] }> = {
  Job: { group: 'batch', versions: ['v1'] },
  CronJob: { group: 'batch', versions: ['v1', 'v1beta1'] },
  TFJob: { group: 'kubeflow.org', versions: ['v1'] },
  PyTorchJob: { group: 'kubeflow.org', versions: ['v1'] },
  XGBoostJob: { group: 'kubeflow.org', versions: ['v1'] },
  TrainJob: { group: 'trainer.kubeflow.org', versions: ['v1alpha1'] },
};

/** Run phases a deletion does not change (the run had already ended). */
const FINISHED_RUN_PHASES = new Set(['Succeeded', 'Failed', 'Stopped']);

/** Objects of a batch applied at the same time. */
export const BATCH_APPLY_CONCURRENCY = 16;

/** The HTTP status an error is answered with (the Backstage error handler's mapping). */
function statusCodeOf(error: unknown): number {
  const explicit = (error as { statusCode?: unknown })?.statusCode;
  if (typeof explicit === 'number') return explicit;
  switch ((error as Error)?.name) {
    case 'InputError':
      return 400;
    case 'AuthenticationError':
      return 401;
    case 'NotAllowedError':
      return 403;
    case 'NotFoundError':
      return 404;
    case 'ConflictError':
      return 409;
    case 'ServiceUnavailableError':
      return 503;
    default:
      return 500;
  }
}

type Check = {
  permission: BasicPermission | ResourcePermission;
  resourceRef?: string;
};

/** Registers the cluster routes on the typed router. */
export function registerClusterRoutes(
  api: ApiRouter<typeof spec>,
  ctx: ClusterRoutesContext,
): void {
  const { store, catalog, logger } = ctx;

  // ------------------------------------------------------------------ helpers

  function gatewayOf(): ClusterGateway {
    if (!ctx.gateway) {
      throw new UnprocessableEntityError(
        'request/body/cluster: no clusters are configured (kubernetes.clusterLocatorMethods)',
      );
    }
    return ctx.gateway;
  }

  /** The cluster of a body (422 naming the field) or of a path (404). */
  function assertCluster(
    cluster: string,
    from: 'body' | 'path',
    at = 'request/body',
  ): ClusterGateway {
    const known = ctx.gateway?.listClusters().map(c => c.name) ?? [];
    if (!known.includes(cluster)) {
      const message = `unknown cluster "${cluster}" (${
        known.length
          ? `configured: ${known.join(', ')}`
          : 'no clusters configured'
      })`;
      throw from === 'body'
        ? new UnprocessableEntityError(`${at}/cluster: ${message}`)
        : new NotFoundError(`request/params/cluster: ${message}`);
    }
    return gatewayOf();
  }

  /** All checks in one call; the first denial answers 403 naming permission and resource. */
  async function authorizeAll(
    checks: Check[],
    credentials: BackstageCredentials,
  ): Promise<void> {
    const decisions = await ctx.permissions.authorize(
      checks.map(c =>
        isResourcePermission(c.permission)
          ? { permission: c.permission, resourceRef: c.resourceRef! }
          : { permission: c.permission as BasicPermission },
      ),
      { credentials },
    );
    decisions.forEach((decision, i) => {
      if (decision.result !== AuthorizeResult.ALLOW) {
        const { permission, resourceRef } = checks[i];
        throw new NotAllowedError(
          `${permission.name} denied${resourceRef ? ` on ${resourceRef}` : ''}`,
        );
      }
    });
  }

  /** Which of `refs` the catalog knows, as the caller sees it (lower-case refs → entity). */
  async function catalogEntities(
    refs: string[],
    credentials: BackstageCredentials,
    fields?: string[],
  ): Promise<Map<string, Record<string, any>>> {
    const unique = [...new Set(refs.map(normalizeRef))];
    const found = new Map<string, Record<string, any>>();
    if (unique.length === 0) return found;
    const { items } = await catalog.getEntitiesByRefs(
      { entityRefs: unique, ...(fields ? { fields } : {}) },
      { credentials },
    );
    items.forEach((item, i) => {
      if (item) found.set(unique[i], item as Record<string, any>);
    });
    return found;
  }

  /** A model ref of the body must be in the catalog (422 naming the field). */
  async function assertModelInCatalog(
    modelRef: string | undefined,
    field: string,
    credentials: BackstageCredentials,
  ) {
    if (!modelRef) return;
    const ref = normalizeRef(modelRef);
    const found = await catalogEntities([ref], credentials, ['kind']);
    if (!found.has(ref)) {
      throw new UnprocessableEntityError(
        `${field}: ${ref} not found in the catalog`,
      );
    }
  }

  /** An entity the portal registers or one the catalog (or the portal's store) already has. */
  async function assertEntityKnown(
    ref: string,
    field: string,
    credentials: BackstageCredentials,
    hint: string,
  ) {
    const found = await catalogEntities([ref], credentials, ['kind']);
    if (found.has(ref) || (await store.getPortalEntity(ref))) return;
    throw new UnprocessableEntityError(
      `${field}: ${ref} not found in the catalog${hint}`,
    );
  }

  /** Runs a builder's zod schema; issues become a 400 naming `request/body/<path>`. */
  function zodCheck<S extends z.ZodTypeAny>(
    schema: S,
    input: unknown,
    describe: (path: (string | number)[]) => string = p =>
      ['request/body', ...p].join('/'),
    kindNote = '',
  ): z.output<S> {
    const parsed = schema.safeParse(input);
    if (parsed.success) return parsed.data;
    const messages = parsed.error.issues.flatMap(issue => {
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map(
          key => `${describe([...issue.path, key])} is not allowed${kindNote}`,
        );
      }
      if (issue.code === 'invalid_union_discriminator') {
        return [`${describe(issue.path)} ${issue.message}`];
      }
      return [`${describe(issue.path)} ${issue.message}`];
    });
    throw new InputError([...new Set(messages)].join(', '));
  }

  /** Mount name of a dataset entity: its name as a DNS label. */
  function mountNameOf(ref: string): string {
    const name = ref.slice(ref.indexOf('/') + 1);
    const label = name
      .toLocaleLowerCase('en-US')
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 63)
      .replace(/-+$/, '');
    return label || 'data';
  }

  /**
   * Datasets of a workload: each must be in the catalog (or the portal's store) or have versions
   * in the registry (422 naming `<field>/<i>/datasetRef`); a given version must exist (422 naming
   * `<field>/<i>/version`). Returns builder mounts (the claim from `claimName`, the entity's
   * claim annotation / PVC source / Fluid cache, or the registry's `pvc://` uri) and run inputs.
   */
  async function resolveDatasets(
    mounts: DatasetMount[] | undefined,
    field: string,
    target: { cluster: string; namespace: string },
    credentials: BackstageCredentials,
  ): Promise<{ mounts?: DatasetMountInput[]; inputs: RunInput[] }> {
    if (!mounts || mounts.length === 0) return { inputs: [] };
    const refs = mounts.map(m => normalizeRef(m.datasetRef));
    const entities = await catalogEntities(refs, credentials, [
      'kind',
      'metadata.name',
      'metadata.namespace',
      'metadata.annotations',
      'spec.source',
      'spec.cache',
    ]);
    const out: DatasetMountInput[] = [];
    const inputs: RunInput[] = [];
    for (const [i, mount] of mounts.entries()) {
      const ref = refs[i];
      const at = `${field}/${i}`;
      const entity =
        entities.get(ref) ?? ((await store.getPortalEntity(ref)) as any);
      let version;
      if (mount.version !== undefined) {
        version = await store.getDatasetVersion(ref, mount.version);
        if (!version) {
          throw new UnprocessableEntityError(
            `${at}/version: ${ref} has no version ${mount.version} in the registry`,
          );
        }
      }
      const latest =
        version ??
        (entity
          ? undefined
          : (await store.listDatasetVersions(ref, { limit: 1 })).items[0]);
      if (!entity && !latest) {
        throw new UnprocessableEntityError(
          `${at}/datasetRef: ${ref} not found in the catalog or the registry`,
        );
      }
      const claimName =
        mount.claimName ??
        claimOf(ref, entity, version ?? latest, target, `${at}/datasetRef`);
      out.push({
        name: mount.name ?? mountNameOf(ref),
        claimName,
        ...(mount.mountPath ? { mountPath: mount.mountPath } : {}),
        ...(mount.subPath ? { subPath: mount.subPath } : {}),
      });
      inputs.push({
        datasetRef: ref,
        ...(mount.version !== undefined ? { version: mount.version } : {}),
      });
    }
    return { mounts: out, inputs };
  }

  /** The PVC a dataset is mounted from in `target`, or a 422 saying why there is none. */
  function claimOf(
    ref: string,
    entity: Record<string, any> | undefined,
    version: { uri: string } | undefined,
    target: { cluster: string; namespace: string },
    field: string,
  ): string {
    const where = (cluster?: string, namespace?: string) => {
      if (cluster && cluster !== target.cluster) {
        throw new UnprocessableEntityError(
          `${field}: ${ref} is in cluster "${cluster}", not "${target.cluster}"`,
        );
      }
      if (namespace && namespace !== target.namespace) {
        throw new UnprocessableEntityError(
          `${field}: the claim of ${ref} is in namespace "${namespace}", not "${target.namespace}"`,
        );
      }
    };
    if (entity) {
      const annotations = entity.metadata?.annotations ?? {};
      const source = entity.spec?.source ?? {};
      if (annotations['kubeai.io/claim-name']) {
        where(
          annotations['kubeai.io/cluster'],
          annotations['kubeai.io/namespace'],
        );
        return annotations['kubeai.io/claim-name'];
      }
      if (source.type === 'table') {
        throw new UnprocessableEntityError(
          `${field}: ${ref} is a table and cannot be mounted`,
        );
      }
      if (entity.spec?.cache) {
        where(
          annotations['kubeai.io/cluster'],
          annotations['kubeai.io/namespace'],
        );
        return String(entity.metadata.name).toLocaleLowerCase('en-US');
      }
      if (source.type === 'pvc' && source.claimName) {
        where(source.cluster, source.namespace);
        return source.claimName;
      }
    }
    const pvc = /^pvc:\/\/(?:([^/]+)\/)?([^/]+)\/([^/]+)\/?$/.exec(
      version?.uri ?? '',
    );
    if (pvc) {
      where(pvc[1], pvc[2]);
      return pvc[3];
    }
    throw new UnprocessableEntityError(
      `${field}: ${ref} has no claim in the cluster (a ${
        entity?.spec?.source?.type ?? 'registry-only'
      } dataset without cache); give claimName`,
    );
  }

  /** The registry version a selector (number, numeric string or alias) names; 422 otherwise. */
  async function selectModelVersion(
    modelRef: string,
    selector: number | string,
    field: string,
  ): Promise<ModelVersion> {
    const numeric =
      typeof selector === 'number' || /^[0-9]+$/.test(String(selector));
    const version = numeric
      ? await store.getModelVersion(modelRef, Number(selector))
      : await store.getModelVersionByAlias(modelRef, String(selector));
    if (!version) {
      throw new UnprocessableEntityError(
        `${field}: ${modelRef} has no ${numeric ? 'version' : 'alias'} ${
          numeric ? Number(selector) : `'${selector}'`
        }`,
      );
    }
    if (version.state !== 'live') {
      throw new UnprocessableEntityError(
        `${field}: version ${version.version} of ${modelRef} is ${version.state}`,
      );
    }
    return version;
  }

  const versionRefOf = (v: ModelVersion): ModelVersionRef => ({
    version: String(v.version),
    artifact: { uri: v.artifact.uri, format: v.artifact.format },
    ...(v.framework ? { framework: v.framework } : {}),
  });

  /**
   * Applies (or dry-runs) objects. Several objects: a dry run of all first, so nothing is left
   * behind when a later one is invalid or forbidden. Apiserver 422s become a 422 naming the
   * fields; a missing namespace a 422 naming `namespace`.
   */
  async function applyObjects(
    cluster: string,
    objects: KubeObject[],
    dryRun: boolean,
  ): Promise<KubeObject[]> {
    const gateway = gatewayOf();
    try {
      if (dryRun) {
        return await gateway.apply(cluster, objects, { dryRun: true });
      }
      if (objects.length > 1) {
        await gateway.apply(cluster, objects, { dryRun: true });
      }
      return await gateway.apply(cluster, objects);
    } catch (error) {
      throw clusterError(error, cluster);
    }
  }

  function clusterError(error: unknown, cluster: string): unknown {
    if (error instanceof ClusterInputError) {
      const rejected = new UnprocessableEntityError(
        `the cluster rejected the object: ${error.message}`,
      );
      (rejected as unknown as { causes: unknown }).causes = error.causes;
      return rejected;
    }
    const message = (error as Error)?.message ?? '';
    const missing = /namespaces? "([^"]+)" not found/.exec(message);
    if ((error as Error)?.name === 'NotFoundError' && missing) {
      return new UnprocessableEntityError(
        `request/body/namespace: namespace "${missing[1]}" does not exist in cluster "${cluster}"`,
      );
    }
    return error;
  }

  /** Runs the recording after an apply; a failure says what exists and how to finish. */
  async function recordAfterApply<T>(
    applied: KubeObject[],
    cluster: string,
    record: () => Promise<T>,
  ): Promise<T> {
    try {
      return await record();
    } catch (error) {
      const what = applied
        .map(o => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)
        .join(', ');
      logger.error(
        `kubeai applied ${what} to cluster ${cluster} but failed to record it: ${error}`,
      );
      throw new PartialWriteError(
        `applied ${what} to cluster "${cluster}", but recording it in the registry failed (${
          (error as Error)?.message ?? error
        }); the objects exist — send the same request again to record them`,
        error as Error,
      );
    }
  }

  const refOf = (cluster: string, object: KubeObject): ClusterObjectRef =>
    compact({
      cluster,
      apiVersion: object.apiVersion,
      kind: object.kind,
      namespace: object.metadata.namespace,
      name: object.metadata.name!,
      uid:
        typeof object.metadata.uid === 'string'
          ? object.metadata.uid
          : undefined,
    });

  function result(
    cluster: string,
    built: KubeObject[],
    applied: KubeObject[],
    main: number,
    dryRun: boolean,
    extra: Partial<ClusterWriteResult> & { url: string; message: string },
  ): ClusterWriteResult {
    return {
      dryRun,
      object: refOf(cluster, applied[main] ?? built[main]),
      objects: (applied.length ? applied : built).map(o => refOf(cluster, o)),
      manifests: (dryRun ? applied : built).map(stripServerFields) as any,
      ...extra,
    };
  }

  function modelUrl(modelRef: string | undefined): string {
    if (!modelRef) return '/kubeai';
    const ref = parseEntityRef(modelRef);
    return `/catalog/${ref.namespace}/model/${ref.name}`;
  }

  async function publishEntity(entity: PortalEntity) {
    await announce({ entity }, `${entity.kind} ${entity.metadata.name}`);
  }

  /** Tells the catalog module's provider at once (its scheduled refresh would, minutes later). */
  async function announce(eventPayload: object, what: string) {
    try {
      await ctx.events?.publish({
        topic: KUBEAI_PORTAL_ENTITY_TOPIC,
        eventPayload,
      });
    } catch (error) {
      logger.warn(`kubeai could not announce ${what}: ${error}`);
    }
  }

  // ------------------------------------------------------------------ clusters

  api.get('/clusters', async (_req, res) => {
    const items = ctx.gateway?.listClusters() ?? [];
    res.json({ items, totalItems: items.length });
  });

  api.get('/clusters/:cluster/namespaces', async (req, res) => {
    const gateway = assertCluster(req.params.cluster, 'path');
    const names = await gateway.namespaces(req.params.cluster);
    res.json({
      cluster: req.params.cluster,
      items: names.map(name => ({ name })),
      totalItems: names.length,
    });
  });

  api.get('/catalog-entities', async (req, res) => {
    res.json(await store.listPortalEntities(req.query));
  });

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

  // ------------------------------------------------------------------ training tasks

  type JobRequest = CreateJobRequest;

  /**
   * Validates and resolves one training task and builds its objects; `at` is where the task is in
   * the request (`request/body`, `request/body/items/3`) for the messages. The model is checked
   * by the caller (once per batch).
   */
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

  async function prepareJob(
    body: JobRequest,
    at: string,
    credentials: BackstageCredentials,
  ) {
    const gateway = assertCluster(body.cluster, 'body', at);
    const datasets = await resolveDatasets(
      body.datasets,
      `${at}/datasets`,
      body,
      credentials,
    );
    const { cluster } = body;
    const input = compact({ ...jobInput(body), datasets: datasets.mounts });
    if (datasets.mounts) {
      zodCheck(
        trainingInputSchema,
        input,
        path => [at, ...path].join('/'),
        ` for kind ${body.kind}`,
      );
    }
    const cronJobApiVersion =
      body.kind === 'CronJob'
        ? ((await gateway
            .resolveApiVersion(cluster, 'batch', 'CronJob', ['v1', 'v1beta1'])
            .catch(error => {
              throw clusterError(error, cluster);
            })) as 'batch/v1' | 'batch/v1beta1')
        : undefined;
    const built = buildTraining(input as any, { cronJobApiVersion });
    return { body, built, inputs: datasets.inputs, main: built.length - 1 };
  }

  /** The run of an applied training task. */
  const jobRun = (
    job: Awaited<ReturnType<typeof prepareJob>>,
    applied: KubeObject[],
  ) => ({
    kind: 'training' as const,
    cluster: job.body.cluster,
    namespace: job.body.namespace,
    name: job.body.name,
    uid: String(applied[job.main].metadata.uid),
    modelRef: job.body.modelRef,
    inputs: job.inputs,
    params: compact({
      ...job.body.params,
      objectKind: job.body.kind,
      image: job.body.image,
      schedule: job.body.schedule,
      gpu: job.body.resources?.gpu,
    }),
  });

  const jobChecks: Check[] = [
    { permission: kubeaiClusterObjectCreatePermission },
    { permission: kubeaiRunCreatePermission },
  ];

  api.post('/jobs', async (req, res) => {
    const credentials = await ctx.credentialsOf(req);
    const body = req.body;
    const dryRun = body.dryRun ?? false;
    validateJob(body, 'request/body');
    await assertModelInCatalog(
      body.modelRef,
      'request/body/modelRef',
      credentials,
    );
    const job = await prepareJob(body, 'request/body', credentials);
    await authorizeAll(jobChecks, credentials);
    const { cluster } = body;
    const applied = await applyObjects(cluster, job.built, dryRun);
    let run: Run | undefined;
    if (!dryRun) {
      run = (
        await recordAfterApply(applied, cluster, () =>
          store.upsertObjectRun(jobRun(job, applied), ctx.actorOf(credentials)),
        )
      ).run;
    }
    res.status(201).json(
      result(cluster, job.built, applied, job.main, dryRun, {
        ...(run ? { run } : {}),
        ...(body.entityRef ? { entityRef: normalizeRef(body.entityRef) } : {}),
        url: modelUrl(body.modelRef),
        message: `${dryRun ? 'Would create' : 'Applied'} ${body.kind} ${
          body.namespace
        }/${body.name} in cluster ${cluster}`,
      }),
    );
  });

  /**
   * Many training tasks in one request (e.g. the daily forecasts of a team). Every task is
   * validated and resolved first — one invalid task refuses the whole batch naming
   * `request/body/items/<i>/…`, and nothing is applied; then one permission check; then the tasks
   * are applied with {@link BATCH_APPLY_CONCURRENCY} in flight and their runs recorded in one
   * transaction. Tasks the cluster refuses are reported per item (207); the others are applied.
   */
  api.post('/jobs/batch', async (req, res) => {
    const credentials = await ctx.credentialsOf(req);
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
    const known = await catalogEntities(models, credentials, ['kind']);
    items.forEach((item, i) => {
      if (item.modelRef && !known.has(normalizeRef(item.modelRef))) {
        throw new UnprocessableEntityError(
          `request/body/items/${i}/modelRef: ${normalizeRef(
            item.modelRef,
          )} not found in the catalog`,
        );
      }
    });
    const jobs: Array<Awaited<ReturnType<typeof prepareJob>>> = [];
    for (const [i, item] of items.entries()) {
      jobs.push(await prepareJob(item, `request/body/items/${i}`, credentials));
    }
    await authorizeAll(jobChecks, credentials);

    const outcomes: Array<{ applied?: KubeObject[]; error?: unknown }> =
      new Array(jobs.length);
    let next = 0;
    await Promise.all(
      Array.from(
        { length: Math.min(BATCH_APPLY_CONCURRENCY, jobs.length) },
        async () => {
          while (next < jobs.length) {
            const i = next++;
            try {
              outcomes[i] = {
                applied: await applyObjects(
                  jobs[i].body.cluster,
                  jobs[i].built,
                  dryRun,
                ),
              };
            } catch (error) {
              outcomes[i] = { error };
            }
          }
        },
      ),
    );
    const ok = jobs
      .map((job, i) => ({ job, i, applied: outcomes[i].applied }))
      .filter(x => x.applied);
    const runs = new Map<number, Run>();
    if (!dryRun && ok.length) {
      const recorded = await recordAfterApply(
        ok.flatMap(x => x.applied!),
        ok[0].job.body.cluster,
        () =>
          store.upsertObjectRuns(
            ok.map(x => jobRun(x.job, x.applied!)),
            ctx.actorOf(credentials),
          ),
      );
      recorded.forEach((r, k) => runs.set(ok[k].i, r.run));
    }
    const results = jobs.map((job, i) => {
      const outcome = outcomes[i];
      const object = refOf(
        job.body.cluster,
        outcome.applied?.[job.main] ?? job.built[job.main],
      );
      if (outcome.error !== undefined) {
        const error = clusterError(outcome.error, job.body.cluster) as Error;
        return {
          index: i,
          status: statusCodeOf(error),
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
        runId: runs.get(i)?.id,
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

  // ------------------------------------------------------------------ datasets

  api.post('/datasets', async (req, res) => {
    const credentials = await ctx.credentialsOf(req);
    const body = req.body;
    const dryRun = body.dryRun ?? false;
    // validate: the builder's rules, the entity to register (both need no lookups) …
    const datasetRef = normalizeRef(
      body.catalogEntity
        ? `dataset:${body.catalogEntity.namespace ?? 'default'}/${
            body.catalogEntity.name ?? body.name
          }`
        : body.datasetRef ?? `dataset:default/${body.name}`,
    );
    const input = compact({
      name: body.name,
      namespace: body.namespace,
      entityRef: datasetRef,
      source: compact({ ...body.source }),
      cache: body.cache,
    });
    zodCheck(datasetInputSchema, input);
    let entity: PortalEntity | undefined;
    if (body.catalogEntity) {
      entity = datasetEntity(body, body.catalogEntity);
      if (body.datasetRef && normalizeRef(body.datasetRef) !== datasetRef) {
        throw new InputError(
          `request/body/datasetRef: ${normalizeRef(
            body.datasetRef,
          )} is not the entity catalogEntity describes (${datasetRef}); give one of them`,
        );
      }
    }
    // … then resolve
    assertCluster(body.cluster, 'body');
    if (!entity) {
      await assertEntityKnown(
        datasetRef,
        'request/body/datasetRef',
        credentials,
        '; give catalogEntity to register it',
      );
    }
    const build = buildDataset(input as any);
    const uri = datasetUri(body, build.claimName);
    const plan = await store.planDatasetVersion(datasetRef, {
      version: body.version,
      uri,
    });
    await authorizeAll(
      [
        { permission: kubeaiClusterObjectCreatePermission },
        {
          permission: kubeaiDatasetVersionCreatePermission,
          resourceRef: datasetRef,
        },
      ],
      credentials,
    );
    const applied = build.objects.length
      ? await applyObjects(body.cluster, build.objects, dryRun)
      : [];
    let datasetVersion;
    if (!dryRun) {
      datasetVersion = await recordAfterApply(
        applied,
        body.cluster,
        async () => {
          if (entity) {
            await store.upsertPortalEntity(entity, ctx.actorOf(credentials));
            await publishEntity(entity);
          }
          return (
            await store.ensureDatasetVersion(
              datasetRef,
              compact({
                version: plan.version,
                uri,
                description: body.description,
              }),
              ctx.actorOf(credentials),
            )
          ).datasetVersion;
        },
      );
    }
    const objects = build.objects.length
      ? build.objects
      : [
          {
            apiVersion: build.claimName ? 'v1' : KUBEAI_API_VERSION,
            kind: build.claimName ? 'PersistentVolumeClaim' : 'Dataset',
            metadata: {
              name: build.claimName ?? body.name,
              ...(build.claimName ? { namespace: body.namespace } : {}),
            },
          },
        ];
    const ref = parseEntityRef(datasetRef);
    res.status(201).json(
      result(body.cluster, objects, applied, 0, dryRun, {
        ...(datasetVersion ? { datasetVersion } : {}),
        entityRef: datasetRef,
        url: `/catalog/${ref.namespace}/dataset/${ref.name}`,
        message: `${
          dryRun ? 'Would create' : 'Created'
        } dataset ${datasetRef} version ${plan.version} (${uri})${
          build.objects.length
            ? ` with ${build.objects.map(o => o.kind).join(' and ')} ${
                body.namespace
              }/${body.name} in cluster ${body.cluster}`
            : ''
        }`,
      }),
    );
  });

  // ------------------------------------------------------------------ inference services

  api.post('/inference-services', async (req, res) => {
    const credentials = await ctx.credentialsOf(req);
    const body = req.body;
    const dryRun = body.dryRun ?? false;
    const modelRef = normalizeRef(body.model);
    // validate the service's own settings before anything is looked up (the version's artifact
    // is checked once resolved)
    zodCheck(
      inferenceServiceInputSchema,
      compact({
        name: body.name,
        namespace: body.namespace,
        modelRef,
        version: {
          version: '1',
          artifact: { uri: 's3://x/y', format: 'onnx' },
        },
        resources: body.resources,
        env: body.env,
        minReplicas: body.minReplicas,
        maxReplicas: body.maxReplicas,
        canaryTrafficPercent: body.canaryTrafficPercent,
        runtime: body.runtime,
        protocolVersion: body.protocolVersion,
        serviceAccountName: body.serviceAccountName,
      }),
    );
    const gateway = assertCluster(body.cluster, 'body');
    await assertModelInCatalog(modelRef, 'request/body/model', credentials);
    const version = await selectModelVersion(
      modelRef,
      body.modelVersion,
      'request/body/modelVersion',
    );
    const versionRef = versionRefOf(version);

    let entity: PortalEntity | undefined;
    let serviceRef: string;
    if (body.catalogEntity) {
      entity = inferenceServiceEntity(
        body,
        body.catalogEntity,
        modelRef,
        version,
      );
      serviceRef = entityRefOfEntity(entity);
      if (body.serviceRef && normalizeRef(body.serviceRef) !== serviceRef) {
        throw new InputError(
          `request/body/serviceRef: ${normalizeRef(
            body.serviceRef,
          )} is not the entity catalogEntity describes (${serviceRef}); give one of them`,
        );
      }
    } else {
      serviceRef = normalizeRef(
        body.serviceRef ?? `inferenceservice:default/${body.name}`,
      );
      await assertEntityKnown(
        serviceRef,
        'request/body/serviceRef',
        credentials,
        '; give catalogEntity to register it',
      );
    }

    const deployment = await store.getDeployment(serviceRef);
    if (
      deployment &&
      (deployment.cluster !== body.cluster ||
        deployment.namespace !== body.namespace ||
        deployment.name !== body.name)
    ) {
      throw new ConflictError(
        `request/body/serviceRef: ${serviceRef} is deployed as ${deployment.namespace}/${deployment.name} in cluster ${deployment.cluster}`,
      );
    }
    const owner = await store.findDeploymentByObject(
      body.cluster,
      body.namespace,
      body.name,
    );
    if (owner && owner.serviceRef !== serviceRef) {
      throw new ConflictError(
        `request/body/name: InferenceService ${body.namespace}/${body.name} in cluster ${body.cluster} belongs to ${owner.serviceRef}`,
      );
    }

    const existing = await readInferenceService(
      gateway,
      body.cluster,
      body.namespace,
      body.name,
    );
    const common = compact({
      name: body.name,
      namespace: body.namespace,
      entityRef: serviceRef,
      modelRef,
      version: versionRef,
      resources: body.resources,
      env: body.env,
      minReplicas: body.minReplicas,
      maxReplicas: body.maxReplicas,
      runtime: body.runtime,
      protocolVersion: body.protocolVersion,
      serviceAccountName: body.serviceAccountName,
    });
    const describe = (path: (string | number)[]) =>
      path[0] === 'version'
        ? `request/body/modelVersion (the artifact of version ${
            version.version
          })${path.length > 1 ? ` ${path.slice(1).join('/')}` : ''}`
        : ['request/body', ...path].join('/');
    let object: InferenceServiceObject;
    let traffic: TrafficTarget[];
    if (body.canaryTrafficPercent !== undefined) {
      if (!existing) {
        throw new UnprocessableEntityError(
          `request/body/canaryTrafficPercent: InferenceService ${body.namespace}/${body.name} does not exist in cluster ${body.cluster} yet; its first deployment serves all the traffic (leave canaryTrafficPercent out)`,
        );
      }
      const servedModel =
        existing.metadata.annotations?.[KUBEAI_ANNOTATIONS.modelRef] ??
        deployment?.modelRef;
      if (servedModel && normalizeRef(servedModel) !== modelRef) {
        throw new UnprocessableEntityError(
          `request/body/model: a canary must be a version of the served model ${servedModel}`,
        );
      }
      zodCheck(
        inferenceServiceInputSchema,
        { ...common, canaryTrafficPercent: body.canaryTrafficPercent },
        describe,
      );
      const stable =
        existing.spec.predictor.canaryTrafficPercent !== undefined
          ? stableModelVersion(existing) ?? currentModelVersion(existing)
          : currentModelVersion(existing);
      const stableNumber = Number(stable.version);
      if (!Number.isInteger(stableNumber) || stableNumber < 1) {
        throw new UnprocessableEntityError(
          `request/body/canaryTrafficPercent: the version serving ${body.namespace}/${body.name} now (${stable.version}) is not a registry version of ${modelRef}; deploy without a canary`,
        );
      }
      if (stableNumber === version.version) {
        traffic = [{ version: version.version, percent: 100 }];
      } else {
        await selectModelVersion(
          modelRef,
          stableNumber,
          'request/body/canaryTrafficPercent (the stable version)',
        );
        traffic = [
          { version: stableNumber, percent: 100 - body.canaryTrafficPercent },
          { version: version.version, percent: body.canaryTrafficPercent },
        ];
      }
      object = withOverrides(
        canary(existing, versionRef, body.canaryTrafficPercent),
        buildInferenceService(common as any),
        body,
      );
    } else {
      zodCheck(inferenceServiceInputSchema, common, describe);
      object = buildInferenceService(common as any);
      traffic = [{ version: version.version, percent: 100 }];
    }
    const desired = compact({
      storageUri: version.artifact.uri,
      modelFormat: object.spec.predictor.model.modelFormat.name,
      canaryTrafficPercent: body.canaryTrafficPercent,
      resources: body.resources,
      minReplicas: body.minReplicas,
      maxReplicas: body.maxReplicas,
      runtime: body.runtime,
      protocolVersion: body.protocolVersion,
    });
    await authorizeAll(
      [
        { permission: kubeaiClusterObjectCreatePermission },
        {
          permission: deployment
            ? kubeaiDeploymentUpdatePermission
            : kubeaiDeploymentCreatePermission,
          resourceRef: serviceRef,
        },
      ],
      credentials,
    );
    const applied = await applyObjects(body.cluster, [object], dryRun);
    let recorded: Deployment | undefined;
    if (!dryRun) {
      recorded = await recordAfterApply(applied, body.cluster, async () => {
        if (entity) {
          await store.upsertPortalEntity(entity, ctx.actorOf(credentials));
          await publishEntity(entity);
        }
        return recordDeployment(
          serviceRef,
          deployment,
          {
            cluster: body.cluster,
            namespace: body.namespace,
            name: body.name,
            modelRef,
            traffic,
            desired,
            message:
              body.message ??
              (body.canaryTrafficPercent !== undefined
                ? `Canary v${version.version} at ${body.canaryTrafficPercent}%`
                : `Deploy v${version.version}`),
          },
          ctx.actorOf(credentials),
        );
      });
    }
    const ref = parseEntityRef(serviceRef);
    res.status(201).json(
      result(body.cluster, [object], applied, 0, dryRun, {
        ...(recorded ? { deployment: recorded } : {}),
        entityRef: serviceRef,
        url: `/catalog/${ref.namespace}/inferenceservice/${ref.name}`,
        message: `${dryRun ? 'Would deploy' : 'Deployed'} ${modelRef} v${
          version.version
        } as InferenceService ${body.namespace}/${body.name} in cluster ${
          body.cluster
        } (${formatTraffic(traffic)})`,
      }),
    );
  });

  async function readInferenceService(
    gateway: ClusterGateway,
    cluster: string,
    namespace: string,
    name: string,
  ): Promise<InferenceServiceObject | undefined> {
    try {
      return (await gateway.get(cluster, {
        apiVersion: 'serving.kserve.io/v1beta1',
        kind: 'InferenceService',
        namespace,
        name,
      })) as InferenceServiceObject;
    } catch (error) {
      if ((error as Error)?.name === 'NotFoundError') return undefined;
      throw error;
    }
  }

  /** Creates the deployment, or adds a revision when the desired state changed. */
  async function recordDeployment(
    serviceRef: string,
    current: Deployment | undefined,
    next: {
      cluster: string;
      namespace: string;
      name: string;
      modelRef: string;
      traffic: TrafficTarget[];
      desired: Record<string, unknown>;
      message: string;
    },
    actor: string,
  ): Promise<Deployment> {
    const latest = current ?? (await store.getDeployment(serviceRef));
    if (!latest) {
      try {
        return await store.createDeployment(
          {
            serviceRef,
            cluster: next.cluster,
            namespace: next.namespace,
            name: next.name,
            modelRef: next.modelRef,
            traffic: next.traffic,
            desired: next.desired,
            message: next.message,
          },
          actor,
        );
      } catch (error) {
        // a concurrent identical request recorded it first
        const again = await store.getDeployment(serviceRef);
        if (!again) throw error;
        return recordDeployment(serviceRef, again, next, actor);
      }
    }
    const same =
      latest.modelRef === next.modelRef &&
      stableJson(sortTraffic(latest.traffic)) ===
        stableJson(sortTraffic(next.traffic)) &&
      stableJson(latest.desired) === stableJson(next.desired);
    if (same) return latest;
    return store.updateDeployment(
      serviceRef,
      {
        modelRef: next.modelRef,
        traffic: next.traffic,
        desired: next.desired,
        message: next.message,
      },
      actor,
    );
  }

  /** The live InferenceService of a path, its deployment record and entity (for promote / rollback). */
  async function rolloutTarget(
    params: { cluster: string; namespace: string; name: string },
    credentials: BackstageCredentials,
  ) {
    const gateway = assertCluster(params.cluster, 'path');
    const existing = await readInferenceService(
      gateway,
      params.cluster,
      params.namespace,
      params.name,
    );
    if (!existing) {
      throw new NotFoundError(
        `InferenceService "${params.name}" not found in namespace "${params.namespace}" of cluster "${params.cluster}"`,
      );
    }
    const deployment = await store.findDeploymentByObject(
      params.cluster,
      params.namespace,
      params.name,
    );
    const serviceRef = normalizeRef(
      deployment?.serviceRef ??
        existing.metadata.annotations?.[KUBEAI_ANNOTATIONS.entityRef] ??
        `inferenceservice:default/${params.name}`,
    );
    await authorizeAll(
      [
        { permission: kubeaiClusterObjectCreatePermission },
        {
          permission: kubeaiDeploymentUpdatePermission,
          resourceRef: serviceRef,
        },
      ],
      credentials,
    );
    return { existing, deployment, serviceRef };
  }

  api.post(
    '/inference-services/:cluster/:namespace/:name/promote',
    async (req, res) => {
      const credentials = await ctx.credentialsOf(req);
      const { cluster, namespace, name } = req.params;
      const dryRun = req.body.dryRun ?? false;
      const gateway = assertCluster(cluster, 'path');
      const probe = await readInferenceService(
        gateway,
        cluster,
        namespace,
        name,
      );
      if (probe && probe.spec.predictor.canaryTrafficPercent === undefined) {
        throw new ConflictError(
          `InferenceService ${namespace}/${name} in cluster ${cluster} has no canary to promote`,
        );
      }
      const { existing, deployment, serviceRef } = await rolloutTarget(
        req.params,
        credentials,
      );
      const object = promote(existing);
      const current = currentModelVersion(existing);
      const applied = await applyObjects(cluster, [object], dryRun);
      let recorded: Deployment | undefined;
      const number = Number(current.version);
      if (!dryRun && deployment && Number.isInteger(number)) {
        recorded = await recordAfterApply(applied, cluster, () =>
          recordDeployment(
            serviceRef,
            deployment,
            {
              ...deployment,
              traffic: [{ version: number, percent: 100 }],
              desired: compact({
                ...deployment.desired,
                storageUri: object.spec.predictor.model.storageUri,
                canaryTrafficPercent: undefined,
              }),
              message: req.body.message ?? `Promote v${number}`,
            },
            ctx.actorOf(credentials),
          ),
        );
      }
      const ref = parseEntityRef(serviceRef);
      res.status(201).json(
        result(cluster, [object], applied, 0, dryRun, {
          ...(recorded ? { deployment: recorded } : {}),
          entityRef: serviceRef,
          url: `/catalog/${ref.namespace}/inferenceservice/${ref.name}`,
          message: `${dryRun ? 'Would promote' : 'Promoted'} v${
            current.version
          } of InferenceService ${namespace}/${name} to 100%${
            !dryRun && !recorded
              ? ' (no deployment recorded for it in the registry)'
              : ''
          }`,
        }),
      );
    },
  );

  api.post(
    '/inference-services/:cluster/:namespace/:name/rollback',
    async (req, res) => {
      const credentials = await ctx.credentialsOf(req);
      const { cluster, namespace, name } = req.params;
      const dryRun = req.body.dryRun ?? false;
      const { existing, deployment, serviceRef } = await rolloutTarget(
        req.params,
        credentials,
      );
      const modelRef = normalizeRef(
        deployment?.modelRef ??
          existing.metadata.annotations?.[KUBEAI_ANNOTATIONS.modelRef] ??
          '',
      );
      let target: ModelVersionRef | undefined;
      if (req.body.toVersion !== undefined) {
        if (!modelRef) {
          throw new UnprocessableEntityError(
            `request/body/toVersion: InferenceService ${namespace}/${name} records no model`,
          );
        }
        target = versionRefOf(
          await selectModelVersion(
            modelRef,
            req.body.toVersion,
            'request/body/toVersion',
          ),
        );
      } else if (existing.spec.predictor.canaryTrafficPercent !== undefined) {
        target = stableModelVersion(existing);
      } else if (deployment && modelRef) {
        // no canary in progress: back to the version served before the current one
        const currentVersion = Number(currentModelVersion(existing).version);
        const revisions = await store.listDeploymentRevisions(serviceRef, {
          limit: 1000,
        });
        const previous = revisions?.items
          .map(
            r =>
              [...r.traffic].sort((a, b) => b.percent - a.percent)[0]?.version,
          )
          .find(v => v !== undefined && v !== currentVersion);
        if (previous !== undefined) {
          target = versionRefOf(
            await selectModelVersion(
              modelRef,
              previous,
              'request/body/toVersion',
            ),
          );
        }
      }
      if (!target) {
        throw new ConflictError(
          `InferenceService ${namespace}/${name} in cluster ${cluster} records no previous version to roll back to; give toVersion`,
        );
      }
      const object = rollback(existing, target);
      const applied = await applyObjects(cluster, [object], dryRun);
      let recorded: Deployment | undefined;
      const number = Number(target.version);
      if (!dryRun && deployment && Number.isInteger(number)) {
        recorded = await recordAfterApply(applied, cluster, () =>
          recordDeployment(
            serviceRef,
            deployment,
            {
              ...deployment,
              traffic: [{ version: number, percent: 100 }],
              desired: compact({
                ...deployment.desired,
                storageUri: target!.artifact.uri,
                canaryTrafficPercent: undefined,
              }),
              message: req.body.message ?? `Roll back to v${number}`,
            },
            ctx.actorOf(credentials),
          ),
        );
      }
      const ref = parseEntityRef(serviceRef);
      res.status(201).json(
        result(cluster, [object], applied, 0, dryRun, {
          ...(recorded ? { deployment: recorded } : {}),
          entityRef: serviceRef,
          url: `/catalog/${ref.namespace}/inferenceservice/${ref.name}`,
          message: `${
            dryRun ? 'Would roll back' : 'Rolled back'
          } InferenceService ${namespace}/${name} to v${target.version} (100%)${
            !dryRun && !recorded
              ? ' (no deployment recorded for it in the registry)'
              : ''
          }`,
        }),
      );
    },
  );

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

  // ------------------------------------------------------------------ status

  /** Reads the first of `candidates` that exists (404 naming the object when none does). */
  async function readFirst(
    params: { cluster: string; namespace: string; name: string },
    label: string,
    candidates: Array<() => Promise<{ apiVersion: string; kind: string }>>,
  ): Promise<KubeObject> {
    const gateway = assertCluster(params.cluster, 'path');
    for (const candidate of candidates) {
      let ref: { apiVersion: string; kind: string };
      try {
        ref = await candidate();
      } catch (error) {
        if ((error as Error)?.name === 'NotFoundError') continue; // kind not served
        throw error;
      }
      try {
        const object = await gateway.get(params.cluster, {
          ...ref,
          namespace: params.namespace,
          name: params.name,
        });
        return { ...object, apiVersion: ref.apiVersion, kind: ref.kind };
      } catch (error) {
        if ((error as Error)?.name !== 'NotFoundError') throw error;
      }
    }
    throw new NotFoundError(
      `${label} "${params.name}" not found in namespace "${params.namespace}" of cluster "${params.cluster}"`,
    );
  }

  const fixed = (apiVersion: string, kind: string) => async () => ({
    apiVersion,
    kind,
  });
  const served = (cluster: string, kind: string) => async () => {
    const { group, versions } = TRAINING_GROUPS[kind];
    return {
      apiVersion: await gatewayOf().resolveApiVersion(
        cluster,
        group,
        kind,
        versions,
      ),
      kind,
    };
  };

  async function statusOf(
    cluster: string,
    object: KubeObject,
    extra: { run?: Run; deployment?: Deployment },
  ): Promise<ClusterObjectStatus> {
    const { phase, message } = phaseOf(object);
    return {
      object: refOf(cluster, object),
      phase,
      ...(message ? { message } : {}),
      ...(typeof object.metadata.creationTimestamp === 'string'
        ? { createdAt: object.metadata.creationTimestamp }
        : {}),
      labels: object.metadata.labels ?? {},
      spec: (object.spec as Record<string, unknown>) ?? {},
      status: (object.status as Record<string, unknown>) ?? {},
      ...(extra.run ? { run: extra.run } : {}),
      ...(extra.deployment ? { deployment: extra.deployment } : {}),
    };
  }

  const runOf = (cluster: string, object: KubeObject) =>
    store.findObjectRun(
      cluster,
      object.metadata.namespace!,
      object.metadata.name!,
      String(object.metadata.uid),
    );

  api.get(
    '/clusters/:cluster/namespaces/:namespace/notebooks/:name',
    async (req, res) => {
      const object = await readFirst(req.params, 'Notebook', [
        fixed('kubeflow.org/v1', 'Notebook'),
      ]);
      res.json(
        await statusOf(req.params.cluster, object, {
          run: await runOf(req.params.cluster, object),
        }),
      );
    },
  );

  api.get(
    '/clusters/:cluster/namespaces/:namespace/jobs/:name',
    async (req, res) => {
      const { cluster, namespace, name } = req.params;
      let kinds = Object.keys(TRAINING_GROUPS);
      if (req.query.kind) {
        kinds = [req.query.kind];
      } else {
        const recorded = await store.findObjectRun(cluster, namespace, name);
        const kind = recorded?.params?.objectKind;
        if (typeof kind === 'string' && TRAINING_GROUPS[kind]) {
          kinds = [kind, ...kinds.filter(k => k !== kind)];
        }
      }
      const object = await readFirst(
        req.params,
        req.query.kind ?? 'training task',
        kinds.map(kind => served(cluster, kind)),
      );
      res.json(
        await statusOf(cluster, object, { run: await runOf(cluster, object) }),
      );
    },
  );

  api.get(
    '/clusters/:cluster/namespaces/:namespace/datasets/:name',
    async (req, res) => {
      const object = await readFirst(req.params, 'Dataset', [
        fixed('data.fluid.io/v1alpha1', 'Dataset'),
        fixed('v1', 'PersistentVolumeClaim'),
      ]);
      res.json(await statusOf(req.params.cluster, object, {}));
    },
  );

  api.get(
    '/clusters/:cluster/namespaces/:namespace/inference-services/:name',
    async (req, res) => {
      const { cluster, namespace, name } = req.params;
      const object = await readFirst(req.params, 'InferenceService', [
        fixed('serving.kserve.io/v1beta1', 'InferenceService'),
      ]);
      const deployment = await store.findDeploymentByObject(
        cluster,
        namespace,
        name,
      );
      res.json(await statusOf(cluster, object, { deployment }));
    },
  );

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

  // ------------------------------------------------------------------ delete

  /** Reads an object, or undefined when it (or its kind, in this cluster) does not exist. */
  async function readOptional(
    cluster: string,
    ref: { group: string; version: string; kind: string },
    namespace: string,
    name: string,
  ): Promise<KubeObject | undefined> {
    try {
      const apiVersion = await gatewayOf().resolveApiVersion(
        cluster,
        ref.group,
        ref.kind,
        [ref.version],
      );
      const object = await gatewayOf().get(cluster, {
        apiVersion,
        kind: ref.kind,
        namespace,
        name,
      });
      return { ...object, apiVersion, kind: ref.kind };
    } catch (error) {
      if ((error as Error)?.name === 'NotFoundError') return undefined;
      throw error;
    }
  }

  const isManaged = (object: KubeObject) =>
    object.metadata.labels?.[KUBEAI_LABELS.managedBy] === KUBEAI_MANAGER;

  const describeObject = (cluster: string, object: KubeObject) =>
    `${object.kind} ${object.metadata.namespace}/${object.metadata.name} in cluster ${cluster}`;

  /**
   * Deletes what a create route applied for one object: `main` (the object of the path) and the
   * `related` objects KubeAI manages (others are left alone). 409 when `main` is not managed by
   * KubeAI; a dry run of every delete first, so a refused one leaves everything in place; then
   * the deletes (background propagation), main first; then the registry: the run (unless already
   * finished) is marked `Stopped`, the portal entity removed.
   */
  async function deleteManaged(
    req: { params: { cluster: string; namespace: string; name: string } },
    credentials: BackstageCredentials,
    dryRun: boolean,
    main: KubeObject,
    options: {
      related?: KubeObject[];
      run?: Run;
      entityRef?: string;
      deployment?: Deployment;
    },
  ) {
    const { cluster } = req.params;
    if (!isManaged(main)) {
      throw new ConflictError(
        `${describeObject(cluster, main)} is not managed by KubeAI (no label ${
          KUBEAI_LABELS.managedBy
        }: ${KUBEAI_MANAGER}); delete it in the cluster`,
      );
    }
    const objects = [main, ...(options.related ?? []).filter(isManaged)];
    const run =
      options.run && !FINISHED_RUN_PHASES.has(options.run.phase)
        ? options.run
        : undefined;
    await authorizeAll(
      [
        { permission: kubeaiClusterObjectDeletePermission },
        ...(run ? [{ permission: kubeaiRunUpdatePermission }] : []),
      ],
      credentials,
    );
    const gateway = gatewayOf();
    const refs = objects.map(o => ({
      apiVersion: o.apiVersion,
      kind: o.kind,
      namespace: o.metadata.namespace,
      name: o.metadata.name!,
    }));
    const deleteAll = async (dry: boolean) => {
      const done: boolean[] = [];
      for (const ref of refs) {
        done.push(
          await gateway.delete(cluster, ref, {
            dryRun: dry,
            propagationPolicy: 'Background',
          }),
        );
      }
      return done;
    };
    // a dry run of all first: a forbidden or refused later delete leaves everything in place
    const wouldDelete = await deleteAll(true);
    const deleted = dryRun ? wouldDelete : await deleteAll(false);
    const gone = objects.filter((_o, i) => deleted[i]);
    const actor = ctx.actorOf(credentials);
    let recordedRun = options.run;
    let removedEntityRef: string | undefined;
    if (options.entityRef && (await store.getPortalEntity(options.entityRef))) {
      removedEntityRef = normalizeRef(options.entityRef);
    }
    if (!dryRun) {
      try {
        if (run) {
          recordedRun = await store.updateRun(run.id, {
            phase: 'Stopped',
            message: `${main.kind} ${main.metadata.namespace}/${main.metadata.name} deleted from the portal by ${actor}`,
            finishedAt: new Date().toISOString(),
          });
        }
        if (removedEntityRef) {
          await store.deletePortalEntity(removedEntityRef);
          await announce({ removedEntityRef }, removedEntityRef);
        }
      } catch (error) {
        const what = gone
          .map(o => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)
          .join(', ');
        logger.error(
          `kubeai deleted ${what} in cluster ${cluster} but failed to update the registry: ${error}`,
        );
        throw new PartialWriteError(
          `deleted ${what} in cluster "${cluster}", but updating the registry failed (${
            (error as Error)?.message ?? error
          }); the cluster informers mark the run when they see the deletion`,
          error as Error,
        );
      }
    }
    const extras = [
      run ? 'run stopped' : undefined,
      removedEntityRef ? `${removedEntityRef} removed` : undefined,
    ].filter(Boolean);
    return compact({
      dryRun,
      object: refOf(cluster, main),
      deleted: gone.map(o => refOf(cluster, o)),
      run: recordedRun,
      deployment: options.deployment,
      removedEntityRef,
      message: `${dryRun ? 'Would delete' : 'Deleted'} ${gone
        .map(o => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)
        .join(', ')} in cluster ${cluster}${
        extras.length ? ` (${extras.join(', ')})` : ''
      }`,
    });
  }

  /** The portal entity of an object: its `kubeai.io/entity-ref` annotation or a given ref. */
  async function portalEntityOf(
    refs: Array<string | undefined>,
    owns: (entity: PortalEntity) => boolean,
  ): Promise<string | undefined> {
    for (const ref of refs) {
      if (!ref) continue;
      const entity = await store.getPortalEntity(ref);
      if (entity && owns(entity)) return normalizeRef(ref);
    }
    return undefined;
  }

  api.delete(
    '/clusters/:cluster/namespaces/:namespace/notebooks/:name',
    async (req, res) => {
      const credentials = await ctx.credentialsOf(req);
      const { cluster, namespace, name } = req.params;
      const object = await readFirst(req.params, 'Notebook', [
        fixed('kubeflow.org/v1', 'Notebook'),
      ]);
      // the workspace PVC POST /notebooks created (not an existing claim it mounts)
      const claimName = notebookWorkspaceClaimName(name);
      const mounted = (
        ((object.spec as any)?.template?.spec?.volumes ?? []) as any[]
      ).some(v => v?.persistentVolumeClaim?.claimName === claimName);
      const workspace = mounted
        ? await readOptional(
            cluster,
            { group: '', version: 'v1', kind: 'PersistentVolumeClaim' },
            namespace,
            claimName,
          )
        : undefined;
      res.json(
        await deleteManaged(
          req,
          credentials,
          req.query.dryRun ?? false,
          object,
          {
            related: workspace ? [workspace] : [],
            run: await runOf(cluster, object),
          },
        ),
      );
    },
  );

  api.delete(
    '/clusters/:cluster/namespaces/:namespace/jobs/:name',
    async (req, res) => {
      const credentials = await ctx.credentialsOf(req);
      const { cluster, namespace, name } = req.params;
      let kinds = Object.keys(TRAINING_GROUPS);
      if (req.query.kind) {
        kinds = [req.query.kind];
      } else {
        const recorded = await store.findObjectRun(cluster, namespace, name);
        const kind = recorded?.params?.objectKind;
        if (typeof kind === 'string' && TRAINING_GROUPS[kind]) {
          kinds = [kind, ...kinds.filter(k => k !== kind)];
        }
      }
      const object = await readFirst(
        req.params,
        req.query.kind ?? 'training task',
        kinds.map(kind => served(cluster, kind)),
      );
      // the Volcano PodGroup of gang scheduling (same name)
      const podGroup = await readOptional(
        cluster,
        {
          group: 'scheduling.volcano.sh',
          version: 'v1beta1',
          kind: 'PodGroup',
        },
        namespace,
        name,
      );
      res.json(
        await deleteManaged(
          req,
          credentials,
          req.query.dryRun ?? false,
          object,
          {
            related: podGroup ? [podGroup] : [],
            run: await runOf(cluster, object),
          },
        ),
      );
    },
  );

  api.delete(
    '/clusters/:cluster/namespaces/:namespace/datasets/:name',
    async (req, res) => {
      const credentials = await ctx.credentialsOf(req);
      const { cluster, namespace, name } = req.params;
      const object = await readFirst(req.params, 'Dataset', [
        fixed('data.fluid.io/v1alpha1', 'Dataset'),
        fixed('v1', 'PersistentVolumeClaim'),
      ]);
      const related: KubeObject[] = [];
      if (object.kind === 'Dataset') {
        for (const kind of ['AlluxioRuntime', 'JuiceFSRuntime']) {
          const runtime = await readOptional(
            cluster,
            { group: 'data.fluid.io', version: 'v1alpha1', kind },
            namespace,
            name,
          );
          if (runtime) related.push(runtime);
        }
      }
      const entityRef = await portalEntityOf(
        [object.metadata.annotations?.[KUBEAI_ANNOTATIONS.entityRef]],
        entity => {
          const annotations = (entity.metadata.annotations ?? {}) as Record<
            string,
            string
          >;
          return (
            entity.kind === 'Dataset' &&
            annotations['kubeai.io/cluster'] === cluster &&
            annotations['kubeai.io/namespace'] === namespace &&
            annotations['kubeai.io/claim-name'] === name
          );
        },
      );
      res.json(
        await deleteManaged(
          req,
          credentials,
          req.query.dryRun ?? false,
          object,
          {
            related,
            entityRef,
          },
        ),
      );
    },
  );

  api.delete(
    '/clusters/:cluster/namespaces/:namespace/inference-services/:name',
    async (req, res) => {
      const credentials = await ctx.credentialsOf(req);
      const { cluster, namespace, name } = req.params;
      const object = await readFirst(req.params, 'InferenceService', [
        fixed('serving.kserve.io/v1beta1', 'InferenceService'),
      ]);
      // the deployment history stays (lineage); the informers mark it Deleted
      const deployment = await store.findDeploymentByObject(
        cluster,
        namespace,
        name,
      );
      const entityRef = await portalEntityOf(
        [
          deployment?.serviceRef,
          object.metadata.annotations?.[KUBEAI_ANNOTATIONS.entityRef],
        ],
        entity => {
          const at = (entity.spec as any)?.deployment ?? {};
          return (
            entity.kind === 'InferenceService' &&
            at.cluster === cluster &&
            at.namespace === namespace &&
            at.name === name
          );
        },
      );
      res.json(
        await deleteManaged(
          req,
          credentials,
          req.query.dryRun ?? false,
          object,
          {
            entityRef,
            deployment,
          },
        ),
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

// -------------------------------------------------------------------- pure helpers

function compact<T extends Record<string, unknown>>(
  value: T,
): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined),
  ) as { [K in keyof T]: Exclude<T[K], undefined> };
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

function sortTraffic(traffic: TrafficTarget[]): TrafficTarget[] {
  return [...traffic].sort((a, b) => a.version - b.version);
}

function formatTraffic(traffic: TrafficTarget[]): string {
  return traffic.map(t => `v${t.version} ${t.percent}%`).join(', ');
}

function entityRefOfEntity(entity: PortalEntity): string {
  return normalizeRef(
    stringifyEntityRef({
      kind: entity.kind,
      namespace: entity.metadata.namespace ?? 'default',
      name: entity.metadata.name,
    }),
  );
}

/** Server-set metadata dropped from what the routes return. */
function stripServerFields(object: KubeObject): KubeObject {
  const metadata = { ...object.metadata };
  delete metadata.managedFields;
  return { ...object, metadata };
}

/** The registry uri of a dataset created by `POST /datasets`. */
function datasetUri(body: CreateDatasetRequest, claimName?: string): string {
  const { source } = body;
  const clean = (path?: string) => (path ?? '').replace(/^\/+/, '');
  switch (source.type) {
    case 'oss':
    case 's3':
      return `${source.type}://${source.bucket}/${clean(source.path)}`;
    case 'nas':
      return `nfs://${source.server}${source.path ?? ''}`;
    case 'table':
      return source.uri ?? '';
    default:
      return `pvc://${body.cluster}/${body.namespace}/${
        source.existingClaim ?? claimName ?? body.name
      }${source.subPath ? `/${clean(source.subPath)}` : ''}`;
  }
}

function entityMetadata(
  input: CatalogEntityInput,
  defaultName: string,
  annotations: Record<string, string>,
) {
  return compact({
    name: input.name ?? defaultName,
    namespace: input.namespace ?? 'default',
    title: input.title,
    description: input.description,
    tags: input.tags,
    annotations,
  });
}

/** Validates a portal entity with the kind's validator; a 400 names `request/body/catalogEntity`. */
function validated(
  entity: PortalEntity,
  validate: (data: unknown) => unknown,
): PortalEntity {
  try {
    validate(entity);
  } catch (error) {
    throw new InputError(
      `request/body/catalogEntity: ${(error as Error).message}`,
    );
  }
  return entity;
}

/** The Dataset entity `POST /datasets` registers with `catalogEntity`. */
function datasetEntity(
  body: CreateDatasetRequest,
  input: CatalogEntityInput,
): PortalEntity {
  const { source, cache } = body;
  let entitySource: Record<string, unknown>;
  switch (source.type) {
    case 'oss':
    case 's3':
      entitySource = compact({
        type: source.type,
        bucket: source.bucket,
        prefix: source.path,
        endpoint: source.endpoint,
      });
      break;
    case 'nas':
      entitySource = { type: 'nas', server: source.server, path: source.path };
      break;
    case 'table': {
      const table =
        /^(odps|hive|maxcompute):\/\/([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(
          source.uri ?? '',
        );
      if (!table) {
        throw new InputError(
          'request/body/source/uri: a table dataset registered in the catalog needs a uri like odps://project.table, hive://database.table or maxcompute://project.table',
        );
      }
      entitySource = {
        type: 'table',
        engine: table[1],
        project: table[2],
        table: table[3],
      };
      break;
    }
    default:
      entitySource = {
        type: 'pvc',
        claimName: source.existingClaim ?? body.name,
        namespace: body.namespace,
        cluster: body.cluster,
      };
  }
  const annotations: Record<string, string> = {
    'kubeai.io/cluster': body.cluster,
    'kubeai.io/namespace': body.namespace,
  };
  if (source.type !== 'table') {
    annotations['kubeai.io/claim-name'] =
      cache || source.type !== 'pvc'
        ? body.name
        : source.existingClaim ?? body.name;
  }
  return validated(
    {
      apiVersion: KUBEAI_API_VERSION,
      kind: 'Dataset',
      metadata: entityMetadata(input, body.name, annotations),
      spec: compact({
        owner: input.owner,
        lifecycle: input.lifecycle ?? 'experimental',
        source: entitySource,
        cache: cache
          ? compact({
              engine: cache.runtime,
              capacity: cache.quota,
              medium: cache.medium,
            })
          : undefined,
        system: input.system,
      }),
    },
    validateDatasetEntity,
  );
}

/** The InferenceService entity `POST /inference-services` registers with `catalogEntity`. */
function inferenceServiceEntity(
  body: {
    cluster: string;
    namespace: string;
    name: string;
    protocolVersion?: string;
    runtime?: string;
  },
  input: CatalogEntityInput,
  modelRef: string,
  version: ModelVersion,
): PortalEntity {
  const format = kserveModelFormat(version.artifact.format, version.framework);
  return validated(
    {
      apiVersion: KUBEAI_API_VERSION,
      kind: 'InferenceService',
      metadata: entityMetadata(input, body.name, {
        'kubeai.io/cluster': body.cluster,
        'kubeai.io/namespace': body.namespace,
      }),
      spec: compact({
        owner: input.owner,
        lifecycle: input.lifecycle ?? 'experimental',
        model: modelRef,
        modelVersion: version.version,
        runtime: compact({
          modelFormat: (MODEL_FORMATS as readonly string[]).includes(format)
            ? format
            : 'custom',
          protocol: body.protocolVersion,
          name: body.runtime,
        }),
        deployment: {
          cluster: body.cluster,
          namespace: body.namespace,
          name: body.name,
        },
        system: input.system,
      }),
    },
    validateInferenceServiceEntity,
  );
}

/**
 * A canary keeps what the live object says; the request's settings (replicas, resources,
 * runtime, service account, env) still apply.
 */
function withOverrides(
  object: InferenceServiceObject,
  fresh: InferenceServiceObject,
  body: {
    resources?: unknown;
    env?: unknown;
    minReplicas?: number;
    maxReplicas?: number;
    runtime?: string;
    protocolVersion?: string;
    serviceAccountName?: string;
  },
): InferenceServiceObject {
  const predictor = { ...object.spec.predictor };
  const model = { ...predictor.model };
  const freshPredictor = fresh.spec.predictor;
  if (body.minReplicas !== undefined)
    predictor.minReplicas = freshPredictor.minReplicas;
  if (body.maxReplicas !== undefined)
    predictor.maxReplicas = freshPredictor.maxReplicas;
  if (body.serviceAccountName !== undefined) {
    predictor.serviceAccountName = freshPredictor.serviceAccountName;
  }
  if (body.resources !== undefined)
    model.resources = freshPredictor.model.resources;
  if (body.env !== undefined) model.env = freshPredictor.model.env;
  if (body.runtime !== undefined) model.runtime = freshPredictor.model.runtime;
  if (body.protocolVersion !== undefined) {
    model.protocolVersion = freshPredictor.model.protocolVersion;
  }
  predictor.model = model;
  return {
    ...object,
    metadata: {
      ...object.metadata,
      labels: {
        ...object.metadata.labels,
        [KUBEAI_LABELS.entity]: fresh.metadata.labels![KUBEAI_LABELS.entity],
      },
      annotations: {
        ...object.metadata.annotations,
        [KUBEAI_ANNOTATIONS.entityRef]:
          fresh.metadata.annotations![KUBEAI_ANNOTATIONS.entityRef],
      },
    },
    spec: { ...object.spec, predictor },
  };
}

/** A one-word summary of an object's state, and why. */
export function phaseOf(object: KubeObject): {
  phase: string;
  message?: string;
} {
  const status = (object.status ?? {}) as Record<string, any>;
  const spec = (object.spec ?? {}) as Record<string, any>;
  const conditions: Array<Record<string, any>> = Array.isArray(
    status.conditions,
  )
    ? status.conditions
    : [];
  const trueCondition = (type: string) =>
    conditions.find(c => c.type === type && c.status === 'True');
  switch (object.kind) {
    case 'Notebook':
      return (status.readyReplicas ?? 0) > 0
        ? { phase: 'Running' }
        : {
            phase: 'Pending',
            message: status.containerState
              ? JSON.stringify(status.containerState)
              : undefined,
          };
    case 'Job': {
      const failed = trueCondition('Failed');
      if (trueCondition('Complete')) return { phase: 'Succeeded' };
      if (failed) return { phase: 'Failed', message: failed.message };
      return { phase: (status.active ?? 0) > 0 ? 'Running' : 'Pending' };
    }
    case 'CronJob':
    case 'CronWorkflow':
      return {
        phase: spec.suspend ? 'Suspended' : 'Scheduled',
        message: status.lastScheduleTime
          ? `last scheduled ${status.lastScheduleTime}`
          : undefined,
      };
    case 'TFJob':
    case 'PyTorchJob':
    case 'XGBoostJob':
    case 'TrainJob': {
      for (const type of [
        'Succeeded',
        'Complete',
        'Failed',
        'Running',
        'Restarting',
        'Created',
      ]) {
        const c = trueCondition(type);
        if (c) {
          const phases: Record<string, string> = {
            Complete: 'Succeeded',
            Created: 'Pending',
          };
          return { phase: phases[type] ?? type, message: c.message };
        }
      }
      return { phase: 'Pending' };
    }
    case 'InferenceService': {
      const ready = conditions.find(c => c.type === 'Ready');
      if (ready?.status === 'True') return { phase: 'Ready' };
      return { phase: ready ? 'NotReady' : 'Pending', message: ready?.message };
    }
    case 'Workflow':
      return { phase: status.phase ?? 'Pending', message: status.message };
    case 'Dataset':
    case 'PersistentVolumeClaim':
      return { phase: status.phase ?? 'Pending' };
    default:
      return { phase: status.phase ?? 'Unknown' };
  }
}
