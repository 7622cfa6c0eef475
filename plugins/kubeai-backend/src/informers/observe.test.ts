import { kubeaiMetadata } from '../manifests/labels';
import { kindSpec } from './kinds';
import { isRun, observe } from './observe';
import { computeDrift, observedTraffic } from '../database/drift';

const meta = (name: string, extra: Record<string, unknown> = {}) => ({
  ...kubeaiMetadata(name, 'team-a', {
    entityRef: 'component:default/x',
    modelRef: 'model:default/clf',
    modelVersion: '3',
    runId: '3b241101-e2bb-4255-8caf-4136c566a962',
  }),
  uid: `uid-${name}`,
  resourceVersion: '42',
  creationTimestamp: '2026-11-20T08:00:00Z',
  ...extra,
});

const obs = (kind: string, object: any, deleted = false) =>
  observe(
    'local',
    kindSpec(kind)!,
    { apiVersion: 'x/v1', kind, ...object },
    {
      deleted,
      notebookUrlTemplate: 'https://kf/{namespace}/{name}/',
    },
  );

describe('observe', () => {
  it('reads the portal labels and annotations', () => {
    const o = obs('Job', { metadata: meta('a'), status: {} });
    expect(o).toMatchObject({
      cluster: 'local',
      kind: 'Job',
      namespace: 'team-a',
      name: 'a',
      uid: 'uid-a',
      resourceVersion: '42',
      createdAt: '2026-11-20T08:00:00.000Z',
      managed: true,
      entityRef: 'component:default/x',
      modelRef: 'model:default/clf',
      modelVersion: '3',
      runLabel: '3b241101-e2bb-4255-8caf-4136c566a962',
      phase: 'Pending',
      deleted: false,
    });
    expect(obs('Job', { metadata: { name: 'b', uid: 'u' } }).managed).toBe(
      false,
    );
  });

  it.each([
    [{}, 'Pending', undefined],
    [{ active: 1, startTime: '2026-11-20T08:01:00Z' }, 'Running', undefined],
    [
      { conditions: [{ type: 'Suspended', status: 'True' }] },
      'Pending',
      'Suspended',
    ],
    [
      {
        conditions: [{ type: 'Complete', status: 'True' }],
        completionTime: '2026-11-20T09:00:00Z',
      },
      'Succeeded',
      undefined,
    ],
    [
      {
        conditions: [
          { type: 'Failed', status: 'True', reason: 'DeadlineExceeded' },
        ],
      },
      'Failed',
      'DeadlineExceeded',
    ],
  ])('maps Job status %j to %s', (status, phase, reason) => {
    const o = obs('Job', { metadata: meta('j'), status });
    expect(o.phase).toBe(phase);
    expect(o.reason).toBe(reason);
  });

  it('maps kubeflow training job conditions by precedence', () => {
    const t = '2026-11-20T08:00:00Z';
    const running = obs('PyTorchJob', {
      metadata: meta('p'),
      status: {
        startTime: t,
        conditions: [
          { type: 'Created', status: 'True' },
          { type: 'Running', status: 'True', reason: 'PyTorchJobRunning' },
        ],
      },
    });
    expect(running).toMatchObject({
      phase: 'Running',
      reason: 'PyTorchJobRunning',
      startedAt: '2026-11-20T08:00:00.000Z',
    });
    const restarting = obs('TFJob', {
      metadata: meta('t'),
      status: { conditions: [{ type: 'Restarting', status: 'True' }] },
    });
    expect(restarting).toMatchObject({
      phase: 'Running',
      reason: 'Restarting',
    });
    const failed = obs('XGBoostJob', {
      metadata: meta('x'),
      status: {
        completionTime: '2026-11-20T10:00:00Z',
        conditions: [
          { type: 'Running', status: 'False' },
          {
            type: 'Failed',
            status: 'True',
            reason: 'XGBoostJobFailed',
            message: 'boom',
          },
        ],
      },
    });
    expect(failed).toMatchObject({
      phase: 'Failed',
      reason: 'XGBoostJobFailed',
      message: 'boom',
      finishedAt: '2026-11-20T10:00:00.000Z',
    });
  });

  it('maps TrainJob, Workflow and Notebook', () => {
    expect(
      obs('TrainJob', {
        metadata: meta('tj'),
        status: { jobsStatus: [{ name: 'node', active: 2 }] },
      }).phase,
    ).toBe('Running');
    expect(
      obs('TrainJob', {
        metadata: meta('tj'),
        status: { conditions: [{ type: 'Complete', status: 'True' }] },
      }).phase,
    ).toBe('Succeeded');
    expect(
      obs('Workflow', {
        metadata: meta('w'),
        status: { phase: 'Error', message: 'oops' },
      }),
    ).toMatchObject({
      phase: 'Failed',
      reason: 'Error',
      message: 'oops',
    });
    const nb = obs('Notebook', {
      metadata: meta('nb'),
      status: { readyReplicas: 1 },
    });
    expect(nb).toMatchObject({
      phase: 'Running',
      ready: true,
      url: 'https://kf/team-a/nb/',
    });
    const waiting = obs('Notebook', {
      metadata: meta('nb'),
      status: {
        readyReplicas: 0,
        containerState: { waiting: { reason: 'ImagePullBackOff' } },
      },
    });
    expect(waiting).toMatchObject({
      phase: 'Pending',
      ready: false,
      reason: 'ImagePullBackOff',
    });
    const stopped = obs('Notebook', {
      metadata: meta('nb', {
        annotations: { 'kubeflow-resource-stopped': '2026-11-20T08:00:00Z' },
      }),
      status: {},
    });
    expect(stopped).toMatchObject({ phase: 'Stopped', ready: false });
  });

  it('ties spawned Jobs and Workflows to their schedule', () => {
    const owner = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      name: 'nightly',
      uid: 'c1',
      controller: true,
    };
    const spawned = obs('Job', {
      metadata: meta('nightly-1', { ownerReferences: [owner] }),
    });
    expect(spawned.schedule).toEqual({ kind: 'CronJob', name: 'nightly' });
    expect(isRun(kindSpec('Job')!, spawned)).toBe(true);
    const jobSetJob = obs('Job', {
      metadata: meta('js-1', {
        ownerReferences: [
          { kind: 'JobSet', name: 'tj', uid: 'j', controller: true },
        ],
      }),
    });
    expect(isRun(kindSpec('Job')!, jobSetJob)).toBe(false);
    const wf = obs('Workflow', {
      metadata: meta('wf-1', {
        labels: { 'workflows.argoproj.io/cron-workflow': 'daily' },
      }),
    });
    expect(wf.schedule).toEqual({ kind: 'CronWorkflow', name: 'daily' });
    expect(
      obs('CronJob', {
        metadata: meta('c'),
        spec: { schedule: '0 2 * * *', suspend: true },
      }).phase,
    ).toBe('Suspended');
  });

  it('reads InferenceServices: ready, URL, storageUri, traffic', () => {
    const o = obs('InferenceService', {
      metadata: meta('svc', {
        annotations: {
          'kubeai.io/stable-model-version': '2',
          'kubeai.io/stable-storage-uri': 's3://m/2',
        },
      }),
      spec: {
        predictor: {
          canaryTrafficPercent: 10,
          model: { modelFormat: { name: 'onnx' }, storageUri: 's3://m/3' },
        },
      },
      status: {
        url: 'http://svc.example.com',
        conditions: [{ type: 'Ready', status: 'True' }],
        components: {
          predictor: {
            traffic: [
              {
                revisionName: 'svc-predictor-2',
                percent: 90,
                latestRevision: false,
              },
              {
                revisionName: 'svc-predictor-3',
                percent: 10,
                latestRevision: true,
              },
            ],
          },
        },
      },
    });
    expect(o).toMatchObject({
      phase: 'Ready',
      ready: true,
      url: 'http://svc.example.com',
      storageUri: 's3://m/3',
    });
    expect(o.details).toMatchObject({
      canaryTrafficPercent: 10,
      stable: { version: '2', storageUri: 's3://m/2' },
    });
    expect(
      obs('InferenceService', {
        metadata: { name: 'old', uid: 'u' },
        spec: { predictor: { sklearn: { storageUri: 'gs://x' } } },
        status: {
          conditions: [
            { type: 'Ready', status: 'False', reason: 'RevisionMissing' },
          ],
        },
      }),
    ).toMatchObject({
      phase: 'NotReady',
      ready: false,
      reason: 'RevisionMissing',
      storageUri: 'gs://x',
      managed: false,
    });
  });

  it('reads Fluid datasets and PVCs', () => {
    expect(
      obs('Dataset', {
        metadata: meta('d'),
        status: { phase: 'Bound', cacheStates: { cachedPercentage: '10%' } },
      }),
    ).toMatchObject({
      phase: 'Bound',
      ready: true,
      details: { cacheStates: { cachedPercentage: '10%' } },
    });
    expect(
      obs('PersistentVolumeClaim', {
        metadata: meta('p'),
        spec: { resources: { requests: { storage: '1Gi' } } },
        status: { phase: 'Pending' },
      }),
    ).toMatchObject({
      phase: 'Pending',
      ready: false,
      details: { requested: '1Gi' },
    });
  });
});

