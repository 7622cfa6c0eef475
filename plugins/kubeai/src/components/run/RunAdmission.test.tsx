import { screen } from '@testing-library/react';
import { renderWithApis, run } from '../../__testUtils__';
import { RunAdmission } from './RunAdmission';

jest.setTimeout(30_000);

describe('RunAdmission', () => {
  it('shows where Kueue admitted the run', async () => {
    await renderWithApis(
      <RunAdmission
        run={{
          ...run('r1'),
          clusterQueue: 'cv-team',
          flavor: 'elastic',
          admission: {
            state: 'admitted',
            clusterQueue: 'cv-team',
            flavors: { cpu: 'elastic' },
            message: 'admitted to `cv-team` on `elastic`',
            workload: { namespace: 'ml', name: 'job-train-r1-abcde' },
          },
        }}
      />,
      {},
    );
    const text = screen.getByLabelText('Admission');
    expect(text.textContent).toBe('admitted to cv-team on elastic');
    expect(screen.getByText('cv-team').tagName).toBe('CODE');
  });

  it('shows why a run waits', async () => {
    await renderWithApis(
      <RunAdmission
        run={{
          ...run('r1'),
          clusterQueue: 'cv-team',
          admission: {
            state: 'pending',
            clusterQueue: 'cv-team',
            flavors: {},
            message:
              "pending: cpu 18 of 16 used in `cv-team` (14 + this run's 4, flavor `elastic`), cohort has none to lend",
            workload: { namespace: 'ml', name: 'job-train-r1-abcde' },
          },
        }}
      />,
      {},
    );
    expect(screen.getByText(/Waiting for quota/)).toBeInTheDocument();
    expect(screen.getByLabelText('Admission').textContent).toBe(
      "pending: cpu 18 of 16 used in cv-team (14 + this run's 4, flavor elastic), cohort has none to lend",
    );
  });

  it('shows where routing sent a run Kueue has not seen yet, and nothing without either', async () => {
    const { unmount } = await renderWithApis(
      <RunAdmission
        run={{ ...run('r1'), clusterQueue: 'cv-team', flavor: 'gpu' }}
      />,
      {},
    );
    expect(screen.getByLabelText('Admission').textContent).toBe(
      'routed to cv-team on gpu, not yet seen by Kueue',
    );
    unmount();
    await renderWithApis(<RunAdmission run={run('r1')} />, {});
    expect(screen.queryByLabelText('Admission')).toBeNull();
  });
});
