/*
 * Run retention on SQLite and PostgreSQL, over a seeded year of runs with every keep rule: exactly
 * the runs the rules keep remain, the dependent rows of the removed ones are gone, the rollups sum
 * to exactly what was removed, a second pass removes nothing and changes no rollup, and the model's
 * lineage still answers without a node or edge pointing at a removed run. Also the config key.
 */
import { ConfigReader } from '@backstage/config';
import { TestDatabaseId } from '@backstage/backend-test-utils';
import type { Knex } from 'knex';
import {
  createTestDatabases,
  postgresSupport,
} from '../__testUtils__/databases';
import { RegistryStore } from './RegistryStore';
import { readRunRetentionConfig, RunRetention } from './RunRetention';

jest.setTimeout(120_000);

const databases = createTestDatabases();

it('runs against SQLite and PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

const NOW = new Date('2027-06-01T12:00:00.000Z');
const DAY = 24 * 60 * 60 * 1000;
const MAX_AGE = 30;
const MODEL = 'model:default/retention-forecast';
const ACTOR = 'user:default/test';
const at = (daysAgo: number, seconds = 0) =>
  new Date(NOW.getTime() - daysAgo * DAY + seconds * 1000).toISOString();
let seq = 0;
const newId = () =>
  `00000000-0000-4000-9000-${(++seq).toString(16).padStart(12, '0')}`;

interface Seeded {
  /** Every run id seeded. */
  all: string[];
  /** The ids the rules keep. */
  kept: Set<string>;
  /** The rows of the runs that must go (for the expected rollups). */
  removed: Array<Record<string, any>>;
  parents: { P: string; Q: string };
}

/**
 * - P: a periodic task (created 400 days ago) with one execution a day for a year, 10 minutes
 *   each, 1 GPU / 500m CPU / 2Gi; executions 200 and 250 days old produced forecast@1 and @2, and
 *   @2 is deployed; the young ones (≤ 30 days) stay, the newest anyway.
 * - Q: a stopped periodic task whose 5 executions are 100–104 days old: the newest stays.
 * - a CronJob without a recorded run (no parent, `schedule` only), 4 Jobs 60–63 days old: the newest
 *   stays.
 * - old one-off runs with inputs, credentials and the informers' rows of their deleted objects: go.
 * - an old run that wrote a deployment revision (a pipeline's rollout), an old run whose object
 *   the informers still see, old unfinished runs, an old run that finished recently: stay.
 */
async function seed(knex: Knex, store: RegistryStore): Promise<Seeded> {
  const all: string[] = [];
  const kept = new Set<string>();
  const removed: Array<Record<string, any>> = [];
  const rows: Array<Record<string, any>> = [];
  const run = (
    fields: Record<string, any>,
    keep: boolean,
  ): Record<string, any> => {
    const row: Record<string, any> = {
      id: newId(),
      kind: 'training',
      cluster: 'c',
      namespace: 'team-a',
      model_ref: MODEL,
      phase: 'Succeeded',
      params: '{}',
      created_by: ACTOR,
      updated_at: at(0),
      child_count: 0,
      started_at: null,
      finished_at: null,
      schedule: null,
      parent_run_id: null,
      ...fields,
    };
    row.name = row.name ?? `run-${row.id.slice(-6)}`;
    rows.push(row);
    all.push(row.id);
    if (keep) kept.add(row.id);
    else removed.push(row);
    return row;
  };
  const finishedRun = (
    daysAgo: number,
    fields: Record<string, any>,
    keep: boolean,
  ) =>
    run(
      {
        created_at: at(daysAgo),
        started_at: at(daysAgo, 60),
        finished_at: at(daysAgo, 660),
        ...fields,
      },
      keep,
    );

  const P = run(
    {
      name: 'forecast-daily',
      phase: 'Running',
      created_at: at(400),
      schedule: null,
    },
    true,
  );
  const versionRuns: Record<number, string> = {};
  for (let d = 365; d >= 0; d--) {
    // day 30 finished 11 minutes after the cutoff
    const keep = d <= MAX_AGE || d === 200 || d === 250;
    const child = finishedRun(
      d,
      {
        name: `forecast-daily-${d}`,
        phase: d % 3 === 0 ? 'Failed' : 'Succeeded',
        parent_run_id: P.id,
        schedule: JSON.stringify({
          kind: 'CronJob',
          name: 'forecast-daily',
          runId: P.id,
        }),
        params: JSON.stringify({ gpu: 1, cpu: '500m', memory: '2Gi' }),
      },
      keep,
    );
    if (d === 200 || d === 250) versionRuns[d] = child.id;
  }
  P.child_count = 366;

  const Q = run(
    {
      name: 'stopped-task',
      phase: 'Stopped',
      created_at: at(300),
      finished_at: at(99),
    },
    true,
  );
  for (let d = 104; d >= 100; d--) {
    finishedRun(
      d,
      {
        name: `stopped-task-${d}`,
        namespace: 'team-a',
        parent_run_id: Q.id,
        schedule: JSON.stringify({
          kind: 'CronJob',
          name: 'stopped-task',
          runId: Q.id,
        }),
      },
      d === 100,
    );
  }
  Q.child_count = 5;

  for (let d = 63; d >= 60; d--) {
    finishedRun(
      d,
      {
        name: `ext-${d}`,
        namespace: 'team-b',
        model_ref: null,
        schedule: JSON.stringify({ kind: 'CronJob', name: 'ext' }),
      },
      d === 60,
    );
  }

  const oneOffs = [45, 90, 180, 364].map(d =>
    finishedRun(
      d,
      { namespace: 'team-b', phase: d === 90 ? 'Stopped' : 'Failed' },
      false,
    ),
  );
  const rollout = finishedRun(120, { kind: 'pipeline', model_ref: null }, true);
  const watched = finishedRun(150, { name: 'still-in-cluster' }, true);
  const running = run(
    { phase: 'Running', created_at: at(200), started_at: at(200) },
    true,
  );
  const pending = run({ phase: 'Pending', created_at: at(250) }, true);
  const lateFinish = run(
    { created_at: at(100), started_at: at(100), finished_at: at(5) },
    true,
  );
  // finished but with no finish time recorded: not known to be old enough
  const noFinish = run({ created_at: at(100), finished_at: null }, true);
  const young = finishedRun(10, {}, true);
  void [running, pending, lateFinish, noFinish, young];

  for (const chunk of [
    rows.slice(0, 100),
    rows.slice(100, 200),
    rows.slice(200),
  ]) {
    if (chunk.length) await knex('kubeai_runs').insert(chunk);
  }

  await knex('kubeai_dataset_versions').insert({
    dataset_ref: 'dataset:default/retention-in',
    version: 'v1',
    uri: 's3://d/in/v1',
    created_by: ACTOR,
    created_at: at(400),
  });
  // every run reads the dataset
  for (const r of rows) {
    await knex('kubeai_run_inputs').insert({
      run_id: r.id,
      dataset_ref: 'dataset:default/retention-in',
      dataset_version: 'v1',
    });
  }
  for (const r of oneOffs) {
    await knex('kubeai_run_credentials').insert({
      token_hash: r.id.replace(/-/g, '').padEnd(64, 'a'),
      run_id: r.id,
      created_at: r.created_at,
      expires_at: r.finished_at,
    });
  }
  const object = (r: Record<string, any>, deletedAt: string | null) => ({
    cluster: 'c',
    kind: 'Job',
    api_version: 'batch/v1',
    namespace: r.namespace,
    name: r.name,
    uid: r.id,
    resource_version: '1',
    managed: true,
    run_id: r.id,
    phase: r.phase,
    observed: '{}',
    observed_at: r.finished_at,
    deleted_at: deletedAt,
  });
  await knex('kubeai_cluster_objects').insert([
    ...oneOffs.map(r => object(r, r.finished_at)),
    object(watched, null),
  ]);

  const art = { uri: 's3://m/retention-forecast', format: 'onnx' };
  await store.createModelVersion(
    MODEL,
    { artifact: art, runId: versionRuns[250] },
    ACTOR,
  );
  await store.createModelVersion(
    MODEL,
    { artifact: art, runId: versionRuns[200] },
    ACTOR,
  );
  const service = 'inferenceservice:default/retention-forecast';
  await knex('kubeai_deployments').insert({
    service_ref: service,
    cluster: 'c',
    namespace: 'team-a',
    name: 'retention-forecast',
    model_ref: MODEL,
    revision: 1,
    traffic: JSON.stringify([{ version: 1, percent: 100 }]),
    desired: '{}',
    created_at: at(240),
    updated_at: at(240),
    updated_by: ACTOR,
  });
  await knex('kubeai_deployment_traffic').insert({
    service_ref: service,
    model_ref: MODEL,
    version: 1,
    percent: 100,
  });
  await knex('kubeai_deployment_revisions').insert({
    service_ref: service,
    revision: 1,
    model_ref: MODEL,
    traffic: JSON.stringify([{ version: 1, percent: 100 }]),
    desired: '{}',
    created_by: `run:${rollout.id}`,
    created_at: at(120),
  });
  return { all, kept, removed, parents: { P: P.id, Q: Q.id } };
}

/** The expected rollups of `runs`, keyed like the table, with integer sums. */
function expectedRollups(runs: Array<Record<string, any>>) {
  const out: Record<string, Record<string, number>> = {};
  for (const r of runs) {
    const schedule = r.schedule ? JSON.parse(r.schedule) : undefined;
    const key = [
      r.finished_at.slice(0, 10),
      r.cluster,
      r.namespace,
      r.namespace === 'team-a' ? 'group:default/team-a' : '',
      r.model_ref ?? '',
      r.kind,
      schedule ? `${schedule.kind}/${schedule.name}` : '',
      r.phase,
    ].join('|');
    const seconds =
      (Date.parse(r.finished_at) - Date.parse(r.started_at ?? r.created_at)) /
      1000;
    const params = JSON.parse(r.params);
    const o = (out[key] ??= {
      runs: 0,
      duration_seconds: 0,
      cpu_seconds: 0,
      memory_gib_seconds: 0,
      gpu_seconds: 0,
    });
    o.runs += 1;
    o.duration_seconds += seconds;
    o.cpu_seconds += (params.cpu ? 0.5 : 0) * seconds;
    o.memory_gib_seconds += (params.memory ? 2 : 0) * seconds;
    o.gpu_seconds += (params.gpu ?? 0) * seconds;
  }
  return out;
}

async function storedRollups(knex: Knex) {
  const rows = await knex('kubeai_run_rollups').select();
  const out: Record<string, Record<string, number>> = {};
  for (const r of rows) {
    if (r.cost !== null) throw new Error('no run records a cost');
    out[
      [
        r.day,
        r.cluster,
        r.namespace,
        r.team,
        r.model_ref,
        r.kind,
        r.task,
        r.phase,
      ].join('|')
    ] = {
      runs: Number(r.runs),
      duration_seconds: Number(r.duration_seconds),
      cpu_seconds: Number(r.cpu_seconds),
      memory_gib_seconds: Number(r.memory_gib_seconds),
      gpu_seconds: Number(r.gpu_seconds),
    };
  }
  return out;
}

describe.each(databases.eachSupportedId())(
  'run retention on %p',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let store: RegistryStore;
    let seeded: Seeded;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      await RegistryStore.migrate(knex);
      store = new RegistryStore(knex);
      seeded = await seed(knex, store);
    });

    afterAll(async () => {
      await knex('kubeai_deployments').where({ model_ref: MODEL }).delete();
      await knex('kubeai_model_versions').where({ model_ref: MODEL }).delete();
      await knex('kubeai_cluster_objects')
        .whereIn('run_id', seeded.all)
        .delete();
      await knex('kubeai_run_credentials')
        .whereIn('run_id', seeded.all)
        .delete();
      await knex('kubeai_run_inputs').whereIn('run_id', seeded.all).delete();
      await knex('kubeai_runs').whereIn('id', seeded.all).delete();
      await knex('kubeai_dataset_versions')
        .where({ dataset_ref: 'dataset:default/retention-in' })
        .delete();
      await knex('kubeai_run_rollups').delete();
    });

    it('removes exactly what no rule keeps, with its dependent rows, and folds it into the rollups', async () => {
      const tokenBefore = await store.changeToken();
      const starBefore = (await store.changes.versions(['*'])).get('*')!;
      // the version rows of runs that go (as a phase change would have written them)
      await store.changes.changed(seeded.removed.map(r => `run:${r.id}`));
      const logged: string[] = [];
      const retention = new RunRetention({
        db: knex,
        maxAgeDays: MAX_AGE,
        batchSize: 50,
        logger: { info: m => logged.push(m), debug: m => logged.push(m) },
        teamsOf: async refs =>
          refs.map(ref =>
            ref === 'c/team-a' ? 'group:default/team-a' : undefined,
          ),
      });
      const result = await retention.prune({ now: NOW });
      expect(result).toMatchObject({
        removed: seeded.removed.length,
        incomplete: false,
        cutoff: new Date(NOW.getTime() - MAX_AGE * DAY).toISOString(),
      });
      // batches of at most 50, one log line each
      expect(result.batches).toBeGreaterThanOrEqual(
        Math.ceil(seeded.removed.length / 50),
      );
      expect(logged.filter(l => l.includes(' batch '))).toHaveLength(
        result.batches,
      );
      expect(retention.removedTotal).toBe(seeded.removed.length);

      const remaining: string[] = await knex('kubeai_runs')
        .whereIn('id', seeded.all)
        .pluck('id');
      expect(remaining.sort()).toEqual([...seeded.kept].sort());

      const gone = seeded.removed.map(r => r.id);
      for (const table of [
        'kubeai_run_inputs',
        'kubeai_run_credentials',
        'kubeai_cluster_objects',
      ]) {
        const [{ n }] = await knex(table)
          .whereIn('run_id', gone)
          .count({ n: '*' });
        expect(`${table}: ${Number(n)}`).toBe(`${table}: 0`);
      }
      // the kept runs keep theirs
      const [{ n: keptInputs }] = await knex('kubeai_run_inputs')
        .whereIn('run_id', [...seeded.kept])
        .count({ n: '*' });
      expect(Number(keptInputs)).toBe(seeded.kept.size);
      expect(
        await knex('kubeai_cluster_objects')
          .whereIn('run_id', seeded.all)
          .pluck('name'),
      ).toEqual(['still-in-cluster']);

      // the parents' counts follow their children
      for (const parent of Object.values(seeded.parents)) {
        const [{ n }] = await knex('kubeai_runs')
          .where({ parent_run_id: parent })
          .count({ n: '*' });
        const row = await knex('kubeai_runs')
          .where({ id: parent })
          .first('child_count');
        expect(Number(row.child_count)).toBe(Number(n));
      }
      expect(
        (await store.listRuns({ parent: seeded.parents.Q })).totalItems,
      ).toBe(1);

      expect(await storedRollups(knex)).toEqual(
        expectedRollups(seeded.removed),
      );
      // the registry changed: cached lineage answers are not reused — the removed runs' version
      // rows are gone with them and `*` changed once the pass was through
      expect(await store.changeToken()).not.toBe(tokenBefore);
      expect(
        await knex('kubeai_change_scopes')
          .whereIn(
            'scope',
            seeded.removed.map(r => `run:${r.id}`),
          )
          .count({ n: '*' })
          .then(([row]) => Number(row.n)),
      ).toBe(0);
      expect((await store.changes.versions(['*'])).get('*')).toBeGreaterThan(
        starBefore,
      );
    });

    it('removes nothing and changes no rollup the second time', async () => {
      const before = await knex('kubeai_run_rollups').orderBy('id').select();
      const retention = new RunRetention({
        db: knex,
        maxAgeDays: MAX_AGE,
        batchSize: 50,
      });
      const result = await retention.prune({ now: NOW });
      expect(result).toMatchObject({
        removed: 0,
        batches: 0,
        incomplete: false,
      });
      expect(await knex('kubeai_run_rollups').orderBy('id').select()).toEqual(
        before,
      );
      expect(
        (
          await knex('kubeai_runs').whereIn('id', seeded.all).pluck('id')
        ).sort(),
      ).toEqual([...seeded.kept].sort());
    });

    it("answers the model's lineage afterwards without dangling nodes or edges", async () => {
      const graph = (await store.lineageWithObserved(
        { type: 'model', ref: MODEL },
        { direction: 'both', depth: 3 },
      ))!;
      const ids = new Set(graph.nodes.map(n => n.id));
      for (const edge of graph.edges) {
        expect(ids.has(edge.from) && ids.has(edge.to)).toBe(true);
      }
      const runNodes = graph.nodes
        .filter(n => n.type === 'run' && !(n as any).executions)
        .map(n => n.id.slice('run:'.length));
      expect(runNodes.length).toBeGreaterThan(0);
      expect(
        (await knex('kubeai_runs').whereIn('id', runNodes).pluck('id')).sort(),
      ).toEqual([...new Set(runNodes)].sort());
      // the executions summary counts what is left: P's executions of the last 30 days beside the two on a path
      const summary = graph.nodes.find(
        n => (n as any).executions?.parentRunId === seeded.parents.P,
      ) as any;
      const [{ n }] = await knex('kubeai_runs')
        .where({ parent_run_id: seeded.parents.P })
        .count({ n: '*' });
      expect(summary.executions.total).toBe(Number(n));
      expect(Number(n)).toBe(MAX_AGE + 1 + 2);
    });

    it('stops after maxBatches and when aborted, and continues where it stopped', async () => {
      // a fresh batch of old one-off runs
      const extra = Array.from({ length: 12 }, (_, i) => ({
        id: newId(),
        kind: 'notebook',
        cluster: 'c',
        namespace: 'team-c',
        name: `nb-${i}`,
        phase: 'Succeeded',
        params: '{}',
        created_by: ACTOR,
        created_at: at(40 + i),
        started_at: at(40 + i),
        finished_at: at(40 + i, 30),
        updated_at: at(0),
      }));
      seeded.all.push(...extra.map(r => r.id));
      await knex('kubeai_runs').insert(extra);
      const retention = new RunRetention({
        db: knex,
        maxAgeDays: MAX_AGE,
        batchSize: 5,
        // a cluster out of reach: the runs still go, their rollups without a team
        teamsOf: async () => {
          throw new Error('cluster unreachable');
        },
      });
      // the first scanned rows include runs kept by the rules checked in code: a batch may be short
      const first = await retention.prune({ now: NOW, maxBatches: 1 });
      expect(first).toMatchObject({ batches: 1, incomplete: true });
      expect(first.removed).toBeGreaterThan(0);
      expect(first.removed).toBeLessThanOrEqual(5);
      const aborted = new AbortController();
      aborted.abort();
      expect(
        await retention.prune({ now: NOW, signal: aborted.signal }),
      ).toMatchObject({
        removed: 0,
        incomplete: true,
      });
      expect(await retention.prune({ now: NOW })).toMatchObject({
        removed: 12 - first.removed,
        incomplete: false,
      });
      const [{ runs }] = await knex('kubeai_run_rollups')
        .where({ namespace: 'team-c' })
        .sum({ runs: 'runs' });
      expect(Number(runs)).toBe(12);
      expect(
        await knex('kubeai_run_rollups')
          .where({ namespace: 'team-c' })
          .distinct('team')
          .pluck('team'),
      ).toEqual(['']);
    });

    it('keeps the rollups exact when a batch fails midway (the fold and the deletes are one transaction)', async () => {
      const rows = Array.from({ length: 6 }, (_, i) => ({
        id: newId(),
        kind: 'notebook',
        cluster: 'c',
        namespace: 'team-d',
        name: i === 4 ? 'boom' : `nb-${i}`,
        phase: 'Succeeded',
        params: '{}',
        created_by: ACTOR,
        created_at: at(500 - i),
        started_at: at(500 - i),
        finished_at: at(500 - i, 30),
        updated_at: at(0),
      }));
      // older than every other run: the first two batches of 3 are exactly these
      seeded.all.push(...rows.map(r => r.id));
      await knex('kubeai_runs').insert(rows);
      await knex('kubeai_run_inputs').insert(
        rows.map(r => ({
          run_id: r.id,
          dataset_ref: 'dataset:default/retention-in',
          dataset_version: 'v1',
        })),
      );
      // a crash while the second batch deletes: the database refuses to delete the run 'boom'
      const pg = knex.client.config.client === 'pg';
      if (pg) {
        await knex.raw(`create function kubeai_test_crash() returns trigger language plpgsql as $$
          begin if old.name = 'boom' then raise exception 'simulated crash'; end if; return old; end $$`);
        await knex.raw(
          'create trigger kubeai_test_crash before delete on kubeai_runs for each row execute function kubeai_test_crash()',
        );
      } else {
        await knex.raw(`create trigger kubeai_test_crash before delete on kubeai_runs
          when old.name = 'boom' begin select raise(abort, 'simulated crash'); end`);
      }
      const rolled = async () =>
        Number(
          (
            await knex('kubeai_run_rollups')
              .where({ namespace: 'team-d' })
              .sum({ runs: 'runs' })
          )[0].runs ?? 0,
        );
      const retention = new RunRetention({
        db: knex,
        maxAgeDays: MAX_AGE,
        batchSize: 3,
      });
      try {
        // compared by message: better-sqlite3's native addon keeps the SqliteError class of the
        // first test file that loaded it in this jest worker, so the error may be no `Error` of
        // this file's realm, which `rejects.toThrow` would report as "did not throw"
        const outcome = await retention.prune({ now: NOW }).then(
          result => ({ result }),
          error => ({ error: String(error?.message ?? error) }),
        );
        expect(outcome).toEqual({
          error: expect.stringMatching(/simulated crash/),
        });
        // the first batch went and was counted; nothing of the second did
        expect(await rolled()).toBe(3);
        const left = rows.slice(3).map(r => r.id);
        expect(
          (await knex('kubeai_runs').whereIn('id', left).pluck('id')).sort(),
        ).toEqual([...left].sort());
        const [{ n }] = await knex('kubeai_run_inputs')
          .whereIn('run_id', left)
          .count({ n: '*' });
        expect(Number(n)).toBe(3);
      } finally {
        await knex.raw(
          pg
            ? 'drop trigger kubeai_test_crash on kubeai_runs'
            : 'drop trigger kubeai_test_crash',
        );
        if (pg) await knex.raw('drop function kubeai_test_crash()');
      }
      // the next run finishes the job: each run counted exactly once
      expect(await retention.prune({ now: NOW })).toMatchObject({
        removed: 3,
        incomplete: false,
      });
      expect(await rolled()).toBe(6);
    });
  },
);

describe('readRunRetentionConfig', () => {
  const read = (runs: { maxAgeDays: number | string | boolean }) =>
    readRunRetentionConfig(
      new ConfigReader({ kubeai: { retention: { runs } } }),
    );

  it('keeps runs forever when unset, and reads whole days', () => {
    expect(readRunRetentionConfig(new ConfigReader({}))).toEqual({});
    expect(read({ maxAgeDays: 90 })).toEqual({ maxAgeDays: 90 });
    expect(read({ maxAgeDays: ' 30 ' })).toEqual({ maxAgeDays: 30 });
  });

  it.each([0, -1, 1.5, 'soon', 36_501, true])(
    'rejects %p naming the key',
    value => {
      expect(() => read({ maxAgeDays: value })).toThrow(
        /^kubeai\.retention\.runs\.maxAgeDays: must be a whole number of days from 1 to 36500/,
      );
    },
  );
});
