import {
  buildTraining,
  mainReplicaType,
  trainingInputSchema,
  type TrainingInput,
} from './training';
import { validateAgainstAllCrdSets } from './__testUtils__/crdSchemas';

const common = {
  namespace: 'team-a',
  entityRef: 'component:default/shoe-brand-training',
  modelRef: 'model:default/shoe-brand',
  modelVersion: '4',
  runId: 'run-7',
  image: 'ghcr.io/acme/shoe-trainer:1.4',
  command: ['python', '-m', 'shoe.train'],
  args: ['--epochs', '10', '--out', 's3://models/shoe-brand/4; echo pwned'],
  env: [
    { name: 'EPOCHS', value: '10' },
    {
      name: 'AWS_SECRET_ACCESS_KEY',
      secretKeyRef: { name: 's3-creds', key: 'secret' },
    },
  ],
  resources: { cpu: '4', memory: '16Gi', gpu: 2 },
  datasets: [{ name: 'shoes', claimName: 'shoes-v3' }],
};

const queue = { name: 'team-a-queue', priorityClass: 'high' };
const kueueLabels = {
  'kueue.x-k8s.io/queue-name': 'team-a-queue',
  'kueue.x-k8s.io/priority-class': 'high',
};
const identityLabels = {
  'app.kubernetes.io/managed-by': 'kubeai',
  'kubeai.io/entity': 'component.default.shoe-brand-training',
  'kubeai.io/model': 'shoe-brand',
  'kubeai.io/model-version': '4',
  'kubeai.io/run': 'run-7',
};

const expectedContainer = (name: string) => ({
  name,
  image: common.image,
  command: common.command,
  args: common.args,
  env: [
    { name: 'EPOCHS', value: '10' },
    {
      name: 'AWS_SECRET_ACCESS_KEY',
      valueFrom: { secretKeyRef: { name: 's3-creds', key: 'secret' } },
    },
  ],
  resources: {
    requests: { cpu: '4', memory: '16Gi' },
    limits: { memory: '16Gi', 'nvidia.com/gpu': '2' },
  },
  volumeMounts: [
    { name: 'dataset-shoes', mountPath: '/data/shoes', readOnly: true },
  ],
});

