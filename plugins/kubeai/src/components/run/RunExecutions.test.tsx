import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import type { ListRunsQuery } from '@kubeai/plugin-kubeai-common';
import { mockKubeaiApi, renderWithApis, run } from '../../__testUtils__';
import { EXECUTIONS_PAGE_SIZE } from './RunExecutions';
import { RunView } from './RunView';

jest.setTimeout(30_000);

const TOTAL = 45;
const periodic = run('cron', {
  name: 'forecast',
  phase: 'Running',
  finishedAt: undefined,
  params: { objectKind: 'CronJob', schedule: '*/5 * * * *' },
  executions: TOTAL,
});

/** Execution i (0 = newest): started i×5 min before 10:00, five minutes long; every 3rd failed. */
function execution(i: number) {
  const start = new Date(Date.UTC(2026, 11, 1, 10, 0) - i * 300_000);
  return run(`exec-${i}`, {
    name: `forecast-${i}`,
    parentRunId: 'cron',
    phase: i % 3 === 2 ? 'Failed' : 'Succeeded',
    startedAt: start.toISOString(),
    finishedAt: new Date(start.getTime() + 300_000).toISOString(),
  });
}

function pagedApi() {
  return mockKubeaiApi({
    getRun: jest.fn(async (id: string) =>
      id === 'cron' ? periodic : execution(Number(id.split('-')[1])),
    ),
    listRuns: jest.fn(async (query: ListRunsQuery) => {
      const offset = query.offset ?? 0;
      const end = Math.min(TOTAL, offset + (query.limit ?? 100));
      return {
        items: Array.from({ length: Math.max(0, end - offset) }, (_, k) =>
          execution(offset + k),
        ),
        totalItems: TOTAL,
      };
    }),
  });
}

describe('RunExecutions', () => {
  it('lists the executions of a periodic task with phase, start and duration, paged', async () => {
    const api = pagedApi();
    await renderWithApis(<RunView runId="cron" />, { kubeai: api });
    const table = await screen.findByRole('table', { name: 'Executions' });
    expect(api.listRuns).toHaveBeenCalledWith({
      parent: 'cron',
      limit: EXECUTIONS_PAGE_SIZE,
      offset: 0,
    });
    expect(screen.getByText(`Executions (${TOTAL})`)).toBeInTheDocument();
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(EXECUTIONS_PAGE_SIZE);
    expect(
      within(rows[0]).getByRole('link', { name: 'forecast-0' }),
    ).toHaveAttribute('href', '/kubeai/runs/exec-0');
    expect(within(rows[0]).getByText('Succeeded')).toBeInTheDocument();
    expect(within(rows[0]).getByText('5m 0s')).toBeInTheDocument();
    expect(within(rows[2]).getByText('Failed')).toBeInTheDocument();
    expect(screen.getByText(`1–20 of ${TOTAL}`)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Newer' })).toBeDisabled();

    fireEvent.click(screen.getByRole('button', { name: 'Older' }));
    expect(await screen.findByText(`21–40 of ${TOTAL}`)).toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'Older' }));
    expect(await screen.findByText(`41–45 of ${TOTAL}`)).toBeInTheDocument();
    expect(api.listRuns).toHaveBeenLastCalledWith({
      parent: 'cron',
      limit: EXECUTIONS_PAGE_SIZE,
      offset: 40,
    });
    expect(
      within(screen.getByRole('table', { name: 'Executions' })).getAllByRole(
        'row',
      ),
    ).toHaveLength(1 + 5);
    expect(screen.getByRole('button', { name: 'Older' })).toBeDisabled();
    fireEvent.click(screen.getByRole('button', { name: 'Newer' }));
    expect(await screen.findByText(`21–40 of ${TOTAL}`)).toBeInTheDocument();
  });

  it('says a periodic task has no executions yet, and shows a failed load', async () => {
    const api = mockKubeaiApi({
      getRun: jest
        .fn()
        .mockResolvedValue({ ...periodic, executions: undefined }),
      listRuns: jest.fn().mockResolvedValue({ items: [], totalItems: 0 }),
    });
    const { unmount } = await renderWithApis(<RunView runId="cron" />, {
      kubeai: api,
    });
    expect(
      await screen.findByText('No executions recorded yet.'),
    ).toBeInTheDocument();
    unmount();
    const failing = mockKubeaiApi({
      getRun: jest.fn().mockResolvedValue(periodic),
      listRuns: jest.fn().mockRejectedValue(new Error('db down')),
    });
    await renderWithApis(<RunView runId="cron" />, { kubeai: failing });
    expect(
      await screen.findByText(/Could not load the executions/),
    ).toBeInTheDocument();
  });

  it('links an execution to its periodic task and lists nothing under a plain run', async () => {
    const api = pagedApi();
    await renderWithApis(<RunView runId="exec-4" />, { kubeai: api });
    await screen.findByRole('heading', { name: 'forecast-4' });
    expect(screen.getByRole('link', { name: 'cron' })).toHaveAttribute(
      'href',
      '/kubeai/runs/cron',
    );
    await waitFor(() => expect(api.getRun).toHaveBeenCalled());
    expect(api.listRuns).not.toHaveBeenCalled();
    expect(screen.queryByRole('table', { name: 'Executions' })).toBeNull();
  });
});
