import { screen, within } from '@testing-library/react';
import {
  deployment,
  mockKubeaiApi,
  modelEntity,
  renderWithApis,
  responseError,
} from '../../__testUtils__';
import { ModelDeploymentsContent } from './ModelDeploymentsContent';

jest.setTimeout(30_000);

describe('ModelDeploymentsContent', () => {
  it('shows which services run which version, with traffic', async () => {
    const api = mockKubeaiApi({
      listModelDeployments: jest.fn().mockResolvedValue({
        items: [
          deployment(),
          deployment({
            serviceRef: 'inferenceservice:default/ranker-batch',
            name: 'ranker-batch',
            traffic: [{ version: 3, percent: 100 }],
            observed: null,
          }),
        ],
        totalItems: 2,
      }),
    });
    await renderWithApis(<ModelDeploymentsContent />, {
      kubeai: api,
      entity: modelEntity,
    });
    const services = (await screen.findAllByRole('table'))[0];
    expect(within(services).getByText('v3 90% · v4 10%')).toBeInTheDocument();
    expect(within(services).getByText('Ready')).toBeInTheDocument();
    expect(within(services).getByText('Not reported')).toBeInTheDocument();
    expect(
      within(services).getByRole('link', {
        name: 'https://ranker.serving.example.com',
      }),
    ).toBeInTheDocument();
    expect(
      screen.getByText('Which services run which version'),
    ).toBeInTheDocument();
    const byVersion = screen.getAllByRole('table')[1];
    expect(within(byVersion).getByText('v3')).toBeInTheDocument();
    expect(within(byVersion).getByText('2')).toBeInTheDocument();
  });

  it('says when the model is not deployed', async () => {
    const api = mockKubeaiApi({
      listModelDeployments: jest
        .fn()
        .mockResolvedValue({ items: [], totalItems: 0 }),
    });
    await renderWithApis(<ModelDeploymentsContent />, {
      kubeai: api,
      entity: modelEntity,
    });
    expect(await screen.findByText('Not deployed')).toBeInTheDocument();
  });

  it('shows the server error', async () => {
    const api = mockKubeaiApi({
      listModelDeployments: jest
        .fn()
        .mockRejectedValue(await responseError(403, 'not allowed')),
    });
    await renderWithApis(<ModelDeploymentsContent />, {
      kubeai: api,
      entity: modelEntity,
    });
    expect(
      await screen.findByText(/Could not load the deployments/),
    ).toBeInTheDocument();
    expect(screen.getByText('not allowed (HTTP 403)')).toBeInTheDocument();
  });
});
