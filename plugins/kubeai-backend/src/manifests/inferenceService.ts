/**
 * KServe `InferenceService` (`serving.kserve.io/v1beta1`) for a registered model version.
 *
 * The model is never baked into an image: `predictor.model.modelFormat` and `storageUri` come from
 * the registry version's artifact, and KServe's storage initializer loads it into a stock serving
 * runtime.
 *
 * Rollouts follow KServe's canary semantics: applying a new `storageUri` together with
 * `canaryTrafficPercent: N` makes a new revision that gets N % of the traffic while the previously
 * rolled out revision keeps 100 − N %; {@link promote} removes `canaryTrafficPercent` (the new
 * revision gets 100 %); {@link rollback} restores the previous version's artifact and labels
 * (100 % to it). Which version serves the stable traffic is recorded in `kubeai.io/stable-*`
 * annotations, so rollback needs no other state.
 */
import { InputError } from '@backstage/errors';
import { z } from 'zod';
import { compact, containerEnv, containerResources } from './common';
import {
  dnsLabelSchema,
  envSchema,
  identitySchema,
  modelRefSchema,
  modelVersionSchema,
  podOptionsSchema,
  resourcesSchema,
  storageUriSchema,
} from './inputs';
import {
  KUBEAI_ANNOTATIONS,
  KUBEAI_LABELS,
  KUBEAI_MANAGER,
  kubeaiMetadata,
  toLabelValue,
} from './labels';
import type { InferenceServiceObject } from './types';

/** A model version's artifact as the registry stores it. */
export const modelArtifactSchema = z
  .object({
    /** Where the model files are (`s3://…`, `gs://…`, `pvc://…`, …). */
    uri: storageUriSchema,
    /**
     * The artifact's format: a KServe model format (`sklearn`, `xgboost`, `pytorch`, `onnx`, …)
     * or the registry's serialization format (`onnx`, `savedmodel`, `torchscript`, `pickle`, …),
     * mapped with {@link kserveModelFormat}.
     */
    format: z
      .string()
      .max(64)
      .regex(
        /^[a-zA-Z0-9][-_.+a-zA-Z0-9]*$/,
        'must be a format such as "onnx" or "sklearn"',
      ),
    /** Optional KServe format version (e.g. `1` for sklearn 1.x). */
    formatVersion: z
      .string()
      .max(32)
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
        'must be a version such as "1" or "2.1"',
      )
      .optional(),
    /** Registry fields, accepted and not used here. */
    digest: z.string().max(200).optional(),
    size: z.number().int().min(0).optional(),
  })
  .strict();
export type ModelArtifact = z.infer<typeof modelArtifactSchema>;

/** A registered model version: its name (number) and artifact, and the training framework. */
export const modelVersionRefSchema = z
  .object({
    version: modelVersionSchema,
    artifact: modelArtifactSchema,
    /** Training framework (`sklearn`, `xgboost`, `lightgbm`, …); picks the format of pickles. */
    framework: z.string().max(64).optional(),
  })
  .strict();
export type ModelVersionRef = z.infer<typeof modelVersionRefSchema>;

const KSERVE_FORMATS = new Set([
  'sklearn',
  'xgboost',
  'lightgbm',
  'tensorflow',
  'pytorch',
  'onnx',
  'triton',
  'pmml',
  'paddle',
  'mlflow',
  'huggingface',
]);
const FORMAT_ALIASES: Record<string, string> = {
  savedmodel: 'tensorflow',
  keras: 'tensorflow',
  h5: 'tensorflow',
  torchscript: 'pytorch',
  pt: 'pytorch',
  pth: 'pytorch',
  mar: 'pytorch',
  safetensors: 'huggingface',
  bst: 'xgboost',
  ubj: 'xgboost',
  'scikit-learn': 'sklearn',
};
const PICKLE_FORMATS = new Set(['pickle', 'pkl', 'joblib']);

/**
 * The KServe `modelFormat.name` for an artifact format (and the training framework): KServe
 * names are kept, serialization formats mapped (`savedmodel` → `tensorflow`, `torchscript` →
 * `pytorch`, `safetensors` → `huggingface`, pickles → the framework or `sklearn`, …); anything
 * else is used lower-cased (for custom ServingRuntimes).
 */
export function kserveModelFormat(format: string, framework?: string): string {
  const f = format.toLowerCase();
  const fw = framework?.toLowerCase();
  const frameworkFormat = fw ? FORMAT_ALIASES[fw] ?? fw : undefined;
  if (KSERVE_FORMATS.has(f)) {
    return f;
  }
  if (FORMAT_ALIASES[f]) {
    return FORMAT_ALIASES[f];
  }
  if (PICKLE_FORMATS.has(f)) {
    return frameworkFormat &&
      ['xgboost', 'lightgbm', 'sklearn'].includes(frameworkFormat)
      ? frameworkFormat
      : 'sklearn';
  }
  if (
    (f === 'json' || f === 'txt') &&
    frameworkFormat &&
    ['xgboost', 'lightgbm'].includes(frameworkFormat)
  ) {
    return frameworkFormat;
  }
  return f.replace(/[^a-z0-9_-]/g, '-');
}

