import { TestDatabaseId } from '@backstage/backend-test-utils';
import { LineageGraph } from '@kubeai/plugin-kubeai-common';
import { Knex } from 'knex';
import {
  createTestDatabases,
  postgresSupport,
} from '../__testUtils__/databases';
import { GraphBuilder } from './lineage';
import { RegistryStore } from './RegistryStore';

jest.setTimeout(60_000);

const databases = createTestDatabases();

/*
 * The fixture graph:
 *
 *   images@v1 ─┐                          ┌─> clf@1 ──90%──> svc-a
 *   labels@l1 ─┴─> runA ──────────────────┘        ┌─10%──^
 *   images@v2 ─┬─> runB ─┬───────────────────> clf@2 ──100%─> svc-b
 *   raw ───────┘         └───────────────────> det@1 ──100%─> svc-c
 *   images@v2 ───> runC (produced nothing)         clf@3 (no run, not deployed)
 */
async function seed(store: RegistryStore) {
  const u = 'user:default/test';
  await store.createDatasetVersion(
    'dataset:default/images',
    { version: 'v1', uri: 's3://d/images/v1' },
    u,
  );
  await store.createDatasetVersion(
    'dataset:default/images',
    { version: 'v2', uri: 's3://d/images/v2' },
    u,
  );
  await store.createDatasetVersion(
    'dataset:default/labels',
    { version: 'l1', uri: 's3://d/labels/l1' },
    u,
  );
  const run = (
    name: string,
    inputs: { datasetRef: string; version?: string }[],
  ) =>
    store.createRun(
      { kind: 'training', cluster: 'c', namespace: 'ns', name, inputs },
      u,
    );
  const runA = await run('run-a', [
    { datasetRef: 'dataset:default/images', version: 'v1' },
    { datasetRef: 'dataset:default/labels', version: 'l1' },
  ]);
  const runB = await run('run-b', [
    { datasetRef: 'dataset:default/images', version: 'v2' },
    { datasetRef: 'dataset:default/raw' },
  ]);
  const runC = await run('run-c', [
    { datasetRef: 'dataset:default/images', version: 'v2' },
  ]);
  const art = { uri: 's3://m/x', format: 'onnx' };
  await store.createModelVersion(
    'model:default/clf',
    { artifact: art, runId: runA.id },
    u,
  );
  await store.createModelVersion(
    'model:default/clf',
    { artifact: art, runId: runB.id },
    u,
  );
  await store.createModelVersion('model:default/clf', { artifact: art }, u);
  await store.createModelVersion(
    'model:default/det',
    { artifact: art, runId: runB.id },
    u,
  );
  const deploy = (
    name: string,
    modelRef: string,
    traffic: { version: number; percent: number }[],
  ) =>
    store.createDeployment(
      {
        serviceRef: `inferenceservice:default/${name}`,
        cluster: 'c',
        namespace: 'ns',
        name,
        modelRef,
        traffic,
      },
      u,
    );
  await deploy('svc-a', 'model:default/clf', [
    { version: 1, percent: 90 },
    { version: 2, percent: 10 },
  ]);
  await deploy('svc-b', 'model:default/clf', [{ version: 2, percent: 100 }]);
  await deploy('svc-c', 'model:default/det', [{ version: 1, percent: 100 }]);
  await store.setObserved('inferenceservice:default/svc-b', {
    phase: 'Ready',
  });
  return { A: runA.id, B: runB.id, C: runC.id };
}

/** A graph as readable lines: node ids, and `from -type-> to` edges (run ids replaced by names). */
function lines(graph: LineageGraph, runs: Record<string, string>) {
  const name = (id: string) =>
    Object.entries(runs).reduce(
      (s, [runName, runId]) => s.replace(runId, runName),
      id,
    );
  return {
    roots: graph.roots.map(name),
    nodes: graph.nodes.map(n => name(n.id)).sort(),
    edges: graph.edges
      .map(
        e =>
          `${name(e.from)} -${e.type}${
            e.percent === undefined ? '' : `(${e.percent})`
          }-> ${name(e.to)}`,
      )
      .sort(),
  };
}

const S = 'inferenceservice:default/';

