import { KUBEAI_API_VERSION } from '../constants';
import { CACHE_ENGINES, CACHE_MEDIA, TABLE_ENGINES } from './kinds';
import {
  DNS1123_LABEL,
  DNS1123_SUBDOMAIN,
  POSITIVE_BYTE_QUANTITY,
  envelope,
  nonEmptyString,
  ownership,
} from './schemaParts';

const namespace = {
  type: 'string',
  pattern: DNS1123_LABEL,
  maxLength: 63,
  errorHint: 'must be a Kubernetes namespace name (DNS-1123 label)',
};
const cluster = nonEmptyString(
  'Name of the cluster in the `kubernetes:` app-config; the default cluster when omitted.',
);

const objectStore = (type: string) => ({
  type: 'object',
  errorContext: `source type "${type}"`,
  required: ['bucket'],
  additionalProperties: false,
  properties: {
    type: true,
    bucket: {
      type: 'string',
      pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$',
      errorHint:
        'must be a bucket name: 3-63 lowercase letters, digits, dots and hyphens',
    },
    prefix: { type: 'string', description: 'Key prefix of the data.' },
    endpoint: nonEmptyString('Endpoint of the object store.', [
      'https://oss-cn-hangzhou-internal.aliyuncs.com',
      'https://s3.us-west-2.amazonaws.com',
    ]),
  },
});

/**
 * Per source type: the required fields and the only fields allowed.
 * Discriminated by `spec.source.type` with `if`/`then`, so a missing field is reported at its
 * own path (`/spec/source/table is required (source type "table")`).
 */
const sourceVariants: Record<string, object> = {
  pvc: {
    type: 'object',
    errorContext: 'source type "pvc"',
    required: ['claimName', 'namespace'],
    additionalProperties: false,
    properties: {
      type: true,
      claimName: {
        type: 'string',
        pattern: DNS1123_SUBDOMAIN,
        maxLength: 253,
        errorHint: 'must be a PersistentVolumeClaim name (DNS-1123 subdomain)',
      },
      namespace,
      cluster,
    },
  },
  nas: {
    type: 'object',
    errorContext: 'source type "nas"',
    required: ['server', 'path'],
    additionalProperties: false,
    properties: {
      type: true,
      server: {
        type: 'string',
        pattern: '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$',
        errorHint: 'must be a host name or IP address',
      },
      path: {
        type: 'string',
        pattern: '^/',
        errorHint: 'must be an absolute path',
      },
    },
  },
  s3: objectStore('s3'),
  oss: objectStore('oss'),
  table: {
    type: 'object',
    errorContext: 'source type "table"',
    required: ['engine', 'project', 'table'],
    additionalProperties: false,
    properties: {
      type: true,
      engine: { enum: [...TABLE_ENGINES] },
      project: {
        type: 'string',
        pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
        errorHint:
          'must be a project (or Hive database) name: letters, digits and underscores',
      },
      table: {
        type: 'string',
        pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
        errorHint: 'must be a table name: letters, digits and underscores',
      },
      partition: nonEmptyString(
        'Partition spec of the data read, e.g. `ds=${bizdate}`.',
      ),
    },
  },
};

/** JSON schema of the `Dataset` kind (`apiVersion: kubeai.io/v1alpha1`). */
export const datasetEntityV1alpha1Schema = {
  $schema: 'http://json-schema.org/draft-07/schema',
  $id: 'KubeaiDatasetV1alpha1',
  description:
    'A Dataset is data that models are trained or evaluated on: where it lives, its format and how it is cached.',
  examples: [
    {
      apiVersion: KUBEAI_API_VERSION,
      kind: 'Dataset',
      metadata: { name: 'ranking-click-logs' },
      spec: {
        owner: 'group:default/search-reco',
        lifecycle: 'production',
        source: {
          type: 'table',
          engine: 'odps',
          project: 'search_dw',
          table: 'dwd_search_click_log_di',
        },
      },
    },
  ],
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    ...envelope('Dataset'),
    spec: {
      type: 'object',
      required: ['owner', 'lifecycle', 'source'],
      properties: {
        ...ownership,
        source: {
          type: 'object',
          description: 'Where the data lives, discriminated by `type`.',
          required: ['type'],
          properties: {
            type: { enum: Object.keys(sourceVariants) },
          },
          allOf: Object.entries(sourceVariants).map(([type, then]) => ({
            if: {
              type: 'object',
              required: ['type'],
              properties: { type: { const: type } },
            },
            then,
          })),
        },
        format: nonEmptyString('Storage format of the data.', [
          'parquet',
          'orc',
          'csv',
          'jsonl',
          'tfrecord',
          'image-folder',
        ]),
        schema: {
          type: 'object',
          description: 'Fields of the records.',
          additionalProperties: false,
          properties: {
            fields: {
              type: 'array',
              items: {
                type: 'object',
                required: ['name', 'type'],
                additionalProperties: false,
                properties: {
                  name: { type: 'string', minLength: 1 },
                  type: { type: 'string', minLength: 1 },
                  description: { type: 'string' },
                },
              },
            },
            partitionKeys: {
              type: 'array',
              items: { type: 'string', minLength: 1 },
            },
          },
        },
        cache: {
          type: 'object',
          description:
            'A distributed cache (Fluid runtime) in front of the source.',
          required: ['engine', 'capacity'],
          additionalProperties: false,
          properties: {
            engine: { enum: [...CACHE_ENGINES] },
            capacity: {
              type: 'string',
              pattern: POSITIVE_BYTE_QUANTITY,
              errorHint:
                'must be a positive Kubernetes quantity such as "100Gi" or "1.5Ti" (no sign, no milli, no exponent)',
            },
            medium: { enum: [...CACHE_MEDIA] },
          },
        },
      },
    },
  },
};
