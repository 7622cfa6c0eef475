/**
 * Drawing of the lineage canvas (see LineageCanvas.tsx): the part of the graph in the viewport,
 * with bundled edges (bundles.ts) and a level of detail by zoom.
 */
import type { IndexedGraph } from './graph';
import { GraphLayout, NODE_HEIGHT, NODE_WIDTH } from './layout';
import { NODE_COLORS, statusColor } from './colors';
import { EdgePlan, firstEndAtOrBelow } from './bundles';

/** The view: zoom `k`, then translation (screen = layout · k + t). */
export interface View {
  k: number;
  tx: number;
  ty: number;
}

/** Collects edges into one path per style: thousands of edges, one stroke call. */
class SegmentBatch {
  private readonly segments: number[] = [];
  constructor(private readonly ctx: CanvasRenderingContext2D) {}
  segment(sx: number, sy: number, ex: number, ey: number, curved: boolean) {
    this.segments.push(sx, sy, ex, ey, curved ? 1 : 0);
  }
  stroke() {
    const p = this.segments;
    if (!p.length) return;
    const ctx = this.ctx;
    ctx.beginPath();
    for (let i = 0; i < p.length; i += 5) {
      const sx = p[i];
      const sy = p[i + 1];
      const ex = p[i + 2];
      const ey = p[i + 3];
      ctx.moveTo(sx, sy);
      if (p[i + 4]) {
        const mx = (sx + ex) / 2;
        ctx.bezierCurveTo(mx, sy, mx, ey, ex, ey);
      } else {
        ctx.lineTo(ex, ey);
      }
    }
    ctx.stroke();
  }
}

/** Stubs of bundled edges are drawn while a row is at least this tall on screen (px). */
const ROW_STUB_MIN_PX = 4;

/** What a frame draws. */
export interface DrawOptions {
  graph: IndexedGraph;
  layout: GraphLayout;
  selected?: number;
  highlighted?: ReadonlySet<number>;
  plan: EdgePlan;
  /** Per bundle, the extent of its trunk on the highlighted path. */
  extents?: Array<[number, number] | undefined>;
  view: View;
  width: number;
  height: number;
  dpr: number;
  text: string;
  background: string;
  edge: string;
}

