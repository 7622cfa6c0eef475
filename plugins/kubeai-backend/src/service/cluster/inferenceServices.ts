/**
 * Inference services: `POST /inference-services` (deploy, canary), `…/promote`, `…/rollback`,
 * the deployment record of each, their status and their `DELETE` under
 * `/clusters/{cluster}/namespaces/{namespace}/inference-services/{name}`.
 */
import { namespaceChecks } from '../access/Access';
import type { Response } from 'express';
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import { NotFoundError, ConflictError } from '@backstage/errors';
import {
  kubeaiClusterObjectCreatePermission,
  kubeaiDeploymentUpdatePermission,
  type Deployment,
} from '@kubeai/plugin-kubeai-common';
import { UnprocessableEntityError } from '../../errors';
import {
  currentModelVersion,
  KUBEAI_ANNOTATIONS,
  promote,
  rollback,
  stableModelVersion,
  type InferenceServiceObject,
  type ModelVersionRef,
} from '../../manifests';
import { normalizeRef } from '../../refs';
import { type ClusterApi, type ClusterContext, compact } from './context';
import { createDeploySteps } from './inferenceServiceDeploy';
import {
  formatTraffic,
  readInferenceService,
  recordDeployment,
} from './inferenceServiceRecords';
import { createObjectHelpers } from './objects';
import { noteAudit } from '../audit/AuditTrail';

/** Registers the inference service routes. */
export function registerInferenceServiceRoutes(
  api: ClusterApi,
  ctx: ClusterContext,
): void {
  const {
    store,
    access,
    flow,
    assertCluster,
    selectModelVersion,
    versionRefOf,
    result,
  } = ctx;
  const deploySteps = createDeploySteps(ctx);
  const { readFirst, preferred, statusOf, deleteManaged, portalEntityOf } =
    createObjectHelpers(ctx);

  // ------------------------------------------------------------------ inference services

  api.post('/inference-services', async (req, res) => {
    const credentials = await access.credentials(req);
    const body = req.body;
    const dryRun = body.dryRun ?? false;
    const { plan, applied, recorded } = await flow.write(
      credentials,
      body,
      dryRun,
      deploySteps,
    );
    const ref = parseEntityRef(plan.serviceRef);
    // the audit summary names the version an alias resolved to
    noteAudit(res, {
      modelRef: plan.modelRef,
      modelVersion: plan.version.version,
    });
    res.status(201).json(
      result(body.cluster, plan.objects, applied, 0, dryRun, {
        ...(recorded ? { deployment: recorded } : {}),
        entityRef: plan.serviceRef,
        url: `/catalog/${ref.namespace}/inferenceservice/${ref.name}`,
        message: `${dryRun ? 'Would deploy' : 'Deployed'} ${plan.modelRef} v${
          plan.version.version
        } as InferenceService ${body.namespace}/${body.name} in cluster ${
          body.cluster
        } (${formatTraffic(plan.traffic)})`,
      }),
    );
  });

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
    await access.authorize(credentials, [
      ...namespaceChecks(kubeaiClusterObjectCreatePermission, params.cluster, [
        existing,
      ]),
      {
        permission: kubeaiDeploymentUpdatePermission,
        resourceRef: serviceRef,
      },
    ]);
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
      /** The caller: the gateway applies as them when impersonation is on. */
      credentials: BackstageCredentials;
    },
  ) {
    const { cluster, object, dryRun, deployment, serviceRef } = rollout;
    noteAudit(res, {
      modelRef:
        deployment?.modelRef ??
        object.metadata.annotations?.[KUBEAI_ANNOTATIONS.modelRef],
      modelVersion: rollout.version,
    });
    const applied = await flow.apply(
      cluster,
      [object],
      dryRun,
      rollout.credentials,
    );
    let recorded: Deployment | undefined;
    const number = Number(rollout.version);
    if (!dryRun && deployment && Number.isInteger(number)) {
      recorded = await flow.recordAfterApply(applied, cluster, () =>
        recordDeployment(
          store,
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
      const credentials = await access.credentials(req);
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
        actor: access.actorOf(credentials),
        credentials,
      });
    },
  );

  api.post(
    '/inference-services/:cluster/:namespace/:name/rollback',
    async (req, res) => {
      const credentials = await access.credentials(req);
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
        actor: access.actorOf(credentials),
        credentials,
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
      const credentials = await access.credentials(req);
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
      // the service entity it ends: its deployment record's, else the one it was deployed as
      const serviceRef =
        deployment?.serviceRef ??
        object.metadata.annotations?.[KUBEAI_ANNOTATIONS.entityRef];
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
            serviceRef,
          },
        ),
      );
    },
  );
}
