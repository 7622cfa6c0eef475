/**
 * Zod schemas of the building blocks the manifest builders take: Kubernetes names, quantities,
 * env, commands, dataset mounts, queueing. The family schemas (notebook, training, …) are made of
 * these; the API routes validate request bodies with the family schemas before building.
 */
import { parseEntityRef } from '@backstage/catalog-model';
import { z } from 'zod';
import { cronScheduleError } from './cron';
import { isValidLabelValue } from './labels';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN =
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A DNS-1123 label (at most 63 lower-case alphanumerics or `-`): object and namespace names. */
export const dnsLabelSchema = z
  .string()
  .max(63, 'must be at most 63 characters')
  .regex(
    DNS1123_LABEL,
    'must be a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit',
  );

/** A DNS-1123 subdomain (at most 253 characters, dot-separated labels). */
export const dnsSubdomainSchema = z
  .string()
  .max(253, 'must be at most 253 characters')
  .regex(
    DNS1123_SUBDOMAIN,
    'must be a DNS-1123 subdomain: lower-case letters, digits, "-" and ".", starting and ending with a letter or digit',
  );

/** A label key: an optional DNS subdomain prefix and `/`, then a name of at most 63 characters. */
export const labelKeySchema = z
  .string()
  .max(317)
  .regex(
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
    'must be a label key such as "example.com/gpu-type"',
  );

/** A Kubernetes namespace name. */
export const namespaceSchema = dnsLabelSchema;

/** A valid, non-empty Kubernetes label value. */
export const labelValueSchema = z
  .string()
  .min(1, 'must not be empty')
  .refine(isValidLabelValue, {
    message:
      'must be a label value: at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit',
  });

/** A positive CPU quantity: `2`, `0.5`, `500m`. */
export const cpuQuantitySchema = z
  .string()
  .regex(
    /^(?=.*[1-9])([0-9]+(\.[0-9]{1,3})?|\.[0-9]{1,3}|[0-9]+m)$/,
    'must be a positive CPU quantity such as "2", "0.5" or "500m"',
  );

/** A positive memory / storage quantity: `512Mi`, `4Gi`, `1.5G`, `1000000`. */
export const memoryQuantitySchema = z
  .string()
  .regex(
    /^(?=[^A-Za-z]*[1-9])([0-9]+(\.[0-9]+)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/,
    'must be a positive quantity such as "512Mi", "4Gi" or "1.5G"',
  );

/** Number of `nvidia.com/gpu`: a non-negative integer. */
export const gpuCountSchema = z
  .number()
  .int('must be a whole number of GPUs')
  .min(0, 'must not be negative')
  .max(1024);

/**
 * Compute resources of a container. `cpu` / `memory` are requests; the memory limit defaults to
 * the memory request, the CPU limit is only set when `cpuLimit` is given; `gpu` sets the
 * `nvidia.com/gpu` limit.
 */
export const resourcesSchema = z
  .object({
    cpu: cpuQuantitySchema.optional(),
    memory: memoryQuantitySchema.optional(),
    gpu: gpuCountSchema.optional(),
    cpuLimit: cpuQuantitySchema.optional(),
    memoryLimit: memoryQuantitySchema.optional(),
  })
  .strict();
export type ResourcesInput = z.infer<typeof resourcesSchema>;

/** A string without NUL characters (they cannot be passed to a process). */
const processStringSchema = z
  .string()
  .max(32768)
  .refine(s => !s.includes('\u0000'), {
    message: 'must not contain NUL characters',
  });

/**
 * A command or argument list: an array of separate strings, each passed to the process as one
 * argument (never joined into a shell command line).
 */
export const argvSchema = z.array(processStringSchema).max(256);

/** A container command: a non-empty argv array whose first element is the program. */
export const commandSchema = argvSchema
  .min(1, 'must name the program to run')
  .refine(argv => argv.length === 0 || (argv[0] ?? '').trim() !== '', {
    message: 'the program (first element) must not be empty',
  });

/** An environment variable name, as the apiserver accepts it. */
export const envNameSchema = z
  .string()
  .max(256)
  .regex(
    /^[-._a-zA-Z][-._a-zA-Z0-9]*$/,
    'must be an environment variable name: letters, digits, "_", "-" or "." not starting with a digit',
  );

/** One environment variable: a literal value or a reference to a key of a Secret. */
export const envVarSchema = z.union([
  z.object({ name: envNameSchema, value: processStringSchema }).strict(),
  z
    .object({
      name: envNameSchema,
      secretKeyRef: z
        .object({
          name: dnsSubdomainSchema,
          key: z
            .string()
            .max(253)
            .regex(/^[-._a-zA-Z0-9]+$/, 'must be a Secret key'),
        })
        .strict(),
    })
    .strict(),
]);
export type EnvVarInput = z.infer<typeof envVarSchema>;

/** Environment variables; names must be unique. */
export const envSchema = z
  .array(envVarSchema)
  .max(256)
  .superRefine((env, ctx) => {
    const seen = new Set<string>();
    env.forEach((e, i) => {
      if (seen.has(e.name)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [i, 'name'],
          message: `duplicate environment variable "${e.name}"`,
        });
      }
      seen.add(e.name);
    });
  });