describe('drift', () => {
  const traffic = (...t: [number | null, number][]) =>
    t.map(([version, percent]) => ({ version, percent }));

  it('is unknown before anything is observed', () => {
    expect(computeDrift([{ version: 1, percent: 100 }], null)).toEqual({
      status: 'unknown',
      reasons: [],
    });
  });

  it('compares declared and served versions and shares', () => {
    const declared = [
      { version: 1, percent: 90 },
      { version: 2, percent: 10 },
    ];
    expect(
      computeDrift(declared, {
        phase: 'Ready',
        ready: true,
        traffic: traffic([2, 10], [1, 90]),
      }).status,
    ).toBe('inSync');
    expect(
      computeDrift(declared, {
        phase: 'Ready',
        ready: true,
        traffic: traffic([1, 50], [2, 50]),
      }),
    ).toEqual({
      status: 'drifted',
      reasons: [
        {
          type: 'traffic',
          message:
            'declared version 1 (90%), version 2 (10%), but the cluster splits version 1 (50%), version 2 (50%)',
        },
      ],
    });
    const unregistered = computeDrift([{ version: 1, percent: 100 }], {
      phase: 'Ready',
      ready: true,
      traffic: [{ version: null, percent: 100, storageUri: 's3://x' }],
    });
    expect(unregistered.reasons[0]).toEqual({
      type: 'version',
      message:
        'declared version 1 (100%), but the cluster serves an unregistered artifact (100%) (s3://x is no registered version)',
    });
  });

  it('flags deleted and missing services', () => {
    expect(
      computeDrift([], {
        phase: 'Deleted',
        ready: false,
        deleted: true,
        name: 'svc',
        namespace: 'ns',
        cluster: 'c',
        deletedAt: 't',
      }),
    ).toEqual({
      status: 'drifted',
      reasons: [
        {
          type: 'deleted',
          message:
            'InferenceService ns/svc in cluster c was deleted outside the portal (seen t)',
        },
      ],
    });
    expect(
      computeDrift([], { phase: 'NotFound', ready: false }).reasons[0].type,
    ).toBe('missing');
  });

  it('derives traffic per version from KServe status, else from the spec', () => {
    const current = { storageUri: 's3://m/3', version: 3 };
    const stable = { storageUri: 's3://m/2', version: 2 };
    expect(
      observedTraffic(current, stable, { canaryTrafficPercent: 20 }),
    ).toEqual([
      { version: 3, percent: 20, storageUri: 's3://m/3', latest: true },
      { version: 2, percent: 80, storageUri: 's3://m/2', latest: false },
    ]);
    expect(observedTraffic(current, undefined, {})).toEqual([
      { version: 3, percent: 100, storageUri: 's3://m/3', latest: true },
    ]);
    expect(
      observedTraffic(current, stable, {
        canaryTrafficPercent: 20,
        statusTraffic: [
          { revisionName: 'r2', percent: 70, latestRevision: false },
          { revisionName: 'r3', percent: 30, latestRevision: true },
        ],
      }),
    ).toEqual([
      {
        version: 2,
        percent: 70,
        storageUri: 's3://m/2',
        revision: 'r2',
        latest: false,
      },
      {
        version: 3,
        percent: 30,
        storageUri: 's3://m/3',
        revision: 'r3',
        latest: true,
      },
    ]);
  });
});
