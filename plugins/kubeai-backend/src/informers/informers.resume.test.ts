/*
 * Resuming the watches where the last leader stopped (`kubeai_informer_cursors`), on the local
 * control plane: a stored resourceVersion ahead of the cluster's — the cursor of another cluster
 * of the same name (recreated, or a portal database reused with a new cluster) — is dropped and
 * the kind relisted. Resumed from it as it was, the apiserver would wait for that revision and
 * send nothing: objects created meanwhile would never reach the registry.
 */
import request from 'supertest';
import { waitFor } from './__testUtils__/kube';
import { informersSuite } from './__testUtils__/informersSuite';

jest.setTimeout(180_000);

const { ns, job, paths, create, startBackend, setUp, tearDown } =
  informersSuite('infresume');

describe('resuming the informers from stored cursors', () => {
  let backend: Awaited<ReturnType<typeof setUp>>['backend'] | undefined;

  afterAll(() => tearDown(backend));

  it('relists a kind whose stored resourceVersion is ahead of the cluster, and sees new objects', async () => {
    const first = await setUp();
    // the leader stored its cursors when it stopped
    await first.backend.stop();
    const { knex } = first;
    const stored = await knex('kubeai_informer_cursors')
      .where({ cluster: 'local', kind: 'Job' })
      .first();
    expect(stored?.resource_version).toMatch(/^\d+$/);
    // a cursor of another incarnation of cluster "local", far ahead of this one's revisions
    await knex('kubeai_informer_cursors')
      .where({ cluster: 'local', kind: 'Job' })
      .update({ resource_version: '999999999' });

    backend = await startBackend(knex);
    const api = () => request(backend!.server);
    await create(paths.jobs, job('after-restart'));
    const { value: run } = await waitFor(
      async () => {
        const res = await api().get('/api/kubeai/runs?limit=1000');
        return (res.body.items ?? []).find(
          (r: any) => r.namespace === ns && r.name === 'after-restart',
        );
      },
      30_000,
      'the Job created after the restart recorded as a run',
    );
    expect(run).toMatchObject({ namespace: ns, name: 'after-restart' });
    const status = await api().get('/api/kubeai/clusters/status').expect(200);
    const jobs = status.body.items
      .find((c: any) => c.name === 'local')
      .kinds.find((k: any) => k.kind === 'Job');
    // listed again (not resumed), and the cursor is this cluster's again
    expect(jobs.relists).toBe(1);
    await waitFor(
      async () => {
        const row = await knex('kubeai_informer_cursors')
          .where({ cluster: 'local', kind: 'Job' })
          .first();
        return row && BigInt(row.resource_version) < 999999999n;
      },
      10_000,
      "the Job cursor back at the cluster's revision",
    );
  });
});