/** A container image reference (`registry/repo/name:tag` or `…@sha256:digest`). */
export const imageSchema = z
  .string()
  .max(512)
  .regex(
    /^[A-Za-z0-9]+([._-][A-Za-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/,
    'must be a container image reference such as "ghcr.io/org/trainer:1.2"',
  );

/**
 * Control characters (but NUL, refused on its own) and bidirectional marks: never in a path, where
 * they only serve to hide what the path really is.
 */
export const UNSAFE_PATH_CHARACTERS =
  // eslint-disable-next-line no-control-regex
  /[\u0001-\u001f\u007f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** An absolute path in a container, without `..` segments. */
export const mountPathSchema = z
  .string()
  .max(1024)
  .regex(/^\/[^:]*$/, 'must be an absolute path without ":"')
  .refine(p => !p.includes('\u0000'), {
    message: 'must not contain NUL characters',
  })
  .refine(p => !UNSAFE_PATH_CHARACTERS.test(p), {
    message: 'must not contain control characters or bidirectional marks',
  })
  .refine(p => !p.split('/').includes('..'), {
    message: 'must not contain ".."',
  });

/** A relative path inside a volume, without `..` segments. */
export const subPathSchema = z
  .string()
  .max(1024)
  .regex(/^[^/]/, 'must be a relative path')
  .refine(p => !p.includes('\u0000'), {
    message: 'must not contain NUL characters',
  })
  .refine(p => !UNSAFE_PATH_CHARACTERS.test(p), {
    message: 'must not contain control characters or bidirectional marks',
  })
  .refine(p => !p.split('/').includes('..'), {
    message: 'must not contain ".."',
  });

/** A dataset made available to a workload through a PersistentVolumeClaim, read-only. */
export const datasetMountSchema = z
  .object({
    /** Logical name; also the default mount directory `/data/<name>`. */
    name: dnsLabelSchema,
    /** The PVC (a plain PVC or the one Fluid creates for a Dataset, named like the Dataset). */
    claimName: dnsSubdomainSchema,
    mountPath: mountPathSchema.optional(),
    subPath: subPathSchema.optional(),
  })
  .strict();
export type DatasetMountInput = z.infer<typeof datasetMountSchema>;

/** Dataset mounts; names and mount paths must be unique. */
export const datasetMountsSchema = z
  .array(datasetMountSchema)
  .max(32)
  .superRefine((mounts, ctx) => {
    const names = new Set<string>();
    const paths = new Set<string>();
    mounts.forEach((m, i) => {
      const path = m.mountPath ?? `/data/${m.name}`;
      if (names.has(m.name)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [i, 'name'],
          message: `duplicate dataset "${m.name}"`,
        });
      }
      if (paths.has(path)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [i, 'mountPath'],
          message: `mount path "${path}" is used twice`,
        });
      }
      names.add(m.name);
      paths.add(path);
    });
  });

/** A catalog entity reference such as `component:default/shoe-brand`. */
export const entityRefSchema = z
  .string()
  .max(512)
  .refine(
    ref => {
      try {
        const parsed = parseEntityRef(ref, { defaultNamespace: 'default' });
        return Boolean(parsed.kind && parsed.name);
      } catch {
        return false;
      }
    },
    { message: 'must be an entity reference such as "component:default/name"' },
  );

