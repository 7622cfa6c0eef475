/* What the pod templates of each run kind mount and say about their data. */
import { parseDatasetEnv } from '../database/observed/runInputs';
import { tableInputEnv } from '../manifests/tableInputs';
import { podInputs } from './podInputs';

const claim = (name: string, claimName: string) => ({
  name,
  persistentVolumeClaim: { claimName, readOnly: true },
});

describe('podInputs', () => {
  it('reads the claims and their subPaths of every replica of a training-operator job', () => {
    const replica = (mountSubPath?: string) => ({
      template: {
        spec: {
          volumes: [claim('data', 'images'), { name: 'cache', emptyDir: {} }],
          containers: [
            {
              name: 'tensorflow',
              volumeMounts: [
                {
                  name: 'data',
                  mountPath: '/data',
                  ...(mountSubPath ? { subPath: mountSubPath } : {}),
                },
                { name: 'cache', mountPath: '/cache' },
              ],
            },
          ],
        },
      },
    });
    expect(
      podInputs({
        spec: {
          tfReplicaSpecs: { Chief: replica(), Worker: replica('/train/') },
        },
      }),
    ).toEqual({
      claims: [
        { claimName: 'images' },
        { claimName: 'images', subPath: 'train' },
      ],
      env: [],
    });
  });

  it('reads Argo workflow volumes, template containers and dataset env', () => {
    expect(
      podInputs({
        spec: {
          volumes: [claim('clicks', 'clicks')],
          templates: [
            {
              name: 'train',
              container: {
                image: 'x',
                volumeMounts: [{ name: 'clicks', mountPath: '/data' }],
                env: [
                  {
                    name: 'KUBEAI_DATASETS',
                    value: 'dataset:default/a@v1, default/b',
                  },
                  { name: 'KUBEAI_DATASET_EVAL', value: 'c' },
                  { name: 'SOURCE', value: 's3://bucket/path/' },
                  { name: 'OTHER', value: 'not a location' },
                  { name: 'FROM_SECRET', valueFrom: { secretKeyRef: {} } },
                ],
              },
            },
          ],
        },
      }),
    ).toEqual({
      claims: [{ claimName: 'clicks' }],
      env: ['dataset:default/a@v1', 'default/b', 'c', 's3://bucket/path/'],
    });
  });

  it("reads the table uri the portal's table inputs set, ahead of other locations", () => {
    const many = Array.from({ length: 40 }, (_, i) => ({
      name: `SOURCE_${i}`,
      value: `s3://bucket/${i}`,
    }));
    const tables = tableInputEnv([
      {
        name: 'clicks',
        engine: 'odps',
        project: 'dw',
        table: 'clicks',
        partition: 'ds=2026-12-01',
      },
    ]);
    const result = podInputs({
      spec: {
        template: {
          spec: { containers: [{ name: 'main', env: [...many, ...tables] }] },
        },
      },
    });
    // engine, project, table and partition are no locations; the uri is, and is kept first
    expect(result?.env[0]).toBe('odps://dw.clicks/ds=2026-12-01');
    expect(result?.env).toHaveLength(32);
    expect(result?.env.filter(v => !v.startsWith('s3://'))).toEqual([
      'odps://dw.clicks/ds=2026-12-01',
    ]);
  });

  it('is undefined for a pod that mounts and names nothing', () => {
    expect(
      podInputs({
        spec: {
          template: {
            spec: {
              volumes: [{ name: 'tmp', emptyDir: {} }],
              containers: [{ name: 'main', env: [{ name: 'A', value: '1' }] }],
            },
          },
        },
      }),
    ).toBeUndefined();
  });

  it('bounds what one object can ask the registry for', () => {
    const volumes = Array.from({ length: 100 }, (_, i) =>
      claim(`v${i}`, `c${i}`),
    );
    const result = podInputs({
      spec: { template: { spec: { volumes, containers: [] } } },
    });
    expect(result?.claims).toHaveLength(32);
  });
});

describe('parseDatasetEnv', () => {
  it.each([
    [
      'dataset:default/images@v3',
      { ref: 'dataset:default/images', version: 'v3' },
    ],
    ['team-a/Clicks', { ref: 'dataset:team-a/clicks' }],
    ['images', { ref: 'dataset:default/images' }],
    ['s3://bucket/x', undefined],
    ['model:default/x', undefined],
    ['a/b/c', undefined],
  ])('%s', (value, expected) => {
    expect(parseDatasetEnv(value)).toEqual(expected);
  });
});
