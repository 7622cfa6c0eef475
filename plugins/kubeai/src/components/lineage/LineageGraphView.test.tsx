import { fireEvent, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderWithApis } from '../../__testUtils__';
import { indexGraph } from './graph';
import { keyboardTarget } from './LineageCanvas';
import { layoutGraph } from './layout';
import { LineageGraphView } from './LineageGraphView';
import { syntheticLineage } from './syntheticGraph';

const graph = syntheticLineage(60);
const count = graph.nodes.length;

jest.setTimeout(30_000);

describe('LineageGraphView', () => {
  it('draws the graph on a labelled canvas with type filters and a node list', async () => {
    const onReady = jest.fn();
    await renderWithApis(<LineageGraphView graph={graph} onReady={onReady} />);
    const canvas = screen.getByRole('img', {
      name: new RegExp(`Lineage graph with ${count} nodes`),
    });
    expect(canvas).toHaveAttribute('tabindex', '0');
    expect(
      screen.getByRole('checkbox', { name: /Runs \(\d+\)/ }),
    ).toBeChecked();
    expect(
      screen.getByRole('list', { name: 'Lineage nodes' }),
    ).toBeInTheDocument();
    expect(
      screen.getByText(
        `Showing 50 of ${count} nodes; type to narrow the list.`,
      ),
    ).toBeInTheDocument();
    // The single root (the model) is selected at first, with its whole path.
    expect(screen.getByTestId('lineage-status')).toHaveTextContent(
      /Selected model hot-model; on its path/,
    );
    await new Promise(r => setTimeout(r, 50));
    expect(onReady).toHaveBeenCalled();
  });

  it('selects a node from the list and highlights its path', async () => {
    const onSelect = jest.fn();
    await renderWithApis(
      <LineageGraphView
        graph={graph}
        onSelectionChange={onSelect}
        nodeHref={n => (n.runId ? `/kubeai/runs/${n.runId}` : undefined)}
        lineageHref={n =>
          n.runId ? `/kubeai/lineage?runId=${n.runId}` : undefined
        }
      />,
    );
    await userEvent.type(screen.getByLabelText('Find a node'), 'train-3');
    const list = screen.getByRole('list', { name: 'Lineage nodes' });
    await userEvent.click(within(list).getByText('train-3'));
    expect(onSelect).toHaveBeenLastCalledWith('run:run-3');
    expect(screen.getByTestId('lineage-status')).toHaveTextContent(
      'Selected run train-3; on its path: 1 datasets',
    );
    const details = screen.getByLabelText('Selected node');
    expect(
      within(details).getByRole('link', { name: 'Open run' }),
    ).toHaveAttribute('href', '/kubeai/runs/run-3');
    expect(
      within(details).getByRole('link', { name: 'Lineage from here' }),
    ).toHaveAttribute('href', '/kubeai/lineage?runId=run-3');
    await userEvent.click(
      within(details).getByRole('button', { name: 'Clear selection' }),
    );
    expect(screen.getByText('No node selected.')).toBeInTheDocument();
  });

  it('hides a node type and keeps the paths through it', async () => {
    await renderWithApis(<LineageGraphView graph={graph} />);
    const before = screen
      .getByTestId('lineage-canvas')
      .getAttribute('aria-label')!;
    await userEvent.click(
      screen.getByRole('checkbox', { name: /Runs \(\d+\)/ }),
    );
    const after = screen
      .getByTestId('lineage-canvas')
      .getAttribute('aria-label')!;
    expect(before).toMatch(`with ${count} nodes`);
    expect(after).not.toMatch(`with ${count} nodes`);
    expect(after).toMatch(/and \d+ edges/);
  });

  it('moves the selection with the keyboard', async () => {
    const onSelect = jest.fn();
    await renderWithApis(
      <LineageGraphView graph={graph} onSelectionChange={onSelect} />,
    );
    const canvas = screen.getByTestId('lineage-canvas');
    fireEvent.keyDown(canvas, { key: 'ArrowLeft' });
    expect(onSelect).toHaveBeenLastCalledWith(
      expect.stringMatching(/^model:default\/hot-model@/),
    );
    fireEvent.keyDown(canvas, { key: 'Escape' });
    expect(onSelect).toHaveBeenLastCalledWith(undefined);
  });

  it('explains an empty graph', async () => {
    await renderWithApis(
      <LineageGraphView graph={{ roots: [], nodes: [], edges: [] }} />,
    );
    expect(screen.getByText('No lineage yet')).toBeInTheDocument();
  });
});

describe('keyboardTarget', () => {
  it('moves within a column and to connected nodes in the next one', () => {
    const g = indexGraph(syntheticLineage(60));
    const layout = layoutGraph(g);
    const runs = layout.columns.find(c => c.type === 'run')!.nodes;
    expect(keyboardTarget('ArrowDown', g, layout, runs[0])).toBe(runs[1]);
    expect(keyboardTarget('ArrowUp', g, layout, runs[0])).toBe(runs[0]);
    const right = keyboardTarget('ArrowRight', g, layout, runs[0]) as number;
    expect(g.nodes[right].type).toBe('modelVersion');
    expect(g.edges.some(e => e.from === runs[0] && e.to === right)).toBe(true);
    expect(keyboardTarget('Enter', g, layout, runs[0])).toBe('open');
    expect(keyboardTarget('x', g, layout, runs[0])).toBeUndefined();
  });

  it('shows a summary of executions with its phase counts and a link that lists them all', async () => {
    const summary = {
      roots: ['model:default/forecast'],
      nodes: [
        {
          id: 'model:default/forecast',
          type: 'model' as const,
          entityRef: 'model:default/forecast',
          label: 'forecast',
        },
        {
          id: 'run:cron',
          type: 'run' as const,
          runId: 'cron',
          label: 'forecast-daily',
        },
        {
          id: 'run:cron/executions',
          type: 'run' as const,
          label: '19,999 executions',
          executions: {
            parentRunId: 'cron',
            count: 19_999,
            total: 20_000,
            phases: { Succeeded: 19_000, Failed: 999 },
            list: '/runs?parent=cron',
          },
        },
      ],
      edges: [
        {
          from: 'run:cron/executions',
          to: 'run:cron',
          type: 'executionOf' as const,
        },
      ],
    };
    await renderWithApis(
      <LineageGraphView
        graph={summary}
        nodeHref={n => {
          const id = n.runId ?? n.executions?.parentRunId;
          return id ? `/kubeai/runs/${id}` : undefined;
        }}
      />,
    );
    const list = screen.getByRole('list', { name: 'Lineage nodes' });
    await userEvent.click(within(list).getByText('19,999 executions'));
    expect(screen.getByTestId('lineage-executions')).toHaveTextContent(
      '19,999 of 20,000 executions of this periodic task, summarised: 19,000 succeeded, 999 failed.',
    );
    expect(
      screen.getByRole('link', { name: 'List the 19,999 executions' }),
    ).toHaveAttribute('href', '/kubeai/runs/cron');
  });
});
