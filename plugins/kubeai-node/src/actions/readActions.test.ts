/*
 * The read actions of the actions registry: described for an agent, and the lineage summary that
 * keeps an answer within its caps (nearest the start first).
 */
import { z } from 'zod/v3';
import type { LineageGraph } from '@kubeai/plugin-kubeai-common';
import { kubeaiReadActions, summariseLineage } from './actions';

/** model → v1..v3 → run → dataset version, as GET /lineage answers it. */
const graph: LineageGraph = {
  roots: ['model:m'],
  nodes: [
    { id: 'dsv:d@1', type: 'datasetVersion', label: 'd v1' },
    { id: 'run:r', type: 'run', label: 'r', runId: 'r', status: 'Succeeded' },
    { id: 'mv:m@3', type: 'modelVersion', label: 'v3' },
    { id: 'mv:m@2', type: 'modelVersion', label: 'v2' },
    { id: 'model:m', type: 'model', label: 'm', entityRef: 'model:default/m' },
    { id: 'mv:m@1', type: 'modelVersion', label: 'v1', version: '1' },
  ],
  edges: [
    { from: 'dsv:d@1', to: 'run:r', type: 'inputTo' },
    { from: 'run:r', to: 'mv:m@1', type: 'produced' },
    { from: 'mv:m@1', to: 'model:m', type: 'versionOf' },
    { from: 'mv:m@2', to: 'model:m', type: 'versionOf' },
    { from: 'mv:m@3', to: 'model:m', type: 'versionOf' },
  ],
};

describe('the read actions', () => {
  it('are read-only, and every input field is described', () => {
    expect(kubeaiReadActions.map(a => [a.name, a.readOnly])).toEqual([
      ['list-model-versions', true],
      ['list-deployments', true],
      ['get-lineage', true],
      ['get-impact', true],
      ['get-run', true],
    ]);
    for (const action of kubeaiReadActions) {
      expect(action.description.length).toBeGreaterThan(200);
      for (const [key, type] of Object.entries<z.ZodTypeAny>(
        action.input(z).shape,
      )) {
        expect([action.name, key, type.description]).toEqual([
          action.name,
          key,
          expect.any(String),
        ]);
      }
      expect(action.output(z).shape.summary).toBeDefined();
    }
  });
});

describe('summariseLineage', () => {
  it('keeps the whole graph within the caps', () => {
    const all = summariseLineage(graph, 10, 10);
    expect(all.truncated).toBe(false);
    expect(all.nodes).toHaveLength(6);
    expect(all.edges).toHaveLength(5);
  });

  it('keeps the nodes nearest the start and the edges between them', () => {
    const cut = summariseLineage(graph, 4, 10);
    expect(cut.truncated).toBe(true);
    // the model and its three versions (one hop); the run and the dataset version are two and three
    expect(cut.nodes.map(n => n.id).sort()).toEqual(
      ['model:m', 'mv:m@1', 'mv:m@2', 'mv:m@3'].sort(),
    );
    expect(cut.edges.map(e => e.type)).toEqual([
      'versionOf',
      'versionOf',
      'versionOf',
    ]);
    expect(cut.nodes.find(n => n.id === 'mv:m@1')).toEqual({
      id: 'mv:m@1',
      type: 'modelVersion',
      label: 'v1',
      version: '1',
    });
  });

  it('caps the edges on their own', () => {
    const cut = summariseLineage(graph, 10, 2);
    expect(cut).toMatchObject({ truncated: true });
    expect(cut.nodes).toHaveLength(6);
    expect(cut.edges).toHaveLength(2);
  });
});
