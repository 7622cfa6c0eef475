import {
  forwardRef,
  KeyboardEvent,
  useCallback,
  useEffect,
  useImperativeHandle,
  useRef,
} from 'react';
import { useTheme } from '@material-ui/core/styles';
import { IndexedGraph } from './graph';
import { GraphLayout, hitTest, NODE_HEIGHT, NODE_WIDTH } from './layout';
import { NODE_COLORS, statusColor } from './colors';

/** Imperative controls of the canvas (toolbar buttons, node list, benchmarks). */
export interface LineageCanvasHandle {
  fit(): void;
  zoomBy(factor: number): void;
  centerOn(index: number): void;
  /** Where a node is on the screen (client coordinates of its centre), if laid out. */
  nodeClientPosition(index: number): { x: number; y: number } | undefined;
}

/** Props of {@link LineageCanvas}. */
export interface LineageCanvasProps {
  graph: IndexedGraph;
  layout: GraphLayout;
  selected?: number;
  /** Nodes on the selected path (indexes of `graph`). */
  highlighted?: ReadonlySet<number>;
  /** Node to centre on at the first draw. */
  focus?: number;
  height: number;
  label: string;
  onSelect(index: number | undefined): void;
  onOpen(index: number): void;
  /** Called once the first frame is drawn. */
  onReady?(): void;
}

interface View {
  k: number;
  tx: number;
  ty: number;
}

const MIN_ZOOM = 0.005;
const MAX_ZOOM = 3;

/**
 * The lineage graph on one `<canvas>`: only what is in the viewport is drawn (binary search per
 * column for nodes, bounding-box culling for edges), labels only when readable, redraws batched
 * in `requestAnimationFrame`. Pan by dragging, zoom with the wheel or `+` / `-`, `0` fits; arrow
 * keys move the selection, Enter opens the selected node.
 */
export const LineageCanvas = forwardRef<
  LineageCanvasHandle,
  LineageCanvasProps
