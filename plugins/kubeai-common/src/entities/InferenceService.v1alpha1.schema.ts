import { KUBEAI_API_VERSION } from '../constants';
import { INFERENCE_PROTOCOLS, MODEL_FORMATS } from './kinds';
import {
  DNS1123_LABEL,
  VERSION_ALIAS,
  entityRef,
  entityRefList,
  envelope,
  nonEmptyString,
  ownership,
} from './schemaParts';

/** JSON schema of the `InferenceService` kind (`apiVersion: kubeai.io/v1alpha1`). */
export const inferenceServiceEntityV1alpha1Schema = {
  $schema: 'http://json-schema.org/draft-07/schema',
  $id: 'KubeaiInferenceServiceV1alpha1',
  description:
    'An InferenceService serves one version of a Model online: its runtime and where it is deployed.',
  examples: [
    {
      apiVersion: KUBEAI_API_VERSION,
      kind: 'InferenceService',
      metadata: { name: 'shoe-brand-classifier-serving' },
      spec: {
        owner: 'group:default/cv-team',
        lifecycle: 'production',
        model: 'model:default/shoe-brand-classifier',
        modelVersion: 7,
        runtime: { modelFormat: 'pytorch', protocol: 'v2' },
        deployment: {
          cluster: 'local',
          namespace: 'cv-serving',
          name: 'shoe-brand',
        },
      },
    },
  ],
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    ...envelope('InferenceService'),
    spec: {
      type: 'object',
      required: ['owner', 'lifecycle', 'model'],
      properties: {
        ...ownership,
        model: entityRef(
          'A reference to the Model served (default kind Model).',
        ),
        modelVersion: {
          type: ['integer', 'string'],
          minimum: 1,
          pattern: VERSION_ALIAS,
          errorHint:
            'must be a version number (1, 2, …) or an alias such as "champion"',
          description:
            'The registered model version served, or an alias; latest when omitted.',
        },
        runtime: {
          type: 'object',
          required: ['modelFormat'],
          additionalProperties: false,
          properties: {
            modelFormat: { enum: [...MODEL_FORMATS] },
            protocol: { enum: [...INFERENCE_PROTOCOLS] },
            name: nonEmptyString(
              'The (Cluster)ServingRuntime to use; chosen by modelFormat when omitted.',
            ),
          },
        },
        deployment: {
          type: 'object',
          required: ['namespace', 'name'],
          additionalProperties: false,
          properties: {
            cluster: nonEmptyString(
              'Name of the cluster in the `kubernetes:` app-config; the default cluster when omitted.',
            ),
            namespace: {
              type: 'string',
              pattern: DNS1123_LABEL,
              maxLength: 63,
              errorHint: 'must be a Kubernetes namespace name (DNS-1123 label)',
            },
            name: {
              type: 'string',
              pattern: DNS1123_LABEL,
              maxLength: 63,
              errorHint: 'must be a Kubernetes object name (DNS-1123 label)',
            },
          },
        },
        providesApis: entityRefList(
          'References to the APIs the service provides (default kind API).',
        ),
      },
    },
  },
};
