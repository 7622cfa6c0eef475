import { screen } from '@testing-library/react';
import { mockKubeaiApi, renderWithApis, run } from '../../__testUtils__';
import { RunView } from './RunView';

jest.setTimeout(30_000);

// A file of its own: usePermission caches the decision of the (basic, resource-less)
// kubeai.cluster.object.delete permission for the whole test file, so an "allowed" test
// rendered before would make this one see the cached ALLOW.
describe('RunDeleteAction when the permission is denied', () => {
  it('disables "Delete from cluster" with the reason', async () => {
    const api = mockKubeaiApi({
      getRun: jest
        .fn()
        .mockResolvedValue(
          run('nb1', { kind: 'notebook', namespace: 'team-a', name: 'nb1' }),
        ),
    });
    await renderWithApis(<RunView runId="nb1" />, {
      kubeai: api,
      permission: 'deny',
    });
    const reason = await screen.findByText(
      /You are not allowed to delete objects from the cluster \(permission kubeai.cluster.object.delete\)/,
    );
    const button = screen.getByRole('button', { name: 'Delete from cluster' });
    expect(button).toBeDisabled();
    expect(button).toHaveAttribute('aria-describedby', reason.id);
    expect(api.deleteNotebook).not.toHaveBeenCalled();
  });
});