it('runs against SQLite and PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

describe.each(databases.eachSupportedId())(
  'lineage on %p',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let store: RegistryStore;
    let runs: Record<string, string>;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      await RegistryStore.migrate(knex);
      store = new RegistryStore(knex);
      runs = await seed(store);
    });

    const walk = async (
      start: Parameters<RegistryStore['lineage']>[0],
      direction: 'upstream' | 'downstream' | 'both',
      depth: number,
    ) => lines((await store.lineage(start, { direction, depth }))!, runs);

    it('walks upstream from a model version, one level per depth', async () => {
      const start = {
        type: 'model',
        ref: 'model:default/clf',
        version: 2,
      } as const;
      expect(await walk(start, 'upstream', 0)).toEqual({
        roots: ['model:default/clf@2'],
        nodes: ['model:default/clf', 'model:default/clf@2'],
        edges: ['model:default/clf@2 -versionOf-> model:default/clf'],
      });
      expect(await walk(start, 'upstream', 1)).toEqual({
        roots: ['model:default/clf@2'],
        nodes: ['model:default/clf', 'model:default/clf@2', 'run:B'],
        edges: [
          'model:default/clf@2 -versionOf-> model:default/clf',
          'run:B -produced-> model:default/clf@2',
        ],
      });
      const depth2 = {
        roots: ['model:default/clf@2'],
        nodes: [
          'dataset:default/images',
          'dataset:default/images@v2',
          'dataset:default/raw',
          'model:default/clf',
          'model:default/clf@2',
          'run:B',
        ],
        edges: [
          'dataset:default/images@v2 -inputTo-> run:B',
          'dataset:default/images@v2 -versionOf-> dataset:default/images',
          'dataset:default/raw -inputTo-> run:B',
          'model:default/clf@2 -versionOf-> model:default/clf',
          'run:B -produced-> model:default/clf@2',
        ],
      };
      expect(await walk(start, 'upstream', 2)).toEqual(depth2);
      // nothing is upstream of datasets
      expect(await walk(start, 'upstream', 10)).toEqual(depth2);
    });

    it('walks downstream from a model version to the services', async () => {
      expect(
        await walk(
          { type: 'model', ref: 'model:default/clf', version: 2 },
          'downstream',
          3,
        ),
      ).toEqual({
        roots: ['model:default/clf@2'],
        nodes: [
          `${S}svc-a`,
          `${S}svc-b`,
          'model:default/clf',
          'model:default/clf@2',
        ],
        edges: [
          `model:default/clf@2 -deployedTo(10)-> ${S}svc-a`,
          `model:default/clf@2 -deployedTo(100)-> ${S}svc-b`,
          'model:default/clf@2 -versionOf-> model:default/clf',
        ],
      });
    });

    it('answers both directions as the union of the two walks', async () => {
      const start = {
        type: 'model',
        ref: 'model:default/clf',
        version: 2,
      } as const;
      const up = await walk(start, 'upstream', 3);
      const down = await walk(start, 'downstream', 3);
      const both = await walk(start, 'both', 3);
      expect(both.nodes).toEqual(
        [...new Set([...up.nodes, ...down.nodes])].sort(),
      );
      expect(both.edges).toEqual(
        [...new Set([...up.edges, ...down.edges])].sort(),
      );
      // not an undirected walk: runB's other output det@1 is not upstream of clf@2
      expect(both.nodes).not.toContain('model:default/det@1');
    });

    it('starts from all versions of a model', async () => {
      expect(
        await walk({ type: 'model', ref: 'Model:default/CLF' }, 'upstream', 1),
      ).toEqual({
        roots: ['model:default/clf'],
        nodes: [
          'model:default/clf',
          'model:default/clf@1',
          'model:default/clf@2',
          'model:default/clf@3',
          'run:A',
          'run:B',
        ],
        edges: [
          'model:default/clf@1 -versionOf-> model:default/clf',
          'model:default/clf@2 -versionOf-> model:default/clf',
          'model:default/clf@3 -versionOf-> model:default/clf',
          'run:A -produced-> model:default/clf@1',
          'run:B -produced-> model:default/clf@2',
        ],
      });
    });

    it('walks downstream from a dataset through runs and versions to services', async () => {
      const start = { type: 'dataset', ref: 'dataset:default/images' } as const;
      const depth2 = {
        roots: ['dataset:default/images'],
        nodes: [
          'dataset:default/images',
          'dataset:default/images@v1',
          'dataset:default/images@v2',
          'model:default/clf',
          'model:default/clf@1',
          'model:default/clf@2',
          'model:default/det',
          'model:default/det@1',
          'run:A',
          'run:B',
          'run:C',
        ],
        edges: [
          'dataset:default/images@v1 -inputTo-> run:A',
          'dataset:default/images@v1 -versionOf-> dataset:default/images',
          'dataset:default/images@v2 -inputTo-> run:B',
          'dataset:default/images@v2 -inputTo-> run:C',
          'dataset:default/images@v2 -versionOf-> dataset:default/images',
          'model:default/clf@1 -versionOf-> model:default/clf',
          'model:default/clf@2 -versionOf-> model:default/clf',
          'model:default/det@1 -versionOf-> model:default/det',
          'run:A -produced-> model:default/clf@1',
          'run:B -produced-> model:default/clf@2',
          'run:B -produced-> model:default/det@1',
        ],
      };
      expect(await walk(start, 'downstream', 2)).toEqual(depth2);
      expect(await walk(start, 'downstream', 3)).toEqual({
        roots: depth2.roots,
        nodes: [...depth2.nodes, `${S}svc-a`, `${S}svc-b`, `${S}svc-c`].sort(),
        edges: [
          ...depth2.edges,
          `model:default/clf@1 -deployedTo(90)-> ${S}svc-a`,
          `model:default/clf@2 -deployedTo(10)-> ${S}svc-a`,
          `model:default/clf@2 -deployedTo(100)-> ${S}svc-b`,
          `model:default/det@1 -deployedTo(100)-> ${S}svc-c`,
        ].sort(),
      });
    });

    it('walks downstream from an unversioned dataset input', async () => {
      expect(
        await walk(
          { type: 'dataset', ref: 'dataset:default/raw' },
          'downstream',
          1,
        ),
      ).toEqual({
        roots: ['dataset:default/raw'],
        nodes: ['dataset:default/raw', 'run:B'],
        edges: ['dataset:default/raw -inputTo-> run:B'],
      });
    });

    it('walks upstream from a service to its datasets', async () => {
      const graph = await store.lineage(
        { type: 'inferenceService', ref: `${S}svc-a` },
        { direction: 'upstream', depth: 3 },
      );
      expect(lines(graph!, runs)).toEqual({
        roots: [`${S}svc-a`],
        nodes: [
          'dataset:default/images',
          'dataset:default/images@v1',
          'dataset:default/images@v2',
          'dataset:default/labels',
          'dataset:default/labels@l1',
          'dataset:default/raw',
          `${S}svc-a`,
          'model:default/clf',
          'model:default/clf@1',
          'model:default/clf@2',
          'run:A',
          'run:B',
        ],
        edges: [
          'dataset:default/images@v1 -inputTo-> run:A',
          'dataset:default/images@v1 -versionOf-> dataset:default/images',
          'dataset:default/images@v2 -inputTo-> run:B',
          'dataset:default/images@v2 -versionOf-> dataset:default/images',
          'dataset:default/labels@l1 -inputTo-> run:A',
          'dataset:default/labels@l1 -versionOf-> dataset:default/labels',
          'dataset:default/raw -inputTo-> run:B',
          `model:default/clf@1 -deployedTo(90)-> ${S}svc-a`,
          `model:default/clf@2 -deployedTo(10)-> ${S}svc-a`,
          'model:default/clf@1 -versionOf-> model:default/clf',
          'model:default/clf@2 -versionOf-> model:default/clf',
          'run:A -produced-> model:default/clf@1',
          'run:B -produced-> model:default/clf@2',
        ].sort(),
      });
    });

    it('walks both ways from a run, with node details', async () => {
      const graph = (await store.lineage(
        { type: 'run', id: runs.B },
        { direction: 'both', depth: 1 },
      ))!;
      expect(lines(graph, runs)).toEqual({
        roots: ['run:B'],
        nodes: [
          'dataset:default/images',
          'dataset:default/images@v2',
          'dataset:default/raw',
          'model:default/clf',
          'model:default/clf@2',
          'model:default/det',
          'model:default/det@1',
          'run:B',
        ],
        edges: [
          'dataset:default/images@v2 -inputTo-> run:B',
          'dataset:default/images@v2 -versionOf-> dataset:default/images',
          'dataset:default/raw -inputTo-> run:B',
          'model:default/clf@2 -versionOf-> model:default/clf',
          'model:default/det@1 -versionOf-> model:default/det',
          'run:B -produced-> model:default/clf@2',
          'run:B -produced-> model:default/det@1',
        ],
      });
      const byId = new Map(graph.nodes.map(n => [n.id, n]));
      expect(byId.get(`run:${runs.B}`)).toEqual({
        id: `run:${runs.B}`,
        type: 'run',
        runId: runs.B,
        label: 'run-b',
        status: 'Pending',
      });
      expect(byId.get('model:default/clf@2')).toEqual({
        id: 'model:default/clf@2',
        type: 'modelVersion',
        entityRef: 'model:default/clf',
        version: '2',
        label: 'clf v2',
        status: 'live',
      });
      expect(byId.get('dataset:default/images@v2')).toEqual({
        id: 'dataset:default/images@v2',
        type: 'datasetVersion',
        entityRef: 'dataset:default/images',
        version: 'v2',
        label: 'images@v2',
      });
    });

    it('reports the observed phase of services', async () => {
      const graph = (await store.lineage(
        { type: 'inferenceService', ref: `${S}svc-b` },
        { direction: 'upstream', depth: 0 },
      ))!;
      expect(graph.nodes).toEqual([
        {
          id: `${S}svc-b`,
          type: 'inferenceService',
          entityRef: `${S}svc-b`,
          label: 'svc-b',
          status: 'Ready',
        },
      ]);
    });

    it('answers undefined for starts the registry does not know', async () => {
      const options = { direction: 'both', depth: 3 } as const;
      expect(
        await store.lineage(
          { type: 'model', ref: 'model:default/nope' },
          options,
        ),
      ).toBeUndefined();
      expect(
        await store.lineage(
          { type: 'model', ref: 'model:default/clf', version: 9 },
          options,
        ),
      ).toBeUndefined();
      expect(
        await store.lineage(
          { type: 'dataset', ref: 'dataset:default/images', version: 'v9' },
          options,
        ),
      ).toBeUndefined();
      expect(
        await store.lineage(
          { type: 'inferenceService', ref: `${S}nope` },
          options,
        ),
      ).toBeUndefined();
      expect(
        await store.lineage(
          { type: 'run', id: '00000000-0000-4000-8000-000000000000' },
          options,
        ),
      ).toBeUndefined();
    });
  },
);

