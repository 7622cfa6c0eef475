/*
 * The cluster informers against the real local kube-apiserver (`yarn cluster:start`), through the
 * plugin's HTTP API: InferenceService status (ready, URL, traffic, served version) beside the
 * declared deployment, drift when the cluster departs from it, and services created with kubectl
 * that serve a registered artifact attached to lineage. The test plays the controllers: it writes
 * status through the `/status` subresource and measures until the API shows it.
 */
import request from 'supertest';
import { kubectl, waitFor } from './__testUtils__/kube';
import { informersSuite } from './__testUtils__/informersSuite';

jest.setTimeout(180_000);

const {
  suffix,
  ns,
  state,
  kube,
  MODEL,
  artifact,
  startBackend,
  paths,
  created,
  create,
  isvc,
  now,
  setUp,
  tearDown,
} = informersSuite('infsvc');

describe('cluster informers on the local control plane', () => {
  let backend: Awaited<ReturnType<typeof startBackend>>;
  const api = () => request(backend.server);

  beforeAll(async () => {
    ({ backend } = await setUp());
  });

  afterAll(() => tearDown(backend));

  it('shows an InferenceService ready state, URL, traffic and served version within 2 s', async () => {
    const name = `svc-${suffix}`;
    await api()
      .post('/api/kubeai/deployments')
      .send({
        serviceRef: `inferenceservice:default/${name}`,
        cluster: 'local',
        namespace: ns,
        name,
        modelRef: `model:default/${MODEL}`,
        traffic: [{ version: 1, percent: 100 }],
      })
      .expect(201);
    await create(paths.isvcs, isvc(name, artifact(1), true));
    const pending = await waitFor(
      async () => {
        const r = (await api().get(`/api/kubeai/deployments/default/${name}`))
          .body;
        if (!r.observed?.uid) throw new Error(JSON.stringify(r));
        return r;
      },
      2000,
      'InferenceService observed',
    );
    expect(pending.value.observed).toMatchObject({
      phase: 'Pending',
      ready: false,
      servedVersion: 1,
    });
    expect(pending.value.drift).toEqual({ status: 'inSync', reasons: [] });

    await kube.patchStatus(`${paths.isvcs}/${name}`, {
      url: `http://${name}.${ns}.example.com`,
      observedGeneration: 1,
      conditions: [
        { type: 'Ready', status: 'True', lastTransitionTime: now() },
      ],
      components: {
        predictor: {
          latestReadyRevision: `${name}-predictor-00001`,
          latestCreatedRevision: `${name}-predictor-00001`,
          traffic: [
            {
              revisionName: `${name}-predictor-00001`,
              percent: 100,
              latestRevision: true,
            },
          ],
        },
      },
    });
    const ready = await waitFor(
      async () => {
        const r = (await api().get(`/api/kubeai/deployments/default/${name}`))
          .body;
        return r.observed?.ready ? r : undefined;
      },
      2000,
      'InferenceService Ready',
    );
    expect(ready.value.observed).toMatchObject({
      phase: 'Ready',
      url: `http://${name}.${ns}.example.com`,
      storageUri: artifact(1),
      servedVersion: 1,
      traffic: [
        {
          version: 1,
          percent: 100,
          revision: `${name}-predictor-00001`,
          latest: true,
          storageUri: artifact(1),
        },
      ],
    });
    expect(ready.value.drift.status).toBe('inSync');
    expect(ready.ms).toBeLessThan(2000);

    // lineage: desired and observed side by side
    const lineage = await api()
      .get(
        `/api/kubeai/lineage?entityRef=inferenceservice:default/${name}&direction=upstream`,
      )
      .expect(200);
    const node = lineage.body.nodes.find(
      (n: any) => n.id === `inferenceservice:default/${name}`,
    );
    expect(node).toMatchObject({
      status: 'Ready',
      observed: { ready: true },
      drift: { status: 'inSync' },
    });
    expect(lineage.body.edges).toEqual(
      expect.arrayContaining([
        {
          from: `model:default/${MODEL}@1`,
          to: node.id,
          type: 'deployedTo',
          percent: 100,
        },
        {
          from: `model:default/${MODEL}@1`,
          to: node.id,
          type: 'servedBy',
          percent: 100,
        },
      ]),
    );
  });

  it('flags drift when the storageUri is changed with kubectl, and when the service is deleted', async () => {
    const name = `drift-${suffix}`;
    await api()
      .post('/api/kubeai/deployments')
      .send({
        serviceRef: `inferenceservice:default/${name}`,
        cluster: 'local',
        namespace: ns,
        name,
        modelRef: `model:default/${MODEL}`,
        traffic: [{ version: 1, percent: 100 }],
      })
      .expect(201);
    await create(paths.isvcs, isvc(name, artifact(1), true));
    await waitFor(
      async () =>
        (
          await api().get(`/api/kubeai/deployments/default/${name}`)
        ).body.drift?.status === 'inSync',
      2000,
      'in sync',
    );

    await kubectl(state, [
      'patch',
      'inferenceservice',
      name,
      '-n',
      ns,
      '--type=merge',
      '-p',
      JSON.stringify({
        spec: { predictor: { model: { storageUri: artifact(2) } } },
      }),
    ]);
    const drifted = await waitFor(
      async () => {
        const r = (await api().get(`/api/kubeai/deployments/default/${name}`))
          .body;
        return r.drift?.status === 'drifted' ? r : undefined;
      },
      2000,
      'drift after kubectl patch',
    );
    expect(drifted.value.observed).toMatchObject({
      servedVersion: 2,
      storageUri: artifact(2),
    });
    expect(drifted.value.drift.reasons).toEqual([
      {
        type: 'version',
        message:
          'declared version 1 (100%), but the cluster serves version 2 (100%)',
      },
    ]);
    // the desired state is untouched
    expect(drifted.value).toMatchObject({
      revision: 1,
      traffic: [{ version: 1, percent: 100 }],
    });

    await kubectl(state, [
      'patch',
      'inferenceservice',
      name,
      '-n',
      ns,
      '--type=merge',
      '-p',
      JSON.stringify({
        spec: { predictor: { model: { storageUri: 's3://elsewhere/model' } } },
      }),
    ]);
    const unregistered = await waitFor(
      async () => {
        const r = (await api().get(`/api/kubeai/deployments/default/${name}`))
          .body;
        return r.observed?.storageUri === 's3://elsewhere/model'
          ? r
          : undefined;
      },
      2000,
      'unregistered artifact',
    );
    expect(unregistered.value.observed.servedVersion).toBeNull();
    expect(unregistered.value.drift.reasons[0].message).toContain(
      's3://elsewhere/model is no registered version',
    );

    await kubectl(state, ['delete', 'inferenceservice', name, '-n', ns]);
    const deleted = await waitFor(
      async () => {
        const r = (await api().get(`/api/kubeai/deployments/default/${name}`))
          .body;
        return r.drift?.reasons?.[0]?.type === 'deleted' ? r : undefined;
      },
      2000,
      'drift after delete',
    );
    expect(deleted.value.observed).toMatchObject({
      phase: 'Deleted',
      deleted: true,
      ready: false,
    });
    expect(deleted.value.drift.reasons[0].message).toContain(
      'was deleted outside the portal',
    );
  });

  it('attaches an InferenceService created with kubectl whose storageUri is a registered artifact to lineage', async () => {
    const name = `found-${suffix}`;
    await kubectl(
      state,
      ['apply', '-f', '-'],
      JSON.stringify(isvc(name, artifact(3), false)),
    );
    created.push(`${paths.isvcs}/${name}`);
    const discoveredRef = `inferenceservice:default/local.${ns}.${name}`;
    const found = await waitFor(
      async () => {
        const r = await api().get(
          `/api/kubeai/lineage?entityRef=model:default/${MODEL}&version=3&direction=downstream`,
        );
        return r.body.nodes?.find((n: any) => n.discovered) as any;
      },
      2000,
      'discovered service in lineage',
    );
    expect(found.value).toMatchObject({
      id: discoveredRef,
      type: 'inferenceService',
      entityRef: discoveredRef,
      label: name,
      discovered: true,
      observed: {
        cluster: 'local',
        namespace: ns,
        name,
        storageUri: artifact(3),
      },
    });
    const lineage = await api().get(
      `/api/kubeai/lineage?entityRef=model:default/${MODEL}&version=3&direction=downstream`,
    );
    expect(lineage.body.edges).toContainEqual({
      from: `model:default/${MODEL}@3`,
      to: discoveredRef,
      type: 'servedBy',
    });
    const listed = await api()
      .get('/api/kubeai/observed/objects?discovered=true')
      .expect(200);
    expect(listed.body.items).toContainEqual(
      expect.objectContaining({
        name,
        managed: false,
        entityRef: discoveredRef,
        discovered: { modelRef: `model:default/${MODEL}`, version: 3 },
      }),
    );
    // the discovered service is a lineage start of its own
    const upstream = await api()
      .get(`/api/kubeai/lineage?entityRef=${discoveredRef}&direction=upstream`)
      .expect(200);
    expect(upstream.body.roots).toEqual([discoveredRef]);
    expect(upstream.body.edges).toContainEqual({
      from: `model:default/${MODEL}@3`,
      to: discoveredRef,
      type: 'servedBy',
    });
    // one not serving a registered artifact is no discovery
    await kubectl(
      state,
      ['apply', '-f', '-'],
      JSON.stringify(isvc(`other-${suffix}`, 's3://x/y', false)),
    );
    created.push(`${paths.isvcs}/other-${suffix}`);
    await waitFor(
      async () =>
        (
          await api().get(
            `/api/kubeai/observed/objects?kind=InferenceService&namespace=${ns}`,
          )
        ).body.items.some((o: any) => o.name === `other-${suffix}`),
      2000,
      'other service observed',
    );
    const again = await api().get(
      '/api/kubeai/observed/objects?discovered=true',
    );
    expect(again.body.items.map((o: any) => o.name)).not.toContain(
      `other-${suffix}`,
    );
  });
});