/** Input of {@link buildInferenceService}. */
export const inferenceServiceInputSchema = identitySchema
  .extend({
    /** The registered model (label `kubeai.io/model`). */
    modelRef: modelRefSchema,
    /** The version to serve (label `kubeai.io/model-version`). */
    version: modelVersionRefSchema,
    resources: resourcesSchema.optional(),
    env: envSchema.optional(),
    minReplicas: z.number().int().min(0).max(1000).optional(),
    maxReplicas: z.number().int().min(1).max(1000).optional(),
    /** Percentage of traffic for this version while the previous revision serves the rest. */
    canaryTrafficPercent: z.number().int().min(0).max(100).optional(),
    /** The version serving the non-canary traffic; recorded for {@link rollback}. */
    stable: modelVersionRefSchema.optional(),
    /** A specific ServingRuntime / ClusterServingRuntime; KServe picks one by format otherwise. */
    runtime: dnsLabelSchema.optional(),
    protocolVersion: z.enum(['v1', 'v2', 'grpc-v2']).optional(),
  })
  .merge(podOptionsSchema.pick({ serviceAccountName: true }))
  .strict()
  .superRefine((input, ctx) => {
    if (
      input.minReplicas !== undefined &&
      input.maxReplicas !== undefined &&
      input.minReplicas > input.maxReplicas
    ) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['maxReplicas'],
        message: 'must be at least minReplicas',
      });
    }
    if (input.stable && input.canaryTrafficPercent === undefined) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['stable'],
        message: 'only applies to a canary (set canaryTrafficPercent)',
      });
    }
  });
export type InferenceServiceInput = z.input<typeof inferenceServiceInputSchema>;

function stableAnnotations(stable: ModelVersionRef): Record<string, string> {
  const format = modelFormat(stable);
  return {
    [KUBEAI_ANNOTATIONS.stableModelVersion]: stable.version,
    [KUBEAI_ANNOTATIONS.stableStorageUri]: stable.artifact.uri,
    [KUBEAI_ANNOTATIONS.stableModelFormat]: format.version
      ? `${format.name}:${format.version}`
      : format.name,
  };
}

function modelFormat(version: ModelVersionRef) {
  return compact({
    name: kserveModelFormat(version.artifact.format, version.framework),
    version: version.artifact.formatVersion,
  });
}

/**
 * Builds an InferenceService serving `version` of `modelRef` (validated with
 * {@link inferenceServiceInputSchema}). For the first deployment leave `canaryTrafficPercent`
 * unset; to roll out a new version to an existing service prefer {@link canary}, which keeps what
 * the existing object says.
 */
export function buildInferenceService(
  rawInput: InferenceServiceInput,
): InferenceServiceObject {
  const input = inferenceServiceInputSchema.parse(rawInput);
  const metadata = kubeaiMetadata(input.name, input.namespace, {
    entityRef: input.entityRef,
    modelRef: input.modelRef,
    modelVersion: input.version.version,
  });
  const stable =
    input.canaryTrafficPercent === undefined ? input.version : input.stable;
  if (stable) {
    metadata.annotations = {
      ...metadata.annotations,
      ...stableAnnotations(stable),
    };
  }
  return {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: metadata as InferenceServiceObject['metadata'],
    spec: {
      predictor: compact({
        minReplicas: input.minReplicas,
        maxReplicas: input.maxReplicas,
        canaryTrafficPercent: input.canaryTrafficPercent,
        serviceAccountName: input.serviceAccountName,
        model: compact({
          modelFormat: modelFormat(input.version),
          storageUri: input.version.artifact.uri,
          runtime: input.runtime,
          protocolVersion: input.protocolVersion,
          resources: containerResources(input.resources),
          env: containerEnv(input.env),
        }),
      }),
    },
  };
}

const OWN_LABEL_KEYS = new Set<string>(Object.values(KUBEAI_LABELS));

/**
 * The part of an InferenceService read from the cluster that KubeAI applies back: apiVersion,
 * kind, name, namespace, KubeAI's own labels and annotations, and the spec. Server-set metadata
 * (uid, resourceVersion, managedFields, …) and status are dropped.
 */
