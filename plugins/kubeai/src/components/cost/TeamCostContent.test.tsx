import { screen, within } from '@testing-library/react';
import type { Entity } from '@backstage/catalog-model';
import type { CostReport } from '@kubeai/plugin-kubeai-common';
import {
  mockKubeaiApi,
  modelEntity,
  modelVersion,
  renderWithApis,
} from '../../__testUtils__';
import { ModelVersionsContent } from '../model/ModelVersionsContent';
import { TeamCostContent } from './TeamCostContent';

jest.setTimeout(30_000);

const team: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Group',
  metadata: { name: 'cv-team', namespace: 'default' },
  spec: { type: 'team', children: [] },
};
const budget = {
  team: 'group:default/cv-team',
  month: '2026-12',
  monthly: 1000,
  spent: 1034.2,
  share: 1.0342,
  state: 'over' as const,
  message:
    'team group:default/cv-team is over its budget of 1,000 EUR for 2026-12 (spent 1,034.20)',
};
const months: CostReport = {
  currency: 'EUR',
  from: '2026-10',
  to: '2026-12',
  groupBy: 'month',
  team: 'group:default/cv-team',
  total: 1512.45,
  items: [
    { key: '2026-10', cost: 210.25, runs: 120, live: 0 },
    { key: '2026-11', cost: 268, runs: 140, live: 0 },
    { key: '2026-12', cost: 1034.2, runs: 31, live: 12.5 },
  ],
  budget,
};
const models: CostReport = {
  ...months,
  groupBy: 'model',
  items: [
    { key: 'model:default/detector', cost: 1400.45, runs: 200, live: 12.5 },
    { key: 'model:default/classifier', cost: 112, runs: 91, live: 0 },
  ],
};

describe('TeamCostContent', () => {
  it('plots cost per month, lists totals per model and shows the budget with its warning', async () => {
    const getCost = jest.fn(async (query: { groupBy: string }) =>
      query.groupBy === 'month' ? months : models,
    );
    await renderWithApis(<TeamCostContent />, {
      kubeai: mockKubeaiApi({ getCost }),
      entity: team,
    });
    const chart = await screen.findByRole('img', { name: /^Cost per month:/ });
    expect(chart).toHaveAccessibleName(
      'Cost per month: 2026-10 210.25 EUR, 2026-11 268.00 EUR, 2026-12 1,034.20 EUR',
    );
    expect(chart.querySelectorAll('rect')).toHaveLength(3);
    expect(getCost).toHaveBeenCalledWith({
      team: 'group:default/cv-team',
      groupBy: 'month',
    });
    const perMonth = screen.getByRole('table', { name: 'Cost per month' });
    expect(within(perMonth).getByText('1,034.20 EUR')).toBeInTheDocument();
    expect(within(perMonth).getByText('12.50 EUR')).toBeInTheDocument();
    const perModel = screen.getByRole('table', { name: 'Cost per model' });
    const rows = within(perModel).getAllByRole('row');
    expect(rows[1]).toHaveTextContent('model:default/detector2001,400.45 EUR');
    expect(rows[2]).toHaveTextContent('model:default/classifier91112.00 EUR');
    expect(screen.getByRole('alert')).toHaveTextContent(
      `Over budget: ${budget.message}`,
    );
    const meter = screen.getByRole('meter');
    expect(meter).toHaveAccessibleName(
      'Budget 2026-12: 1,034.20 EUR of 1,000.00 EUR (103 %)',
    );
    expect(
      screen.getByText('2026-10 to 2026-12: 1,512.45 EUR'),
    ).toBeInTheDocument();
  });

  it('warns from 80 % and is quiet below', async () => {
    const warning = {
      ...budget,
      spent: 850,
      share: 0.85,
      state: 'warning' as const,
      message:
        'team group:default/cv-team has spent 85 % of its budget of 1,000 EUR for 2026-12 (850.00)',
    };
    const getCost = jest.fn(async () => ({ ...months, budget: warning }));
    await renderWithApis(<TeamCostContent />, {
      kubeai: mockKubeaiApi({ getCost }),
      entity: team,
    });
    expect(await screen.findByRole('alert')).toHaveTextContent(
      `Warning: ${warning.message}`,
    );
  });

  it('says so when the team has no cost yet', async () => {
    const getCost = jest.fn(async () => ({
      ...months,
      items: [],
      total: 0,
      budget: undefined,
    }));
    await renderWithApis(<TeamCostContent />, {
      kubeai: mockKubeaiApi({ getCost }),
      entity: team,
    });
    expect(await screen.findByText('No cost yet')).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });
});

describe('training cost per version on the model page', () => {
  it('adds a column with each version’s training cost (its run’s)', async () => {
    const getCost = jest.fn(async () => ({
      currency: 'EUR',
      from: '2026-01',
      to: '2026-12',
      groupBy: 'version',
      model: 'model:default/ranker',
      total: 45.6,
      items: [
        { key: '3', cost: 32.16, runs: 1, live: 0 },
        { key: '4', cost: 13.44, runs: 1, live: 13.44 },
      ],
    }));
    const api = mockKubeaiApi({
      listModelVersions: jest.fn().mockResolvedValue({
        items: [modelVersion(4), modelVersion(3), modelVersion(2)],
        totalItems: 3,
      }),
      getCost,
    });
    await renderWithApis(<ModelVersionsContent />, {
      kubeai: api,
      entity: modelEntity,
    });
    expect(await screen.findByText('Training cost (EUR)')).toBeInTheDocument();
    expect(getCost).toHaveBeenCalledWith({
      model: 'model:default/ranker',
      groupBy: 'version',
    });
    const table = screen.getAllByRole('table')[0];
    expect(within(table).getByText('32.16')).toBeInTheDocument();
    expect(within(table).getByText('13.44 (running)')).toBeInTheDocument();
  });
});
