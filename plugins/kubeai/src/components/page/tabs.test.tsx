import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes } from 'react-router-dom';
import {
  datasetEntity,
  deployment,
  mockKubeaiApi,
  modelEntity,
  modelVersion,
  renderWithApis,
  responseError,
  run,
  serviceEntity,
} from '../../__testUtils__';
import { DatasetsTab } from './DatasetsTab';
import { KubeaiPage } from './KubeaiPage';
import { ModelsTab } from './ModelsTab';
import { NotebooksTab } from './NotebooksTab';
import { RunsTab } from './RunsTab';
import { ServicesTab } from './ServicesTab';

jest.setTimeout(30_000);

const entities = [modelEntity, datasetEntity, serviceEntity];

function registry() {
  return mockKubeaiApi({
    listModelVersions: jest
      .fn()
      .mockResolvedValue({ items: [modelVersion(4)], totalItems: 4 }),
    getModelVersionByAlias: jest.fn().mockResolvedValue(modelVersion(3)),
    listDeployments: jest
      .fn()
      .mockResolvedValue({ items: [deployment()], totalItems: 1 }),
    listDatasetVersions: jest.fn().mockResolvedValue({
      items: [
        {
          datasetRef: 'dataset:default/clicks',
          version: '2026-11-20',
          uri: 'odps://dw.clicks',
          size: 1024,
          createdBy: 'user:default/bob',
          createdAt: '2026-11-20T02:00:00.000Z',
        },
      ],
      totalItems: 7,
    }),
    listRuns: jest.fn().mockResolvedValue({
      items: [
        run('r1'),
        run('r2', { phase: 'Failed', kind: 'pipeline', name: 'nightly' }),
      ],
      totalItems: 2,
    }),
  });
}

describe('Models tab', () => {
  it('lists models with owner, latest and production versions and services', async () => {
    const api = registry();
    await renderWithApis(<ModelsTab />, { kubeai: api, entities });
    const row = (await screen.findByText('v4')).closest('tr')!;
    expect(within(row).getByText('ranker')).toBeInTheDocument();
    expect(within(row).getByText('search-reco')).toBeInTheDocument();
    expect(within(row).getByText('v3')).toBeInTheDocument();
    expect(within(row).getByText('1')).toBeInTheDocument();
    expect(api.getModelVersionByAlias).toHaveBeenCalledWith(
      { namespace: 'default', name: 'ranker' },
      'production',
    );
    expect(screen.getByText('Models (1)')).toBeInTheDocument();
  });

  it('shows a model without a production alias and a registry that fails', async () => {
    const api = registry();
    api.getModelVersionByAlias.mockRejectedValue(
      await responseError(404, 'no alias'),
    );
    const { unmount } = await renderWithApis(<ModelsTab />, {
      kubeai: api,
      entities,
    });
    const row = (await screen.findByText('v4')).closest('tr')!;
    expect(within(row).getAllByText('—').length).toBeGreaterThan(0);
    unmount();

    const down = registry();
    down.listDeployments.mockRejectedValue(
      await responseError(503, 'registry down'),
    );
    await renderWithApis(<ModelsTab />, { kubeai: down, entities });
    expect(
      await screen.findByText(/The registry did not answer/),
    ).toBeInTheDocument();
    expect(screen.getByText('ranker')).toBeInTheDocument();
  });

  it('has an empty state', async () => {
    await renderWithApis(<ModelsTab />, { kubeai: registry(), entities: [] });
    expect(await screen.findByText('No models yet')).toBeInTheDocument();
  });
});

