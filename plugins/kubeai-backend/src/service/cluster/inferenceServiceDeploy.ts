/**
 * The write of `POST /inference-services` (deploy, canary) as {@link ClusterWriteSteps}: validate
 * the service's settings → resolve the model version, the service entity (or the one to
 * register), the registry's and the cluster's owners of the name, the live object for a canary →
 * the checks → record the entity and the deployment revision.
 */
import { namespaceChecks } from '../access/Access';
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { ConflictError, InputError } from '@backstage/errors';
import { catalogEntityCreatePermission } from '@backstage/plugin-catalog-common/alpha';
import {
  kubeaiClusterObjectCreatePermission,
  kubeaiDeploymentCreatePermission,
  kubeaiDeploymentUpdatePermission,
  type DeployInferenceServiceRequest,
  type Deployment,
  type ModelVersion,
  type TrafficTarget,
} from '@kubeai/plugin-kubeai-common';
import type { PortalEntity } from '../../database/RegistryStore';
import { UnprocessableEntityError } from '../../errors';
import {
  buildInferenceService,
  canary,
  currentModelVersion,
  inferenceServiceInputSchema,
  KUBEAI_ANNOTATIONS,
  stableModelVersion,
  type InferenceServiceObject,
  type ModelVersionRef,
} from '../../manifests';
import { normalizeRef } from '../../refs';
import type { ClusterWritePlan, ClusterWriteSteps } from './ClusterWriteFlow';
import { type ClusterContext, compact } from './context';
import { entityRefOfEntity, inferenceServiceEntity } from './entities';
import {
  readInferenceService,
  recordDeployment,
  withOverrides,
} from './inferenceServiceRecords';

type DeployRequest = DeployInferenceServiceRequest;

/** What a deploy resolved to, besides the object: for the answer. */
export type DeployPlan = ClusterWritePlan<Deployment> & {
  serviceRef: string;
  modelRef: string;
  version: ModelVersion;
  traffic: TrafficTarget[];
};

/** The service's own settings, for the builder's schema. */
const settingsOf = (body: DeployRequest) => ({
  resources: body.resources,
  env: body.env,
  minReplicas: body.minReplicas,
  maxReplicas: body.maxReplicas,
  runtime: body.runtime,
  protocolVersion: body.protocolVersion,
  serviceAccountName: body.serviceAccountName,
});

/** The steps of `POST /inference-services`. */
export function createDeploySteps(
  ctx: ClusterContext,
): ClusterWriteSteps<DeployRequest, DeployPlan> {
  const {
    store,
    assertCluster,
    assertModelInCatalog,
    assertEntityKnown,
    zodCheck,
    selectModelVersion,
    versionRefOf,
    publishEntity,
  } = ctx;

  /** The service entity: the one `catalogEntity` registers, or a known one (422 otherwise). */
  async function serviceOf(
    body: DeployRequest,
    modelRef: string,
    version: ModelVersion,
    credentials: BackstageCredentials,
  ): Promise<{ entity?: PortalEntity; serviceRef: string }> {
    if (body.catalogEntity) {
      const entity = inferenceServiceEntity(
        body,
        body.catalogEntity,
        modelRef,
        version,
      );
      const serviceRef = entityRefOfEntity(entity);
      if (body.serviceRef && normalizeRef(body.serviceRef) !== serviceRef) {
        throw new InputError(
          `request/body/serviceRef: ${normalizeRef(
            body.serviceRef,
          )} is not the entity catalogEntity describes (${serviceRef}); give one of them`,
        );
      }
      return { entity, serviceRef };
    }
    const serviceRef = normalizeRef(
      body.serviceRef ?? `inferenceservice:default/${body.name}`,
    );
    await assertEntityKnown(
      serviceRef,
      'request/body/serviceRef',
      credentials,
      '; give catalogEntity to register it',
    );
    return { serviceRef };
  }

  /** The service's deployment record; 409 when it or the object name belongs elsewhere. */
  async function deploymentOf(body: DeployRequest, serviceRef: string) {
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
    return deployment;
  }

  /** A canary on the live object: the stable version keeps 100 - percent of the traffic. */
  async function canaryOf(
    body: DeployRequest & { canaryTrafficPercent: number },
    existing: InferenceServiceObject | undefined,
    deployment: Deployment | undefined,
    resolved: {
      modelRef: string;
      version: ModelVersion;
      versionRef: ModelVersionRef;
      common: Record<string, unknown>;
    },
    describe: (path: (string | number)[]) => string,
  ): Promise<{ object: InferenceServiceObject; traffic: TrafficTarget[] }> {
    const { modelRef, version, versionRef, common } = resolved;
    const percent = body.canaryTrafficPercent;
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
      { ...common, canaryTrafficPercent: percent },
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
    let traffic: TrafficTarget[];
    if (stableNumber === version.version) {
      traffic = [{ version: version.version, percent: 100 }];
    } else {
      await selectModelVersion(
        modelRef,
        stableNumber,
        'request/body/canaryTrafficPercent (the stable version)',
      );
      traffic = [
        { version: stableNumber, percent: 100 - percent },
        { version: version.version, percent },
      ];
    }
    const object = withOverrides(
      canary(existing, versionRef, percent),
      buildInferenceService(common as any),
      body,
    );
    return { object, traffic };
  }

  return {
    // the service's own settings before anything is looked up (the version's artifact is
    // checked once resolved)
    validate(body) {
      zodCheck(
        inferenceServiceInputSchema,
        compact({
          name: body.name,
          namespace: body.namespace,
          modelRef: normalizeRef(body.model),
          version: {
            version: '1',
            artifact: { uri: 's3://x/y', format: 'onnx' },
          },
          ...settingsOf(body),
          canaryTrafficPercent: body.canaryTrafficPercent,
        }),
      );
    },

    async resolve(body, credentials) {
      const modelRef = normalizeRef(body.model);
      const gateway = assertCluster(body.cluster, 'body');
      await assertModelInCatalog(modelRef, 'request/body/model', credentials);
      const version = await selectModelVersion(
        modelRef,
        body.modelVersion,
        'request/body/modelVersion',
      );
      const versionRef = versionRefOf(version);
      const { entity, serviceRef } = await serviceOf(
        body,
        modelRef,
        version,
        credentials,
      );
      const deployment = await deploymentOf(body, serviceRef);
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
        ...settingsOf(body),
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
        ({ object, traffic } = await canaryOf(
          { ...body, canaryTrafficPercent: body.canaryTrafficPercent },
          existing,
          deployment,
          { modelRef, version, versionRef, common },
          describe,
        ));
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
      return {
        cluster: body.cluster,
        objects: [object],
        checks: [
          ...namespaceChecks(
            kubeaiClusterObjectCreatePermission,
            body.cluster,
            [object],
          ),
          {
            permission: deployment
              ? kubeaiDeploymentUpdatePermission
              : kubeaiDeploymentCreatePermission,
            resourceRef: serviceRef,
            newEntity: Boolean(entity),
          },
          // registering the entity is a catalog change of its own
          ...(entity ? [{ permission: catalogEntityCreatePermission }] : []),
        ],
        async record(_applied, actor) {
          if (entity) {
            await store.upsertPortalEntity(entity, actor);
            await publishEntity(entity);
          }
          return recordDeployment(
            store,
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
            actor,
          );
        },
        serviceRef,
        modelRef,
        version,
        traffic,
      };
    },
  };
}