describe('GraphBuilder.graph', () => {
  const node = (id: string) => ({
    id,
    type: 'model' as const,
    entityRef: id,
    label: id,
  });
  it('orders nodes by id and edges by from, to and type; drops repeats and edges to unknown nodes', () => {
    const g = new GraphBuilder();
    for (const id of ['m:b', 'm:a@2', 'm:a', 's:x']) g.add(node(id));
    expect(g.add({ ...node('m:b'), label: 'again' })).toBe(0);
    g.link('m:a@2', 's:x', 'servedBy', 100);
    g.link('m:a@2', 's:x', 'deployedTo', 90);
    g.link('m:a@2', 'm:a', 'versionOf');
    g.link('m:a@2', 's:x', 'deployedTo', 10);
    g.link('m:b', 'nowhere', 'deployedTo');
    g.link('m:a', 'm:b', 'produced');
    const graph = g.graph(['m:a']);
    expect(graph.roots).toEqual(['m:a']);
    expect(graph.nodes.map(n => n.id)).toEqual(['m:a', 'm:a@2', 'm:b', 's:x']);
    expect(graph.nodes[2].label).toBe('m:b'); // the node added first
    expect(graph.edges).toEqual([
      { from: 'm:a', to: 'm:b', type: 'produced' },
      { from: 'm:a@2', to: 'm:a', type: 'versionOf' },
      // the first found of a repeated edge
      { from: 'm:a@2', to: 's:x', type: 'deployedTo', percent: 90 },
      { from: 'm:a@2', to: 's:x', type: 'servedBy', percent: 100 },
    ]);
  });
});
