import { TestDatabaseId } from '@backstage/backend-test-utils';
import { LineageGraph } from '@kubeai/plugin-kubeai-common';
import { Knex } from 'knex';
import {
  createTestDatabases,
  postgresSupport,
} from '../__testUtils__/databases';
import { RegistryStore } from './RegistryStore';

jest.setTimeout(60_000);

const databases = createTestDatabases();
const MODEL = 'model:default/forecast';

/*
 * A periodic task P (reading images@v1) with 30 executions (child runs, written as the informers
 * write them): 20 Succeeded, 8 Failed, 2 Running; executions 5 and 10 produced forecast@1 and @2.
 */
async function seed(knex: Knex, store: RegistryStore) {
  const u = 'user:default/test';
  await store.createDatasetVersion(
    'dataset:default/images',
    { version: 'v1', uri: 's3://d/images/v1' },
    u,
  );
  const parent = await store.createRun(
    {
      kind: 'training',
      cluster: 'c',
      namespace: 'ns',
      name: 'forecast-daily',
      inputs: [{ datasetRef: 'dataset:default/images', version: 'v1' }],
    },
    u,
  );
  const child = (n: number) =>
    `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
  const at = new Date('2026-12-01T00:00:00Z').toISOString();
  const rows = [];
  for (let n = 1; n <= 30; n++) {
    rows.push({
      id: child(n),
      kind: 'training',
      cluster: 'c',
      namespace: 'ns',
      name: `forecast-daily-${n}`,
      model_ref: MODEL,
      phase: phaseOf(n),
      params: '{}',
      parent_run_id: parent.id,
      created_by: u,
      created_at: at,
      updated_at: at,
    });
  }
  await knex('kubeai_runs').insert(rows);
  await knex('kubeai_runs')
    .where({ id: parent.id })
    .update({ child_count: rows.length });
  const art = { uri: 's3://m/forecast', format: 'onnx' };
  await store.createModelVersion(MODEL, { artifact: art, runId: child(5) }, u);
  await store.createModelVersion(MODEL, { artifact: art, runId: child(10) }, u);
  return { P: parent.id, c5: child(5), c10: child(10) };
}

function phaseOf(n: number) {
  if (n <= 20) return 'Succeeded';
  return n <= 28 ? 'Failed' : 'Running';
}

function lines(graph: LineageGraph, runs: Record<string, string>) {
  const name = (id: string) =>
    Object.entries(runs).reduce((s, [n, runId]) => s.replace(runId, n), id);
  return {
    nodes: graph.nodes.map(n => name(n.id)).sort(),
    edges: graph.edges
      .map(e => `${name(e.from)} -${e.type}-> ${name(e.to)}`)
      .sort(),
  };
}

it('runs against SQLite and PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

describe.each(databases.eachSupportedId())(
  'executions in the lineage on %p',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let store: RegistryStore;
    let runs: Record<string, string>;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      await RegistryStore.migrate(knex);
      store = new RegistryStore(knex);
      runs = await seed(knex, store);
    });

    afterAll(async () => {
      await knex('kubeai_model_versions').where({ model_ref: MODEL }).delete();
      await knex('kubeai_run_inputs').where({ run_id: runs.P }).delete();
      await knex('kubeai_runs').where({ parent_run_id: runs.P }).delete();
      await knex('kubeai_runs').where({ id: runs.P }).delete();
      await knex('kubeai_dataset_versions')
        .where({ dataset_ref: 'dataset:default/images' })
        .delete();
    });

    it('keeps the executions on a path as nodes and summarises the others, with their phases and where to list them', async () => {
      const graph = (await store.lineageWithObserved(
        { type: 'model', ref: MODEL },
        { direction: 'both', depth: 3 },
      ))!;
      expect(lines(graph, runs)).toEqual({
        nodes: [
          'dataset:default/images',
          'dataset:default/images@v1',
          'model:default/forecast',
          'model:default/forecast@1',
          'model:default/forecast@2',
          'run:P',
          'run:P/executions',
          'run:c10',
          'run:c5',
        ],
        edges: [
          'dataset:default/images@v1 -inputTo-> run:P',
          'dataset:default/images@v1 -versionOf-> dataset:default/images',
          'model:default/forecast@1 -versionOf-> model:default/forecast',
          'model:default/forecast@2 -versionOf-> model:default/forecast',
          'run:P/executions -executionOf-> run:P',
          'run:c10 -executionOf-> run:P',
          'run:c10 -produced-> model:default/forecast@2',
          'run:c5 -executionOf-> run:P',
          'run:c5 -produced-> model:default/forecast@1',
        ],
      });
      const summary = graph.nodes.find(n => n.executions)!;
      expect(summary).toEqual({
        id: `run:${runs.P}/executions`,
        type: 'run',
        label: '28 executions',
        executions: {
          parentRunId: runs.P,
          count: 28,
          total: 30,
          phases: { Failed: 8, Running: 2, Succeeded: 18 },
          list: `/runs?parent=${runs.P}`,
        },
      });
      // the link lists exactly the executions of the task
      const listed = await store.listRuns({ parent: runs.P, limit: 100 });
      expect(listed.totalItems).toBe(30);
    });

    it('reaches what the executions produced from the periodic task and from its inputs (no extra depth)', async () => {
      const fromTask = lines(
        (await store.lineage(
          { type: 'run', id: runs.P },
          { direction: 'downstream', depth: 1 },
        ))!,
        runs,
      );
      expect(fromTask.nodes).toEqual([
        'model:default/forecast',
        'model:default/forecast@1',
        'model:default/forecast@2',
        'run:P',
        'run:P/executions',
        'run:c10',
        'run:c5',
      ]);
      const fromDataset = lines(
        (await store.lineage(
          { type: 'dataset', ref: 'dataset:default/images', version: 'v1' },
          { direction: 'downstream', depth: 2 },
        ))!,
        runs,
      );
      expect(fromDataset.nodes).toContain('model:default/forecast@2');
      expect(fromDataset.edges).toContain('run:c5 -executionOf-> run:P');
      // from an execution upstream: its task, and the task's inputs
      const fromExecution = lines(
        (await store.lineage(
          { type: 'run', id: runs.c5 },
          { direction: 'upstream', depth: 1 },
        ))!,
        runs,
      );
      expect(fromExecution.edges).toEqual(
        expect.arrayContaining([
          'run:c5 -executionOf-> run:P',
          'dataset:default/images@v1 -inputTo-> run:P',
        ]),
      );
    });
  },
);