describe('buildTraining', () => {
  it('builds a Job with Kueue labels, argv command and read-only datasets', () => {
    const [job] = buildTraining({
      ...common,
      kind: 'Job',
      name: 'shoe-train',
      queue,
      priorityClassName: 'batch-high',
      backoffLimit: 2,
    });
    expect(job).toEqual({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: 'shoe-train',
        namespace: 'team-a',
        labels: { ...kueueLabels, ...identityLabels },
        annotations: {
          'kubeai.io/entity-ref': 'component:default/shoe-brand-training',
          'kubeai.io/model-ref': 'model:default/shoe-brand',
        },
      },
      spec: {
        backoffLimit: 2,
        template: {
          metadata: { labels: identityLabels },
          spec: {
            restartPolicy: 'Never',
            containers: [expectedContainer('trainer')],
            volumes: [
              {
                name: 'dataset-shoes',
                persistentVolumeClaim: {
                  claimName: 'shoes-v3',
                  readOnly: true,
                },
              },
            ],
            priorityClassName: 'batch-high',
          },
        },
      },
    });
  });

  it('adds a Volcano PodGroup and scheduler for gang scheduling', () => {
    const objects = buildTraining({
      ...common,
      kind: 'Job',
      name: 'gang',
      parallelism: 4,
      completions: 4,
      gang: { queue: 'research' },
    });
    expect(objects.map(o => o.kind)).toEqual(['PodGroup', 'Job']);
    expect(objects[0]).toMatchObject({
      apiVersion: 'scheduling.volcano.sh/v1beta1',
      metadata: { name: 'gang', namespace: 'team-a', labels: identityLabels },
      spec: { minMember: 4, queue: 'research' },
    });
    const pod = (objects[1].spec as any).template;
    expect(pod.spec.schedulerName).toBe('volcano');
    expect(pod.metadata.annotations).toEqual({
      'scheduling.k8s.io/group-name': 'gang',
    });
    for (const set of ['top', 'newest'] as const) {
      expect(validateAgainstAllCrdSets(objects[0]).sets).toContain(set);
    }
    expect(validateAgainstAllCrdSets(objects[0]).report).toBe('');
  });

  it('builds a CronJob with the discovered apiVersion and concurrency policy', () => {
    const [cron] = buildTraining(
      {
        ...common,
        kind: 'CronJob',
        name: 'nightly',
        schedule: '0 3 * * *',
        queue,
      },
      { cronJobApiVersion: 'batch/v1beta1' },
    );
    expect(cron.apiVersion).toBe('batch/v1beta1');
    expect(cron.spec).toMatchObject({
      schedule: '0 3 * * *',
      concurrencyPolicy: 'Forbid',
      jobTemplate: {
        metadata: { labels: { ...kueueLabels, ...identityLabels } },
        spec: {
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [expectedContainer('trainer')],
            },
          },
        },
      },
    });
    expect(
      buildTraining({
        ...common,
        kind: 'CronJob',
        name: 'n',
        schedule: '@daily',
        concurrencyPolicy: 'Replace',
      })[0],
    ).toMatchObject({
      apiVersion: 'batch/v1',
      spec: { concurrencyPolicy: 'Replace' },
    });
    const bad = trainingInputSchema.safeParse({
      ...common,
      kind: 'CronJob',
      name: 'n',
      schedule: '0 3 * *',
    });
    expect(bad.error?.issues[0]).toMatchObject({
      path: ['schedule'],
      message: expect.stringContaining('5 fields'),
    });
    expect(
      trainingInputSchema.safeParse({
        ...common,
        kind: 'CronJob',
        name: 'n',
        schedule: '@daily',
        concurrencyPolicy: 'Sometimes',
      }).success,
    ).toBe(false);
  });

  it('builds a TFJob with Chief / PS / Worker and gang scheduling through runPolicy', () => {
    const [tfjob] = buildTraining({
      ...common,
      kind: 'TFJob',
      name: 'shoe-tf',
      replicas: { Chief: 1, PS: 2, Worker: 4 },
      replicaResources: { PS: { cpu: '2', memory: '4Gi' } },
      queue,
      gang: { queue: 'research' },
      priorityClassName: 'batch-high',
    });
    const spec = tfjob.spec as any;
    expect(tfjob.metadata.labels).toEqual({
      ...kueueLabels,
      ...identityLabels,
    });
    expect(Object.keys(spec.tfReplicaSpecs)).toEqual(['Chief', 'PS', 'Worker']);
    expect(spec.tfReplicaSpecs.Worker).toMatchObject({
      replicas: 4,
      restartPolicy: 'OnFailure',
      template: {
        spec: {
          schedulerName: 'volcano',
          containers: [expectedContainer('tensorflow')],
        },
      },
    });
    expect(
      spec.tfReplicaSpecs.PS.template.spec.containers[0].resources,
    ).toEqual({
      requests: { cpu: '2', memory: '4Gi' },
      limits: { memory: '4Gi' },
    });
    expect(spec.runPolicy).toEqual({
      schedulingPolicy: {
        minAvailable: 7,
        queue: 'research',
        priorityClass: 'batch-high',
      },
    });
  });

  it('builds PyTorchJob (Master / Worker) and XGBoostJob', () => {
    const [pt] = buildTraining({
      ...common,
      kind: 'PyTorchJob',
      name: 'pt',
      replicas: { Worker: 3 },
      nprocPerNode: 'gpu',
      shmSize: '2Gi',
    });
    const ptSpec = pt.spec as any;
    expect(ptSpec.nprocPerNode).toBe('gpu');
    expect(ptSpec.pytorchReplicaSpecs.Master.replicas).toBe(1);
    expect(ptSpec.pytorchReplicaSpecs.Worker.replicas).toBe(3);
    const podSpec = ptSpec.pytorchReplicaSpecs.Master.template.spec;
    expect(podSpec.containers[0].name).toBe('pytorch');
    expect(podSpec.volumes).toContainEqual({
      name: 'dshm',
      emptyDir: { medium: 'Memory', sizeLimit: '2Gi' },
    });
    expect(podSpec.containers[0].volumeMounts).toContainEqual({
      name: 'dshm',
      mountPath: '/dev/shm',
    });
    const [xgb] = buildTraining({
      ...common,
      kind: 'XGBoostJob',
      name: 'xgb',
      replicas: { Worker: 2 },
    });
    expect(Object.keys((xgb.spec as any).xgbReplicaSpecs)).toEqual([
      'Master',
      'Worker',
    ]);
    expect(
      (xgb.spec as any).xgbReplicaSpecs.Master.template.spec.containers[0].name,
    ).toBe('xgboost');
  });

  it('builds an MPIJob (kubeflow.org/v2beta1, Launcher / Worker) with slotsPerWorker and gang scheduling through runPolicy', () => {
    const [mpi, ...rest] = buildTraining({
      ...common,
      kind: 'MPIJob',
      name: 'shoe-mpi',
      replicas: { Worker: 4 },
      replicaResources: { Launcher: { cpu: '1', memory: '2Gi' } },
      slotsPerWorker: 2,
      queue,
      gang: { queue: 'research' },
      backoffLimit: 2,
    });
    expect(rest).toEqual([]);
    expect(mpi.apiVersion).toBe('kubeflow.org/v2beta1');
    expect(mpi.kind).toBe('MPIJob');
    expect(mpi.metadata.labels).toEqual({ ...kueueLabels, ...identityLabels });
    const spec = mpi.spec as any;
    expect(spec.slotsPerWorker).toBe(2);
    expect(Object.keys(spec.mpiReplicaSpecs)).toEqual(['Launcher', 'Worker']);
    expect(spec.mpiReplicaSpecs.Launcher).toMatchObject({
      replicas: 1,
      restartPolicy: 'OnFailure',
    });
    expect(
      spec.mpiReplicaSpecs.Launcher.template.spec.containers[0].resources,
    ).toEqual({
      requests: { cpu: '1', memory: '2Gi' },
      limits: { memory: '2Gi' },
    });
    expect(spec.mpiReplicaSpecs.Worker).toMatchObject({
      replicas: 4,
      template: {
        metadata: { labels: identityLabels },
        spec: {
          schedulerName: 'volcano',
          containers: [expectedContainer('mpi')],
        },
      },
    });
    expect(spec.runPolicy).toEqual({
      backoffLimit: 2,
      schedulingPolicy: { minAvailable: 5, queue: 'research' },
    });
    // success is the launcher's (pipeline steps wait for it)
    expect(
      mainReplicaType(
        trainingInputSchema.parse({
          ...common,
          kind: 'MPIJob',
          name: 'm',
          replicas: { Worker: 1 },
        }),
      ),
    ).toBe('Launcher');
    const parse = (patch: object) =>
      trainingInputSchema.safeParse({
        ...common,
        kind: 'MPIJob',
        name: 'm',
        replicas: { Worker: 1 },
        ...patch,
      });
    expect(parse({ replicas: {} }).error?.issues[0]).toMatchObject({
      path: ['replicas'],
      message: 'an MPIJob needs at least one Worker',
    });
    expect(parse({ replicas: { Launcher: 2, Worker: 1 } }).success).toBe(false);
    expect(parse({ restartPolicy: 'Always' }).success).toBe(false);
    expect(parse({ slotsPerWorker: 0 }).success).toBe(false);
    expect(parse({ nprocPerNode: '4' }).success).toBe(false);
  });

  it('builds a Trainer v2 TrainJob with runtimeRef and dataset mounts as a runtime patch', () => {
    const [trainJob] = buildTraining({
      ...common,
      kind: 'TrainJob',
      name: 'shoe-llm',
      runtimeRef: { name: 'torch-distributed' },
      numNodes: 2,
      queue,
      initializer: { model: { storageUri: 'hf://acme/base-model' } },
    });
    expect(trainJob.apiVersion).toBe('trainer.kubeflow.org/v1alpha1');
    const spec = trainJob.spec as any;
    expect(spec.runtimeRef).toEqual({
      apiGroup: 'trainer.kubeflow.org',
      kind: 'ClusterTrainingRuntime',
      name: 'torch-distributed',
    });
    expect(spec.trainer).toMatchObject({
      image: common.image,
      command: common.command,
      args: common.args,
      numNodes: 2,
      resourcesPerNode: {
        requests: { cpu: '4', memory: '16Gi' },
        limits: { memory: '16Gi', 'nvidia.com/gpu': '2' },
      },
    });
    const patch =
      spec.runtimePatches[0].trainingRuntimeSpec.template.spec
        .replicatedJobs[0];
    expect(patch.name).toBe('node');
    expect(patch.template.spec.template.spec.volumes).toEqual([
      {
        name: 'dataset-shoes',
        persistentVolumeClaim: { claimName: 'shoes-v3', readOnly: true },
      },
    ]);
    expect(trainJob.metadata.labels).toEqual({
      ...kueueLabels,
      ...identityLabels,
    });
    expect(
      trainingInputSchema.safeParse({
        ...common,
        kind: 'TrainJob',
        name: 'x',
        runtimeRef: { name: 'r' },
        gang: {},
      }).error?.issues[0].path,
    ).toEqual(['gang']);
  });

  const all: TrainingInput[] = [
    {
      ...common,
      kind: 'TFJob',
      name: 'tf',
      replicas: { Chief: 1, PS: 1, Worker: 2, Evaluator: 1 },
      queue,
      gang: {},
      backoffLimit: 3,
      activeDeadlineSeconds: 3600,
      ttlSecondsAfterFinished: 600,
    },
    {
      ...common,
      kind: 'PyTorchJob',
      name: 'pt',
      replicas: { Master: 1, Worker: 2 },
      nprocPerNode: '4',
      shmSize: '1Gi',
      queue,
    },
    {
      ...common,
      kind: 'XGBoostJob',
      name: 'xgb',
      replicas: { Worker: 2 },
      restartPolicy: 'Never',
    },
    {
      ...common,
      kind: 'MPIJob',
      name: 'mpi',
      replicas: { Launcher: 1, Worker: 2 },
      replicaResources: { Worker: { cpu: '8', memory: '32Gi', gpu: 4 } },
      slotsPerWorker: 4,
      shmSize: '1Gi',
      queue,
      gang: {},
      activeDeadlineSeconds: 3600,
      ttlSecondsAfterFinished: 600,
      restartPolicy: 'ExitCode',
    },
    {
      ...common,
      kind: 'TrainJob',
      name: 'tj',
      runtimeRef: { name: 'torch', kind: 'TrainingRuntime' },
      numNodes: 2,
      numProcPerNode: 4,
      initializer: { dataset: { storageUri: 's3://data/shoes' } },
      queue,
    },
    {
      ...common,
      kind: 'TrainJob',
      name: 'tj-min',
      runtimeRef: { name: 'torch' },
      image: undefined,
      command: undefined,
      args: undefined,
      env: undefined,
      resources: undefined,
      datasets: undefined,
    },
  ];
  it.each(all.map(i => [i.kind, i.name, i] as const))(
    'validates %s %s against the CRD schemas',
    (_kind, _name, training) => {
      for (const object of buildTraining(training)) {
        const { sets, report } = validateAgainstAllCrdSets(object);
        // Trainer v2 installs on no 1.20 cluster: TrainJob is checked offline against newest/ only
        const expectedSets = object.kind === 'TrainJob' ? ['newest'] : ['top'];
        expect(sets.filter(set => expectedSets.includes(set))).toEqual(
          expectedSets,
        );
        expect(sets.includes('top')).toBe(object.kind !== 'TrainJob');
        expect(report).toBe('');
      }
    },
  );

  it('rejects invalid training input', () => {
    const parse = (patch: object) =>
      trainingInputSchema.safeParse({
        ...common,
        kind: 'Job',
        name: 'j',
        ...patch,
      });
    expect(parse({ kind: 'PaddleJob' }).success).toBe(false);
    expect(parse({ command: 'python -m train' }).success).toBe(false);
    expect(parse({ resources: { gpu: 0.5 } }).success).toBe(false);
    expect(parse({ env: [{ name: '1X', value: 'a' }] }).success).toBe(false);
    expect(parse({ queue: { name: 'Bad Queue' } }).success).toBe(false);
    expect(parse({ modelVersion: 'v 1' }).success).toBe(false);
    expect(
      parse({ parallelism: 2, gang: { minMember: 3 } }).error?.issues[0].path,
    ).toEqual(['gang', 'minMember']);
    expect(
      trainingInputSchema.safeParse({
        ...common,
        kind: 'TFJob',
        name: 't',
        replicas: { PS: 1 },
      }).success,
    ).toBe(false);
    expect(
      trainingInputSchema.safeParse({
        ...common,
        kind: 'PyTorchJob',
        name: 't',
        replicas: { Master: 2 },
      }).success,
    ).toBe(false);
  });
});
