/**
 * Datasets: a PersistentVolumeClaim (new or existing), or a Fluid `Dataset` (`data.fluid.io`)
 * mounting OSS / S3 / a PVC / NAS (NFS) behind an `AlluxioRuntime` or `JuiceFSRuntime` cache.
 * Table sources (warehouse tables) are registered as metadata only: no Kubernetes objects.
 *
 * Every dataset that has data in the cluster ends up as a PVC workloads mount read-only:
 * the plain PVC, or the PVC Fluid creates for a Dataset (named like the Dataset). {@link buildDataset}
 * returns its name as `claimName`, ready for a `datasets: [{ name, claimName }]` mount.
 */
import { z } from 'zod';
import { compact } from './common';
import {
  dnsSubdomainSchema,
  identitySchema,
  memoryQuantitySchema,
  mountPathSchema,
  subPathSchema,
  UNSAFE_PATH_CHARACTERS,
} from './inputs';
import { kubeaiMetadata, type KubeaiLabelInput } from './labels';
import type { KubeObject } from './types';

const bucketSchema = z
  .string()
  .min(3)
  .max(63)
  .regex(/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, 'must be a bucket name');
const objectPathSchema = z
  .string()
  .max(1024)
  .regex(/^\S*$/, 'must be an object key prefix without spaces')
  .refine(p => !p.includes('\u0000'), {
    message: 'must not contain NUL characters',
  })
  .refine(p => !UNSAFE_PATH_CHARACTERS.test(p), {
    message: 'must not contain control characters or bidirectional marks',
  })
  .refine(p => !p.split('/').includes('..'), {
    message: 'must not contain ".."',
  })
  .optional();
const endpointSchema = z
  .string()
  .max(253)
  .regex(
    /^(https?:\/\/)?[A-Za-z0-9.-]+(:[0-9]{1,5})?$/,
    'must be a host name such as "oss-cn-hangzhou.aliyuncs.com"',
  );
const secretKeySchema = z
  .string()
  .max(253)
  .regex(/^[-._a-zA-Z0-9]+$/, 'must be a Secret key');

/** The Secret holding object-store credentials, and which keys hold what. */
const credentialsSchema = z
  .object({
    secretName: dnsSubdomainSchema,
    accessKeyIdKey: secretKeySchema.default('accessKeyId'),
    secretAccessKeyKey: secretKeySchema.default('secretAccessKey'),
  })
  .strict();

/** Where the data is. */
export const datasetSourceSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('pvc'),
      /** Use this existing PVC. */
      existingClaim: dnsSubdomainSchema.optional(),
      /** Create a PVC named like the dataset, of this size. */
      size: memoryQuantitySchema.optional(),
      storageClassName: dnsSubdomainSchema.optional(),
      accessModes: z
        .array(
          z.enum([
            'ReadWriteOnce',
            'ReadOnlyMany',
            'ReadWriteMany',
            'ReadWriteOncePod',
          ]),
        )
        .min(1)
        .optional(),
      /** With a Fluid cache: the directory of the PVC to serve. */
      subPath: subPathSchema.optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('oss'),
      bucket: bucketSchema,
      path: objectPathSchema,
      endpoint: endpointSchema,
      credentials: credentialsSchema,
    })
    .strict(),
  z
    .object({
      type: z.literal('s3'),
      bucket: bucketSchema,
      path: objectPathSchema,
      endpoint: endpointSchema.optional(),
      region: z
        .string()
        .regex(/^[a-z0-9-]{2,32}$/, 'must be a region such as "eu-west-1"')
        .optional(),
      credentials: credentialsSchema.optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('nas'),
      /** NFS server of the NAS. */
      server: endpointSchema,
      /** Exported path. */
      path: mountPathSchema,
    })
    .strict(),
  z
    .object({
      type: z.literal('table'),
      /** Where the table is, e.g. `hive://warehouse/sales.orders`, `bigquery://project/dataset.table`. */
      uri: z
        .string()
        .max(2048)
        .regex(
          /^[a-z][a-z0-9+.-]*:\/\/\S+$/,
          'must be a URI such as "hive://warehouse/db.table"',
        ),
    })
    .strict(),
]);

