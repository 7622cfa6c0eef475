import { Entity, KindValidator } from '@backstage/catalog-model';
import { KUBEAI_API_VERSION } from '../constants';
import {
  CacheEngine,
  CacheMedium,
  DatasetSourceType,
  KUBEAI_KIND_DATASET,
  TableEngine,
} from './kinds';
import { datasetEntityV1alpha1Schema } from './Dataset.v1alpha1.schema';
import { kubeaiEntityKindValidator } from './validation';

/** Data in a PersistentVolumeClaim. */
export type PvcDatasetSource = {
  type: 'pvc';
  claimName: string;
  namespace: string;
  cluster?: string;
};
/** Data on a NAS (NFS) export. */
export type NasDatasetSource = {
  type: 'nas';
  server: string;
  /** Absolute path of the export. */
  path: string;
};
/** Data in an S3 or OSS bucket. */
export type ObjectStoreDatasetSource = {
  type: 's3' | 'oss';
  bucket: string;
  prefix?: string;
  endpoint?: string;
};
/** Data in an ODPS / MaxCompute / Hive table. */
export type TableDatasetSource = {
  type: 'table';
  engine: TableEngine;
  project: string;
  table: string;
  partition?: string;
};
/** Where a dataset lives, discriminated by `type`. */
export type DatasetSource =
  | PvcDatasetSource
  | NasDatasetSource
  | ObjectStoreDatasetSource
  | TableDatasetSource;

/** The distributed cache (Fluid runtime) in front of a dataset. */
export type DatasetCache = {
  engine: CacheEngine;
  /** Positive Kubernetes quantity, e.g. `100Gi`. */
  capacity: string;
  medium?: CacheMedium;
};

/** Data that models are trained on (`kind: Dataset`, `apiVersion: kubeai.io/v1alpha1`). */
export interface DatasetEntityV1alpha1 extends Entity {
  apiVersion: typeof KUBEAI_API_VERSION;
  kind: typeof KUBEAI_KIND_DATASET;
  spec: {
    owner: string;
    lifecycle: string;
    source: DatasetSource;
    format?: string;
    schema?: {
      fields?: Array<{ name: string; type: string; description?: string }>;
      partitionKeys?: string[];
    };
    cache?: DatasetCache;
    system?: string;
  };
}

/** Validates a Dataset: `false` for other kinds, the entity when valid; throws when invalid. */
export const validateDatasetEntity =
  kubeaiEntityKindValidator<DatasetEntityV1alpha1>(
    KUBEAI_KIND_DATASET,
    datasetEntityV1alpha1Schema,
  );

/** catalog-model style validator. */
export const datasetEntityV1alpha1Validator: KindValidator = {
  async check(data: Entity) {
    return validateDatasetEntity(data) !== false;
  },
};

/** True for `kind: Dataset` (any case) of `apiVersion: kubeai.io/…`. */
export function isDatasetEntity(
  entity: Entity,
): entity is DatasetEntityV1alpha1 {
  return (
    entity.kind?.toLowerCase() === KUBEAI_KIND_DATASET.toLowerCase() &&
    String(entity.apiVersion).startsWith('kubeai.io/')
  );
}

/** Narrows a dataset source by type: `isDatasetSourceOfType(src, 'table')`. */
export function isDatasetSourceOfType<T extends DatasetSourceType>(
  source: DatasetSource | undefined,
  type: T,
): source is Extract<DatasetSource, { type: T }> {
  return source?.type === type;
}

/**
 * A one-line description of where a dataset lives, e.g. `odps://search_dw.clicks (ds=${bizdate})`,
 * `pvc://local/cv-training/shoe-images`, `nas://nas01/exports/images`, `oss://bucket/prefix`.
 */
export function formatDatasetSource(source: DatasetSource): string {
  switch (source.type) {
    case 'pvc':
      return `pvc://${source.cluster ? `${source.cluster}/` : ''}${
        source.namespace
      }/${source.claimName}`;
    case 'nas':
      return `nas://${source.server}${source.path}`;
    case 's3':
    case 'oss':
      return `${source.type}://${source.bucket}/${source.prefix ?? ''}`;
    case 'table':
      return `${source.engine}://${source.project}.${source.table}${
        source.partition ? ` (${source.partition})` : ''
      }`;
    default:
      return JSON.stringify(source);
  }
}