/** A model entity reference: `model:default/shoe-brand`, `default/shoe-brand` or `shoe-brand`. */
export const modelRefSchema = z
  .string()
  .max(512)
  .refine(
    ref => {
      try {
        const parsed = parseEntityRef(ref, {
          defaultKind: 'model',
          defaultNamespace: 'default',
        });
        return parsed.kind.toLocaleLowerCase('en-US') === 'model';
      } catch {
        return false;
      }
    },
    { message: 'must be a model reference such as "model:default/shoe-brand"' },
  );

/** A model version as it appears in labels (`3`, `1.2.0`, `2024-05-01`). */
export const modelVersionSchema = labelValueSchema;

/** The KubeAI identity fields every family input shares. */
export const identitySchema = z.object({
  name: dnsLabelSchema,
  namespace: namespaceSchema,
  /** Catalog entity the objects belong to (label `kubeai.io/entity`). */
  entityRef: entityRefSchema.optional(),
});

/** Kueue: the LocalQueue to submit to, and optionally a WorkloadPriorityClass. */
export const kueueSchema = z
  .object({
    /**
     * LocalQueue name (label `kueue.x-k8s.io/queue-name`); unset, the route picks the namespace's
     * (`kubeai.pools.routing`), so a flavor or priority class can be given alone.
     */
    name: dnsLabelSchema.optional(),
    /** WorkloadPriorityClass name (label `kueue.x-k8s.io/priority-class`). */
    priorityClass: dnsLabelSchema.optional(),
    /** ResourceFlavor (pool) to run on; the route sets its nodeLabels as nodeSelector. */
    flavor: dnsSubdomainSchema.optional(),
  })
  .strict();
export type KueueInput = z.infer<typeof kueueSchema>;

/** Volcano gang scheduling: all-or-nothing start of `minMember` pods. */
export const gangSchema = z
  .object({
    /** Pods that must be schedulable together; defaults to all pods of the job. */
    minMember: z.number().int().min(1).max(100000).optional(),
    /** Volcano Queue. */
    queue: dnsSubdomainSchema.optional(),
  })
  .strict();
export type GangInput = z.infer<typeof gangSchema>;

/** A cron schedule as CronJob and CronWorkflow accept it (see ./cron.ts). */
export const cronScheduleSchema = z.string().superRefine((schedule, ctx) => {
  const error = cronScheduleError(schedule);
  if (error) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: error });
  }
});

/** An IANA time zone name such as `Europe/Berlin` or `UTC`. */
export const timeZoneSchema = z
  .string()
  .max(64)
  .regex(
    /^(UTC|[A-Z][A-Za-z_-]+(\/[A-Za-z0-9_+-]+){1,2})$/,
    'must be an IANA time zone such as "Europe/Berlin" or "UTC"',
  );

/** URI schemes KServe's storage initializer can load a model from. */
export const STORAGE_URI_SCHEMES = [
  's3',
  'gs',
  'pvc',
  'https',
  'http',
  'hdfs',
  'webhdfs',
  'oci',
  'hf',
] as const;

/** Where a model artifact is stored (`s3://bucket/models/shoe-brand/3`, `pvc://models/…`). */
export const storageUriSchema = z
  .string()
  .max(2048)
  .regex(
    /^[a-z][a-z0-9+.-]*:\/\/\S+$/,
    'must be a URI such as "s3://bucket/path"',
  )
  .refine(
    uri =>
      (STORAGE_URI_SCHEMES as readonly string[]).includes(uri.split('://')[0]),
    {
      message: `must use one of the schemes ${STORAGE_URI_SCHEMES.join(', ')}`,
    },
  );

/** A KServe model format name (`sklearn`, `xgboost`, `pytorch`, `onnx`, `tensorflow`, …). */
export const modelFormatNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(63)
  .regex(
    /^[a-z][a-z0-9_-]*$/,
    'must be a lower-case model format name such as "sklearn"',
  );

/** Optional pod placement fields shared by the workload families. */
export const podOptionsSchema = z.object({
  serviceAccountName: dnsSubdomainSchema.optional(),
  /** Kubernetes PriorityClass of the pods. */
  priorityClassName: dnsSubdomainSchema.optional(),
  nodeSelector: z
    .record(
      labelKeySchema,
      z.string().refine(isValidLabelValue, 'must be a label value'),
    )
    .optional(),
});