/** Draws the visible part of the graph. */
export function drawGraph(ctx: CanvasRenderingContext2D, o: DrawOptions) {
  const { graph, layout, view, dpr, highlighted, selected } = o;
  const { k, tx, ty } = view;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = o.background;
  ctx.fillRect(0, 0, o.width, o.height);
  ctx.setTransform(dpr * k, 0, 0, dpr * k, dpr * tx, dpr * ty);

  const x0 = -tx / k;
  const y0 = -ty / k;
  const x1 = (o.width - tx) / k;
  const y1 = (o.height - ty) / k;
  const hasPath = highlighted !== undefined && highlighted.size > 0;
  const curved = k > 0.15;

  // Edges in two batches: normal (dimmed when a path is shown) and on the path.
  const normal = new SegmentBatch(ctx);
  const onPath = new SegmentBatch(ctx);
  const labels: Array<{ x: number; y: number; text: string }> = [];
  drawBundles(o, normal, onPath, x0, y0, x1, y1);
  const plain = o.plan.plain;
  for (let p = 0; p < plain.length; p++) {
    const e = graph.edges[plain[p]];
    let a = e.from;
    let b = e.to;
    if (layout.x[a] > layout.x[b]) [a, b] = [b, a];
    const sx = layout.x[a] + (layout.x[a] === layout.x[b] ? 0 : NODE_WIDTH);
    const sy = layout.y[a] + NODE_HEIGHT / 2;
    const ex = layout.x[b];
    const ey = layout.y[b] + NODE_HEIGHT / 2;
    if (
      Math.max(sy, ey) < y0 ||
      Math.min(sy, ey) > y1 ||
      Math.max(sx, ex) < x0 ||
      Math.min(sx, ex) > x1
    ) {
      continue;
    }
    const path =
      hasPath && highlighted!.has(e.from) && highlighted!.has(e.to)
        ? onPath
        : normal;
    path.segment(sx, sy, ex, ey, curved);
    if (e.percent !== undefined && k >= 0.6) {
      labels.push({ x: ex - 30, y: ey - 4, text: `${e.percent}%` });
    }
  }
  ctx.lineWidth = Math.max(1, 1 / k) * (hasPath ? 0.8 : 1);
  ctx.strokeStyle = o.edge;
  ctx.globalAlpha = hasPath ? 0.12 : 0.45;
  normal.stroke();
  ctx.globalAlpha = 1;
  ctx.lineWidth = Math.max(2, 2 / k);
  ctx.strokeStyle = '#ff9800';
  onPath.stroke();

  // Nodes, per column, only the visible rows.
  const showLabels = k >= 0.45;
  ctx.font = '12px sans-serif';
  ctx.textBaseline = 'middle';
  const maxChars = Math.floor((NODE_WIDTH - 22) / 6.6);
  for (const column of layout.columns) {
    if (column.x > x1 || column.x + NODE_WIDTH < x0) continue;
    const list = column.nodes;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (layout.y[list[mid]] + NODE_HEIGHT < y0) lo = mid + 1;
      else hi = mid;
    }
    const color = NODE_COLORS[column.type];
    if (NODE_HEIGHT * k < 3) {
      // Level of detail: rows of a few pixels merge into bands, one rectangle per run of rows.
      drawBands(ctx, o, list, lo, y1, color);
      continue;
    }
    for (let i = lo; i < list.length; i++) {
      const v = list[i];
      const x = layout.x[v];
      const y = layout.y[v];
      if (y > y1) break;
      const dim = hasPath && !highlighted!.has(v);
      ctx.globalAlpha = dim ? 0.25 : 1;
      if (!showLabels) {
        ctx.fillStyle = color;
        ctx.fillRect(x, y, NODE_WIDTH, NODE_HEIGHT);
      } else {
        ctx.fillStyle = o.background;
        ctx.fillRect(x, y, NODE_WIDTH, NODE_HEIGHT);
        ctx.fillStyle = color;
        ctx.fillRect(x, y, 6, NODE_HEIGHT);
        ctx.strokeStyle = color;
        ctx.lineWidth = 1;
        ctx.strokeRect(x + 0.5, y + 0.5, NODE_WIDTH - 1, NODE_HEIGHT - 1);
        const node = graph.nodes[v];
        const status = statusColor(node.status);
        if (status) {
          ctx.fillStyle = status;
          ctx.beginPath();
          ctx.arc(x + NODE_WIDTH - 9, y + NODE_HEIGHT / 2, 4, 0, Math.PI * 2);
          ctx.fill();
        }
        ctx.fillStyle = o.text;
        const text =
          node.label.length > maxChars
            ? `${node.label.slice(0, maxChars - 1)}…`
            : node.label;
        ctx.fillText(text, x + 12, y + NODE_HEIGHT / 2);
      }
      if (graph.nodes[v].executions && showLabels) {
        // a summary of executions: a second card behind it
        ctx.strokeStyle = color;
        ctx.lineWidth = 1;
        ctx.strokeRect(x + 3.5, y + NODE_HEIGHT + 0.5, NODE_WIDTH - 4, 3);
      }
      if (v === selected) {
        ctx.globalAlpha = 1;
        ctx.strokeStyle = '#ff9800';
        ctx.lineWidth = Math.max(3, 3 / k);
        ctx.strokeRect(x - 2, y - 2, NODE_WIDTH + 4, NODE_HEIGHT + 4);
      }
    }
  }
  ctx.globalAlpha = 1;
  if (labels.length) {
    ctx.fillStyle = o.text;
    ctx.font = '11px sans-serif';
    for (const l of labels) ctx.fillText(l.text, l.x, l.y);
  }
}

