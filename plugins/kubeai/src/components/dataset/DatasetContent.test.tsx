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

const none = {
  services: 0,
  pipelines: 0,
  runs: 0,
  modelVersions: 0,
  models: 0,
};

/** What GET /impact answers for the dataset. */
const impact = {
  entityRef: 'dataset:default/clicks',
  services: [
    {
      serviceRef: 'inferenceservice:default/ranker-serving',
      cluster: 'local',
      namespace: 'search-serving',
      name: 'ranker-serving',
      modelRef: 'model:default/ranker',
      versions: [{ version: 3, percent: 90, source: 'recorded' }],
      sources: ['recorded'],
      phase: 'Ready',
      via: 'model:default/ranker@3',
    },
  ],
  pipelines: [
    {
      id: 'p1',
      name: 'nightly-ranker',
      kind: 'training',
      phase: 'Running',
      cluster: 'local',
      namespace: 'search-training',
      modelRef: 'model:default/ranker',
      periodic: true,
      childRuns: 12,
      via: 'dataset:default/clicks',
    },
  ],
  runs: [
    {
      id: 'r1',
      name: 'train-r1',
      kind: 'training',
      phase: 'Succeeded',
      cluster: 'local',
      namespace: 'search-training',
      periodic: false,
      childRuns: 0,
      via: 'dataset:default/clicks',
    },
  ],
  modelVersions: [
    {
      modelRef: 'model:default/ranker',
      version: 3,
      state: 'live',
      runId: 'r1',
      via: 'run:r1',
    },
  ],
  models: [
    { entityRef: 'model:default/ranker', relation: 'produced', via: 'run:r1' },
    {
      entityRef: 'model:default/blender',
      relation: 'dependsOn',
      via: 'model:default/ranker',
    },
  ],
  totals: { services: 1, pipelines: 1, runs: 250, modelVersions: 1, models: 2 },
};

describe('DatasetContent', () => {
  it('shows source, cache, versions and impact', async () => {
    const api = mockKubeaiApi({
      listDatasetVersions: jest.fn().mockResolvedValue(versionsList),
      getImpact: jest.fn().mockResolvedValue(impact),
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
    // the backend's answer, not a walk of the lineage graph in the browser
    expect(api.getImpact).toHaveBeenCalledWith({
      entityRef: 'dataset:default/clicks',
    });
    expect(api.getLineage).not.toHaveBeenCalled();
    const models = await screen.findByRole('list', { name: 'Models (2)' });
    expect(within(models).getByText('ranker')).toBeInTheDocument();
    expect(within(models).getByText('depends on ranker')).toBeInTheDocument();
    // 250 runs read it: the answer holds one, the rest is counted
    const runs = screen.getByRole('list', { name: 'Runs (250)' });
    expect(
      within(runs).getByRole('link', { name: 'train-r1' }),
    ).toHaveAttribute('href', '/kubeai/runs/r1');
    expect(within(runs).getByText(/and 249 more/)).toBeInTheDocument();
    const pipelines = screen.getByRole('list', {
      name: 'Pipelines and periodic tasks (1)',
    });
    expect(
      within(pipelines).getByText(/periodic · 12 executions/),
    ).toBeInTheDocument();
    const services = screen.getByRole('list', {
      name: 'Inference services (1)',
    });
    expect(within(services).getByText('ranker-serving')).toBeInTheDocument();
    expect(
      within(services).getByText(/v3 90% \(deployed\)/),
    ).toBeInTheDocument();
  });

  it('has empty states for no versions and no dependents', async () => {
    const api = mockKubeaiApi({
      listDatasetVersions: jest
        .fn()
        .mockResolvedValue({ items: [], totalItems: 0 }),
      getImpact: jest.fn().mockResolvedValue({
        entityRef: 'dataset:default/clicks',
        services: [],
        pipelines: [],
        runs: [],
        modelVersions: [],
        models: [],
        totals: none,
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
      await screen.findByText(/Nothing depends on this dataset: no service/),
    ).toBeInTheDocument();
    expect(screen.getByText('No cache')).toBeInTheDocument();
  });

  it('shows errors of the registry', async () => {
    const api = mockKubeaiApi({
      listDatasetVersions: jest
        .fn()
        .mockRejectedValue(await responseError(500, 'boom')),
      getImpact: jest
        .fn()
        .mockRejectedValue(await responseError(500, 'impact boom')),
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
    expect(screen.getByText('impact boom (HTTP 500)')).toBeInTheDocument();
  });
});
