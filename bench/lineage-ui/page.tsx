/*
 * The page that bench/lineage-ui/run.mjs loads in headless Chromium: renders either the KubeAI
 * lineage explorer or the catalog graph's EntityCatalogGraphCard on the same synthetic lineage
 * (`?variant=kubeai|catalog-graph&size=N`) and records, in `window.__bench`:
 *   t0              just before React renders (data generated, bundle parsed),
 *   readyAt         first complete render (KubeAI: first canvas frame drawn; catalog graph: all
 *                   N nodes in the SVG and laid out),
 *   pointerDownAt   the pointerdown of the first click on a node (after readyAt),
 *   clickHandledAt  the frame after that click was handled (selection applied).
 */
import { createRoot } from 'react-dom/client';
import { Entity } from '@backstage/catalog-model';
import { TestApiProvider, wrapInTestApp } from '@backstage/test-utils';
import {
  catalogApiRef,
  EntityProvider,
  entityRouteRef,
} from '@backstage/plugin-catalog-react';
import {
  ALL_RELATION_PAIRS,
  ALL_RELATIONS,
  catalogGraphApiRef,
  catalogGraphRouteRef,
  DefaultCatalogGraphApi,
  EntityCatalogGraphCard,
} from '@backstage/plugin-catalog-graph';
import type { LineageGraph } from '@kubeai/plugin-kubeai-common';
import { kubeaiApiRef } from '../../plugins/kubeai/src/api/refs';
import { LineageExplorer } from '../../plugins/kubeai/src/components/lineage/LineageExplorer';
import type { LineageCanvasHandle } from '../../plugins/kubeai/src/components/lineage/LineageCanvas';
import {
  syntheticChildRunLineage,
  syntheticLineage,
} from '../../plugins/kubeai/src/components/lineage/syntheticGraph';

declare global {
  interface Window {
    __bench: {
      variant: string;
      size: number;
      nodes: number;
      edges: number;
      t0?: number;
      readyAt?: number;
      clickHandledAt?: number;
      /** `timeStamp` of the first pointerdown after readyAt (the click). */
      pointerDownAt?: number;
      clickedId?: string;
      error?: string;
      /** Client coordinates of a node that is on screen and not selected. */
      target?: () => { x: number; y: number; id: string } | undefined;
      /** Runs a pan or zoom phase: the intervals between its frames and each frame's work (ms). */
      phase?: (
        kind: 'pan' | 'zoom',
      ) => Promise<{ intervals: number[]; work: number[] }>;
      /** Client rectangle of the graph's drawing surface (canvas / SVG). */
      surface?: () => { x: number; y: number; width: number; height: number };
    };
  }
}

const params = new URLSearchParams(window.location.search);
const variant = params.get('variant') ?? 'kubeai';
const size = Number(params.get('size') ?? '200');
const shape = params.get('shape') ?? 'versions';
const graph =
  shape === 'children' ? syntheticChildRunLineage(size) : syntheticLineage(size);

window.__bench = {
  variant,
  size,
  nodes: graph.nodes.length,
  edges: graph.edges.length,
};

// Pan and zoom phases: one input event per frame, dispatched from requestAnimationFrame, and the
// interval between consecutive frames from their requestAnimationFrame timestamps.
window.__bench.phase = kind =>
  new Promise(resolve => {
    const s = window.__bench.surface!();
    const cx = s.x + s.width / 2;
    const cy = s.y + s.height / 2;
    const el = document.elementFromPoint(cx, cy)!;
    const steps: Array<() => void> = [];
    const pointer = (type: string, x: number, y: number, target: EventTarget) => {
      const init = {
        bubbles: true,
        cancelable: true,
        clientX: x,
        clientY: y,
        button: 0,
        buttons: type.endsWith('up') ? 0 : 1,
        pointerId: 1,
        pointerType: 'mouse',
        isPrimary: true,
        view: window,
      };
      target.dispatchEvent(new PointerEvent(`pointer${type}`, init));
      target.dispatchEvent(new MouseEvent(`mouse${type}`, init));
    };
    if (kind === 'pan') {
      // 240 moves of 8 px: down, up, sideways
      const path: Array<[number, number]> = [];
      for (let i = 1; i <= 80; i++) path.push([0, -8 * i]);
      for (let i = 79; i >= -40; i--) path.push([0, -8 * i]);
      for (let i = 1; i <= 40; i++) path.push([8 * i, 320]);
      steps.push(() => pointer('down', cx, cy, el));
      for (const [dx, dy] of path) {
        steps.push(() => pointer('move', cx + dx, cy + dy, el));
      }
      steps.push(() => pointer('up', cx + 320, cy + 320, el));
    } else {
      // 40 wheel steps out (to the smallest zoom: most nodes on screen), 40 back in
      for (let i = 0; i < 80; i++) {
        const deltaY = i < 40 ? 120 : -120;
        steps.push(() =>
          el.dispatchEvent(
            new WheelEvent('wheel', {
              bubbles: true,
              cancelable: true,
              clientX: cx,
              clientY: cy,
              deltaY,
              deltaMode: 0,
              view: window,
            }),
          ),
        );
      }
    }
    const times: number[] = [];
    const work: number[] = [];
    let step = 0;
    let tail = 0;
    const frame = (t: number) => {
      times.push(t);
      // This callback runs after the graph's own requestAnimationFrame callback (it asked for
      // its frame first, while handling the previous input): the main thread's work of the frame
      // is from the frame's timestamp to the end of this input's handling.
      if (step < steps.length) steps[step++]();
      else tail++;
      work.push(performance.now() - t);
      // a few frames after the last input: the frame it asked for
      if (tail < 3) requestAnimationFrame(frame);
      else {
        resolve({
          intervals: times.slice(1).map((x, i) => x - times[i]),
          work,
        });
      }
    };
    requestAnimationFrame(frame);
  });
