import { screen, within } from '@testing-library/react';
import {
  mockKubeaiApi,
  renderWithApis,
  responseError,
  run,
} from '../../__testUtils__';
import { formatCost, phaseSteps, RunView } from './RunView';
import { fillTemplate } from './runLinks';

jest.setTimeout(30_000);

describe('RunView', () => {
  it('shows the timeline, parameters, inputs, outputs and the logs link', async () => {
    const api = mockKubeaiApi({
      getRun: jest
        .fn()
        .mockResolvedValue({ ...run('r1'), metrics: { loss: 0.125 } }),
    });
    await renderWithApis(<RunView runId="r1" />, {
      kubeai: api,
      config: {
        kubeai: {
          links: {
            runLogs: 'https://logs.example.com/{cluster}/{namespace}/{name}',
          },
        },
      },
    });
    expect(
      await screen.findByRole('heading', { name: 'train-r1' }),
    ).toBeInTheDocument();
    expect(screen.getAllByText('Succeeded').length).toBeGreaterThan(0);
    expect(screen.getByText('1h 30m')).toBeInTheDocument();
    const params = screen.getByRole('table', { name: 'Parameters' });
    expect(within(params).getByText('lr')).toBeInTheDocument();
    expect(within(params).getByText('0.01')).toBeInTheDocument();
    // what the run reported about itself
    const metrics = screen.getByRole('table', { name: 'Metrics' });
    expect(within(metrics).getByText('loss')).toBeInTheDocument();
    expect(within(metrics).getByText('0.125')).toBeInTheDocument();
    const inputs = screen.getByRole('list', { name: 'Inputs' });
    expect(within(inputs).getByText(/version 2026-11-19/)).toBeInTheDocument();
    expect(
      within(screen.getByRole('list', { name: 'Outputs' })).getByRole('link', {
        name: 'model:default/ranker v3',
      }),
    ).toHaveAttribute(
      'href',
      '/catalog/default/model/ranker/versions?version=3',
    );
    expect(screen.getByRole('link', { name: 'Logs' })).toHaveAttribute(
      'href',
      'https://logs.example.com/local/ml/train-r1',
    );
    expect(screen.getByRole('link', { name: 'Lineage' })).toHaveAttribute(
      'href',
      '/kubeai/lineage?runId=r1',
    );
    expect(
      screen.getByRole('list', { name: 'Phase timeline' }),
    ).toBeInTheDocument();
  });

  it('shows the failure message and that no logs link is known', async () => {
    const api = mockKubeaiApi({
      getRun: jest.fn().mockResolvedValue(
        run('r2', {
          phase: 'Failed',
          message: 'OOMKilled',
          params: {},
          inputs: [],
          outputs: [],
        }),
      ),
    });
    await renderWithApis(<RunView runId="r2" />, { kubeai: api });
    expect(await screen.findByText(/The run failed/)).toBeInTheDocument();
    expect(screen.getByText('OOMKilled')).toBeInTheDocument();
    expect(screen.getByText('No logs link for this run')).toBeInTheDocument();
    expect(screen.getByText('No parameters recorded.')).toBeInTheDocument();
    expect(screen.getByText('No inputs recorded.')).toBeInTheDocument();
    expect(screen.getByText('No model version produced.')).toBeInTheDocument();
  });

  it('says when the run does not exist and shows other errors', async () => {
    const api = mockKubeaiApi({
      getRun: jest
        .fn()
        .mockRejectedValue(await responseError(404, 'run nope not found')),
    });
    const { unmount } = await renderWithApis(<RunView runId="nope" />, {
      kubeai: api,
    });
    expect(await screen.findByText('Run not found')).toBeInTheDocument();
    unmount();
    const failing = mockKubeaiApi({
      getRun: jest.fn().mockRejectedValue(await responseError(500, 'db down')),
    });
    await renderWithApis(<RunView runId="x" />, { kubeai: failing });
    expect(
      await screen.findByText(/Could not load the run/),
    ).toBeInTheDocument();
  });
});

describe('run helpers', () => {
  it('derives the timeline from the phase and timestamps', () => {
    expect(
      phaseSteps(run('a', { phase: 'Running', finishedAt: undefined })).map(
        s => s.done,
      ),
    ).toEqual([true, true, true, false]);
    const pending = phaseSteps(
      run('b', {
        phase: 'Pending',
        startedAt: undefined,
        finishedAt: undefined,
      }),
    );
    expect(pending.map(s => s.label)).toEqual([
      'Created',
      'Pending',
      'Running',
      'Finished',
    ]);
    expect(pending.map(s => s.done)).toEqual([true, false, false, false]);
    expect(phaseSteps(run('c', { phase: 'Failed' }))[3]).toMatchObject({
      label: 'Failed',
      error: true,
    });
  });

  it('shows what the run cost (GET /runs/{id} cost), and that it still grows while it runs', async () => {
    const api = mockKubeaiApi({
      getRun: jest.fn().mockResolvedValue({
        ...run('r2'),
        cost: {
          amount: 0.0051,
          currency: 'EUR',
          flavor: 'elastic',
          podHours: 1 / 6,
          final: true,
        },
      }),
    });
    await renderWithApis(<RunView runId="r2" />, { kubeai: api });
    expect(
      await screen.findByText('0.0051 EUR · 0.17 pod-hours on elastic'),
    ).toBeInTheDocument();
    expect(
      formatCost({
        amount: 1234.567,
        currency: 'USD',
        podHours: 3,
        final: false,
      }),
    ).toBe('1,234.57 USD · 3 pod-hours so far');
  });

  it('fills link templates', () => {
    expect(
      fillTemplate(
        'https://x/{namespace}/{name}?u={uid}&k={other}',
        run('r', { uid: 'a b' }),
      ),
    ).toBe('https://x/ml/train-r?u=a%20b&k={other}');
  });
});
