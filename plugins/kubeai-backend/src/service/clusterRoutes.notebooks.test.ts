/*
 * The cluster list and the notebook routes against the real local kube-apiserver 1.20 with the
 * real CRDs (`yarn cluster:start`): a notebook is created as it should be (read back from the
 * apiserver), twice gives one object and one run, a dry run creates nothing, and the refusal of
 * the restricted cluster user reaches the caller.
 */
import { mockCredentials } from '@backstage/backend-test-utils';
import request from 'supertest';
import { API, clusterRoutesSuite } from './__testUtils__/clusterRoutesSuite';

// The first import() of @kubernetes/client-node under jest's VM modules takes seconds.
jest.setTimeout(180_000);

const {
  suffix,
  NS,
  startBackend,
  databases,
  gateway,
  state,
  readBack,
  seedRegistry,
} = clusterRoutesSuite('routesnb');

describe('cluster routes (SQLite registry)', () => {
  let server: Awaited<ReturnType<typeof startBackend>>['server'];
  let stop: () => Promise<void>;

  beforeAll(async () => {
    const knex = await databases.init('SQLITE_3');
    const backend = await startBackend(knex);
    server = backend.server;
    stop = () => backend.stop();
    await seedRegistry(server);
  });
  afterAll(() => stop());

  // ---------------------------------------------------------------- clusters

  it('lists the clusters without credentials, and their namespaces', async () => {
    const clusters = await request(server).get(`${API}/clusters`).expect(200);
    expect(clusters.body).toEqual({
      items: [
        { name: 'local', url: state.server },
        { name: 'local-restricted', url: state.server },
      ],
      totalItems: 2,
    });
    expect(clusters.text).not.toContain(state.adminToken);
    expect(clusters.text).not.toContain(state.restrictedToken);
    const namespaces = await request(server)
      .get(`${API}/clusters/local/namespaces`)
      .expect(200);
    // the mock policy allows everything: every namespace is writable, each with its owner if any
    expect(namespaces.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'team-a', access: 'write' }),
        { name: NS, access: 'write' },
      ]),
    );
    const unknown = await request(server).get(
      `${API}/clusters/nope/namespaces`,
    );
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain('unknown cluster "nope"');
    await request(server)
      .get(`${API}/clusters`)
      .set('Authorization', mockCredentials.none.header())
      .expect(401);
  });

  // ---------------------------------------------------------------- notebooks

  const notebook = {
    cluster: 'local',
    namespace: NS,
    name: 'shoe-explore',
    image: 'kubeflownotebookswg/jupyter-pytorch-cuda-full:v1.9.0',
    resources: { cpu: '2', memory: '8Gi', gpu: 1 },
    workspace: { size: '5Gi' },
    datasets: [{ datasetRef: 'dataset:default/shoe-images', version: 'v1' }],
    modelRef: 'model:default/shoe-brand',
  };

  it('creates a notebook with GPU, workspace and dataset, records its run, and twice leaves one of each', async () => {
    const first = await request(server).post(`${API}/notebooks`).send(notebook);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      dryRun: false,
      object: {
        cluster: 'local',
        apiVersion: 'kubeflow.org/v1',
        kind: 'Notebook',
        namespace: NS,
        name: 'shoe-explore',
      },
      run: {
        kind: 'notebook',
        cluster: 'local',
        namespace: NS,
        name: 'shoe-explore',
        modelRef: 'model:default/shoe-brand',
        inputs: [{ datasetRef: 'dataset:default/shoe-images', version: 'v1' }],
        createdBy: 'user:default/mock',
      },
      url: '/catalog/default/model/shoe-brand',
    });
    expect(first.body.objects.map((o: any) => o.kind)).toEqual([
      'PersistentVolumeClaim',
      'Notebook',
    ]);

    const stored = await readBack(
      'kubeflow.org/v1',
      'Notebook',
      'shoe-explore',
    );
    expect(stored.metadata.uid).toBe(first.body.object.uid);
    expect(first.body.run.uid).toBe(stored.metadata.uid);
    expect(stored.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'kubeai',
      'kubeai.io/model': 'shoe-brand',
    });
    const container = stored.spec.template.spec.containers[0];
    expect(container.image).toBe(notebook.image);
    expect(container.resources).toEqual({
      requests: { cpu: '2', memory: '8Gi' },
      limits: { memory: '8Gi', 'nvidia.com/gpu': '1' },
    });
    expect(stored.spec.template.spec.volumes).toEqual(
      expect.arrayContaining([
        {
          name: 'workspace',
          persistentVolumeClaim: { claimName: 'shoe-explore-workspace' },
        },
        {
          name: 'dataset-shoe-images',
          persistentVolumeClaim: { claimName: 'shoe-images', readOnly: true },
        },
      ]),
    );
    const pvc = await readBack(
      'v1',
      'PersistentVolumeClaim',
      'shoe-explore-workspace',
    );
    expect(pvc.spec.resources.requests.storage).toBe('5Gi');

    const second = await request(server)
      .post(`${API}/notebooks`)
      .send(notebook);
    expect(second.status).toBe(201);
    expect(second.body.object.uid).toBe(first.body.object.uid);
    expect(second.body.run.id).toBe(first.body.run.id);
    const again = await readBack('kubeflow.org/v1', 'Notebook', 'shoe-explore');
    expect(again.metadata.generation).toBe(stored.metadata.generation);
    const listed = await gateway.list('local', {
      apiVersion: 'kubeflow.org/v1',
      kind: 'Notebook',
      namespace: NS,
      labelSelector: 'app.kubernetes.io/managed-by=kubeai',
    });
    expect(listed.filter(o => o.metadata.name === 'shoe-explore')).toHaveLength(
      1,
    );
    const runs = await request(server).get(`${API}/runs?kind=notebook`);
    expect(
      runs.body.items.filter((r: any) => r.name === 'shoe-explore'),
    ).toHaveLength(1);

    const status = await request(server)
      .get(`${API}/clusters/local/namespaces/${NS}/notebooks/shoe-explore`)
      .expect(200);
    expect(status.body).toMatchObject({
      object: {
        kind: 'Notebook',
        name: 'shoe-explore',
        uid: stored.metadata.uid,
      },
      phase: 'Pending',
      run: { id: first.body.run.id },
    });
  });

  it('answers a dry run with the manifests and creates nothing', async () => {
    const dry = await request(server)
      .post(`${API}/notebooks`)
      .send({ ...notebook, name: 'dry-notebook', dryRun: true });
    expect(dry.status).toBe(201);
    expect(dry.body.dryRun).toBe(true);
    expect(dry.body.run).toBeUndefined();
    expect(dry.body.manifests.map((m: any) => m.kind)).toEqual([
      'PersistentVolumeClaim',
      'Notebook',
    ]);
    expect(
      dry.body.manifests[1].spec.template.spec.containers[0].resources.limits,
    ).toEqual({
      memory: '8Gi',
      'nvidia.com/gpu': '1',
    });
    await expect(
      readBack('kubeflow.org/v1', 'Notebook', 'dry-notebook'),
    ).rejects.toThrow(/not found/);
    await expect(
      readBack('v1', 'PersistentVolumeClaim', 'dry-notebook-workspace'),
    ).rejects.toThrow(/not found/);
    const runs = await request(server).get(`${API}/runs?kind=notebook`);
    expect(runs.body.items.some((r: any) => r.name === 'dry-notebook')).toBe(
      false,
    );
  });

  it('refuses the restricted cluster user outside team-a with 403 naming the namespace', async () => {
    const denied = await request(server)
      .post(`${API}/notebooks`)
      .send({
        ...notebook,
        cluster: 'local-restricted',
        name: 'restricted-nb',
        datasets: [],
      });
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toContain(
      `in namespace "${NS}" of cluster "local-restricted": forbidden`,
    );
    await expect(
      readBack('kubeflow.org/v1', 'Notebook', 'restricted-nb'),
    ).rejects.toThrow(/not found/);
    await expect(
      readBack('v1', 'PersistentVolumeClaim', 'restricted-nb-workspace'),
    ).rejects.toThrow(/not found/);

    const name = `restricted-${suffix}`;
    const allowed = await request(server).post(`${API}/notebooks`).send({
      cluster: 'local-restricted',
      namespace: 'team-a',
      name,
      image: 'jupyter/base-notebook:latest',
    });
    expect(allowed.status).toBe(201);
    expect(allowed.body.object.namespace).toBe('team-a');
    await gateway.delete('local', {
      apiVersion: 'kubeflow.org/v1',
      kind: 'Notebook',
      namespace: 'team-a',
      name,
    });
    // and its run credential (no garbage collector on the local control plane)
    await gateway.delete('local', {
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: 'team-a',
      name: `${name}-kubeai-run`,
    });
  });
});
