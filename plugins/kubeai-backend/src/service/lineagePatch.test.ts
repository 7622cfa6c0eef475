/*
 * A held lineage answer made stale only by writes of some nodes' details (a model version's
 * state, a run's phase) is patched with those nodes instead of walked again (lineageCache.ts
 * `patchHeld`, database/changes.ts `touchNodes`): exactly the answer a walk gives, with the ETag
 * another replica computing it from scratch gives. Any other write, or a change log pruned past
 * the held answer, walks again. SQLite and PostgreSQL.
 */
import {
  startTestBackend,
  TestDatabaseId,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { mockServices } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import request from 'supertest';
import { postgresSupport } from '../__testUtils__/databases';
import { kubeaiPlugin } from '../plugin';
import { RegistryStore } from '../database/RegistryStore';
import { databases, MODEL, useBackend } from './__testUtils__/router';
import { heldState, patchHeld, validityOf } from './lineageCache';

jest.setTimeout(120_000);

it('runs against SQLite and PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

const LINEAGE = '/api/kubeai/lineage?entityRef=model:default/clf';

describe.each(databases.eachSupportedId())(
  'lineage answers patched after detail writes on %p',
  (databaseId: TestDatabaseId) => {
    const app = useBackend(databaseId);
    /** Statements of the walk (it reads the runs' inputs; a patch never does) since `reset`. */
    const walked = { count: 0 };
    let runId = '';

    beforeAll(async () => {
      app.knex.on('query', (q: { sql: string }) => {
        if (/kubeai_run_inputs/.test(q.sql) && /^select/i.test(q.sql)) {
          walked.count++;
        }
      });
      const run = await request(app.server)
        .post('/api/kubeai/runs')
        .send({
          kind: 'training',
          cluster: 'c',
          namespace: 'ns',
          name: 'train-clf',
          modelRef: 'model:default/clf',
          inputs: [{ datasetRef: 'dataset:default/images' }],
        })
        .expect(201);
      runId = run.body.id;
      for (const n of [1, 2, 3]) {
        await request(app.server)
          .post(`${MODEL}/versions`)
          .send({
            artifact: { uri: `s3://models/clf/${n}`, format: 'onnx' },
            runId,
          })
          .expect(201);
      }
    });

    /** What a walk gives now, as the route sends it. */
    const fromScratch = async () =>
      JSON.parse(
        JSON.stringify(
          await new RegistryStore(app.knex).lineageWithObserved(
            { type: 'model', ref: 'model:default/clf' },
            { direction: 'both', depth: 3 },
          ),
        ),
      );
    const get = async (etag?: string) => {
      walked.count = 0;
      const req = request(app.server).get(LINEAGE);
      if (etag) req.set('If-None-Match', etag);
      const res = await req;
      return { res, walked: walked.count > 0 };
    };
    const node = (body: { nodes: { id: string }[] }, id: string) =>
      body.nodes.find(n => n.id === id) as Record<string, unknown>;

    it("patches a version's state and a run's phase into the held answer, without a walk", async () => {
      const first = await get();
      expect(first.walked).toBe(true);
      expect(node(first.res.body, 'model:default/clf@2').status).toBe('live');

      await request(app.server)
        .patch(`${MODEL}/versions/2`)
        .send({ state: 'archived' })
        .expect(200);
      const archived = await get(first.res.headers.etag);
      expect(archived.res.status).toBe(200);
      expect(archived.walked).toBe(false);
      expect(archived.res.headers.etag).not.toBe(first.res.headers.etag);
      expect(node(archived.res.body, 'model:default/clf@2').status).toBe(
        'archived',
      );
      expect(archived.res.body).toEqual(await fromScratch());

      await request(app.server)
        .patch(`/api/kubeai/runs/${runId}`)
        .send({ phase: 'Succeeded' })
        .expect(200);
      await request(app.server)
        .patch(`${MODEL}/versions/2`)
        .send({ state: 'live' })
        .expect(200);
      const both = await get(archived.res.headers.etag);
      expect(both.res.status).toBe(200);
      expect(both.walked).toBe(false);
      expect(node(both.res.body, `run:${runId}`).status).toBe('Succeeded');
      expect(node(both.res.body, 'model:default/clf@2').status).toBe('live');
      expect(both.res.body).toEqual(await fromScratch());

      // the patched answer is held: the same tag answers 304, without a walk
      const again = await get(both.res.headers.etag);
      expect(again.res.status).toBe(304);
      expect(again.walked).toBe(false);
    });

    it('gives the ETag and body another replica computes from scratch', async () => {
      await request(app.server)
        .patch(`${MODEL}/versions/1`)
        .send({ state: 'archived' })
        .expect(200);
      const patched = await get();
      expect(patched.walked).toBe(false);
      // a second backend on the same database (no cache of its own yet, no response validation)
      const replica = await startTestBackend({
        features: [
          kubeaiPlugin,
          mockServices.database.factory({ knex: app.knex }),
          catalogServiceMock.factory({ entities: [] }),
        ],
      });
      try {
        walked.count = 0;
        const computed = await request(replica.server).get(LINEAGE).expect(200);
        expect(walked.count).toBeGreaterThan(0);
        expect(computed.headers.etag).toBe(patched.res.headers.etag);
        expect(computed.body).toEqual(patched.res.body);
        // and the replica patches too: its answer from held bytes, as the first one's
        await request(app.server)
          .patch(`${MODEL}/versions/1`)
          .send({ state: 'live' })
          .expect(200);
        walked.count = 0;
        const onReplica = await request(replica.server)
          .get(LINEAGE)
          .expect(200);
        expect(walked.count).toBe(0);
        const onFirst = await get();
        expect(onFirst.walked).toBe(false);
        expect(onReplica.headers.etag).toBe(onFirst.res.headers.etag);
        expect(JSON.parse(onReplica.text)).toEqual(onFirst.res.body);
      } finally {
        await replica.stop();
      }
    });

    it('walks again after a write that changes more than details', async () => {
      const before = await get();
      // a new version: a node and an edge more
      await request(app.server)
        .post(`${MODEL}/versions`)
        .send({ artifact: { uri: 's3://models/clf/4', format: 'onnx' }, runId })
        .expect(201);
      const after = await get(before.res.headers.etag);
      expect(after.walked).toBe(true);
      expect(node(after.res.body, 'model:default/clf@4')).toBeDefined();
      expect(after.res.body).toEqual(await fromScratch());

      // a detail write, then the run's inputs replaced (none): walked again, both shown
      await request(app.server)
        .patch(`/api/kubeai/runs/${runId}`)
        .send({ phase: 'Failed' })
        .expect(200);
      await request(app.server)
        .patch(`/api/kubeai/runs/${runId}`)
        .send({ inputs: [] })
        .expect(200);
      const inputs = await get(after.res.headers.etag);
      expect(inputs.walked).toBe(true);
      expect(node(inputs.res.body, `run:${runId}`).status).toBe('Failed');
      expect(node(inputs.res.body, 'dataset:default/images')).toBeUndefined();
      expect(inputs.res.body).toEqual(await fromScratch());
    });

    it('patches nothing when a write commits while the nodes are read', async () => {
      const store = new RegistryStore(app.knex);
      const start = { type: 'model' as const, ref: 'model:default/clf' };
      const options = { direction: 'both' as const, depth: 3 };
      const hold = async () => {
        const localWrites = store.changes.localWrites;
        const horizon = await store.changes.horizon();
        const graph = (await store.lineageWithObserved(start, options))!;
        const validity = (await validityOf(
          store.changes,
          graph,
          horizon,
          localWrites,
        ))!;
        return { graph, validity, body: Buffer.from('') };
      };
      const setState = (version: number, state: string) =>
        request(app.server)
          .patch(`${MODEL}/versions/${version}`)
          .send({ state })
          .expect(200);
      const patchAfter = async (duringRead: () => Promise<unknown>) => {
        const held = await hold();
        await setState(2, 'archived');
        const stale = await heldState(store.changes, held.validity);
        expect(stale).toMatchObject({ horizon: expect.any(Number) });
        const patched = await patchHeld(
          store.changes,
          held,
          stale as Exclude<typeof stale, true | undefined>,
          async ids => {
            await duringRead();
            return store.lineageNodeDetails(ids);
          },
        );
        await setState(2, 'live');
        return patched;
      };
      const quiet = await patchAfter(async () => {});
      expect(
        quiet?.graph.nodes.find(n => n.id === 'model:default/clf@2')?.status,
      ).toBe('archived');
      // another version's state changes meanwhile: that answer belongs to no versions
      expect(await patchAfter(() => setState(3, 'archived'))).toBeUndefined();
      await setState(3, 'live');
    });

    it('walks again when the change log no longer reaches back to the held answer', async () => {
      const held = await get();
      await request(app.server)
        .patch(`${MODEL}/versions/3`)
        .send({ state: 'archived' })
        .expect(200);
      // as pruning does: the log's floor above the held answer's versions
      await pruneLogAbove(app.knex);
      const after = await get(held.res.headers.etag);
      expect(after.walked).toBe(true);
      expect(node(after.res.body, 'model:default/clf@3').status).toBe(
        'archived',
      );
      expect(after.res.body).toEqual(await fromScratch());
    });
  },
);

/** Moves the change log's floor to its newest version and drops the rows below it. */
async function pruneLogAbove(knex: Knex) {
  const { max } = (await knex('kubeai_change_log')
    .max({ max: 'version' })
    .first()) as { max: number | string };
  await knex('kubeai_change_log').where('version', '<', Number(max)).delete();
  await knex('kubeai_change_log').insert({
    scope: '~floor',
    version: Number(max),
    nodes: null,
  });
}
