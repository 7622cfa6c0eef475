/**
 * The labels (and the few annotations) KubeAI puts on every object it creates.
 *
 * Label values must be valid Kubernetes label values (at most 63 characters of `[A-Za-z0-9-_.]`,
 * starting and ending alphanumeric), so entity references such as `model:default/shoe-brand` are
 * encoded: see {@link entityLabelValue} and {@link modelLabelValue}. The full reference is kept in
 * an annotation next to it.
 */
import { parseEntityRef } from '@backstage/catalog-model';
import { KUBEAI_LABELS, KUBEAI_MANAGER } from '@kubeai/plugin-kubeai-common';
import { createHash } from 'node:crypto';

export { KUBEAI_LABELS, KUBEAI_MANAGER };

/**
 * Annotations KubeAI writes. Not (yet) in `@kubeai/plugin-kubeai-common`'s constants, which is
 * why they live here.
 */
export const KUBEAI_ANNOTATIONS = {
  /** The full entity reference behind `kubeai.io/entity`. */
  entityRef: 'kubeai.io/entity-ref',
  /** The full model entity reference behind `kubeai.io/model`. */
  modelRef: 'kubeai.io/model-ref',
  /** InferenceService: the version serving the stable (non-canary) traffic. */
  stableModelVersion: 'kubeai.io/stable-model-version',
  /** InferenceService: the storageUri of the stable version. */
  stableStorageUri: 'kubeai.io/stable-storage-uri',
  /** InferenceService: the model format (`name` or `name:version`) of the stable version. */
  stableModelFormat: 'kubeai.io/stable-model-format',
} as const;

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** True when `value` is a valid Kubernetes label value (empty included). */
export function isValidLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}

/**
 * Turns any string into a valid, non-empty label value, deterministically: invalid characters
 * become `-`, and values longer than 63 characters are cut and suffixed with a hash of the whole.
 */
export function toLabelValue(raw: string): string {
  if (raw.length > 0 && isValidLabelValue(raw)) {
    return raw;
  }
  let value = raw.replace(/[^-A-Za-z0-9_.]/g, '-');
  const hash = createHash('sha256').update(raw).digest('hex').slice(0, 8);
  if (value.length > 63 || value !== raw) {
    value = `${value.slice(0, 54)}-${hash}`;
  }
  value = value.replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '');
  return value.length > 0 ? value : hash;
}

/**
 * Label value of `kubeai.io/entity` for a catalog entity reference: `<kind>.<namespace>.<name>`,
 * lower case (`component:default/shoe-brand` → `component.default.shoe-brand`).
 */
export function entityLabelValue(entityRef: string): string {
  const ref = parseEntityRef(entityRef, { defaultNamespace: 'default' });
  return toLabelValue(
    `${ref.kind}.${ref.namespace}.${ref.name}`.toLocaleLowerCase('en-US'),
  );
}

/**
 * Label value of `kubeai.io/model` for a model reference (`model:default/shoe-brand`,
 * `default/shoe-brand` or `shoe-brand`): the model's name in the `default` namespace,
 * `<namespace>.<name>` in any other, lower case.
 */
export function modelLabelValue(modelRef: string): string {
  const ref = parseEntityRef(modelRef, {
    defaultKind: 'model',
    defaultNamespace: 'default',
  });
  const value =
    ref.namespace.toLocaleLowerCase('en-US') === 'default'
      ? ref.name
      : `${ref.namespace}.${ref.name}`;
  return toLabelValue(value.toLocaleLowerCase('en-US'));
}

/** The full, normalised model reference (`model:<namespace>/<name>`). */
export function normalizeModelRef(modelRef: string): string {
  const ref = parseEntityRef(modelRef, {
    defaultKind: 'model',
    defaultNamespace: 'default',
  });
  return `${ref.kind}:${ref.namespace}/${ref.name}`.toLocaleLowerCase('en-US');
}

/** What the KubeAI labels of one object say. All optional but the manager label. */
export interface KubeaiLabelInput {
  /** Catalog entity the object belongs to, e.g. `component:default/shoe-brand-notebook`. */
  entityRef?: string;
  /** Model the object trains, serves or evaluates, e.g. `model:default/shoe-brand`. */
  modelRef?: string;
  /** Model version (a valid label value, e.g. `3` or `1.2.0`). */
  modelVersion?: string;
  /** Run id (training / pipeline run). */
  runId?: string;
}

/** The KubeAI labels for an object (always `app.kubernetes.io/managed-by: kubeai`). */
export function kubeaiLabels(input: KubeaiLabelInput): Record<string, string> {
  const labels: Record<string, string> = {
    [KUBEAI_LABELS.managedBy]: KUBEAI_MANAGER,
  };
  if (input.entityRef) {
    labels[KUBEAI_LABELS.entity] = entityLabelValue(input.entityRef);
  }
  if (input.modelRef) {
    labels[KUBEAI_LABELS.model] = modelLabelValue(input.modelRef);
  }
  if (input.modelVersion) {
    labels[KUBEAI_LABELS.modelVersion] = toLabelValue(input.modelVersion);
  }
  if (input.runId) {
    labels[KUBEAI_LABELS.run] = toLabelValue(input.runId);
  }
  return labels;
}

/** The annotations that go with {@link kubeaiLabels} (full references); may be empty. */
export function kubeaiAnnotations(
  input: KubeaiLabelInput,
): Record<string, string> {
  const annotations: Record<string, string> = {};
  if (input.entityRef) {
    const ref = parseEntityRef(input.entityRef, {
      defaultNamespace: 'default',
    });
    annotations[KUBEAI_ANNOTATIONS.entityRef] =
      `${ref.kind}:${ref.namespace}/${ref.name}`.toLocaleLowerCase('en-US');
  }
  if (input.modelRef) {
    annotations[KUBEAI_ANNOTATIONS.modelRef] = normalizeModelRef(
      input.modelRef,
    );
  }
  return annotations;
}

/**
 * Label selector matching the objects KubeAI created, narrowed by the given labels; for
 * `ClusterGateway.list({ labelSelector })`.
 */
export function kubeaiSelector(input: KubeaiLabelInput = {}): string {
  return Object.entries(kubeaiLabels(input))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/** Metadata with the KubeAI labels and annotations (annotations omitted when empty). */
export function kubeaiMetadata(
  name: string,
  namespace: string | undefined,
  input: KubeaiLabelInput,
  extraLabels: Record<string, string> = {},
): {
  name: string;
  namespace?: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
} {
  const annotations = kubeaiAnnotations(input);
  return {
    name,
    ...(namespace ? { namespace } : {}),
    labels: { ...extraLabels, ...kubeaiLabels(input) },
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
}
