/*
 * Building blocks shared by the KubeAI kind schemas. Every schema is a plain JSON Schema
 * (draft-07) object, compiled once with ajv in ./validation.ts.
 *
 * Two annotation keywords (no effect on validity) make the messages precise:
 * - `errorHint` on a value schema replaces the generic reason of a failed value check
 *   (`/spec/cache/capacity must be a positive Kubernetes quantity such as "100Gi" …`);
 * - `errorContext` on an object schema is added to its required / not-allowed field errors
 *   (`/spec/source/table is required (source type "table")`).
 */
import {
  ANNOTATION_KUBEAI_TRAINING_JOB_KIND,
  ANNOTATION_KUBEAI_TRAINING_SCHEDULE,
  TRAINING_JOB_KINDS,
} from './annotations';
import { KUBEAI_API_VERSION } from '../constants';

/** DNS-1123 label: Kubernetes namespace and most object names. */
export const DNS1123_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** DNS-1123 subdomain: PersistentVolumeClaim names. */
export const DNS1123_SUBDOMAIN =
  '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

/**
 * A positive Kubernetes quantity of bytes: digits with an optional fraction and an optional
 * binary (`Ki` … `Ei`) or decimal (`k`, `M` … `E`) suffix, e.g. `100Gi`, `1.5Ti`, `500M`.
 * Zero, negative values, milli (`m`) and exponent notation are rejected.
 */
export const POSITIVE_BYTE_QUANTITY =
  '^(?=[^eE]*[1-9])([0-9]+(\\.[0-9]+)?|\\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$';

/** A 5-field cron expression or a `@daily`-style macro. */
export const CRON_SCHEDULE =
  '^(@(yearly|annually|monthly|weekly|daily|hourly)|[0-9*/,-]+\\s+[0-9*/,-]+\\s+[0-9*/,?LW-]+\\s+[0-9A-Za-z*/,-]+\\s+[0-9A-Za-z*/,?L#-]+)$';

/** A model version alias such as `champion`, `production` or `v3`. */
export const VERSION_ALIAS = '^[A-Za-z][A-Za-z0-9._-]{0,62}$';

/** A non-empty string. */
export const nonEmptyString = (description: string, examples?: string[]) => ({
  type: 'string',
  minLength: 1,
  description,
  ...(examples ? { examples } : {}),
});

/** A single entity reference, e.g. `group:default/ml-platform` or `ml-platform`. */
export const entityRef = (description: string) => nonEmptyString(description);

/** A list of entity references. */
export const entityRefList = (description: string) => ({
  type: 'array',
  description,
  uniqueItems: true,
  items: { type: 'string', minLength: 1 },
});

/** The envelope fields every KubeAI kind shares: apiVersion, kind, metadata, spec. */
export const envelope = (kind: string) => ({
  apiVersion: { enum: [KUBEAI_API_VERSION] },
  kind: { enum: [kind] },
  metadata: {
    type: 'object',
    required: ['name'],
    properties: {
      name: { type: 'string', minLength: 1 },
      annotations: {
        type: 'object',
        additionalProperties: { type: 'string' },
        properties: {
          [ANNOTATION_KUBEAI_TRAINING_SCHEDULE]: {
            type: 'string',
            pattern: CRON_SCHEDULE,
            errorHint:
              'must be a 5-field cron expression such as "0 2 * * *" or a macro such as "@daily"',
          },
          [ANNOTATION_KUBEAI_TRAINING_JOB_KIND]: {
            enum: [...TRAINING_JOB_KINDS],
          },
        },
      },
    },
  },
});

/** `spec.owner` and `spec.lifecycle`, required on every KubeAI kind, and `spec.system`. */
export const ownership = {
  owner: entityRef(
    'An entity reference to the owner (a Group or a User), e.g. `group:default/ml-platform`.',
  ),
  lifecycle: nonEmptyString('The lifecycle state.', [
    'experimental',
    'production',
    'deprecated',
  ]),
  system: entityRef('An entity reference to the System the entity is part of.'),
};
