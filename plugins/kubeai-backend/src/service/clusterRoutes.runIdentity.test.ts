/*
 * Run identity of what the portal creates, against the real local kube-apiserver: every object of
 * a training task carries `kubeai.io/run=<id>`, its pods get KUBEAI_RUN_ID / KUBEAI_MODEL /
 * KUBEAI_API_URL and the run's credential mounted from a Secret the task owns; the credential
 * (read from that Secret, as the pod would) registers the run's model versions with the run id,
 * records the dataset versions the run read and reports the run's phase and metrics — and is
 * refused for another model, another run, another dataset and every other route.
 */
import request from 'supertest';
import { API, clusterRoutesSuite } from './__testUtils__/clusterRoutesSuite';

jest.setTimeout(180_000);

const { NS, startBackend, databases, readBack, seedRegistry } =
  clusterRoutesSuite('runidentity');

describe('run identity of a training task', () => {
  let server: Awaited<ReturnType<typeof startBackend>>['server'];
  let stop: () => Promise<void>;
  let runId: string;
  let token: string;

  const job = {
    cluster: 'local',
    namespace: NS,
    name: 'shoe-retrain',
    kind: 'Job',
    image: 'ghcr.io/acme/shoe-trainer:1.4',
    command: ['python', '-m', 'shoe.train'],
    env: [{ name: 'KUBEAI_RUN_ID', value: 'typed-by-hand' }],
    modelRef: 'model:default/shoe-brand',
    datasets: [{ datasetRef: 'dataset:default/shoe-images' }],
  };

  const asRun = (req: request.Test, credential = token) =>
    req.set('Authorization', `Bearer ${credential}`);

  beforeAll(async () => {
    const backend = await startBackend(await databases.init('SQLITE_3'));
    server = backend.server;
    stop = () => backend.stop();
    await seedRegistry(server);
    const created = await request(server).post(`${API}/jobs`).send(job);
    if (created.status !== 201) {
      throw new Error(`POST /jobs: ${created.status} ${created.text}`);
    }
    runId = created.body.run.id;
    const secret = await readBack('v1', 'Secret', 'shoe-retrain-kubeai-run');
    token = Buffer.from(secret.data.token, 'base64').toString();
  });
  afterAll(() => stop());

  it('labels the objects and gives the pods the run, the model, the API and the credential', async () => {
    const stored = await readBack('batch/v1', 'Job', job.name);
    expect(stored.metadata.labels['kubeai.io/run']).toBe(runId);
    const pod = stored.spec.template;
    expect(pod.metadata.labels['kubeai.io/run']).toBe(runId);
    const [container] = pod.spec.containers;
    const env = Object.fromEntries(
      container.env.map((e: { name: string; value: string }) => [
        e.name,
        e.value,
      ]),
    );
    expect(env).toMatchObject({
      KUBEAI_RUN_ID: runId, // the run's own id wins over one typed by hand
      KUBEAI_MODEL: 'model:default/shoe-brand',
      // the backend's own URL unless kubeai.runCredentials.apiUrl says how pods reach it
      KUBEAI_API_URL: expect.stringMatching(
        /^http:\/\/localhost:\d+\/api\/kubeai$/,
      ),
      KUBEAI_RUN_TOKEN_FILE: '/var/run/secrets/kubeai/token',
      KUBEAI_CLUSTER: 'local',
      KUBEAI_NAMESPACE: NS,
    });
    expect(JSON.stringify(container.env)).not.toContain(token);
    expect(container.volumeMounts).toContainEqual(
      expect.objectContaining({
        mountPath: '/var/run/secrets/kubeai',
        readOnly: true,
      }),
    );
    expect(pod.spec.volumes).toContainEqual(
      expect.objectContaining({
        secret: expect.objectContaining({
          secretName: 'shoe-retrain-kubeai-run',
        }),
      }),
    );
    const secret = await readBack('v1', 'Secret', 'shoe-retrain-kubeai-run');
    expect(secret.metadata.labels['kubeai.io/run']).toBe(runId);
    expect(secret.metadata.ownerReferences).toEqual([
      expect.objectContaining({
        kind: 'Job',
        name: job.name,
        uid: stored.metadata.uid,
      }),
    ]);
    expect(token).toMatch(/^kubeai-run\./);

    // applying the same task again continues its run
    const again = await request(server).post(`${API}/jobs`).send(job);
    expect(again.body.run.id).toBe(runId);
  });

  it('registers a version of the run’s model with the run id, and nothing else of models', async () => {
    const created = await asRun(
      request(server).post(`${API}/models/default/shoe-brand/versions`),
    ).send({
      artifact: {
        uri: 's3://models/shoe-brand/run/model.onnx',
        format: 'onnx',
      },
      metrics: { auc: 0.93 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ runId, createdBy: `run:${runId}` });

    const otherRun = await asRun(
      request(server).post(`${API}/models/default/shoe-brand/versions`),
    ).send({
      artifact: { uri: 's3://x/y', format: 'onnx' },
      runId: '00000000-0000-0000-0000-000000000000',
    });
    expect(otherRun.status).toBe(403);
    expect(otherRun.body.error.message).toContain('request/body/runId');

    const otherModel = await asRun(
      request(server).post(`${API}/models/default/other-model/versions`),
    ).send({ artifact: { uri: 's3://x/y', format: 'onnx' } });
    expect(otherModel.status).toBe(403);
    expect(otherModel.body.error.message).toContain(
      'registers versions of model:default/shoe-brand only',
    );
    const versions = await request(server).get(
      `${API}/models/default/other-model/versions`,
    );
    expect(versions.body.totalItems ?? versions.body.items.length).toBe(0);
  });

  it('records the dataset version the run read as its input, for its own datasets only', async () => {
    const read = await asRun(
      request(server).post(`${API}/datasets/default/shoe-images/versions`),
    ).send({ version: 'v2', uri: `pvc://local/${NS}/shoe-images@v2` });
    expect(read.status).toBe(201);
    const run = await request(server).get(`${API}/runs/${runId}`).expect(200);
    expect(run.body.inputs).toContainEqual({
      datasetRef: 'dataset:default/shoe-images',
      version: 'v2',
    });

    const notRead = await asRun(
      request(server).post(`${API}/datasets/default/holdout/versions`),
    ).send({ version: 'v1', uri: 's3://shoe-data/holdout' });
    expect(notRead.status).toBe(403);
    const holdout = await request(server).get(
      `${API}/datasets/default/holdout/versions`,
    );
    expect(holdout.body.items).toEqual([]);
  });

  it('reports the run’s own phase and metrics, not another run’s, not its inputs', async () => {
    const reported = await asRun(
      request(server).patch(`${API}/runs/${runId}`),
    ).send({ phase: 'Running', metrics: { loss: 0.25 } });
    expect(reported.status).toBe(200);
    expect(reported.body).toMatchObject({
      phase: 'Running',
      metrics: { loss: 0.25 },
    });

    const other = await request(server)
      .post(`${API}/runs`)
      .send({ kind: 'training', cluster: 'local', namespace: NS, name: 'x' })
      .expect(201);
    const foreign = await asRun(
      request(server).patch(`${API}/runs/${other.body.id}`),
    ).send({ phase: 'Failed' });
    expect(foreign.status).toBe(403);
    expect(
      (await request(server).get(`${API}/runs/${other.body.id}`)).body,
    ).toMatchObject({ phase: 'Pending' });

    const inputs = await asRun(
      request(server).patch(`${API}/runs/${runId}`),
    ).send({ inputs: [] });
    expect(inputs.status).toBe(403);
    expect(inputs.body.error.message).toContain('request/body/inputs');
  });

  it('is refused everywhere else (403), and unknown or forged run tokens are 401', async () => {
    const elsewhere = [
      request(server).get(`${API}/runs`),
      request(server).get(`${API}/models/default/shoe-brand/versions`),
      request(server).post(`${API}/runs`).send({
        kind: 'training',
        cluster: 'local',
        namespace: NS,
        name: 'y',
      }),
      request(server)
        .post(`${API}/jobs`)
        .send({ ...job, name: 'sneaky' }),
      request(server).delete(
        `${API}/clusters/local/namespaces/${NS}/jobs/${job.name}`,
      ),
      request(server)
        .patch(`${API}/models/default/shoe-brand/versions/1`)
        .send({ state: 'archived' }),
    ];
    for (const call of elsewhere) {
      const answer = await asRun(call);
      expect([401, 403]).toContain(answer.status);
    }
    const runs = await request(server).get(`${API}/runs?kind=training`);
    expect(runs.body.items.map((r: { name: string }) => r.name)).not.toContain(
      'y',
    );
    await readBack('batch/v1', 'Job', job.name); // still there

    const forged = await asRun(
      request(server).patch(`${API}/runs/${runId}`),
      `kubeai-run.${'A'.repeat(43)}`,
    ).send({ phase: 'Failed' });
    expect(forged.status).toBe(401);
    const run = await request(server).get(`${API}/runs/${runId}`);
    expect(run.body.phase).toBe('Running');
  });

  it('stops working when the task is deleted from the portal', async () => {
    await request(server)
      .delete(`${API}/clusters/local/namespaces/${NS}/jobs/${job.name}`)
      .expect(200);
    const late = await asRun(
      request(server).patch(`${API}/runs/${runId}`),
    ).send({ phase: 'Succeeded' });
    expect(late.status).toBe(401);
  });
});

describe('run identity of a batch of training tasks', () => {
  let server: Awaited<ReturnType<typeof startBackend>>['server'];
  let stop: () => Promise<void>;

  beforeAll(async () => {
    const backend = await startBackend(await databases.init('SQLITE_3'));
    server = backend.server;
    stop = () => backend.stop();
  });
  afterAll(() => stop());

  const task = (i: number) => ({
    cluster: 'local',
    namespace: NS,
    name: `forecast-store-${i}`,
    kind: 'CronJob',
    schedule: '0 6 * * *',
    image: 'ghcr.io/acme/prophet-forecast:1.2',
    modelRef: 'model:default/sales-forecast',
  });

  it('shares one Secret, a key per run: each pod mounts its own, and deleting a task takes its key out', async () => {
    const res = await request(server)
      .post(`${API}/jobs/batch`)
      .send({ items: [1, 2, 3].map(task) });
    expect(res.status).toBe(201);
    const runIds: string[] = res.body.items.map(
      (i: { runId: string }) => i.runId,
    );
    const volumes = await Promise.all(
      [1, 2, 3].map(async i => {
        const cronJob = await readBack(
          'batch/v1beta1',
          'CronJob',
          `forecast-store-${i}`,
        );
        const pod = cronJob.spec.jobTemplate.spec.template.spec;
        return pod.volumes.find(
          (v: { name: string }) => v.name === 'kubeai-run-credential',
        ).secret;
      }),
    );
    const secretName = volumes[0].secretName;
    expect(secretName).toMatch(/^kubeai-runs-[0-9a-f]{16}$/);
    volumes.forEach((v, i) => {
      expect(v.secretName).toBe(secretName);
      // its own key only
      expect(v.items).toEqual([{ key: runIds[i], path: 'token' }]);
    });
    const secret = await readBack('v1', 'Secret', secretName);
    expect(Object.keys(secret.data).sort()).toEqual([...runIds].sort());
    expect(secret.metadata.ownerReferences).toHaveLength(3);
    const tokenOf = (data: Record<string, string>, runId: string) =>
      Buffer.from(data[runId], 'base64').toString();

    // each token reports on its own run only
    const own = await request(server)
      .patch(`${API}/runs/${runIds[0]}`)
      .set('Authorization', `Bearer ${tokenOf(secret.data, runIds[0])}`)
      .send({ phase: 'Running' });
    expect(own.status).toBe(200);
    const other = await request(server)
      .patch(`${API}/runs/${runIds[1]}`)
      .set('Authorization', `Bearer ${tokenOf(secret.data, runIds[0])}`)
      .send({ phase: 'Running' });
    expect(other.status).toBe(403);

    // the portal deletes task 1: its key goes, the others stay and still work
    await request(server)
      .delete(`${API}/clusters/local/namespaces/${NS}/jobs/forecast-store-1`)
      .expect(200);
    const after = await readBack('v1', 'Secret', secretName);
    expect(Object.keys(after.data).sort()).toEqual(
      [runIds[1], runIds[2]].sort(),
    );
    const revoked = await request(server)
      .patch(`${API}/runs/${runIds[0]}`)
      .set('Authorization', `Bearer ${tokenOf(secret.data, runIds[0])}`)
      .send({ phase: 'Failed' });
    expect(revoked.status).toBe(401);
    const still = await request(server)
      .patch(`${API}/runs/${runIds[2]}`)
      .set('Authorization', `Bearer ${tokenOf(secret.data, runIds[2])}`)
      .send({ phase: 'Running' });
    expect(still.status).toBe(200);

    // the last ones: the Secret goes with them
    for (const i of [2, 3]) {
      await request(server)
        .delete(
          `${API}/clusters/local/namespaces/${NS}/jobs/forecast-store-${i}`,
        )
        .expect(200);
    }
    await expect(readBack('v1', 'Secret', secretName)).rejects.toThrow(
      /not found/i,
    );
  });

  it('gives concurrent single requests of a namespace shared Secrets, a key per run, each working for its own run', async () => {
    const names = [1, 2, 3, 4, 5, 6].map(i => `forecast-single-${i}`);
    const answers = await Promise.all(
      names.map(name =>
        request(server)
          .post(`${API}/jobs`)
          .send({ ...task(0), name }),
      ),
    );
    expect(answers.map(a => a.status)).toEqual(names.map(() => 201));
    const runIds: string[] = answers.map(a => a.body.run.id);
    const mounts = await Promise.all(
      names.map(async name => {
        const cronJob = await readBack('batch/v1beta1', 'CronJob', name);
        return cronJob.spec.jobTemplate.spec.template.spec.volumes.find(
          (v: { name: string }) => v.name === 'kubeai-run-credential',
        ).secret;
      }),
    );
    // fewer Secrets than tasks: the requests in flight together shared one
    const secretNames = [...new Set(mounts.map(m => m.secretName))];
    expect(secretNames.length).toBeLessThan(names.length);
    for (const secretName of secretNames) {
      const secret = await readBack('v1', 'Secret', secretName);
      const mountedHere = mounts.flatMap((m, i) =>
        m.secretName === secretName ? [i] : [],
      );
      // a Secret of its own holds `token`; a shared one a key per run, owned by each run's task
      const keys = mountedHere.map(i => mounts[i].items[0].key);
      expect(Object.keys(secret.data).sort()).toEqual([...keys].sort());
      expect(
        secret.metadata.ownerReferences.map((o: any) => o.name).sort(),
      ).toEqual(mountedHere.map(i => names[i]).sort());
      for (const [k, i] of mountedHere.entries()) {
        expect(mounts[i].items).toEqual([
          {
            key: secretName.startsWith('kubeai-runs-') ? runIds[i] : 'token',
            path: 'token',
          },
        ]);
        const token = Buffer.from(secret.data[keys[k]], 'base64').toString();
        const own = await request(server)
          .patch(`${API}/runs/${runIds[i]}`)
          .set('Authorization', `Bearer ${token}`)
          .send({ phase: 'Running' });
        expect([names[i], own.status]).toEqual([names[i], 200]);
        const other = await request(server)
          .patch(`${API}/runs/${runIds[(i + 1) % names.length]}`)
          .set('Authorization', `Bearer ${token}`)
          .send({ phase: 'Running' });
        expect([names[i], other.status]).toEqual([names[i], 403]);
      }
    }
    for (const name of names) {
      await request(server)
        .delete(`${API}/clusters/local/namespaces/${NS}/jobs/${name}`)
        .expect(200);
    }
    for (const secretName of secretNames) {
      await expect(readBack('v1', 'Secret', secretName)).rejects.toThrow(
        /not found/i,
      );
    }
  });
});
