import { screen, within } from '@testing-library/react';
import {
  datasetEntity,
  mockKubeaiApi,
  renderWithApis,
  responseError,
} from '../../__testUtils__';
import { DatasetContent } from './DatasetContent';

jest.setTimeout(30_000);

const versionsList = {
  items: [
    {
      datasetRef: 'dataset:default/clicks',
      version: '2026-11-20',
      uri: 'odps://dw.clicks/ds=20261120',
      digest: 'sha256:0123456789abcdef0123456789abcdef',
      size: 3 * 1024 ** 3,
      createdBy: 'user:default/bob',
      createdAt: '2026-11-20T02:00:00.000Z',
    },
  ],
  totalItems: 1,
};

const impact = {
  roots: ['dataset:default/clicks'],
  nodes: [
    {
      id: 'dataset:default/clicks',
      type: 'dataset',
      entityRef: 'dataset:default/clicks',
      label: 'clicks',
    },
    { id: 'run:r1', type: 'run', runId: 'r1', label: 'train-r1' },
    {
      id: 'model:default/ranker',
      type: 'model',
      entityRef: 'model:default/ranker',
      label: 'ranker',
    },
    {
      id: 'model:default/ranker@3',
      type: 'modelVersion',
      entityRef: 'model:default/ranker',
      version: '3',
      label: 'ranker v3',
    },
    {
      id: 'inferenceservice:default/ranker-serving',
      type: 'inferenceService',
      entityRef: 'inferenceservice:default/ranker-serving',
      label: 'ranker-serving',
    },
  ],
  edges: [],
};

describe('DatasetContent', () => {
  it('shows source, cache, versions and impact', async () => {
    const api = mockKubeaiApi({
      listDatasetVersions: jest.fn().mockResolvedValue(versionsList),
      getLineage: jest.fn().mockResolvedValue(impact),
    });
    await renderWithApis(<DatasetContent />, {
      kubeai: api,
      entity: datasetEntity,
    });
    expect(screen.getByText('odps://dw.clicks')).toBeInTheDocument();
    expect(screen.getByText('Configured')).toBeInTheDocument();
    expect(screen.getByText('alluxio · 500Gi · SSD')).toBeInTheDocument();
    expect(await screen.findByText('2026-11-20')).toBeInTheDocument();
    expect(screen.getByText('3.0 GiB')).toBeInTheDocument();
    expect(screen.getByText('sha256:0123456789abcdef0…')).toBeInTheDocument();
    expect(api.getLineage).toHaveBeenCalledWith({
      entityRef: 'dataset:default/clicks',
      direction: 'downstream',
      depth: 3,
    });
    const models = await screen.findByRole('list', { name: 'Models (1)' });
    expect(within(models).getByText('ranker')).toBeInTheDocument();
    const runs = screen.getByRole('list', { name: 'Runs (1)' });
    expect(
      within(runs).getByRole('link', { name: 'train-r1' }),
    ).toHaveAttribute('href', '/kubeai/runs/r1');
    expect(
      within(
        screen.getByRole('list', { name: 'Inference services (1)' }),
      ).getByText('ranker-serving'),
    ).toBeInTheDocument();
  });

  it('has empty states for no versions and no dependents', async () => {
    const api = mockKubeaiApi({
      listDatasetVersions: jest
        .fn()
        .mockResolvedValue({ items: [], totalItems: 0 }),
      getLineage: jest.fn().mockResolvedValue({
        roots: ['dataset:default/clicks'],
        nodes: [impact.nodes[0]],
        edges: [],
      }),
    });
    await renderWithApis(<DatasetContent />, {
      kubeai: api,
      entity: {
        ...datasetEntity,
        spec: { ...datasetEntity.spec, cache: undefined },
      },
    });
    expect(
      await screen.findByText('No versions registered'),
    ).toBeInTheDocument();
    expect(
      await screen.findByText(/Nothing depends on this dataset yet/),
    ).toBeInTheDocument();
    expect(screen.getByText('No cache')).toBeInTheDocument();
  });

  it('shows errors of the registry', async () => {
    const api = mockKubeaiApi({
      listDatasetVersions: jest
        .fn()
        .mockRejectedValue(await responseError(500, 'boom')),
      getLineage: jest
        .fn()
        .mockRejectedValue(await responseError(500, 'lineage boom')),
    });
    await renderWithApis(<DatasetContent />, {
      kubeai: api,
      entity: datasetEntity,
    });
    expect(
      await screen.findByText(/Could not load the dataset versions/),
    ).toBeInTheDocument();
    expect(
      await screen.findByText(/Could not load the impact/),
    ).toBeInTheDocument();
    expect(screen.getByText('lineage boom (HTTP 500)')).toBeInTheDocument();
  });
});