/** The Fluid cache in front of the source. */
export const datasetCacheSchema = z
  .object({
    runtime: z.enum(['alluxio', 'juicefs']),
    /** Cache workers. */
    replicas: z.number().int().min(1).max(1000).default(1),
    medium: z.enum(['MEM', 'SSD', 'HDD']).default('MEM'),
    /** Cache size per worker. */
    quota: memoryQuantitySchema,
    /** Cache directory on the node; `/dev/shm` for MEM, `/var/lib/fluid/cache` otherwise. */
    path: mountPathSchema.optional(),
    /** JuiceFS only: the Secret key holding the metadata engine URL (`metaurl`). */
    metaUrl: z
      .object({
        secretName: dnsSubdomainSchema,
        key: secretKeySchema.default('metaurl'),
      })
      .strict()
      .optional(),
  })
  .strict();

/** Input of {@link buildDataset}. */
export const datasetInputSchema = identitySchema
  .extend({
    source: datasetSourceSchema,
    cache: datasetCacheSchema.optional(),
  })
  .strict()
  .superRefine((input, ctx) => {
    const { source, cache } = input;
    if (source.type === 'table') {
      if (cache) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['cache'],
          message: 'table sources are metadata only and cannot be cached',
        });
      }
      return;
    }
    if (source.type === 'pvc') {
      if (!cache && Boolean(source.existingClaim) === Boolean(source.size)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['source'],
          message:
            'set exactly one of existingClaim (use a PVC) and size (create one)',
        });
      }
      if (cache && !source.existingClaim) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['source', 'existingClaim'],
          message: 'a Fluid cache serves an existing PVC: set existingClaim',
        });
      }
      if (
        cache &&
        (source.size || source.storageClassName || source.accessModes)
      ) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['source'],
          message:
            'size, storageClassName and accessModes only apply to a new PVC without cache',
        });
      }
      if (!cache && source.subPath) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['source', 'subPath'],
          message:
            "subPath applies to a Fluid cache; mount a sub directory with the mount's subPath",
        });
      }
      if (
        source.existingClaim &&
        source.existingClaim === input.name &&
        cache
      ) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['name'],
          message:
            'a cached dataset must be named differently from the PVC it serves (Fluid creates a PVC named like the dataset)',
        });
      }
    } else if (!cache) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['cache'],
        message: `a ${source.type} source is mounted through Fluid: set cache (alluxio or juicefs)`,
      });
    }
    if (cache?.runtime === 'juicefs') {
      if (source.type !== 'oss' && source.type !== 's3') {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['cache', 'runtime'],
          message:
            'JuiceFS caches object storage (oss or s3) only; use alluxio',
        });
      }
      if (!cache.metaUrl) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['cache', 'metaUrl'],
          message: 'JuiceFS needs its metadata engine URL (metaUrl)',
        });
      }
      if (source.type === 's3' && !source.credentials) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['source', 'credentials'],
          message: 'JuiceFS needs object-store credentials',
        });
      }
    } else if (cache?.metaUrl) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['cache', 'metaUrl'],
        message: 'metaUrl only applies to juicefs',
      });
    }
  });
export type DatasetInput = z.input<typeof datasetInputSchema>;
type ParsedDatasetInput = z.output<typeof datasetInputSchema>;

/** What {@link buildDataset} returns. */
export interface DatasetBuild {
  /** Objects to apply, in order (empty for existing PVCs and table sources). */
  objects: KubeObject[];
  /** The PVC workloads mount (undefined for table sources). */
  claimName?: string;
  /** True for sources that are only registered in the catalog (tables). */
  metadataOnly: boolean;
}

const FLUID_API_VERSION = 'data.fluid.io/v1alpha1';

function secretRef(name: string, key: string) {
  return { secretKeyRef: { name, key } };
}

function joinPath(bucket: string, path: string | undefined) {
  const clean = (path ?? '').replace(/^\/+/, '');
  return clean ? `${bucket}/${clean}` : bucket;
}

function withScheme(endpoint: string) {
  return /^https?:\/\//.test(endpoint) ? endpoint : `https://${endpoint}`;
}

