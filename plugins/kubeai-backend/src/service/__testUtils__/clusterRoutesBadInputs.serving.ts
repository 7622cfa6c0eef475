/*
 * The bad inputs of clusterRoutes.badInputs.test.ts, part 2: datasets, inference services and
 * pipelines (part 1: clusterRoutesBadInputs.ts).
 */
import { badBodies, BadCase } from './clusterRoutesBadInputs';

/** `BAD_NS`: where the bad requests point. */
export function servingBadInputs(BAD_NS: string): BadCase[] {
  const { ds, isvc, pipeline } = badBodies(BAD_NS);
  return [
    // datasets
    [
      'dataset: OSS without cache',
      '/datasets',
      ds({
        source: {
          type: 'oss',
          bucket: 'data',
          endpoint: 'oss.example.com',
          credentials: { secretName: 's' },
        },
      }),
      400,
      'request/body/cache a oss source is mounted through Fluid',
    ],
    [
      'dataset: invalid bucket',
      '/datasets',
      ds({
        source: { type: 's3', bucket: 'Bad_Bucket' },
        cache: { runtime: 'alluxio', quota: '1Gi' },
      }),
      400,
      'request/body/source/bucket must match pattern',
    ],
    [
      'dataset: JuiceFS without metaUrl',
      '/datasets',
      ds({
        source: {
          type: 's3',
          bucket: 'data',
          credentials: { secretName: 's' },
        },
        cache: { runtime: 'juicefs', quota: '1Gi' },
      }),
      400,
      'request/body/cache/metaUrl JuiceFS needs its metadata engine URL',
    ],
    [
      'dataset: PVC without size or claim',
      '/datasets',
      ds({ source: { type: 'pvc' } }),
      400,
      'request/body/source set exactly one of existingClaim',
    ],
    [
      'dataset: path traversal',
      '/datasets',
      ds({
        source: { type: 's3', bucket: 'data', path: '../../etc' },
        cache: { runtime: 'alluxio', quota: '1Gi' },
      }),
      400,
      'request/body/source/path must not contain ".."',
    ],
    [
      'dataset: unknown entity without catalogEntity',
      '/datasets',
      ds({ catalogEntity: undefined }),
      422,
      'request/body/datasetRef: dataset:default/bad-ds not found in the catalog; give catalogEntity to register it',
    ],
    [
      'dataset: invalid owner',
      '/datasets',
      ds({ catalogEntity: { owner: 'not a ref!' } }),
      400,
      'request/body/catalogEntity/owner must match pattern',
    ],
    [
      'dataset: existing version of another uri',
      '/datasets',
      ds({
        name: 'bad-shoe-images',
        catalogEntity: undefined,
        datasetRef: 'dataset:default/shoe-images',
        version: 'v1',
      }),
      409,
      'request/body/version: dataset:default/shoe-images already has a version v1',
    ],
    // inference services
    [
      'isvc: unknown model version',
      '/inference-services',
      isvc({ modelVersion: 99 }),
      422,
      'request/body/modelVersion: model:default/shoe-brand has no version 99',
    ],
    [
      'isvc: unknown alias',
      '/inference-services',
      isvc({ modelVersion: 'nope' }),
      422,
      "request/body/modelVersion: model:default/shoe-brand has no alias 'nope'",
    ],
    [
      'isvc: archived version',
      '/inference-services',
      isvc({ modelVersion: 3 }),
      422,
      'request/body/modelVersion: version 3 of model:default/shoe-brand is archived',
    ],
    [
      'isvc: fractional version',
      '/inference-services',
      isvc({ modelVersion: 1.5 }),
      400,
      'request/body/modelVersion',
    ],
    [
      'isvc: negative version',
      '/inference-services',
      isvc({ modelVersion: -1 }),
      400,
      'request/body/modelVersion must be >= 1',
    ],
    [
      'isvc: alias with a label injection',
      '/inference-services',
      isvc({ modelVersion: 'prod,evil=1' }),
      400,
      'request/body/modelVersion must match pattern',
    ],
    [
      'isvc: canary share above 100',
      '/inference-services',
      isvc({ canaryTrafficPercent: 150 }),
      400,
      'request/body/canaryTrafficPercent must be <= 100',
    ],
    [
      'isvc: canary of a service that does not exist',
      '/inference-services',
      isvc({ canaryTrafficPercent: 10 }),
      422,
      'request/body/canaryTrafficPercent: InferenceService',
    ],
    [
      'isvc: minReplicas above maxReplicas',
      '/inference-services',
      isvc({ minReplicas: 5, maxReplicas: 2 }),
      400,
      'request/body/maxReplicas must be at least minReplicas',
    ],
    [
      'isvc: a dataset as the model',
      '/inference-services',
      isvc({ model: 'dataset:default/clicks' }),
      400,
      'request/body/model must match pattern',
    ],
    [
      'isvc: model not in the catalog',
      '/inference-services',
      isvc({ model: 'model:default/ghost' }),
      422,
      'request/body/model: model:default/ghost not found in the catalog',
    ],
    [
      'isvc: unknown service entity without catalogEntity',
      '/inference-services',
      isvc({ catalogEntity: undefined }),
      422,
      'request/body/serviceRef: inferenceservice:default/bad-isvc not found in the catalog',
    ],
    [
      'isvc: oversized message',
      '/inference-services',
      isvc({ message: 'x'.repeat(5000) }),
      400,
      'request/body/message must NOT have more than 4096 characters',
    ],
    // pipelines
    [
      'pipeline: placeholder outside the allow-list',
      '/pipelines',
      pipeline({
        steps: [
          {
            name: 'one',
            type: 'container',
            image: 'python:3.12',
            args: ['{{inputs.parameters.evil}}'],
          },
        ],
      }),
      400,
      'request/body/steps/0/args/0 placeholder "{{inputs.parameters.evil}}" is not allowed',
    ],
    [
      'pipeline: dependency on an unknown step',
      '/pipelines',
      pipeline({
        steps: [
          {
            name: 'one',
            type: 'container',
            image: 'python:3.12',
            dependsOn: ['zero'],
          },
        ],
      }),
      400,
      'request/body/steps/0/dependsOn unknown step "zero"',
    ],
    [
      'pipeline: a CronJob step',
      '/pipelines',
      pipeline({
        steps: [
          {
            name: 'one',
            type: 'training',
            training: {
              kind: 'CronJob',
              image: 'python:3.12',
              schedule: '@daily',
            },
          },
        ],
      }),
      400,
      'request/body/steps/0/training/kind a pipeline step cannot be a CronJob',
    ],
    [
      'pipeline: a training dataset without datasetRef',
      '/pipelines',
      pipeline({
        steps: [
          {
            name: 'one',
            type: 'training',
            training: {
              kind: 'Job',
              image: 'python:3.12',
              datasets: [{ name: 'x', claimName: 'x' }],
            },
          },
        ],
      }),
      400,
      'request/body/steps/0/training/datasets/0/datasetRef is required',
    ],
    [
      'pipeline: invalid when expression',
      '/pipelines',
      pipeline({
        steps: [
          {
            name: 'one',
            type: 'container',
            image: 'python:3.12',
            when: '$(reboot)',
          },
        ],
      }),
      400,
      'request/body/steps/0/when must compare placeholders',
    ],
    [
      'pipeline: bad cron',
      '/pipelines',
      pipeline({ schedule: '* * *' }),
      400,
      'request/body/schedule must have 5 fields',
    ],
  ];
}