export function inferenceServiceApplyIntent(
  existing: InferenceServiceObject,
): InferenceServiceObject {
  if (
    existing?.apiVersion !== 'serving.kserve.io/v1beta1' ||
    existing?.kind !== 'InferenceService' ||
    !existing.spec?.predictor?.model
  ) {
    throw new InputError(
      'expected a serving.kserve.io/v1beta1 InferenceService with spec.predictor.model',
    );
  }
  const labels = Object.fromEntries(
    Object.entries(existing.metadata.labels ?? {}).filter(([key]) =>
      OWN_LABEL_KEYS.has(key),
    ),
  );
  labels[KUBEAI_LABELS.managedBy] = KUBEAI_MANAGER;
  const annotations = Object.fromEntries(
    Object.entries(existing.metadata.annotations ?? {}).filter(([key]) =>
      key.startsWith('kubeai.io/'),
    ),
  );
  const spec = structuredClone(existing.spec);
  return {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: {
      name: existing.metadata.name,
      namespace: existing.metadata.namespace,
      labels,
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    spec,
  };
}

/** The version an InferenceService serves now (from its model and `kubeai.io/model-version`). */
export function currentModelVersion(
  existing: InferenceServiceObject,
): ModelVersionRef {
  const model = existing.spec.predictor.model;
  return {
    version:
      existing.metadata.labels?.[KUBEAI_LABELS.modelVersion] ?? 'unknown',
    artifact: compact({
      uri: model.storageUri,
      format: model.modelFormat?.name,
      formatVersion: model.modelFormat?.version,
    }) as ModelArtifact,
  };
}

/** The version serving the stable traffic, from the `kubeai.io/stable-*` annotations. */
export function stableModelVersion(
  existing: InferenceServiceObject,
): ModelVersionRef | undefined {
  const annotations = existing.metadata.annotations ?? {};
  const version = annotations[KUBEAI_ANNOTATIONS.stableModelVersion];
  const uri = annotations[KUBEAI_ANNOTATIONS.stableStorageUri];
  const format = annotations[KUBEAI_ANNOTATIONS.stableModelFormat];
  if (!version || !uri || !format) {
    return undefined;
  }
  const [name, formatVersion] = format.split(':');
  return {
    version,
    artifact: compact({ uri, format: name, formatVersion }) as ModelArtifact,
  };
}

function withVersion(
  intent: InferenceServiceObject,
  version: ModelVersionRef,
  stable: ModelVersionRef | undefined,
  canaryTrafficPercent: number | undefined,
): InferenceServiceObject {
  const predictor = { ...intent.spec.predictor };
  delete predictor.canaryTrafficPercent;
  if (canaryTrafficPercent !== undefined) {
    predictor.canaryTrafficPercent = canaryTrafficPercent;
  }
  predictor.model = {
    ...predictor.model,
    modelFormat: modelFormat(version) as { name: string; version?: string },
    storageUri: version.artifact.uri,
  };
  const annotations = Object.fromEntries(
    Object.entries(intent.metadata.annotations ?? {}).filter(
      ([key]) =>
        !(Object.values(KUBEAI_ANNOTATIONS) as string[]).includes(key) ||
        key === KUBEAI_ANNOTATIONS.entityRef ||
        key === KUBEAI_ANNOTATIONS.modelRef,
    ),
  );
  if (stable) {
    Object.assign(annotations, stableAnnotations(stable));
  }
  return {
    ...intent,
    metadata: {
      ...intent.metadata,
      labels: {
        ...intent.metadata.labels,
        [KUBEAI_LABELS.modelVersion]: toLabelValue(version.version),
      },
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    spec: { ...intent.spec, predictor },
  };
}

/**
 * Rolls `version` out to an existing InferenceService as a canary receiving
 * `canaryTrafficPercent` % (the version serving the rest stays recorded as stable).
 */
export function canary(
  existing: InferenceServiceObject,
  version: ModelVersionRef,
  canaryTrafficPercent: number,
): InferenceServiceObject {
  const next = modelVersionRefSchema.parse(version);
  const percent = z.number().int().min(0).max(100).parse(canaryTrafficPercent);
  const intent = inferenceServiceApplyIntent(existing);
  const stable =
    existing.spec.predictor.canaryTrafficPercent !== undefined
      ? stableModelVersion(existing) ?? currentModelVersion(existing)
      : currentModelVersion(existing);
  return withVersion(intent, next, stable, percent);
}

/** Promotes the canary: removes `canaryTrafficPercent`, so the current version gets 100 %. */
export function promote(
  existing: InferenceServiceObject,
): InferenceServiceObject {
  const intent = inferenceServiceApplyIntent(existing);
  const current = currentModelVersion(existing);
  return withVersion(intent, current, current, undefined);
}

/**
 * Rolls back to the previous revision: restores its storageUri, model format and version label and
 * removes `canaryTrafficPercent` (100 % to it). `previousRevision` defaults to the stable version
 * recorded on the object.
 */
export function rollback(
  existing: InferenceServiceObject,
  previousRevision?: ModelVersionRef,
): InferenceServiceObject {
  const intent = inferenceServiceApplyIntent(existing);
  const previous = previousRevision
    ? modelVersionRefSchema.parse(previousRevision)
    : stableModelVersion(existing);
  if (!previous) {
    throw new InputError(
      `InferenceService "${existing.metadata.name}" records no previous version to roll back to`,
    );
  }
  return withVersion(intent, previous, previous, undefined);
}
