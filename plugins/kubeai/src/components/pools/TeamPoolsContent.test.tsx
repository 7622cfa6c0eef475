import { screen, within } from '@testing-library/react';
import type { Entity } from '@backstage/catalog-model';
import type { QueueUsage } from '@kubeai/plugin-kubeai-common';
import { mockKubeaiApi, renderWithApis } from '../../__testUtils__';
import { TeamPoolsContent } from './TeamPoolsContent';

jest.setTimeout(30_000);

const GI = 2 ** 30;
const team: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Group',
  metadata: { name: 'cv-team', namespace: 'default' },
  spec: { type: 'team', children: [] },
};
const usage: QueueUsage = {
  cluster: 'local',
  clusterQueue: 'cv-team',
  cohort: 'shared',
  admitted: 2,
  flavors: [
    {
      flavor: 'elastic',
      resources: [
        {
          resource: 'cpu',
          nominal: 16,
          used: 20,
          borrowed: 4,
          lent: 0,
          lendable: 0,
          borrowingLimit: 8,
        },
        {
          resource: 'memory',
          nominal: 64 * GI,
          used: 32 * GI,
          borrowed: 0,
          lent: 0,
          lendable: 32 * GI,
        },
      ],
    },
    {
      flavor: 'regular',
      resources: [
        {
          resource: 'cpu',
          nominal: 8,
          used: 5,
          borrowed: 0,
          lent: 2.5,
          lendable: 3,
          lendingLimit: 4,
        },
      ],
    },
  ],
  pending: [
    {
      namespace: 'cv-team',
      name: 'job-wait-1a2b3',
      runId: 'r-wait',
      state: 'pending',
      requests: { cpu: 10, memory: 4 * GI },
      since: '2026-12-03T10:00:00Z',
      message: 'insufficient unused quota for cpu in flavor elastic',
    },
  ],
};

describe('TeamPoolsContent', () => {
  it("shows the team's queue per flavor with numbers and bars, and what waits", async () => {
    const getPoolUsage = jest.fn().mockResolvedValue({ items: [usage] });
    await renderWithApis(<TeamPoolsContent />, {
      kubeai: mockKubeaiApi({ getPoolUsage }),
      entity: team,
    });
    const elastic = await screen.findByRole('table', {
      name: 'Usage of cv-team on elastic',
    });
    expect(getPoolUsage).toHaveBeenCalledWith({ team: 'cv-team' });
    const cpu = within(elastic).getByRole('row', { name: /^cpu/ });
    expect(
      within(cpu)
        .getAllByRole('cell')
        .slice(0, 4)
        .map(c => c.textContent),
    ).toEqual(['16', '20', '4', '0']);
    expect(
      within(elastic).getByRole('img', {
        name: 'cpu on elastic: used 20 of nominal 16, borrowed 4, lent 0',
      }),
    ).toBeInTheDocument();
    const memory = within(elastic).getByRole('row', { name: /^memory/ });
    expect(within(memory).getAllByRole('cell')[1].textContent).toBe('32 Gi');
    expect(
      screen.getByRole('img', {
        name: 'cpu on regular: used 5 of nominal 8, borrowed 0, lent 2.5',
      }),
    ).toBeInTheDocument();
    const waiting = screen.getByRole('table', { name: 'Waiting in cv-team' });
    expect(
      within(waiting).getByText('cv-team/job-wait-1a2b3'),
    ).toBeInTheDocument();
    expect(
      within(waiting).getByText('cpu 10, memory 4 Gi'),
    ).toBeInTheDocument();
    expect(within(waiting).getByRole('link', { name: 'run' })).toHaveAttribute(
      'href',
      '/kubeai/runs/r-wait',
    );
    expect(
      screen.getByText(/cohort shared · 2 admitted, 1 waiting/),
    ).toBeInTheDocument();
  });

  it('says when the team has no queue', async () => {
    await renderWithApis(<TeamPoolsContent />, {
      kubeai: mockKubeaiApi({
        getPoolUsage: jest.fn().mockResolvedValue({ items: [] }),
      }),
      entity: team,
    });
    expect(await screen.findByText('No queue')).toBeInTheDocument();
  });
});