>(function LineageCanvasImpl(props, ref) {
  const { graph, layout, selected, highlighted, focus, height, label } = props;
  const theme = useTheme();
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const view = useRef<View>({ k: 1, tx: 0, ty: 0 });
  const size = useRef({ width: 0, height });
  const frame = useRef<number | undefined>(undefined);
  const initialised = useRef(false);
  const ready = useRef(false);
  const latest = useRef(props);
  latest.current = props;

  const draw = useCallback(() => {
    frame.current = undefined;
    const canvas = canvasRef.current;
    if (!canvas) return;
    const { width, height: h } = size.current;
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * dpr)) {
      canvas.width = Math.round(width * dpr);
    }
    if (canvas.height !== Math.round(h * dpr)) {
      canvas.height = Math.round(h * dpr);
    }
    const ctx = canvas.getContext('2d');
    if (ctx) {
      drawGraph(ctx, {
        ...latest.current,
        view: view.current,
        width,
        height: h,
        dpr,
        text: theme.palette.text.primary,
        background: theme.palette.background.paper,
        edge: theme.palette.text.secondary,
      });
    }
    if (!ready.current) {
      ready.current = true;
      latest.current.onReady?.();
    }
  }, [theme]);

  const schedule = useCallback(() => {
    if (frame.current === undefined) {
      frame.current = window.requestAnimationFrame(draw);
    }
  }, [draw]);

  const fit = useCallback(() => {
    const { width, height: h } = size.current;
    const pad = 24;
    const k = clamp(
      Math.min(
        (width - 2 * pad) / Math.max(1, layout.width),
        (h - 2 * pad) / Math.max(1, layout.height),
        1,
      ),
    );
    view.current = {
      k,
      tx: (width - layout.width * k) / 2,
      ty: (h - layout.height * k) / 2,
    };
    schedule();
  }, [layout, schedule]);

  const centerOn = useCallback(
    (index: number) => {
      const { width, height: h } = size.current;
      const k = Math.max(view.current.k, 0.6);
      view.current = {
        k,
        tx: width / 2 - (layout.x[index] + NODE_WIDTH / 2) * k,
        ty: h / 2 - (layout.y[index] + NODE_HEIGHT / 2) * k,
      };
      schedule();
    },
    [layout, schedule],
  );

  const zoomAt = useCallback(
    (factor: number, cx: number, cy: number) => {
      const v = view.current;
      const k = clamp(v.k * factor);
      view.current = {
        k,
        tx: cx - ((cx - v.tx) * k) / v.k,
        ty: cy - ((cy - v.ty) * k) / v.k,
      };
      schedule();
    },
    [schedule],
  );

  useImperativeHandle(
    ref,
    () => ({
      fit,
      centerOn,
      zoomBy: f => zoomAt(f, size.current.width / 2, size.current.height / 2),
      nodeClientPosition: index => {
        const canvas = canvasRef.current;
        if (!canvas || index < 0 || index >= layout.x.length) return undefined;
        const rect = canvas.getBoundingClientRect();
        const v = view.current;
        return {
          x: rect.left + v.tx + (layout.x[index] + NODE_WIDTH / 2) * v.k,
          y: rect.top + v.ty + (layout.y[index] + NODE_HEIGHT / 2) * v.k,
        };
      },
    }),
    [fit, centerOn, zoomAt, layout],
  );

  // Size, initial view and redraws.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return undefined;
    const measure = () => {
      size.current = {
        width: canvas.parentElement?.clientWidth || canvas.clientWidth || 800,
        height,
      };
    };
    measure();
    if (!initialised.current) {
      initialised.current = true;
      initialView();
    }
    schedule();
    if (typeof ResizeObserver === 'undefined') return undefined;
    const observer = new ResizeObserver(() => {
      measure();
      schedule();
    });
    if (canvas.parentElement) observer.observe(canvas.parentElement);
    return () => observer.disconnect();

    function initialView() {
      fit();
      // Too small to read: fit the width instead and centre on the start node.
      if (view.current.k < 0.35 && layout.width > 0) {
        const { width } = size.current;
        const k = clamp(Math.min(1, (width - 48) / layout.width));
        const target = focus ?? layout.columns[0]?.nodes[0];
        const cy =
          target !== undefined ? layout.y[target] + NODE_HEIGHT / 2 : 0;
        view.current = {
          k,
          tx: (width - layout.width * k) / 2,
          ty: height / 2 - cy * k,
        };
      }
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [height]);

  // A new layout (filters, new data) refits the view.
  const firstLayout = useRef(layout);
  useEffect(() => {
    if (firstLayout.current !== layout) {
      firstLayout.current = layout;
      fit();
    }
  }, [layout, fit]);

  useEffect(() => {
    schedule();
  }, [graph, selected, highlighted, theme, schedule]);

  useEffect(
    () => () => {
      if (frame.current !== undefined) {
        window.cancelAnimationFrame(frame.current);
      }
    },
    [],
  );

  // Wheel zoom needs a non-passive listener.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return undefined;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const rect = canvas.getBoundingClientRect();
      zoomAt(
        Math.exp(-e.deltaY * 0.0015),
        e.clientX - rect.left,
        e.clientY - rect.top,
      );
    };
    canvas.addEventListener('wheel', onWheel, { passive: false });
    return () => canvas.removeEventListener('wheel', onWheel);
  }, [zoomAt]);

  // Drag to pan, click to select.
  const drag = useRef<
    { x: number; y: number; tx: number; ty: number; moved: boolean } | undefined
  >(undefined);
  const toLayout = (clientX: number, clientY: number) => {
    const rect = canvasRef.current!.getBoundingClientRect();
    const v = view.current;
    return {
      x: (clientX - rect.left - v.tx) / v.k,
      y: (clientY - rect.top - v.ty) / v.k,
    };
  };
  const nodeAt = (clientX: number, clientY: number) => {
    const p = toLayout(clientX, clientY);
    return hitTest(layout, p.x, p.y, 6 / view.current.k);
  };

  return (
    <canvas
      ref={canvasRef}
      role="img"
      aria-label={label}
      tabIndex={0}
      data-testid="lineage-canvas"
      style={{
        display: 'block',
        width: '100%',
        height,
        cursor: 'grab',
        touchAction: 'none',
        outlineOffset: -2,
      }}
      onPointerDown={e => {
        drag.current = {
          x: e.clientX,
          y: e.clientY,
          tx: view.current.tx,
          ty: view.current.ty,
          moved: false,
        };
        (e.target as Element).setPointerCapture?.(e.pointerId);
      }}
      onPointerMove={e => {
        const d = drag.current;
        if (d) {
          const dx = e.clientX - d.x;
          const dy = e.clientY - d.y;
          if (d.moved || Math.abs(dx) + Math.abs(dy) > 3) {
            d.moved = true;
            view.current = { ...view.current, tx: d.tx + dx, ty: d.ty + dy };
            schedule();
          }
          return;
        }
        const hover = nodeAt(e.clientX, e.clientY);
        const canvas = canvasRef.current!;
        canvas.style.cursor = hover === undefined ? 'grab' : 'pointer';
        canvas.title = hover === undefined ? '' : graph.nodes[hover].label;
      }}
      onPointerUp={e => {
        const d = drag.current;
        drag.current = undefined;
        if (d && !d.moved) {
          props.onSelect(nodeAt(e.clientX, e.clientY));
        }
      }}
      onPointerCancel={() => {
        drag.current = undefined;
      }}
      onDoubleClick={e => {
        const hit = nodeAt(e.clientX, e.clientY);
        if (hit !== undefined) props.onOpen(hit);
      }}
      onKeyDown={(e: KeyboardEvent) => {
        const next = keyboardTarget(e.key, graph, layout, selected);
        if (next === 'open') {
          if (selected !== undefined) props.onOpen(selected);
        } else if (next === 'clear') {
          props.onSelect(undefined);
        } else if (e.key === '+' || e.key === '=') {
          zoomAt(1.25, size.current.width / 2, size.current.height / 2);
        } else if (e.key === '-') {
          zoomAt(0.8, size.current.width / 2, size.current.height / 2);
        } else if (e.key === '0') {
          fit();
        } else if (typeof next === 'number') {
          props.onSelect(next);
          ensureVisible(next);
        } else {
          return;
        }
        e.preventDefault();
      }}
    />
  );

  function ensureVisible(index: number) {
    const v = view.current;
    const sx = v.tx + layout.x[index] * v.k;
    const sy = v.ty + layout.y[index] * v.k;
    if (
      sx < 0 ||
      sy < 0 ||
      sx + NODE_WIDTH * v.k > size.current.width ||
      sy + NODE_HEIGHT * v.k > size.current.height
    ) {
      centerOn(index);
    }
  }
});

