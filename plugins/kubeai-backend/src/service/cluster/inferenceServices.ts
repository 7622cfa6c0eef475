/**
 * Inference services: `POST /inference-services` (deploy, canary), `…/promote`, `…/rollback`,
 * the deployment record of each, their status and their `DELETE` under
 * `/clusters/{cluster}/namespaces/{namespace}/inference-services/{name}`.
 */
import type { Response } from 'express';
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import { catalogEntityCreatePermission } from '@backstage/plugin-catalog-common/alpha';
import { InputError, NotFoundError, ConflictError } from '@backstage/errors';
import {
  kubeaiClusterObjectCreatePermission,
  kubeaiDeploymentCreatePermission,
  kubeaiDeploymentUpdatePermission,
  type Deployment,
  type TrafficTarget,
} from '@kubeai/plugin-kubeai-common';
import type { ClusterGateway } from '../../cluster';
import type { PortalEntity } from '../../database/RegistryStore';
import { UnprocessableEntityError } from '../../errors';
import {
  buildInferenceService,
  canary,
  currentModelVersion,
  inferenceServiceInputSchema,
  KUBEAI_ANNOTATIONS,
  KUBEAI_LABELS,
  promote,
  rollback,
  stableModelVersion,
  type InferenceServiceObject,
  type ModelVersionRef,
} from '../../manifests';
import { normalizeRef } from '../../refs';
import { type ClusterApi, type ClusterContext, compact } from './context';
import { inferenceServiceEntity, entityRefOfEntity } from './entities';
import { createObjectHelpers } from './objects';

/** Registers the inference service routes. */
export function registerInferenceServiceRoutes(
  api: ClusterApi,
  ctx: ClusterContext,
): void {
  const {
    store,
    assertCluster,
    authorizeAll,
    assertModelInCatalog,
    assertEntityKnown,
    zodCheck,
    selectModelVersion,
    versionRefOf,
    applyObjects,
    recordAfterApply,
    result,
    publishEntity,
  } = ctx;
  const { readFirst, preferred, statusOf, deleteManaged, portalEntityOf } =
    createObjectHelpers(ctx);

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
        // registering the entity is a catalog change of its own
        ...(entity ? [{ permission: catalogEntityCreatePermission }] : []),
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

  /**
   * Applies a promote / rollback (`object`: the InferenceService with one version at 100 %),
   * records the deployment's new revision when the registry has the service, and answers.
   */
  async function answerRollout(
    res: Response,
    rollout: {
      cluster: string;
      object: InferenceServiceObject;
      dryRun: boolean;
      deployment: Deployment | undefined;
      serviceRef: string;
      version: string | number;
      storageUri: string;
      recordMessage: string;
      /** "Promoted", "Would roll back", … */
      done: string;
      what: string;
      actor: string;
    },
  ) {
    const { cluster, object, dryRun, deployment, serviceRef } = rollout;
    const applied = await applyObjects(cluster, [object], dryRun);
    let recorded: Deployment | undefined;
    const number = Number(rollout.version);
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
              storageUri: rollout.storageUri,
              canaryTrafficPercent: undefined,
            }),
            message: rollout.recordMessage,
          },
          rollout.actor,
        ),
      );
    }
    const ref = parseEntityRef(serviceRef);
    res.status(201).json(
      result(cluster, [object], applied, 0, dryRun, {
        ...(recorded ? { deployment: recorded } : {}),
        entityRef: serviceRef,
        url: `/catalog/${ref.namespace}/inferenceservice/${ref.name}`,
        message: `${rollout.done} ${rollout.what}${
          !dryRun && !recorded
            ? ' (no deployment recorded for it in the registry)'
            : ''
        }`,
      }),
    );
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
      await answerRollout(res, {
        cluster,
        object,
        dryRun,
        deployment,
        serviceRef,
        version: current.version,
        storageUri: object.spec.predictor.model.storageUri,
        recordMessage: req.body.message ?? `Promote v${current.version}`,
        done: dryRun ? 'Would promote' : 'Promoted',
        what: `v${current.version} of InferenceService ${namespace}/${name} to 100%`,
        actor: ctx.actorOf(credentials),
      });
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
      await answerRollout(res, {
        cluster,
        object,
        dryRun,
        deployment,
        serviceRef,
        version: target.version,
        storageUri: target.artifact.uri,
        recordMessage: req.body.message ?? `Roll back to v${target.version}`,
        done: dryRun ? 'Would roll back' : 'Rolled back',
        what: `InferenceService ${namespace}/${name} to v${target.version} (100%)`,
        actor: ctx.actorOf(credentials),
      });
    },
  );

  api.get(
    '/clusters/:cluster/namespaces/:namespace/inference-services/:name',
    async (req, res) => {
      const { cluster, namespace, name } = req.params;
      const object = await readFirst(req.params, 'InferenceService', [
        preferred('InferenceService'),
      ]);
      const deployment = await store.findDeploymentByObject(
        cluster,
        namespace,
        name,
      );
      res.json(await statusOf(cluster, object, { deployment }));
    },
  );

  api.delete(
    '/clusters/:cluster/namespaces/:namespace/inference-services/:name',
    async (req, res) => {
      const credentials = await ctx.credentialsOf(req);
      const { cluster, namespace, name } = req.params;
      const object = await readFirst(req.params, 'InferenceService', [
        preferred('InferenceService'),
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
