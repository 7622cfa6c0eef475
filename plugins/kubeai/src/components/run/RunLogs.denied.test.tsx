import { screen } from '@testing-library/react';
import { mockKubeaiApi, renderWithApis, run } from '../../__testUtils__';
import { RunLogs } from './RunLogs';

jest.setTimeout(30_000);

// A file of its own: usePermission caches the decision of a basic permission per test file.
describe('RunLogs when the permission is denied', () => {
  it('says so and reads nothing', async () => {
    const api = mockKubeaiApi({ getRunLogs: jest.fn() });
    await renderWithApis(<RunLogs run={run('r1')} />, {
      kubeai: api,
      permission: 'deny',
    });
    expect(
      await screen.findByText(/You may not read the logs of runs/),
    ).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Follow' })).toBeDisabled();
    expect(api.getRunLogs).not.toHaveBeenCalled();
  });
});
