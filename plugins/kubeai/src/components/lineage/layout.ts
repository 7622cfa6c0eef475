import type { LineageNodeType } from '@kubeai/plugin-kubeai-common';
import { IndexedGraph, NODE_TYPES } from './graph';

/** Geometry of the layered layout. */
export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 28;
export const ROW_HEIGHT = 40;
export const COLUMN_GAP = 140;

/**
 * One column of the layout: the nodes of one type, top to bottom (runs that started executions,
 * periodic tasks, have a column of their own left of the other runs).
 */
export interface LayoutColumn {
  type: LineageNodeType;
  x: number;
  /** Node indexes sorted by `y`. */
  nodes: number[];
}

/** Top-left corner of every node (by node index), the columns and the size of the drawing. */
export interface GraphLayout {
  x: Float64Array;
  y: Float64Array;
  columns: LayoutColumn[];
  /** Column index of each node. */
  column: Int32Array;
  width: number;
  height: number;
}

/**
 * A layered layout in O((n + e) · sweeps + n log n): one column per node type (data flows left to
 * right), nodes ordered within their column by the barycenter heuristic (alternating sweeps), then
 * placed vertically next to the mean of their already placed neighbours (largest column first)
 * without overlaps.
 */
export function layoutGraph(
  graph: IndexedGraph,
  options: { sweeps?: number } = {},
): GraphLayout {
  const n = graph.nodes.length;
  const sweeps = options.sweeps ?? 4;
  // Periodic tasks' runs get a column of their own, left of the runs (their executions).
  const slot = new Int32Array(n);
  const periodic = NODE_TYPES.indexOf('run');
  graph.nodes.forEach((v, i) => {
    const t = NODE_TYPES.indexOf(v.type);
    slot[i] = t < periodic ? t : t + 1;
  });
  for (const e of graph.edges) {
    if (e.type === 'executionOf') slot[e.from] = periodic;
  }
  const slotTypes: LineageNodeType[] = [
    ...NODE_TYPES.slice(0, periodic + 1),
    ...NODE_TYPES.slice(periodic),
  ];
  const used = new Uint8Array(slotTypes.length);
  for (let i = 0; i < n; i++) used[slot[i]] = 1;
  const present: LineageNodeType[] = [];
  const colOfSlot = new Int32Array(slotTypes.length).fill(-1);
  slotTypes.forEach((t, k) => {
    if (used[k]) {
      colOfSlot[k] = present.length;
      present.push(t);
    }
  });
  const column = new Int32Array(n);
  const cols: number[][] = present.map(() => []);
  for (let i = 0; i < n; i++) {
    const c = colOfSlot[slot[i]];
    column[i] = c;
    cols[c].push(i);
  }

  // Neighbours (both directions) as a flat CSR array.
  const degree = new Int32Array(n + 1);
  for (const e of graph.edges) {
    degree[e.from + 1]++;
    degree[e.to + 1]++;
  }
  for (let i = 0; i < n; i++) degree[i + 1] += degree[i];
  const fill = degree.slice(0, n);
  const adj = new Int32Array(degree[n]);
  for (const e of graph.edges) {
    adj[fill[e.from]++] = e.to;
    adj[fill[e.to]++] = e.from;
  }

  // Normalised rank (0..1) of each node within its column.
  const pos = new Float64Array(n);
  const setRanks = (c: number) => {
    const list = cols[c];
    const d = Math.max(1, list.length - 1);
    list.forEach((v, r) => {
      pos[v] = list.length === 1 ? 0.5 : r / d;
    });
  };
  cols.forEach((_, c) => setRanks(c));

  const bary = new Float64Array(n);
  const order = (c: number, fromSide: (other: number) => boolean) => {
    const list = cols[c];
    for (const v of list) {
      let sum = 0;
      let count = 0;
      for (let k = degree[v]; k < degree[v + 1]; k++) {
        const u = adj[k];
        if (fromSide(column[u])) {
          sum += pos[u];
          count++;
        }
      }
      bary[v] = count ? sum / count : pos[v];
    }
    list.sort((a, b) => bary[a] - bary[b] || pos[a] - pos[b]);
    setRanks(c);
  };
  for (let s = 0; s < sweeps; s++) {
    for (let c = 1; c < cols.length; c++) order(c, o => o < c);
    for (let c = cols.length - 2; c >= 0; c--) order(c, o => o > c);
  }

  // Vertical placement: largest column first, each next to its placed neighbours.
  const y = new Float64Array(n).fill(NaN);
  const placed = new Uint8Array(cols.length);
  const bySize = cols
    .map((list, c) => ({ c, size: list.length }))
    .sort((a, b) => b.size - a.size || a.c - b.c);
  for (const { c } of bySize) {
    const list = cols[c];
    const desired = new Float64Array(list.length);
    let anyDesired = false;
    list.forEach((v, r) => {
      let sum = 0;
      let count = 0;
      for (let k = degree[v]; k < degree[v + 1]; k++) {
        const u = adj[k];
        if (placed[column[u]]) {
          sum += y[u];
          count++;
        }
      }
      desired[r] = count ? sum / count : NaN;
      if (count) anyDesired = true;
    });
    if (!anyDesired) {
      list.forEach((v, r) => {
        y[v] = r * ROW_HEIGHT;
      });
    } else {
      fillGaps(desired);
      // Average of a top-down and a bottom-up compaction, then remove overlaps.
      const down = Float64Array.from(desired);
      for (let r = 1; r < down.length; r++) {
        down[r] = Math.max(down[r], down[r - 1] + ROW_HEIGHT);
      }
      const up = Float64Array.from(desired);
      for (let r = up.length - 2; r >= 0; r--) {
        up[r] = Math.min(up[r], up[r + 1] - ROW_HEIGHT);
      }
      let prev = -Infinity;
      list.forEach((v, r) => {
        const value = Math.max((down[r] + up[r]) / 2, prev + ROW_HEIGHT);
        y[v] = value;
        prev = value;
      });
    }
    placed[c] = 1;
  }

  // Shift so that the drawing starts at 0.
  let minY = Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    if (y[i] < minY) minY = y[i];
    if (y[i] > maxY) maxY = y[i];
  }
  if (!Number.isFinite(minY)) {
    minY = 0;
    maxY = 0;
  }
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    y[i] -= minY;
    x[i] = column[i] * (NODE_WIDTH + COLUMN_GAP);
  }
  const columns: LayoutColumn[] = cols.map((list, c) => ({
    type: present[c],
    x: c * (NODE_WIDTH + COLUMN_GAP),
    nodes: list, // already in y order
  }));
  return {
    x,
    y,
    column,
    columns,
    width: Math.max(0, cols.length * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP),
    height: n ? maxY - minY + NODE_HEIGHT : 0,
  };
}

