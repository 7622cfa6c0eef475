/**
 * Datasets: `POST /datasets` (a Fluid Dataset and runtime or a PVC, a registry version, optionally
 * the catalog entity), its status and its `DELETE` under
 * `/clusters/{cluster}/namespaces/{namespace}/datasets/{name}`.
 */
import { namespaceChecks } from '../access/Access';
import { parseEntityRef } from '@backstage/catalog-model';
import { catalogEntityCreatePermission } from '@backstage/plugin-catalog-common/alpha';
import { InputError } from '@backstage/errors';
import {
  kubeaiClusterObjectCreatePermission,
  kubeaiDatasetVersionCreatePermission,
  KUBEAI_API_VERSION,
  type CreateDatasetRequest,
  type DatasetVersion,
} from '@kubeai/plugin-kubeai-common';
import type { PortalEntity } from '../../database/RegistryStore';
import {
  buildDataset,
  datasetInputSchema,
  KUBEAI_ANNOTATIONS,
} from '../../manifests';
import { normalizeRef } from '../../refs';
import { type ClusterApi, type ClusterContext, compact } from './context';
import { datasetEntity } from './entities';
import type { ClusterWritePlan, ClusterWriteSteps } from './ClusterWriteFlow';
import { createObjectHelpers } from './objects';

/** Registers the dataset routes. */
export function registerDatasetRoutes(
  api: ClusterApi,
  ctx: ClusterContext,
): void {
  const {
    store,
    access,
    flow,
    assertCluster,
    assertEntityKnown,
    zodCheck,
    result,
    publishEntity,
  } = ctx;
  const {
    readFirst,
    preferred,
    statusOf,
    companionsOf,
    deleteManaged,
    portalEntityOf,
  } = createObjectHelpers(ctx);

  // ------------------------------------------------------------------ datasets

  /** The entity ref, builder input and entity to register of a dataset request (no lookups). */
  function describeDataset(body: CreateDatasetRequest) {
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
    return { datasetRef, input };
  }

  /** The catalog entity `catalogEntity` describes (400 when `datasetRef` names another one). */
  function entityOf(
    body: CreateDatasetRequest,
    datasetRef: string,
  ): PortalEntity | undefined {
    if (!body.catalogEntity) return undefined;
    const entity = datasetEntity(body, body.catalogEntity);
    if (body.datasetRef && normalizeRef(body.datasetRef) !== datasetRef) {
      throw new InputError(
        `request/body/datasetRef: ${normalizeRef(
          body.datasetRef,
        )} is not the entity catalogEntity describes (${datasetRef}); give one of them`,
      );
    }
    return entity;
  }

  /**
   * A dataset: a Fluid Dataset and runtime, a PVC, or nothing (an existing location); a registry
   * version; optionally the catalog entity.
   */
  const datasetWrite: ClusterWriteSteps<
    CreateDatasetRequest,
    ClusterWritePlan<DatasetVersion> & {
      datasetRef: string;
      build: ReturnType<typeof buildDataset>;
      uri: string;
      version: string;
    }
  > = {
    validate(body) {
      const { datasetRef, input } = describeDataset(body);
      zodCheck(datasetInputSchema, input);
      entityOf(body, datasetRef);
    },
    async resolve(body, credentials) {
      const { datasetRef, input } = describeDataset(body);
      const entity = entityOf(body, datasetRef);
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
      const { version } = await store.planDatasetVersion(datasetRef, {
        version: body.version,
        uri,
      });
      return {
        cluster: body.cluster,
        objects: build.objects,
        checks: [
          ...namespaceChecks(
            kubeaiClusterObjectCreatePermission,
            body.cluster,
            build.objects,
          ),
          {
            permission: kubeaiDatasetVersionCreatePermission,
            resourceRef: datasetRef,
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
          return (
            await store.ensureDatasetVersion(
              datasetRef,
              compact({ version, uri, description: body.description }),
              actor,
            )
          ).datasetVersion;
        },
        datasetRef,
        build,
        uri,
        version,
      };
    },
  };

  api.post('/datasets', async (req, res) => {
    const credentials = await access.credentials(req);
    const body = req.body;
    const dryRun = body.dryRun ?? false;
    const { plan, applied, recorded } = await flow.write(
      credentials,
      body,
      dryRun,
      datasetWrite,
    );
    const { build, datasetRef, uri } = plan;
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
        ...(recorded ? { datasetVersion: recorded } : {}),
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

  api.get(
    '/clusters/:cluster/namespaces/:namespace/datasets/:name',
    async (req, res) => {
      const object = await readFirst(req.params, 'Dataset', [
        preferred('Dataset'),
        preferred('PersistentVolumeClaim'),
      ]);
      res.json(await statusOf(req.params.cluster, object, {}));
    },
  );

  api.delete(
    '/clusters/:cluster/namespaces/:namespace/datasets/:name',
    async (req, res) => {
      const credentials = await access.credentials(req);
      const { cluster, namespace, name } = req.params;
      const object = await readFirst(req.params, 'Dataset', [
        preferred('Dataset'),
        preferred('PersistentVolumeClaim'),
      ]);
      // a Fluid Dataset's cache runtime
      const related = await companionsOf(cluster, object);
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
