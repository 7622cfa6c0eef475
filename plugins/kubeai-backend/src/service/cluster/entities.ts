/**
 * The catalog entities the create routes register with `catalogEntity` (`POST /datasets`,
 * `POST /inference-services`), built from the request and validated with the kind's validator.
 */
import { stringifyEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import {
  KUBEAI_API_VERSION,
  MODEL_FORMATS,
  validateDatasetEntity,
  validateInferenceServiceEntity,
  type CreateDatasetRequest,
  type ModelVersion,
  type CatalogEntityInput,
} from '@kubeai/plugin-kubeai-common';
import type { PortalEntity } from '../../database/RegistryStore';
import { kserveModelFormat } from '../../manifests';
import { normalizeRef } from '../../refs';
import { compact } from './context';

/** The entity ref of a portal entity (lower case). */
export function entityRefOfEntity(entity: PortalEntity): string {
  return normalizeRef(
    stringifyEntityRef({
      kind: entity.kind,
      namespace: entity.metadata.namespace ?? 'default',
      name: entity.metadata.name,
    }),
  );
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
export function datasetEntity(
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
export function inferenceServiceEntity(
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
