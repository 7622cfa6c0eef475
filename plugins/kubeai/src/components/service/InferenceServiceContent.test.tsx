import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  deployment,
  mockKubeaiApi,
  modelVersion,
  renderWithApis,
  responseError,
  revision,
  serviceEntity,
} from '../../__testUtils__';
import type { InferenceServiceActions } from '../../api/InferenceServiceActions';
import { InferenceServiceContent } from './InferenceServiceContent';

jest.setTimeout(30_000);

const revisions = {
  items: [
    revision(2, [
      { version: 3, percent: 90 },
      { version: 4, percent: 10 },
    ]),
    revision(1, [{ version: 3, percent: 100 }]),
  ],
  totalItems: 2,
};

function api() {
  return mockKubeaiApi({
    getDeployment: jest.fn().mockResolvedValue(deployment()),
    listDeploymentRevisions: jest.fn().mockResolvedValue(revisions),
    listModelVersions: jest.fn().mockResolvedValue({
      items: [modelVersion(5), modelVersion(4), modelVersion(3)],
      totalItems: 3,
    }),
  });
}

function actions(): jest.Mocked<InferenceServiceActions> {
  const result = {
    deployment: deployment({ revision: 3 }),
    message: 'Revision 3: v3 80% · v5 20%',
  };
  return {
    update: jest.fn().mockResolvedValue(result),
    promote: jest
      .fn()
      .mockResolvedValue({ ...result, message: 'Revision 3: v4 100%' }),
    rollback: jest
      .fn()
      .mockResolvedValue({ ...result, message: 'Revision 3: v3 100%' }),
  };
}

describe('InferenceServiceContent', () => {
  it('shows status, URL, current versions, traffic split and revision history', async () => {
    await renderWithApis(<InferenceServiceContent />, {
      kubeai: api(),
      entity: serviceEntity,
      actions: actions(),
    });
    expect(await screen.findByText('Ready')).toBeInTheDocument();
    expect(
      screen.getByRole('link', { name: 'https://ranker.serving.example.com' }),
    ).toHaveAttribute('href', 'https://ranker.serving.example.com');
    expect(screen.getByRole('link', { name: 'v4' })).toHaveAttribute(
      'href',
      '/catalog/default/model/ranker/versions?version=4',
    );
    expect(
      screen.getByRole('img', { name: 'Traffic split: v3 90% · v4 10%' }),
    ).toBeInTheDocument();
    expect(screen.getByText('local/serving/ranker')).toBeInTheDocument();
    const history = screen.getByText('Revision history').closest('div')!
      .parentElement!.parentElement!;
    expect(within(history).getByText('2 (current)')).toBeInTheDocument();
    expect(within(history).getByText('change 1')).toBeInTheDocument();
  });

  it('updates to another version with a canary share, after confirmation', async () => {
    const a = actions();
    const kubeai = api();
    await renderWithApis(<InferenceServiceContent />, {
      kubeai,
      entity: serviceEntity,
      actions: a,
    });
    await userEvent.click(
      await screen.findByRole('button', { name: 'Update version' }),
    );
    const dialog = await screen.findByRole('dialog', {
      name: 'Update the served version',
    });
    await userEvent.click(
      within(dialog).getByRole('button', { name: /Model version/ }),
    );
    await userEvent.click(await screen.findByRole('option', { name: 'v5' }));
    const share = within(dialog).getByLabelText('Canary share (%)');
    await userEvent.clear(share);
    await userEvent.type(share, '20');
    expect(
      within(dialog).getByText('New split: v3 80% · v5 20%'),
    ).toBeInTheDocument();
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Deploy' }),
    );
    await waitFor(() =>
      expect(a.update).toHaveBeenCalledWith(
        { namespace: 'default', name: 'ranker-serving' },
        { version: 5, canaryPercent: 20 },
      ),
    );
    expect(
      await screen.findByText('Done. Revision 3: v3 80% · v5 20%'),
    ).toBeInTheDocument();
    // The deployment is reloaded after the change.
    await waitFor(() => expect(kubeai.getDeployment).toHaveBeenCalledTimes(2));
  });

  it('promotes the canary and rolls back after confirmation, and shows failures', async () => {
    const a = actions();
    a.rollback.mockRejectedValueOnce(
      await responseError(409, 'revision changed meanwhile'),
    );
    await renderWithApis(<InferenceServiceContent />, {
      kubeai: api(),
      entity: serviceEntity,
      actions: a,
    });
    await userEvent.click(
      await screen.findByRole('button', { name: 'Promote v4' }),
    );
    const confirm = await screen.findByRole('dialog', { name: 'Promote v4?' });
    await userEvent.click(
      within(confirm).getByRole('button', { name: 'Promote' }),
    );
    expect(a.promote).toHaveBeenCalled();
    expect(
      await screen.findByText('Done. Revision 3: v4 100%'),
    ).toBeInTheDocument();

    await userEvent.click(
      await screen.findByRole('button', { name: 'Roll back' }),
    );
    const rollback = await screen.findByRole('dialog', {
      name: 'Roll back to revision 1?',
    });
    await userEvent.click(
      within(rollback).getByRole('button', { name: 'Cancel' }),
    );
    expect(a.rollback).not.toHaveBeenCalled();
    await userEvent.click(screen.getByRole('button', { name: 'Roll back' }));
    await userEvent.click(
      within(await screen.findByRole('dialog')).getByRole('button', {
        name: 'Roll back',
      }),
    );
    expect(a.rollback).toHaveBeenCalledWith(
      { namespace: 'default', name: 'ranker-serving' },
      { toRevision: 1 },
    );
    expect(await screen.findByText(/The change failed/)).toBeInTheDocument();
    expect(
      screen.getByText('revision changed meanwhile (HTTP 409)'),
    ).toBeInTheDocument();
  });

  it('says when there is no deployment, and shows other errors', async () => {
    const notFound = mockKubeaiApi({
      getDeployment: jest
        .fn()
        .mockRejectedValue(await responseError(404, 'no deployment')),
      listDeploymentRevisions: jest
        .fn()
        .mockResolvedValue({ items: [], totalItems: 0 }),
    });
    const { unmount } = await renderWithApis(<InferenceServiceContent />, {
      kubeai: notFound,
      entity: serviceEntity,
    });
    expect(
      await screen.findByText('No deployment recorded'),
    ).toBeInTheDocument();
    unmount();

    const failing = mockKubeaiApi({
      getDeployment: jest
        .fn()
        .mockRejectedValue(await responseError(500, 'db down')),
      listDeploymentRevisions: jest
        .fn()
        .mockResolvedValue({ items: [], totalItems: 0 }),
    });
    await renderWithApis(<InferenceServiceContent />, {
      kubeai: failing,
      entity: serviceEntity,
    });
    expect(
      await screen.findByText(/Could not load the deployment/),
    ).toBeInTheDocument();
    expect(screen.getByText('db down (HTTP 500)')).toBeInTheDocument();
  });

  it('explains a missing actions API instead of showing buttons', async () => {
    await renderWithApis(<InferenceServiceContent />, {
      kubeai: api(),
      entity: serviceEntity,
    });
    expect(
      await screen.findByText(/Changing the deployment is not available/),
    ).toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Update version' }),
    ).not.toBeInTheDocument();
  });
});
