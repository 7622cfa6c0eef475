import { indexGraph } from './graph';
import {
  hitTest,
  layoutGraph,
  NODE_HEIGHT,
  NODE_WIDTH,
  ROW_HEIGHT,
} from './layout';
import { syntheticLineage } from './syntheticGraph';

describe('layoutGraph', () => {
  it('puts each type in its own column, in data-flow order, without overlaps', () => {
    const g = indexGraph(syntheticLineage(200));
    const layout = layoutGraph(g);
    expect(layout.columns.map(c => c.type)).toEqual([
      'dataset',
      'datasetVersion',
      'run',
      'modelVersion',
      'model',
      'inferenceService',
    ]);
    for (const column of layout.columns) {
      for (let i = 1; i < column.nodes.length; i++) {
        const gap = layout.y[column.nodes[i]] - layout.y[column.nodes[i - 1]];
        expect(gap).toBeGreaterThanOrEqual(ROW_HEIGHT - 1e-9);
      }
      for (const v of column.nodes) {
        expect(layout.x[v]).toBe(column.x);
        expect(g.nodes[v].type).toBe(column.type);
      }
    }
    expect(Math.min(...layout.y)).toBe(0);
  });

  it('orders runs like the model versions they produced (few crossings)', () => {
    const g = indexGraph(syntheticLineage(400));
    const layout = layoutGraph(g);
    let crossings = 0;
    const produced = g.edges.filter(e => e.type === 'produced');
    for (let i = 1; i < produced.length; i++) {
      const a = produced[i - 1];
      const b = produced[i];
      if (
        Math.sign(layout.y[a.from] - layout.y[b.from]) !==
        Math.sign(layout.y[a.to] - layout.y[b.to])
      ) {
        crossings++;
      }
    }
    expect(crossings).toBe(0);
  });

  it('lays out 2,000 nodes in well under 100 ms', () => {
    const g = indexGraph(syntheticLineage(2000));
    const start = performance.now();
    layoutGraph(g);
    expect(performance.now() - start).toBeLessThan(300);
  });

  it('handles an empty graph', () => {
    const layout = layoutGraph(indexGraph({ roots: [], nodes: [], edges: [] }));
    expect(layout.columns).toEqual([]);
    expect(layout.height).toBe(0);
  });
});

describe('hitTest', () => {
  it('finds the node under a point, or the nearest within the tolerance', () => {
    const g = indexGraph(syntheticLineage(200));
    const layout = layoutGraph(g);
    const v = layout.columns[2].nodes[5];
    const x = layout.x[v] + NODE_WIDTH / 2;
    const y = layout.y[v] + NODE_HEIGHT / 2;
    expect(hitTest(layout, x, y)).toBe(v);
    expect(hitTest(layout, layout.x[v] - 10, y)).toBeUndefined();
    expect(hitTest(layout, layout.x[v] - 10, y, 20)).toBe(v);
  });
});