window.__bench.surface = () => {
  // the canvas, or the catalog graph's SVG (the largest one; icons are SVGs too)
  let el: Element | null = document.querySelector(
    '[data-testid="lineage-canvas"]',
  );
  let area = 0;
  if (!el) {
    for (const svg of Array.from(document.querySelectorAll('svg'))) {
      const b = svg.getBoundingClientRect();
      if (b.width * b.height > area) {
        area = b.width * b.height;
        el = svg;
      }
    }
  }
  const r = el!.getBoundingClientRect();
  return { x: r.left, y: r.top, width: r.width, height: r.height };
};
document.addEventListener(
  'pointerdown',
  e => {
    if (window.__bench.readyAt && window.__bench.pointerDownAt === undefined) {
      window.__bench.pointerDownAt = e.timeStamp;
    }
  },
  true,
);
window.addEventListener('error', e => {
  window.__bench.error = String(e.message);
});

const afterNextFrame = (fn: () => void) =>
  requestAnimationFrame(() => setTimeout(fn, 0));

const RELATION_REVERSE: Record<string, string> = {
  versionOf: 'hasVersion',
  inputTo: 'hasInput',
  produced: 'producedBy',
  deployedTo: 'serves',
};
const KIND: Record<string, string> = {
  dataset: 'Dataset',
  datasetVersion: 'DatasetVersion',
  run: 'Run',
  modelVersion: 'ModelVersion',
  model: 'Model',
  inferenceService: 'InferenceService',
};

/** The same lineage as catalog entities with relations (what the catalog graph walks). */
function toEntities(g: LineageGraph) {
  const refOf = new Map<string, string>();
  const entities = new Map<string, Entity>();
  for (const node of g.nodes) {
    const name = node.id
      .replace(/^[a-z]+:/i, '')
      .replace(/[^a-zA-Z0-9._-]/g, '-');
    const kind = KIND[node.type];
    const ref = `${kind.toLowerCase()}:default/${name}`;
    refOf.set(node.id, ref);
    entities.set(ref, {
      apiVersion: 'kubeai.io/v1alpha1',
      kind,
      metadata: { name, namespace: 'default', title: node.label },
      spec: {},
      relations: [],
    });
  }
  for (const edge of g.edges) {
    const from = refOf.get(edge.from);
    const to = refOf.get(edge.to);
    if (!from || !to) continue;
    entities.get(from)!.relations!.push({ type: edge.type, targetRef: to });
    entities
      .get(to)!
      .relations!.push({ type: RELATION_REVERSE[edge.type], targetRef: from });
  }
  return { entities, root: entities.get(refOf.get(g.roots[0])!)! };
}

