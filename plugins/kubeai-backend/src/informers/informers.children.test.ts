/*
 * Executions and inputs of observed runs on the local control plane (`yarn cluster:start`),
 * through the plugin's HTTP API: a periodic task created through the portal (a CronJob) whose
 * controller-made Jobs become child runs of its run with their own phases and timing, and runs
 * whose volumes mount a PVC a registered dataset version points to get that version as input.
 * The test plays the CronJob and Job controllers (none runs on this control plane): it creates the
 * Jobs with ownerReferences to the CronJob and writes their status.
 */
import request from 'supertest';
import { waitFor } from './__testUtils__/kube';
import { informersSuite } from './__testUtils__/informersSuite';

jest.setTimeout(180_000);

const {
  ns,
  suffix,
  kube,
  MODEL,
  paths,
  create,
  container,
  now,
  setUp,
  tearDown,
} = informersSuite('infchild');

describe('executions and inputs of observed runs on the local control plane', () => {
  let backend: Awaited<ReturnType<typeof setUp>>['backend'];
  const api = () => request(backend.server);
  const DATASET = `dataset:default/imgs-${suffix}`;
  const CLAIM = 'imgs-pvc';

  beforeAll(async () => {
    ({ backend } = await setUp());
    // the registry knows the PVC as the location of version v1
    await api()
      .post(`/api/kubeai/datasets/default/imgs-${suffix}/versions`)
      .send({ version: 'v1', uri: `pvc://local/${ns}/${CLAIM}` })
      .expect(201);
  });

  afterAll(() => tearDown(backend));

  it('shows the three Jobs of a periodic task as its executions, with their phases', async () => {
    const task = await api()
      .post('/api/kubeai/jobs')
      .send({
        cluster: 'local',
        namespace: ns,
        name: 'forecast',
        kind: 'CronJob',
        schedule: '*/5 * * * *',
        image: container.image,
        resources: { cpu: '2', memory: '4Gi' },
        modelRef: `model:default/${MODEL}`,
        datasets: [{ datasetRef: DATASET, version: 'v1' }],
      })
      .expect(201);
    const parentId: string = task.body.run.id;
    const cron = (await kube.must('GET', `${paths.cronjobs}/forecast`)) as any;
    const template = cron.spec.jobTemplate;
    // the portal mounted the dataset's PVC (from the registry's pvc:// uri)
    // (beside the run's credential)
    expect(
      template.spec.template.spec.volumes.filter(
        (v: { persistentVolumeClaim?: unknown }) => v.persistentVolumeClaim,
      ),
    ).toEqual([
      expect.objectContaining({
        persistentVolumeClaim: expect.objectContaining({ claimName: CLAIM }),
      }),
    ]);

    // what the CronJob controller does: Jobs from the template, owned by the CronJob
    const names = ['forecast-100', 'forecast-105', 'forecast-110'];
    for (const name of names) {
      await create(paths.jobs, {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: {
          name,
          namespace: ns,
          labels: template.metadata.labels,
          ownerReferences: [
            {
              apiVersion: cron.apiVersion,
              kind: 'CronJob',
              name: 'forecast',
              uid: cron.metadata.uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: template.spec,
      });
    }
    // what the Job controller writes
    const start = now();
    // the first ran ten minutes
    await kube.patchStatus(`${paths.jobs}/${names[0]}`, {
      startTime: new Date(Date.parse(start) - 10 * 60_000)
        .toISOString()
        .replace(/\.\d+Z$/, 'Z'),
      completionTime: start,
      succeeded: 1,
      conditions: [
        { type: 'Complete', status: 'True', lastTransitionTime: now() },
      ],
    });
    await kube.patchStatus(`${paths.jobs}/${names[1]}`, {
      startTime: start,
      failed: 1,
      conditions: [
        {
          type: 'Failed',
          status: 'True',
          reason: 'BackoffLimitExceeded',
          lastTransitionTime: now(),
        },
      ],
    });
    await kube.patchStatus(`${paths.jobs}/${names[2]}`, {
      startTime: start,
      active: 1,
    });

    const { value: children } = await waitFor(
      async () => {
        const res = await api().get(`/api/kubeai/runs?parent=${parentId}`);
        const phases = Object.fromEntries(
          (res.body.items ?? []).map((r: any) => [r.name, r.phase]),
        );
        return phases[names[0]] === 'Succeeded' &&
          phases[names[1]] === 'Failed' &&
          phases[names[2]] === 'Running'
          ? res.body
          : undefined;
      },
      10_000,
      'three executions with their phases',
    );
    expect(children.totalItems).toBe(3);
    for (const child of children.items) {
      expect(child).toMatchObject({
        parentRunId: parentId,
        namespace: ns,
        startedAt: expect.any(String),
        schedule: { kind: 'CronJob', name: 'forecast', runId: parentId },
        // derived from the volume: the PVC is where version v1 is
        inputs: [{ datasetRef: DATASET, version: 'v1' }],
      });
    }
    expect(
      children.items.find((r: any) => r.name === names[0]).finishedAt,
    ).toEqual(expect.any(String));
    expect(children.items.find((r: any) => r.name === names[1])).toMatchObject({
      reason: 'BackoffLimitExceeded',
      finishedAt: expect.any(String),
    });

    const parent = await api().get(`/api/kubeai/runs/${parentId}`).expect(200);
    expect(parent.body).toMatchObject({ executions: 3, phase: 'Running' });
    // an execution asks what its task asks: priced from the task's pods and requests (the task's
    // own run runs no pod); 1 pod × 10 minutes
    const first = children.items.find((r: any) => r.name === names[0]);
    const { schedule: _schedule, ...taskParams } = parent.body.params;
    expect(first.params).toEqual({ ...taskParams, objectKind: 'Job' });
    expect(first.params).toMatchObject({ cpu: '2', memory: '4Gi' });
    const priced = await api().get(`/api/kubeai/runs/${first.id}`).expect(200);
    expect(priced.body.cost).toMatchObject({ final: true });
    expect(priced.body.cost.podHours).toBeCloseTo(1 / 6, 6);
    expect(parent.body.cost?.podHours ?? 0).toBe(0);
    // paged, newest first
    const page = await api()
      .get(`/api/kubeai/runs?parent=${parentId}&limit=2&offset=2`)
      .expect(200);
    expect(page.body.totalItems).toBe(3);
    expect(page.body.items).toHaveLength(1);
    // executions stay out of the top-level listing; the periodic task is in it
    const top = await api().get('/api/kubeai/runs?limit=1000').expect(200);
    const topNames = top.body.items
      .filter((r: any) => r.namespace === ns)
      .map((r: any) => r.name);
    expect(topNames).toContain('forecast');
    expect(topNames.filter((n: string) => names.includes(n))).toEqual([]);
    // a malformed parent is refused naming the parameter
    const bad = await api().get('/api/kubeai/runs?parent=nope').expect(400);
    expect(JSON.stringify(bad.body)).toMatch(/parent/);
  });

  it('gives a discovered Job mounting a registered PVC that dataset version as input; other volumes are none', async () => {
    await create(paths.jobs, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: 'reads-imgs',
        namespace: ns,
        labels: { 'app.kubernetes.io/managed-by': 'kubeai' },
      },
      spec: {
        template: {
          spec: {
            restartPolicy: 'Never',
            volumes: [
              { name: 'data', persistentVolumeClaim: { claimName: CLAIM } },
              { name: 'tmp', persistentVolumeClaim: { claimName: 'scratch' } },
            ],
            containers: [
              {
                ...container,
                volumeMounts: [
                  { name: 'data', mountPath: '/data' },
                  { name: 'tmp', mountPath: '/tmp/work' },
                ],
              },
            ],
          },
        },
      },
    });
    const { value: runId } = await waitFor(
      async () => {
        const res = await api().get(
          `/api/kubeai/observed/objects?kind=Job&namespace=${ns}`,
        );
        return res.body.items?.find((o: any) => o.name === 'reads-imgs')
          ?.runId as string | undefined;
      },
      5000,
      'the run of reads-imgs',
    );
    const run = await api().get(`/api/kubeai/runs/${runId}`).expect(200);
    expect(run.body).toMatchObject({
      name: 'reads-imgs',
      createdBy: 'kubeai-informer',
      inputs: [{ datasetRef: DATASET, version: 'v1' }],
    });
    expect(run.body.parentRunId).toBeUndefined();
    // the dataset's lineage has the run
    const reading = await api()
      .get(`/api/kubeai/runs?dataset=${encodeURIComponent(DATASET)}`)
      .expect(200);
    expect(reading.body.items.map((r: any) => r.name)).toEqual(
      expect.arrayContaining(['reads-imgs', 'forecast']),
    );
  });
});
