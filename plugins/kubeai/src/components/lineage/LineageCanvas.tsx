import {
  forwardRef,
  KeyboardEvent,
  useCallback,
  useEffect,
  useImperativeHandle,
  useMemo,
  useRef,
} from 'react';
import { useTheme } from '@material-ui/core/styles';
import { IndexedGraph } from './graph';
import { GraphLayout, hitTest, NODE_HEIGHT, NODE_WIDTH } from './layout';
import { pathExtents, planEdges } from './bundles';
import { drawGraph, View } from './drawGraph';

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

const MIN_ZOOM = 0.005;
const MAX_ZOOM = 3;

/**
 * The lineage graph on one `<canvas>`: only what is in the viewport is drawn (binary search per
 * column for nodes, bounding-box culling for edges, the edges of hubs with many neighbours in one
 * column bundled — see bundles.ts), labels only when readable, nodes merged into bands when
 * smaller than a few pixels, redraws batched in `requestAnimationFrame`. Pan by dragging, zoom with the wheel or `+` / `-`, `0` fits; arrow
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
  const plan = useMemo(() => planEdges(graph, layout), [graph, layout]);
  const extents = useMemo(
    () =>
      highlighted && highlighted.size
        ? pathExtents(plan, layout, highlighted)
        : undefined,
    [plan, layout, highlighted],
  );
  const latest = useRef({ ...props, plan, extents });
  latest.current = { ...props, plan, extents };

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