function KubeaiVariant() {
  let canvas: LineageCanvasHandle | null = null;
  let selected: string | undefined = graph.roots[0];
  const api = {
    getLineage: async () => graph,
  };
  window.__bench.target = () => {
    if (!canvas) return undefined;
    const el = document.querySelector('[data-testid="lineage-canvas"]')!;
    const rect = el.getBoundingClientRect();
    for (let i = 0; i < graph.nodes.length; i++) {
      if (graph.nodes[i].id === selected) continue;
      const p = canvas.nodeClientPosition(i);
      if (
        p &&
        p.x > rect.left + 20 &&
        p.x < rect.right - 20 &&
        p.y > rect.top + 20 &&
        p.y < rect.bottom - 20
      ) {
        return { ...p, id: graph.nodes[i].id };
      }
    }
    return undefined;
  };
  return (
    <TestApiProvider apis={[[kubeaiApiRef, api as any]]}>
      <LineageExplorer
        start={{ entityRef: 'model:default/hot-model' }}
        height={640}
        canvasRef={h => {
          canvas = h;
        }}
        onReady={() => {
          window.__bench.readyAt = performance.now();
        }}
        onSelectionChange={id => {
          selected = id;
          if (window.__bench.readyAt && !window.__bench.clickHandledAt && id) {
            window.__bench.clickedId = id;
            afterNextFrame(() => {
              window.__bench.clickHandledAt = performance.now();
            });
          }
        }}
      />
    </TestApiProvider>
  );
}

function CatalogGraphVariant() {
  const { entities, root } = toEntities(graph);
  const catalogApi = {
    getEntitiesByRefs: async ({ entityRefs }: { entityRefs: string[] }) => ({
      items: entityRefs.map(r => entities.get(r)),
    }),
    getEntityByRef: async (ref: string) => entities.get(ref),
  };
  const relationTypes = [
    ...Object.keys(RELATION_REVERSE),
    ...Object.values(RELATION_REVERSE),
  ];
  const graphApi = new DefaultCatalogGraphApi({
    knownRelations: [...ALL_RELATIONS, ...relationTypes],
    knownRelationPairs: [
      ...ALL_RELATION_PAIRS,
      ...(Object.entries(RELATION_REVERSE) as [string, string][]),
    ],
    defaultRelationTypes: { exclude: [] },
  });
  // Ready when every node is in the SVG and the layout (dagre) has positioned them.
  const expected = entities.size;
  let stableFrames = 0;
  let lastSignature = '';
  const poll = () => {
    if (window.__bench.readyAt) return;
    const nodes = document.querySelectorAll('[data-testid="node"]');
    if (nodes.length >= expected) {
      const first = nodes[0].getAttribute('transform') ?? '';
      const last = nodes[nodes.length - 1].getAttribute('transform') ?? '';
      const signature = `${nodes.length}|${first}|${last}`;
      stableFrames = signature === lastSignature ? stableFrames + 1 : 0;
      lastSignature = signature;
      if (stableFrames >= 2) {
        window.__bench.readyAt = performance.now();
        return;
      }
    }
    requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
  window.__bench.target = () => {
    // The largest node on screen (at 2,000 nodes the fitted SVG makes nodes tiny).
    let best: DOMRect | undefined;
    for (const node of Array.from(
      document.querySelectorAll('[data-testid="node"]'),
    )) {
      const r = node.getBoundingClientRect();
      if (
        r.width > 0 &&
        r.left >= 0 &&
        r.top >= 0 &&
        r.right <= window.innerWidth &&
        r.bottom <= window.innerHeight &&
        (!best || r.width * r.height > best.width * best.height)
      ) {
        best = r;
      }
    }
    return best
      ? {
          x: best.left + best.width / 2,
          y: best.top + best.height / 2,
          id: 'svg-node',
        }
      : undefined;
  };
  return (
    <TestApiProvider
      apis={[
        [catalogApiRef, catalogApi as any],
        [catalogGraphApiRef, graphApi],
      ]}
    >
      <EntityProvider entity={root}>
        <EntityCatalogGraphCard
          maxDepth={Number.POSITIVE_INFINITY}
          unidirectional={false}
          height={640}
          zoom="enabled"
          onNodeClick={node => {
            if (window.__bench.readyAt && !window.__bench.clickHandledAt) {
              window.__bench.clickedId = node.id;
              afterNextFrame(() => {
                window.__bench.clickHandledAt = performance.now();
              });
            }
          }}
        />
      </EntityProvider>
    </TestApiProvider>
  );
}

const element = wrapInTestApp(
  variant === 'catalog-graph' ? <CatalogGraphVariant /> : <KubeaiVariant />,
  {
    mountedRoutes: {
      '/catalog/:namespace/:kind/:name': entityRouteRef,
      '/catalog-graph': catalogGraphRouteRef,
    },
  },
);
window.__bench.t0 = performance.now();
createRoot(document.getElementById('root')!).render(element);
