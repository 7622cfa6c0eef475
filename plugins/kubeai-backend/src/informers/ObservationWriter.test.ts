/*
 * The informers' writer on the real registry (SQLite and PostgreSQL): while a batch is being
 * written, the events that arrive meanwhile wait as one batch — merged per object, the newest
 * winning — so a busy writer catches up instead of paying a transaction per 50 ms of events.
 */
import { TestDatabaseId } from '@backstage/backend-test-utils';
import { mockServices } from '@backstage/backend-test-utils';
import {
  createTestDatabases,
  postgresSupport,
} from '../__testUtils__/databases';
import { RegistryStore } from '../database/RegistryStore';
import { kubeaiMetadata } from '../manifests/labels';
import { kindSpec } from './kinds';
import { observe, type Observation } from './observe';
import { ObservationWriter, type ObservationStore } from './ObservationWriter';

jest.setTimeout(120_000);

const databases = createTestDatabases();
let seq = 1000;

function job(name: string, status: Record<string, unknown>): Observation {
  return observe('local', kindSpec('Job')!, {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      ...kubeaiMetadata(name, 'team-w', { modelRef: 'model:default/w' }),
      uid: `uid-${name}`,
      resourceVersion: String(++seq),
      creationTimestamp: '2026-11-20T08:00:00Z',
    },
    status,
  });
}
const running = { active: 1, startTime: '2026-11-20T08:01:00Z' };
const succeeded = {
  conditions: [{ type: 'Complete', status: 'True' }],
  completionTime: '2026-11-20T09:00:00Z',
};
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

it('runs against SQLite and PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

describe.each(databases.eachSupportedId())(
  'ObservationWriter on %p',
  (databaseId: TestDatabaseId) => {
    let store: RegistryStore;
    beforeAll(async () => {
      const knex = await databases.init(databaseId);
      await RegistryStore.migrate(knex);
      store = new RegistryStore(knex);
    });

    /** A writer on the real store whose first batch is held until `release()`; every batch's objects noted. */
    function heldWriter(options: { batchSize?: number } = {}) {
      const batches: string[][] = [];
      let release!: () => void;
      const held = new Promise<void>(resolve => {
        release = resolve;
      });
      const recording: ObservationStore = {
        applyObservations: async batch => {
          batches.push(batch.map(o => `${o.name}:${o.phase}`));
          if (batches.length === 1) await held;
          return store.applyObservations(batch);
        },
        missingObservedObjects: (...a) => store.missingObservedObjects(...a),
        markMissingDeployments: (...a) => store.markMissingDeployments(...a),
        reconcileDeployments: (...a) => store.reconcileDeployments(...a),
      };
      const writer = new ObservationWriter({
        store: recording,
        logger: mockServices.logger.mock(),
        flushIntervalMs: 5,
        ...options,
      });
      return { writer, batches, release };
    }

    it('writes the events that arrive during a batch as one batch, the newest per object', async () => {
      const { writer, batches, release } = heldWriter();
      writer.add(job('w-first', running));
      await sleep(30); // written (and held) by now
      expect(batches).toHaveLength(1);
      // three flush intervals of events while the first batch is being written
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 10; i++) writer.add(job(`w-${i}`, running));
        await sleep(20);
      }
      writer.add(job('w-3', succeeded)); // a newer event of an object already waiting
      await sleep(20);
      expect(batches).toHaveLength(1);
      release();
      await writer.flush();

      expect(batches).toHaveLength(2);
      expect(batches[1]).toHaveLength(10);
      // event order, an object's newest event in the place of its last one
      expect(batches[1].slice(-2)).toEqual(['w-9:Running', 'w-3:Succeeded']);
      const runs = (await store.listRuns({ limit: 1000 })).items.filter(r =>
        r.name.startsWith('w-'),
      );
      expect(
        Object.fromEntries(runs.map(r => [r.name, r.phase])),
      ).toMatchObject({
        'w-first': 'Running',
        'w-0': 'Running',
        'w-3': 'Succeeded',
        'w-9': 'Running',
      });
      expect(runs).toHaveLength(11);
      await writer.stop();
    });

    it('keeps a batch at most batchSize objects, and a flush barrier ends what can join', async () => {
      const { writer, batches, release } = heldWriter({ batchSize: 8 });
      writer.add(job('b-first', running));
      await sleep(30);
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 5; i++) writer.add(job(`b-${round}-${i}`, running));
        await sleep(20);
      }
      const flushed = writer.flush(); // a barrier: later events wait behind it
      writer.add(job('b-late', running));
      await sleep(20);
      release();
      await flushed;
      await writer.flush();
      // 5 + 5 would exceed 8: three batches of five, then the late one on its own
      expect(batches.map(b => b.length)).toEqual([1, 5, 5, 5, 1]);
      await writer.stop();
    });
  },
);
