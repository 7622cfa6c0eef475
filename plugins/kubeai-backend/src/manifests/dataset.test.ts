import { buildDataset, datasetInputSchema, type DatasetInput } from './dataset';
import { validateAgainstAllCrdSets } from './__testUtils__/crdSchemas';

const base = { namespace: 'team-a', entityRef: 'resource:default/shoes' };
const creds = {
  secretName: 'oss-creds',
  accessKeyIdKey: 'id',
  secretAccessKeyKey: 'secret',
};

describe('buildDataset', () => {
  it('creates a new PVC, or nothing for an existing one', () => {
    const created = buildDataset({
      ...base,
      name: 'shoes',
      source: {
        type: 'pvc',
        size: '100Gi',
        storageClassName: 'fast',
        accessModes: ['ReadWriteMany'],
      },
    });
    expect(created).toEqual({
      claimName: 'shoes',
      metadataOnly: false,
      objects: [
        {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: {
            name: 'shoes',
            namespace: 'team-a',
            labels: {
              'app.kubernetes.io/managed-by': 'kubeai',
              'kubeai.io/entity': 'resource.default.shoes',
            },
            annotations: { 'kubeai.io/entity-ref': 'resource:default/shoes' },
          },
          spec: {
            accessModes: ['ReadWriteMany'],
            resources: { requests: { storage: '100Gi' } },
            storageClassName: 'fast',
          },
        },
      ],
    });
    expect(
      buildDataset({
        ...base,
        name: 'shoes',
        source: { type: 'pvc', existingClaim: 'nfs-shoes' },
      }),
    ).toEqual({
      objects: [],
      claimName: 'nfs-shoes',
      metadataOnly: false,
    });
  });

  it('registers table sources as metadata only', () => {
    expect(
      buildDataset({
        ...base,
        name: 'orders',
        source: { type: 'table', uri: 'hive://warehouse/sales.orders' },
      }),
    ).toEqual({
      objects: [],
      metadataOnly: true,
    });
    expect(
      datasetInputSchema.safeParse({
        ...base,
        name: 'o',
        source: { type: 'table', uri: 'hive://w/t' },
        cache: { runtime: 'alluxio', quota: '1Gi' },
      }).success,
    ).toBe(false);
  });

  it('mounts OSS through Fluid with an Alluxio cache and secret-backed credentials', () => {
    const { objects, claimName } = buildDataset({
      ...base,
      name: 'shoes',
      source: {
        type: 'oss',
        bucket: 'shoe-data',
        path: '/v3/',
        endpoint: 'oss-cn-hangzhou.aliyuncs.com',
        credentials: creds,
      },
      cache: { runtime: 'alluxio', quota: '20Gi', replicas: 2 },
    });
    expect(claimName).toBe('shoes');
    expect(objects.map(o => o.kind)).toEqual(['Dataset', 'AlluxioRuntime']);
    expect(objects[0].spec).toEqual({
      mounts: [
        {
          name: 'shoes',
          mountPoint: 'oss://shoe-data/v3/',
          options: { 'fs.oss.endpoint': 'oss-cn-hangzhou.aliyuncs.com' },
          encryptOptions: [
            {
              name: 'fs.oss.accessKeyId',
              valueFrom: { secretKeyRef: { name: 'oss-creds', key: 'id' } },
            },
            {
              name: 'fs.oss.accessKeySecret',
              valueFrom: { secretKeyRef: { name: 'oss-creds', key: 'secret' } },
            },
          ],
          readOnly: true,
        },
      ],
      accessModes: ['ReadOnlyMany'],
    });
    expect(objects[1].spec).toEqual({
      replicas: 2,
      tieredstore: {
        levels: [
          {
            mediumtype: 'MEM',
            path: '/dev/shm',
            quota: '20Gi',
            high: '0.95',
            low: '0.7',
          },
        ],
      },
    });
    expect(objects[1].metadata.name).toBe('shoes'); // Fluid binds runtime and dataset by name
  });

  it('mounts S3 with a JuiceFS cache', () => {
    const { objects } = buildDataset({
      ...base,
      name: 'shoes',
      source: {
        type: 's3',
        bucket: 'shoe-data',
        region: 'eu-west-1',
        credentials: creds,
      },
      cache: {
        runtime: 'juicefs',
        quota: '50Gi',
        medium: 'SSD',
        metaUrl: { secretName: 'jfs' },
      },
    });
    expect(objects.map(o => o.kind)).toEqual(['Dataset', 'JuiceFSRuntime']);
    expect((objects[0].spec as any).mounts[0]).toMatchObject({
      mountPoint: 'juicefs:///',
      options: {
        storage: 's3',
        bucket: 'https://shoe-data.s3.eu-west-1.amazonaws.com',
      },
      encryptOptions: [
        {
          name: 'metaurl',
          valueFrom: { secretKeyRef: { name: 'jfs', key: 'metaurl' } },
        },
        {
          name: 'access-key',
          valueFrom: { secretKeyRef: { name: 'oss-creds', key: 'id' } },
        },
        {
          name: 'secret-key',
          valueFrom: { secretKeyRef: { name: 'oss-creds', key: 'secret' } },
        },
      ],
    });
    expect((objects[1].spec as any).tieredstore.levels[0]).toEqual({
      mediumtype: 'SSD',
      path: '/var/lib/fluid/cache',
      quota: '50Gi',
      low: '0.1',
    });
  });

  it('caches a PVC and a NAS export with Alluxio', () => {
    const pvc = buildDataset({
      ...base,
      name: 'shoes-cached',
      source: { type: 'pvc', existingClaim: 'shoes-raw', subPath: 'v3' },
      cache: { runtime: 'alluxio', quota: '1Gi' },
    });
    expect((pvc.objects[0].spec as any).mounts[0].mountPoint).toBe(
      'pvc://shoes-raw/v3',
    );
    const nas = buildDataset({
      ...base,
      name: 'nas-shoes',
      source: { type: 'nas', server: 'nas.example.com', path: '/export/shoes' },
      cache: { runtime: 'alluxio', quota: '1Gi' },
    });
    expect((nas.objects[0].spec as any).mounts[0].mountPoint).toBe(
      'local:///underfs/nas-shoes',
    );
    expect(nas.objects[1].spec).toMatchObject({
      volumes: [
        {
          name: 'nas',
          nfs: {
            server: 'nas.example.com',
            path: '/export/shoes',
            readOnly: true,
          },
        },
      ],
      master: {
        volumeMounts: [
          { name: 'nas', mountPath: '/underfs/nas-shoes', readOnly: true },
        ],
      },
      worker: {
        volumeMounts: [
          { name: 'nas', mountPath: '/underfs/nas-shoes', readOnly: true },
        ],
      },
    });
  });

  const fluidInputs: DatasetInput[] = [
    {
      ...base,
      name: 'a',
      source: {
        type: 'oss',
        bucket: 'b-1',
        endpoint: 'oss-cn-hangzhou.aliyuncs.com',
        credentials: creds,
      },
      cache: { runtime: 'alluxio', quota: '1Gi' },
    },
    {
      ...base,
      name: 'b',
      source: {
        type: 'oss',
        bucket: 'b-1',
        endpoint: 'oss-cn-hangzhou.aliyuncs.com',
        credentials: creds,
      },
      cache: {
        runtime: 'juicefs',
        quota: '1Gi',
        metaUrl: { secretName: 'jfs', key: 'url' },
      },
    },
    {
      ...base,
      name: 'c',
      source: {
        type: 's3',
        bucket: 'b-1',
        endpoint: 'http://minio.minio:9000',
      },
      cache: {
        runtime: 'alluxio',
        quota: '1Gi',
        medium: 'HDD',
        path: '/mnt/cache',
      },
    },
    {
      ...base,
      name: 'd',
      source: { type: 'pvc', existingClaim: 'raw' },
      cache: { runtime: 'alluxio', quota: '1Gi' },
    },
    {
      ...base,
      name: 'e',
      source: { type: 'nas', server: '10.0.0.5', path: '/share' },
      cache: { runtime: 'alluxio', quota: '1Gi' },
    },
  ];
  it.each(fluidInputs.map(i => [i.name, i] as const))(
    'validates Fluid objects of dataset %s against the CRD schemas',
    (_name, input) => {
      const { objects } = buildDataset(input);
      expect(objects).toHaveLength(2);
      for (const object of objects) {
        const { sets, report } = validateAgainstAllCrdSets(object);
        expect(sets).toEqual(['top']);
        expect(report).toBe('');
      }
    },
  );

  it('rejects inconsistent input', () => {
    const parse = (input: object) =>
      datasetInputSchema.safeParse({ ...base, name: 'x', ...input });
    expect(parse({ source: { type: 'pvc' } }).success).toBe(false);
    expect(
      parse({ source: { type: 'pvc', size: '1Gi', existingClaim: 'y' } })
        .success,
    ).toBe(false);
    expect(
      parse({
        source: {
          type: 'oss',
          bucket: 'bbb',
          endpoint: 'e.com',
          credentials: creds,
        },
      }).error?.issues[0].path,
    ).toEqual(['cache']);
    expect(
      parse({
        source: { type: 'nas', server: 's', path: '/x' },
        cache: {
          runtime: 'juicefs',
          quota: '1Gi',
          metaUrl: { secretName: 'j' },
        },
      }).success,
    ).toBe(false);
    expect(
      parse({
        source: { type: 's3', bucket: 'bbb', credentials: creds },
        cache: { runtime: 'juicefs', quota: '1Gi' },
      }).error?.issues[0].path,
    ).toEqual(['cache', 'metaUrl']);
    expect(
      parse({
        source: { type: 'pvc', size: '1Gi' },
        cache: { runtime: 'alluxio', quota: '1Gi' },
      }).success,
    ).toBe(false);
    expect(
      parse({
        source: { type: 's3', bucket: 'bbb', path: '../etc' },
        cache: { runtime: 'alluxio', quota: '1Gi' },
      }).success,
    ).toBe(false);
    expect(parse({ source: { type: 'ftp', uri: 'ftp://x' } }).success).toBe(
      false,
    );
  });
});