function clamp(k: number) {
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, k));
}

/** Where the arrow keys move the selection. */
export function keyboardTarget(
  key: string,
  graph: IndexedGraph,
  layout: GraphLayout,
  selected: number | undefined,
): number | 'open' | 'clear' | undefined {
  if (key === 'Enter') return 'open';
  if (key === 'Escape') return 'clear';
  if (!['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight'].includes(key)) {
    return undefined;
  }
  if (selected === undefined) {
    return graph.roots[0] ?? layout.columns[0]?.nodes[0];
  }
  const c = layout.column[selected];
  const list = layout.columns[c].nodes;
  if (key === 'ArrowUp' || key === 'ArrowDown') {
    const at = list.indexOf(selected);
    const to = at + (key === 'ArrowUp' ? -1 : 1);
    return list[Math.max(0, Math.min(list.length - 1, to))];
  }
  const targetColumn = c + (key === 'ArrowLeft' ? -1 : 1);
  const column = layout.columns[targetColumn];
  if (!column) return selected;
  // Prefer a connected node in that column, else the nearest one by height.
  const neighbours = [
    ...graph.out[selected].map(ei => graph.edges[ei].to),
    ...graph.in[selected].map(ei => graph.edges[ei].from),
  ].filter(v => layout.column[v] === targetColumn);
  const candidates = neighbours.length ? neighbours : column.nodes;
  let best = candidates[0];
  for (const v of candidates) {
    if (
      Math.abs(layout.y[v] - layout.y[selected]) <
      Math.abs(layout.y[best] - layout.y[selected])
    ) {
      best = v;
    }
  }
  return best;
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

interface DrawOptions extends LineageCanvasProps {
  view: View;
  width: number;
  height: number;
  dpr: number;
  text: string;
  background: string;
  edge: string;
}

/** Draws the visible part of the graph. */
function drawGraph(ctx: CanvasRenderingContext2D, o: DrawOptions) {
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

  // Edges in three batches: dimmed, normal, on the path.
  const normal = new SegmentBatch(ctx);
  const onPath = new SegmentBatch(ctx);
  const labels: Array<{ x: number; y: number; text: string }> = [];
  for (const e of graph.edges) {
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
