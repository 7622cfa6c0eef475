import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  mockKubeaiApi,
  modelEntity,
  renderWithApis,
  responseError,
} from '../../__testUtils__';
import { EntityLineageContent } from './EntityLineageContent';
import { LineageExplorer } from './LineageExplorer';
import { LineagePage } from './LineagePage';
import { syntheticLineage } from './syntheticGraph';

jest.setTimeout(30_000);

describe('LineageExplorer', () => {
  it('loads the lineage and reloads it at another depth', async () => {
    const api = mockKubeaiApi({
      getLineage: jest.fn().mockResolvedValue(syntheticLineage(40)),
    });
    await renderWithApis(
      <LineageExplorer start={{ entityRef: 'model:default/hot-model' }} />,
      { kubeai: api },
    );
    expect(
      await screen.findByRole('img', { name: /Lineage graph with \d+ nodes/ }),
    ).toBeInTheDocument();
    expect(api.getLineage).toHaveBeenCalledWith({
      entityRef: 'model:default/hot-model',
      version: undefined,
      runId: undefined,
      depth: 3,
      direction: 'both',
    });
    await userEvent.click(screen.getByRole('button', { name: 'Depth 3 hops' }));
    await userEvent.click(screen.getByRole('option', { name: '5 hops' }));
    await waitFor(() =>
      expect(api.getLineage).toHaveBeenLastCalledWith(
        expect.objectContaining({ depth: 5 }),
      ),
    );
    await userEvent.click(
      screen.getByRole('button', { name: 'Direction Both directions' }),
    );
    await userEvent.click(screen.getByRole('option', { name: 'Upstream' }));
    await waitFor(() =>
      expect(api.getLineage).toHaveBeenLastCalledWith(
        expect.objectContaining({ direction: 'upstream' }),
      ),
    );
  });

  it('shows the server error, not a stack trace', async () => {
    const api = mockKubeaiApi({
      getLineage: jest
        .fn()
        .mockRejectedValue(
          await responseError(
            404,
            'model:default/nope not found in the catalog',
          ),
        ),
    });
    await renderWithApis(
      <LineageExplorer start={{ entityRef: 'model:default/nope' }} />,
      { kubeai: api },
    );
    expect(
      await screen.findByText(/Could not load the lineage/),
    ).toBeInTheDocument();
    expect(
      screen.getByText(/model:default\/nope not found in the catalog/),
    ).toBeInTheDocument();
    expect(screen.queryByText(/at Object/)).not.toBeInTheDocument();
  });
});

describe('EntityLineageContent', () => {
  it('starts at the entity, and at one version with ?version=', async () => {
    const api = mockKubeaiApi({
      getLineage: jest
        .fn()
        .mockResolvedValue({ roots: [], nodes: [], edges: [] }),
    });
    await renderWithApis(<EntityLineageContent />, {
      kubeai: api,
      entity: modelEntity,
      routeEntries: ['/lineage?version=3'],
    });
    expect(await screen.findByText('No lineage yet')).toBeInTheDocument();
    expect(api.getLineage).toHaveBeenCalledWith(
      expect.objectContaining({
        entityRef: 'model:default/ranker',
        version: '3',
      }),
    );
  });
});

describe('LineagePage', () => {
  it('asks where to start without a query', async () => {
    await renderWithApis(<LineagePage />);
    expect(
      screen.getByRole('form', { name: 'Start the lineage' }),
    ).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Show lineage' })).toBeDisabled();
    await userEvent.type(screen.getByLabelText('Run id'), 'r1');
    expect(screen.getByRole('button', { name: 'Show lineage' })).toBeEnabled();
  });

  it('starts at a run from the URL', async () => {
    const api = mockKubeaiApi({
      getLineage: jest.fn().mockResolvedValue(syntheticLineage(20)),
    });
    await renderWithApis(<LineagePage />, {
      kubeai: api,
      routeEntries: ['/lineage?runId=run-1'],
    });
    expect(await screen.findByText('Lineage of run run-1')).toBeInTheDocument();
    expect(api.getLineage).toHaveBeenCalledWith(
      expect.objectContaining({ runId: 'run-1' }),
    );
  });
});
