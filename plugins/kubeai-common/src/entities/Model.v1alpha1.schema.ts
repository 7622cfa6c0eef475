import { KUBEAI_API_VERSION } from '../constants';
import { MODEL_FRAMEWORKS, MODEL_TYPES } from './kinds';
import { entityRefList, envelope, ownership } from './schemaParts';

/** JSON schema of the `Model` kind (`apiVersion: kubeai.io/v1alpha1`). */
export const modelEntityV1alpha1Schema = {
  $schema: 'http://json-schema.org/draft-07/schema',
  $id: 'KubeaiModelV1alpha1',
  description:
    'A Model is a trained machine learning model: what it predicts, how it is trained and on which datasets.',
  examples: [
    {
      apiVersion: KUBEAI_API_VERSION,
      kind: 'Model',
      metadata: { name: 'shoe-brand-classifier' },
      spec: {
        type: 'classification',
        framework: 'pytorch',
        owner: 'group:default/cv-team',
        lifecycle: 'production',
        trainedOn: ['dataset:default/shoe-images'],
      },
    },
  ],
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    ...envelope('Model'),
    spec: {
      type: 'object',
      required: ['type', 'framework', 'owner', 'lifecycle'],
      properties: {
        ...ownership,
        type: {
          enum: [...MODEL_TYPES],
          description: 'What the model does.',
        },
        framework: {
          enum: [...MODEL_FRAMEWORKS],
          description: 'The framework the model is trained with.',
        },
        trainedOn: entityRefList(
          'References to the Datasets the model is trained on (default kind Dataset).',
        ),
        dependsOn: entityRefList(
          'References, with kind, to other entities the model needs (feature stores, upstream models, …).',
        ),
      },
    },
  },
};
