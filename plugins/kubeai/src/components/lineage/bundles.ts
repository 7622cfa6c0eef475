import { IndexedGraph } from './graph';
import { COLUMN_GAP, GraphLayout, NODE_HEIGHT, NODE_WIDTH } from './layout';

/** Edges of one node to (or from) one column are bundled beyond this many. */
export const BUNDLE_DEGREE = 24;

/**
 * The edges of one hub node to many nodes of one column (a periodic task's run and its thousands
 * of executions, a model and its versions), drawn as one vertical trunk in the gap next to that
 * column, a connector from the hub to it and a short stub per end node: a frame then draws the
 * trunk and the stubs of the end nodes on screen, not thousands of curves that all cross the
 * viewport.
 */
export interface EdgeBundle {
  hub: number;
  /** x of the trunk (layout coordinates). */
  trunkX: number;
  /** x where the connector leaves the hub. */
  hubX: number;
  /** x where a stub meets an end node. */
  endX: number;
  /** End nodes sorted by y. */
  ends: Int32Array;
  /** Vertical extent of the trunk: centres of the ends and of the hub. */
  minY: number;
  maxY: number;
}

/** The edges drawn one by one and the bundles, for a graph and its layout. */
export interface EdgePlan {
  plain: Int32Array;
  bundles: EdgeBundle[];
}

/** Splits the edges into plain ones and bundles. O(e log e). */
export function planEdges(graph: IndexedGraph, layout: GraphLayout): EdgePlan {
  const columns = layout.columns.length;
  const count = new Map<number, number>();
  const key = (node: number, column: number) => node * columns + column;
  const bump = (k: number) => count.set(k, (count.get(k) ?? 0) + 1);
  for (const e of graph.edges) {
    if (layout.column[e.from] === layout.column[e.to]) continue;
    bump(key(e.from, layout.column[e.to]));
    bump(key(e.to, layout.column[e.from]));
  }
  const plain: number[] = [];
  const members = new Map<number, number[]>(); // hub key → end nodes
  graph.edges.forEach((e, i) => {
    if (layout.column[e.from] === layout.column[e.to]) {
      plain.push(i);
      return;
    }
    const a = key(e.from, layout.column[e.to]);
    const b = key(e.to, layout.column[e.from]);
    const ca = count.get(a)!;
    const cb = count.get(b)!;
    if (Math.max(ca, cb) <= BUNDLE_DEGREE) {
      plain.push(i);
      return;
    }
    const [hubKey, end] = ca >= cb ? [a, e.to] : [b, e.from];
    const list = members.get(hubKey);
    if (list) list.push(end);
    else members.set(hubKey, [end]);
  });
  const bundles: EdgeBundle[] = [];
  for (const [hubKey, list] of members) {
    const hub = Math.floor(hubKey / columns);
    const other = hubKey % columns;
    const otherX = layout.columns[other].x;
    const right = otherX > layout.x[hub];
    const ends = Int32Array.from(list).sort(
      (p, q) => layout.y[p] - layout.y[q],
    );
    const hubY = layout.y[hub] + NODE_HEIGHT / 2;
    bundles.push({
      hub,
      trunkX: right
        ? otherX - COLUMN_GAP / 2
        : otherX + NODE_WIDTH + COLUMN_GAP / 2,
      hubX: right ? layout.x[hub] + NODE_WIDTH : layout.x[hub],
      endX: right ? otherX : otherX + NODE_WIDTH,
      ends,
      minY: Math.min(hubY, layout.y[ends[0]] + NODE_HEIGHT / 2),
      maxY: Math.max(hubY, layout.y[ends[ends.length - 1]] + NODE_HEIGHT / 2),
    });
  }
  return { plain: Int32Array.from(plain), bundles };
}

/** Index of the first end whose centre is at or below `y`. */
export function firstEndAtOrBelow(
  bundle: EdgeBundle,
  layout: GraphLayout,
  y: number,
): number {
  const { ends } = bundle;
  let lo = 0;
  let hi = ends.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (layout.y[ends[mid]] + NODE_HEIGHT / 2 < y) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Per bundle, the vertical extent of its trunk on the highlighted path (ends on the path, and the
 * hub), or undefined when the hub is not on it. O(e) once per selection, not per frame.
 */
export function pathExtents(
  plan: EdgePlan,
  layout: GraphLayout,
  highlighted: ReadonlySet<number>,
): Array<[number, number] | undefined> {
  return plan.bundles.map(b => {
    if (!highlighted.has(b.hub)) return undefined;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of b.ends) {
      if (!highlighted.has(v)) continue;
      const y = layout.y[v] + NODE_HEIGHT / 2;
      if (y < lo) lo = y;
      if (y > hi) hi = y;
    }
    if (lo === Infinity) return undefined;
    const hubY = layout.y[b.hub] + NODE_HEIGHT / 2;
    return [Math.min(lo, hubY), Math.max(hi, hubY)];
  });
}