describe('Datasets tab', () => {
  it('lists datasets with their source and newest version', async () => {
    await renderWithApis(<DatasetsTab />, { kubeai: registry(), entities });
    expect(
      await screen.findByText(/2026-11-20 \(1\.0 KiB/),
    ).toBeInTheDocument();
    expect(screen.getByText('odps://dw.clicks')).toBeInTheDocument();
    expect(screen.getByText('alluxio 500Gi')).toBeInTheDocument();
    expect(screen.getByText('7')).toBeInTheDocument();
  });

  it('has an empty state', async () => {
    await renderWithApis(<DatasetsTab />, { kubeai: registry(), entities: [] });
    expect(await screen.findByText('No datasets yet')).toBeInTheDocument();
  });
});

describe('Inference services tab', () => {
  it('lists services with status, version served and traffic', async () => {
    await renderWithApis(<ServicesTab />, { kubeai: registry(), entities });
    const row = (await screen.findByText('v3 90% · v4 10%')).closest('tr')!;
    expect(within(row).getByText('Ready')).toBeInTheDocument();
    expect(within(row).getByText('v3, v4')).toBeInTheDocument();
    expect(within(row).getByText('ranker-serving')).toBeInTheDocument();
  });

  it('shows services that are not deployed, and errors', async () => {
    const api = registry();
    api.listDeployments.mockResolvedValue({ items: [], totalItems: 0 });
    const { unmount } = await renderWithApis(<ServicesTab />, {
      kubeai: api,
      entities,
    });
    expect(await screen.findByText('Not deployed')).toBeInTheDocument();
    unmount();
    const down = registry();
    down.listDeployments.mockRejectedValue(await responseError(500, 'boom'));
    await renderWithApis(<ServicesTab />, { kubeai: down, entities });
    expect(
      await screen.findByText(/Could not load the inference services/),
    ).toBeInTheDocument();
  });
});

describe('Runs tab', () => {
  it('lists runs and filters by kind and phase on the server', async () => {
    const api = registry();
    await renderWithApis(<RunsTab />, { kubeai: api });
    expect(
      await screen.findByRole('link', { name: 'train-r1' }),
    ).toHaveAttribute('href', '/kubeai/runs/r1');
    expect(screen.getByText('nightly')).toBeInTheDocument();
    expect(screen.getAllByText('1h 30m')).toHaveLength(2);
    await userEvent.click(
      screen.getByRole('button', { name: 'Kind All kinds' }),
    );
    await userEvent.click(screen.getByRole('option', { name: 'pipeline' }));
    await waitFor(() =>
      expect(api.listRuns).toHaveBeenLastCalledWith({
        kind: 'pipeline',
        phase: undefined,
        limit: 500,
      }),
    );
  });

  it('has empty and error states', async () => {
    const api = registry();
    api.listRuns.mockResolvedValue({ items: [], totalItems: 0 });
    const { unmount } = await renderWithApis(<RunsTab />, { kubeai: api });
    expect(await screen.findByText('No runs yet')).toBeInTheDocument();
    unmount();
    const down = registry();
    down.listRuns.mockRejectedValue(await responseError(500, 'boom'));
    await renderWithApis(<RunsTab />, { kubeai: down });
    expect(
      await screen.findByText(/Could not load the runs/),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('button', { name: 'Kind All kinds' }),
    ).toBeInTheDocument();
  });
});

describe('Notebooks tab', () => {
  it('shows whether notebooks are ready and links to open them', async () => {
    const api = registry();
    api.listRuns.mockResolvedValue({
      items: [
        run('n1', {
          kind: 'notebook',
          phase: 'Running',
          name: 'alice-nb',
          finishedAt: undefined,
        }),
        run('n2', {
          kind: 'notebook',
          phase: 'Stopped',
          name: 'old-nb',
          params: { url: 'https://nb.example.com/old' },
        }),
      ],
      totalItems: 2,
    });
    await renderWithApis(<NotebooksTab />, {
      kubeai: api,
      config: {
        kubeai: {
          links: {
            notebook:
              'https://kubeflow.example.com/notebook/{namespace}/{name}/',
          },
        },
      },
    });
    const open = await screen.findByRole('link', {
      name: 'Open notebook alice-nb',
    });
    expect(open).toHaveAttribute(
      'href',
      'https://kubeflow.example.com/notebook/ml/alice-nb/',
    );
    expect(within(open.closest('tr')!).getByText('Ready')).toBeInTheDocument();
    const old = screen.getByRole('link', { name: 'old-nb' }).closest('tr')!;
    expect(within(old).getByText('Not running')).toBeInTheDocument();
    expect(within(old).getByLabelText('Open notebook old-nb')).toHaveAttribute(
      'aria-disabled',
      'true',
    );
    expect(api.listRuns).toHaveBeenCalledWith({ kind: 'notebook', limit: 500 });
  });

  it('has an empty state', async () => {
    const api = registry();
    api.listRuns.mockResolvedValue({ items: [], totalItems: 0 });
    await renderWithApis(<NotebooksTab />, { kubeai: api });
    expect(await screen.findByText('No notebooks yet')).toBeInTheDocument();
  });
});

describe('KubeaiPage', () => {
  it('has a tab per area and opens the run view by URL', async () => {
    const api = registry();
    api.getRun = jest.fn().mockResolvedValue(run('r1'));
    await renderWithApis(
      <Routes>
        <Route path="/kubeai/*" element={<KubeaiPage />} />
      </Routes>,
      { kubeai: api, entities, routeEntries: ['/kubeai/runs/r1'] },
    );
    for (const tab of [
      'Models',
      'Datasets',
      'Inference services',
      'Runs',
      'Notebooks',
      'Lineage',
    ]) {
      expect(screen.getByRole('tab', { name: tab })).toBeInTheDocument();
    }
    expect(
      await screen.findByRole('heading', { name: 'train-r1' }),
    ).toBeInTheDocument();
    await waitFor(() =>
      expect(screen.getByRole('tab', { name: 'Runs' })).toHaveAttribute(
        'aria-selected',
        'true',
      ),
    );
    expect(api.getRun).toHaveBeenCalledWith('r1');
  });

  it('opens the models tab by default', async () => {
    await renderWithApis(<KubeaiPage />, { kubeai: registry(), entities });
    expect(await screen.findByText('Models (1)')).toBeInTheDocument();
  });
});
