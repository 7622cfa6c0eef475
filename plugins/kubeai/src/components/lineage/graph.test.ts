import type { LineageGraph } from '@kubeai/plugin-kubeai-common';
import { countByType, filterGraph, indexGraph, pathThrough } from './graph';
import { syntheticLineage } from './syntheticGraph';

const graph: LineageGraph = {
  roots: ['model:default/m'],
  nodes: [
    {
      id: 'dataset:default/d',
      type: 'dataset',
      entityRef: 'dataset:default/d',
      label: 'd',
    },
    {
      id: 'dataset:default/d@1',
      type: 'datasetVersion',
      entityRef: 'dataset:default/d',
      version: '1',
      label: 'd@1',
    },
    {
      id: 'dataset:default/d@2',
      type: 'datasetVersion',
      entityRef: 'dataset:default/d',
      version: '2',
      label: 'd@2',
    },
    { id: 'run:r1', type: 'run', runId: 'r1', label: 'r1' },
    { id: 'run:r2', type: 'run', runId: 'r2', label: 'r2' },
    {
      id: 'model:default/m',
      type: 'model',
      entityRef: 'model:default/m',
      label: 'm',
    },
    {
      id: 'model:default/m@1',
      type: 'modelVersion',
      entityRef: 'model:default/m',
      version: '1',
      label: 'm v1',
    },
    {
      id: 'model:default/m@2',
      type: 'modelVersion',
      entityRef: 'model:default/m',
      version: '2',
      label: 'm v2',
    },
    {
      id: 'inferenceservice:default/s',
      type: 'inferenceService',
      entityRef: 'inferenceservice:default/s',
      label: 's',
    },
  ],
  edges: [
    { from: 'dataset:default/d@1', to: 'dataset:default/d', type: 'versionOf' },
    { from: 'dataset:default/d@2', to: 'dataset:default/d', type: 'versionOf' },
    { from: 'dataset:default/d@1', to: 'run:r1', type: 'inputTo' },
    { from: 'dataset:default/d@2', to: 'run:r2', type: 'inputTo' },
    { from: 'run:r1', to: 'model:default/m@1', type: 'produced' },
    { from: 'run:r2', to: 'model:default/m@2', type: 'produced' },
    { from: 'model:default/m@1', to: 'model:default/m', type: 'versionOf' },
    { from: 'model:default/m@2', to: 'model:default/m', type: 'versionOf' },
    {
      from: 'model:default/m@2',
      to: 'inferenceservice:default/s',
      type: 'deployedTo',
      percent: 100,
    },
    { from: 'run:r1', to: 'missing', type: 'produced' },
  ],
};

const ids = (g: ReturnType<typeof indexGraph>, set: Set<number>) =>
  [...set].map(i => g.nodes[i].id).sort();

describe('indexGraph', () => {
  it('points every edge downstream and drops edges to unknown nodes', () => {
    const g = indexGraph(graph);
    expect(g.edges).toHaveLength(9);
    const dsEdge = g.edges.find(
      e => e.type === 'versionOf' && g.nodes[e.from].type === 'dataset',
    );
    expect(dsEdge).toBeDefined();
    expect(g.roots).toEqual([g.index.get('model:default/m')]);
  });
});

describe('pathThrough', () => {
  it('walks upstream and downstream of a model version only', () => {
    const g = indexGraph(graph);
    const path = pathThrough(g, g.index.get('model:default/m@2')!);
    expect(ids(g, path)).toEqual([
      'dataset:default/d',
      'dataset:default/d@2',
      'inferenceservice:default/s',
      'model:default/m',
      'model:default/m@2',
      'run:r2',
    ]);
  });

  it('starts from every version of a model', () => {
    const g = indexGraph(graph);
    const path = pathThrough(g, g.index.get('model:default/m')!);
    expect(path.size).toBe(9);
  });

  it('does not leak into sibling versions from a service', () => {
    const g = indexGraph(graph);
    const path = pathThrough(g, g.index.get('inferenceservice:default/s')!);
    expect(ids(g, path)).not.toContain('model:default/m@1');
    expect(ids(g, path)).toContain('dataset:default/d@2');
  });
});

describe('filterGraph', () => {
  it('keeps paths through hidden nodes as via edges', () => {
    const g = indexGraph(graph);
    const f = filterGraph(g, new Set(['run']));
    expect(f.nodes.map(n => n.type)).not.toContain('run');
    const via = f.edges
      .filter(e => e.type === 'via')
      .map(e => `${f.nodes[e.from].id}>${f.nodes[e.to].id}`)
      .sort();
    expect(via).toEqual([
      'dataset:default/d@1>model:default/m@1',
      'dataset:default/d@2>model:default/m@2',
    ]);
  });

  it('returns the same graph when nothing is hidden', () => {
    const g = indexGraph(graph);
    expect(filterGraph(g, new Set())).toBe(g);
  });

  it('handles thousands of nodes quickly', () => {
    const g = indexGraph(syntheticLineage(5000));
    const start = performance.now();
    const f = filterGraph(g, new Set(['run', 'datasetVersion']));
    expect(performance.now() - start).toBeLessThan(500);
    expect(countByType(f.nodes).run).toBe(0);
    expect(f.edges.length).toBeGreaterThan(0);
  });
});
