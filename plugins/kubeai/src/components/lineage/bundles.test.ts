import { indexGraph } from './graph';
import { layoutGraph, NODE_HEIGHT } from './layout';
import {
  BUNDLE_DEGREE,
  firstEndAtOrBelow,
  pathExtents,
  planEdges,
} from './bundles';
import { syntheticChildRunLineage, syntheticLineage } from './syntheticGraph';

describe('child runs in the layout', () => {
  it('puts the periodic task in a column of its own, left of its executions', () => {
    const g = indexGraph(syntheticChildRunLineage(2000));
    const layout = layoutGraph(g);
    const parent = g.index.get('run:forecast-daily')!;
    const child = g.index.get('run:forecast-daily-7')!;
    expect(layout.columns.map(c => c.type)).toEqual([
      'dataset',
      'datasetVersion',
      'run',
      'run',
      'modelVersion',
      'model',
      'inferenceService',
    ]);
    expect(layout.columns[2].nodes).toEqual([parent]);
    expect(layout.column[child]).toBe(3);
    // executionOf flows from the periodic task to its executions
    const e = g.edges.find(x => x.type === 'executionOf')!;
    expect(e.from).toBe(parent);
  });
});

describe('planEdges', () => {
  it('bundles the edges of hubs with many neighbours in one column, and only those', () => {
    const g = indexGraph(syntheticChildRunLineage(2000));
    const layout = layoutGraph(g);
    const plan = planEdges(g, layout);
    const parent = g.index.get('run:forecast-daily')!;
    const executions = plan.bundles.find(
      b => b.hub === parent && layout.column[b.ends[0]] === 3,
    )!;
    const count = g.edges.filter(e => e.type === 'executionOf').length;
    expect(executions.ends).toHaveLength(count);
    expect(count).toBeGreaterThan(BUNDLE_DEGREE);
    // every edge is drawn once: plain or in one bundle
    const bundled = plan.bundles.reduce((s, b) => s + b.ends.length, 0);
    expect(plan.plain.length + bundled).toBe(g.edges.length);
    // ends sorted by y, found by binary search
    for (let i = 1; i < executions.ends.length; i++) {
      expect(layout.y[executions.ends[i]]).toBeGreaterThanOrEqual(
        layout.y[executions.ends[i - 1]],
      );
    }
    const y = layout.y[executions.ends[10]] + NODE_HEIGHT / 2;
    expect(firstEndAtOrBelow(executions, layout, y)).toBe(10);
    // the trunk lies in the gap left of the executions' column
    expect(executions.trunkX).toBeLessThan(layout.columns[3].x);
    expect(executions.trunkX).toBeGreaterThan(layout.x[parent]);
  });

  it('draws a graph without hubs edge by edge', () => {
    const g = indexGraph(syntheticLineage(60));
    const plan = planEdges(g, layoutGraph(g));
    expect(plan.bundles).toHaveLength(0);
    expect(plan.plain).toHaveLength(g.edges.length);
  });

  it('gives the part of a trunk on the highlighted path', () => {
    const g = indexGraph(syntheticChildRunLineage(2000));
    const layout = layoutGraph(g);
    const plan = planEdges(g, layout);
    const parent = g.index.get('run:forecast-daily')!;
    const child = g.index.get('run:forecast-daily-7')!;
    const extents = pathExtents(plan, layout, new Set([parent, child]));
    const i = plan.bundles.findIndex(
      b => b.hub === parent && layout.column[b.ends[0]] === 3,
    );
    const ys = [parent, child].map(v => layout.y[v] + NODE_HEIGHT / 2);
    expect(extents[i]).toEqual([Math.min(...ys), Math.max(...ys)]);
    expect(pathExtents(plan, layout, new Set([child]))[i]).toBeUndefined();
  });
});
