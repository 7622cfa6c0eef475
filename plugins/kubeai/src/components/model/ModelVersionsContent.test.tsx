import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  mockKubeaiApi,
  modelEntity,
  modelVersion,
  renderWithApis,
  responseError,
} from '../../__testUtils__';
import { ModelVersionsContent } from './ModelVersionsContent';

jest.setTimeout(30_000);

const versions = [
  modelVersion(4, { aliases: ['canary'], metrics: { auc: 0.91, f1: 0.7 } }),
  modelVersion(3, {
    aliases: ['production'],
    metrics: { auc: 0.88, f1: 0.72 },
  }),
  modelVersion(2, {
    state: 'archived',
    curves: undefined,
    metrics: { auc: 0.8 },
  }),
];

describe('ModelVersionsContent', () => {
  it('lists versions with metrics, aliases and state', async () => {
    const api = mockKubeaiApi({
      listModelVersions: jest
        .fn()
        .mockResolvedValue({ items: versions, totalItems: 3 }),
    });
    await renderWithApis(<ModelVersionsContent />, {
      kubeai: api,
      entity: modelEntity,
    });
    expect((await screen.findAllByText('v4')).length).toBeGreaterThan(0);
    expect(api.listModelVersions).toHaveBeenCalledWith(
      { namespace: 'default', name: 'ranker' },
      { limit: 1000 },
    );
    const table = screen.getAllByRole('table')[0];
    expect(within(table).getByText('auc')).toBeInTheDocument();
    expect(within(table).getByText('0.91')).toBeInTheDocument();
    expect(within(table).getByText('archived')).toBeInTheDocument();
    expect(within(table).getAllByText('production').length).toBeGreaterThan(0);
    expect(
      within(table).getByRole('link', { name: 'Lineage of v3' }),
    ).toHaveAttribute(
      'href',
      '/kubeai/lineage?entityRef=model%3Adefault%2Franker&version=3',
    );
  });

  it('compares production with the newest version: metric diff, ROC and PR on one chart each', async () => {
    const api = mockKubeaiApi({
      listModelVersions: jest
        .fn()
        .mockResolvedValue({ items: versions, totalItems: 3 }),
    });
    await renderWithApis(<ModelVersionsContent />, {
      kubeai: api,
      entity: modelEntity,
    });
    const diff = await screen.findByRole('table', {
      name: 'Metrics of v3 and v4',
    });
    expect(within(diff).getByText('+0.03')).toBeInTheDocument();
    expect(within(diff).getByText('-0.02')).toBeInTheDocument();
    const roc = screen.getByRole('img', { name: /ROC curve/ });
    expect(roc.querySelectorAll('polyline')).toHaveLength(2);
    expect(
      screen.getByRole('img', { name: /Precision-recall curve/ }),
    ).toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: /Version A/ }));
    await userEvent.click(screen.getByRole('option', { name: 'v2' }));
    expect(
      await screen.findByRole('table', { name: 'Metrics of v2 and v4' }),
    ).toBeInTheDocument();
    // v2 has no curves: only v4 is drawn.
    expect(
      screen
        .getByRole('img', { name: /ROC curve/ })
        .querySelectorAll('polyline'),
    ).toHaveLength(1);
  });

  it('preselects the version of ?version=', async () => {
    const api = mockKubeaiApi({
      listModelVersions: jest
        .fn()
        .mockResolvedValue({ items: versions, totalItems: 3 }),
    });
    await renderWithApis(<ModelVersionsContent />, {
      kubeai: api,
      entity: modelEntity,
      routeEntries: ['/versions?version=2'],
    });
    expect(
      await screen.findByRole('table', { name: 'Metrics of v3 and v2' }),
    ).toBeInTheDocument();
  });

  it('explains that no version is registered', async () => {
    const api = mockKubeaiApi({
      listModelVersions: jest
        .fn()
        .mockResolvedValue({ items: [], totalItems: 0 }),
    });
    await renderWithApis(<ModelVersionsContent />, {
      kubeai: api,
      entity: modelEntity,
    });
    expect(
      await screen.findByText('No versions registered'),
    ).toBeInTheDocument();
  });

  it('shows the server error', async () => {
    const api = mockKubeaiApi({
      listModelVersions: jest
        .fn()
        .mockRejectedValue(await responseError(500, 'database is down')),
    });
    await renderWithApis(<ModelVersionsContent />, {
      kubeai: api,
      entity: modelEntity,
    });
    expect(
      await screen.findByText(/Could not load the model versions/),
    ).toBeInTheDocument();
    expect(screen.getByText('database is down (HTTP 500)')).toBeInTheDocument();
  });
});