/** Replaces NaN entries by the previous value + a row (or the next value − rows). */
function fillGaps(values: Float64Array) {
  let firstKnown = -1;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isNaN(values[i])) {
      firstKnown = i;
      break;
    }
  }
  for (let i = firstKnown - 1; i >= 0; i--) {
    values[i] = values[i + 1] - ROW_HEIGHT;
  }
  for (let i = firstKnown + 1; i < values.length; i++) {
    if (Number.isNaN(values[i])) values[i] = values[i - 1] + ROW_HEIGHT;
  }
}

/**
 * The node at a point of the drawing (layout coordinates), or the nearest one within `tolerance`.
 * O(columns + log n) by binary search in the column.
 */
export function hitTest(
  layout: GraphLayout,
  px: number,
  py: number,
  tolerance = 0,
): number | undefined {
  let best: number | undefined;
  let bestDistance = Infinity;
  for (const col of layout.columns) {
    const dx = distanceOutside(px, col.x, col.x + NODE_WIDTH);
    if (dx > tolerance) continue;
    const list = col.nodes;
    // first node whose bottom is below py - tolerance
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (layout.y[list[mid]] + NODE_HEIGHT < py - tolerance) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < list.length; i++) {
      const v = list[i];
      const top = layout.y[v];
      if (top > py + tolerance) break;
      const dy = distanceOutside(py, top, top + NODE_HEIGHT);
      const d = Math.max(dx, dy);
      if (d <= tolerance && d < bestDistance) {
        best = v;
        bestDistance = d;
      }
    }
  }
  return best;
}

/** How far `v` is outside `[lo, hi]` (0 inside). */
function distanceOutside(v: number, lo: number, hi: number): number {
  if (v < lo) return lo - v;
  if (v > hi) return v - hi;
  return 0;
}