/** Bands of the rows `list[lo…]` down to `y1`: touching rows (on screen) are one rectangle. */
function drawBands(
  ctx: CanvasRenderingContext2D,
  o: DrawOptions,
  list: number[],
  lo: number,
  y1: number,
  color: string,
) {
  const { layout, highlighted, selected, view } = o;
  const hasPath = highlighted !== undefined && highlighted.size > 0;
  const join = 2 / view.k; // rows closer than 2 px on screen merge
  for (const pass of hasPath ? [false, true] : [true]) {
    ctx.globalAlpha = pass ? 1 : 0.25;
    ctx.fillStyle = color;
    let start = NaN;
    let end = NaN;
    let x = 0;
    for (let i = lo; i < list.length; i++) {
      const v = list[i];
      const y = layout.y[v];
      if (y > y1) break;
      if (hasPath && highlighted!.has(v) !== pass) continue;
      if (y <= end + join) {
        end = y + NODE_HEIGHT;
      } else {
        if (!Number.isNaN(start))
          ctx.fillRect(x, start, NODE_WIDTH, end - start);
        start = y;
        end = y + NODE_HEIGHT;
        x = layout.x[v];
      }
    }
    if (!Number.isNaN(start)) ctx.fillRect(x, start, NODE_WIDTH, end - start);
  }
  ctx.globalAlpha = 1;
  if (
    selected !== undefined &&
    layout.column[selected] === layout.column[list[0]]
  ) {
    ctx.strokeStyle = '#ff9800';
    ctx.lineWidth = 3 / view.k;
    ctx.strokeRect(
      layout.x[selected] - 2 / view.k,
      layout.y[selected] - 2 / view.k,
      NODE_WIDTH + 4 / view.k,
      NODE_HEIGHT + 4 / view.k,
    );
  }
}

/**
 * The bundled edges in the viewport: each bundle's trunk (clipped), its connector to the hub and
 * the stubs of the end nodes on screen (none when rows are under 2 px: the bands show them).
 */
function drawBundles(
  o: DrawOptions,
  normal: SegmentBatch,
  onPath: SegmentBatch,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
) {
  const { layout, highlighted, plan, extents, view } = o;
  const hasPath = highlighted !== undefined && highlighted.size > 0;
  const stubs = ROW_STUB_MIN_PX <= NODE_HEIGHT * view.k;
  plan.bundles.forEach((b, i) => {
    const left = Math.min(b.hubX, b.trunkX, b.endX);
    const right = Math.max(b.hubX, b.trunkX, b.endX);
    if (right < x0 || left > x1 || b.maxY < y0 || b.minY > y1) return;
    const hubOnPath = hasPath && highlighted!.has(b.hub);
    const hubY = layout.y[b.hub] + NODE_HEIGHT / 2;
    if (b.trunkX >= x0 && b.trunkX <= x1) {
      normal.segment(
        b.trunkX,
        Math.max(b.minY, y0),
        b.trunkX,
        Math.min(b.maxY, y1),
        false,
      );
      const extent = extents?.[i];
      if (extent && extent[1] >= y0 && extent[0] <= y1) {
        onPath.segment(
          b.trunkX,
          Math.max(extent[0], y0),
          b.trunkX,
          Math.min(extent[1], y1),
          false,
        );
      }
    }
    if (hubY >= y0 && hubY <= y1) {
      (extents?.[i] ? onPath : normal).segment(
        b.hubX,
        hubY,
        b.trunkX,
        hubY,
        false,
      );
    }
    if (
      !stubs ||
      Math.max(b.trunkX, b.endX) < x0 ||
      Math.min(b.trunkX, b.endX) > x1
    ) {
      return;
    }
    for (let j = firstEndAtOrBelow(b, layout, y0); j < b.ends.length; j++) {
      const v = b.ends[j];
      const y = layout.y[v] + NODE_HEIGHT / 2;
      if (y > y1) break;
      (hubOnPath && highlighted!.has(v) ? onPath : normal).segment(
        b.trunkX,
        y,
        b.endX,
        y,
        false,
      );
    }
  });
}