/** `https://<bucket>.<endpoint>` (OSS buckets are addressed as virtual hosts). */
function virtualHostedBucketUrl(endpoint: string, bucket: string) {
  const url = withScheme(endpoint);
  const scheme = url.startsWith('http://') ? 'http://' : 'https://';
  return `${scheme}${bucket}.${url.slice(scheme.length)}`;
}

/** The Fluid Dataset mount (and for NAS the volume the runtime needs). */
function fluidMount(input: ParsedDatasetInput): {
  mount: Record<string, unknown>;
  runtimeVolume?: { volume: Record<string, unknown>; mountPath: string };
} {
  const { source, cache } = input;
  const juicefs = cache?.runtime === 'juicefs';
  const name = input.name;
  switch (source.type) {
    case 'oss': {
      const credentials = source.credentials;
      if (juicefs) {
        return {
          mount: {
            name,
            mountPoint: `juicefs:///${(source.path ?? '').replace(/^\/+/, '')}`,
            options: {
              storage: 'oss',
              bucket: virtualHostedBucketUrl(source.endpoint, source.bucket),
            },
            encryptOptions: [
              {
                name: 'metaurl',
                valueFrom: secretRef(
                  cache!.metaUrl!.secretName,
                  cache!.metaUrl!.key,
                ),
              },
              {
                name: 'access-key',
                valueFrom: secretRef(
                  credentials.secretName,
                  credentials.accessKeyIdKey,
                ),
              },
              {
                name: 'secret-key',
                valueFrom: secretRef(
                  credentials.secretName,
                  credentials.secretAccessKeyKey,
                ),
              },
            ],
            readOnly: true,
          },
        };
      }
      return {
        mount: {
          name,
          mountPoint: `oss://${joinPath(source.bucket, source.path)}`,
          options: {
            'fs.oss.endpoint': source.endpoint.replace(/^https?:\/\//, ''),
          },
          encryptOptions: [
            {
              name: 'fs.oss.accessKeyId',
              valueFrom: secretRef(
                credentials.secretName,
                credentials.accessKeyIdKey,
              ),
            },
            {
              name: 'fs.oss.accessKeySecret',
              valueFrom: secretRef(
                credentials.secretName,
                credentials.secretAccessKeyKey,
              ),
            },
          ],
          readOnly: true,
        },
      };
    }
    case 's3': {
      const credentials = source.credentials;
      if (juicefs) {
        const bucketUrl = source.endpoint
          ? `${withScheme(source.endpoint)}/${source.bucket}`
          : `https://${source.bucket}.s3.${
              source.region ?? 'us-east-1'
            }.amazonaws.com`;
        return {
          mount: {
            name,
            mountPoint: `juicefs:///${(source.path ?? '').replace(/^\/+/, '')}`,
            options: { storage: 's3', bucket: bucketUrl },
            encryptOptions: [
              {
                name: 'metaurl',
                valueFrom: secretRef(
                  cache!.metaUrl!.secretName,
                  cache!.metaUrl!.key,
                ),
              },
              {
                name: 'access-key',
                valueFrom: secretRef(
                  credentials!.secretName,
                  credentials!.accessKeyIdKey,
                ),
              },
              {
                name: 'secret-key',
                valueFrom: secretRef(
                  credentials!.secretName,
                  credentials!.secretAccessKeyKey,
                ),
              },
            ],
            readOnly: true,
          },
        };
      }
      const options: Record<string, string> = {};
      if (source.endpoint) {
        options['alluxio.underfs.s3.endpoint'] = withScheme(source.endpoint);
        options['alluxio.underfs.s3.disable.dns.buckets'] = 'true';
      }
      if (source.region) {
        options['alluxio.underfs.s3.endpoint.region'] = source.region;
      }
      return {
        mount: compact({
          name,
          mountPoint: `s3://${joinPath(source.bucket, source.path)}`,
          options: Object.keys(options).length > 0 ? options : undefined,
          encryptOptions: credentials
            ? [
                {
                  name: 'aws.accessKeyId',
                  valueFrom: secretRef(
                    credentials.secretName,
                    credentials.accessKeyIdKey,
                  ),
                },
                {
                  name: 'aws.secretKey',
                  valueFrom: secretRef(
                    credentials.secretName,
                    credentials.secretAccessKeyKey,
                  ),
                },
              ]
            : undefined,
          readOnly: true,
        }),
      };
    }
    case 'pvc':
      return {
        mount: {
          name,
          mountPoint: `pvc://${source.existingClaim}${
            source.subPath ? `/${source.subPath.replace(/^\/+/, '')}` : ''
          }`,
          readOnly: true,
        },
      };
    case 'nas': {
      const mountPath = `/underfs/${name}`;
      return {
        mount: { name, mountPoint: `local://${mountPath}`, readOnly: true },
        runtimeVolume: {
          volume: {
            name: 'nas',
            nfs: {
              server: source.server.replace(/^https?:\/\//, ''),
              path: source.path,
              readOnly: true,
            },
          },
          mountPath,
        },
      };
    }
    default:
      throw new Error('no Fluid mount for this source');
  }
}

function fluidRuntime(
  input: ParsedDatasetInput,
  identity: KubeaiLabelInput,
  runtimeVolume?: { volume: Record<string, unknown>; mountPath: string },
): KubeObject {
  const cache = input.cache!;
  const level = compact({
    mediumtype: cache.medium,
    path:
      cache.path ??
      (cache.medium === 'MEM' ? '/dev/shm' : '/var/lib/fluid/cache'),
    quota: cache.quota,
    high: cache.runtime === 'alluxio' ? '0.95' : undefined,
    low: cache.runtime === 'alluxio' ? '0.7' : '0.1',
  });
  const volumeMounts = runtimeVolume
    ? [{ name: 'nas', mountPath: runtimeVolume.mountPath, readOnly: true }]
    : undefined;
  return {
    apiVersion: FLUID_API_VERSION,
    kind: cache.runtime === 'alluxio' ? 'AlluxioRuntime' : 'JuiceFSRuntime',
    metadata: kubeaiMetadata(input.name, input.namespace, identity),
    spec: compact({
      replicas: cache.replicas,
      tieredstore: { levels: [level] },
      volumes: runtimeVolume ? [runtimeVolume.volume] : undefined,
      master: volumeMounts ? { volumeMounts } : undefined,
      worker: volumeMounts ? { volumeMounts } : undefined,
    }),
  };
}

/**
 * Builds a dataset's objects, validated with {@link datasetInputSchema}:
 * - `pvc` without cache: a new PVC (or nothing for an existing one);
 * - with a cache: a Fluid `Dataset` and its `AlluxioRuntime` / `JuiceFSRuntime` (same name);
 * - `table`: nothing (`metadataOnly`).
 */
export function buildDataset(rawInput: DatasetInput): DatasetBuild {
  const input = datasetInputSchema.parse(rawInput);
  const identity: KubeaiLabelInput = { entityRef: input.entityRef };
  const { source } = input;
  if (source.type === 'table') {
    return { objects: [], metadataOnly: true };
  }
  if (source.type === 'pvc' && !input.cache) {
    if (source.existingClaim) {
      return {
        objects: [],
        claimName: source.existingClaim,
        metadataOnly: false,
      };
    }
    return {
      objects: [
        {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: kubeaiMetadata(input.name, input.namespace, identity),
          spec: compact({
            accessModes: source.accessModes ?? ['ReadWriteOnce'],
            resources: { requests: { storage: source.size! } },
            storageClassName: source.storageClassName,
          }),
        },
      ],
      claimName: input.name,
      metadataOnly: false,
    };
  }
  const { mount, runtimeVolume } = fluidMount(input);
  const dataset: KubeObject = {
    apiVersion: FLUID_API_VERSION,
    kind: 'Dataset',
    metadata: kubeaiMetadata(input.name, input.namespace, identity),
    spec: {
      mounts: [mount],
      accessModes: ['ReadOnlyMany'],
    },
  };
  return {
    objects: [dataset, fluidRuntime(input, identity, runtimeVolume)],
    claimName: input.name,
    metadataOnly: false,
  };
}
