import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ClusterDeleteResult, Run } from '@kubeai/plugin-kubeai-common';
import {
  mockKubeaiApi,
  renderWithApis,
  responseError,
  run,
} from '../../__testUtils__';
import { RunView } from './RunView';
import { runObjectLabel, trainingKindOf } from './RunDeleteAction';

jest.setTimeout(30_000);

function notebookRun(extra: Partial<Run> = {}): Run {
  return run('nb1', {
    kind: 'notebook',
    cluster: 'local',
    namespace: 'team-a',
    name: 'nb1',
    phase: 'Running',
    finishedAt: undefined,
    outputs: [],
    ...extra,
  });
}

function deleteResult(
  dryRun: boolean,
  extra: Partial<ClusterDeleteResult> = {},
): ClusterDeleteResult {
  const notebook = {
    cluster: 'local',
    apiVersion: 'kubeflow.org/v1',
    kind: 'Notebook',
    namespace: 'team-a',
    name: 'nb1',
  };
  return {
    dryRun,
    object: notebook,
    deleted: [
      notebook,
      {
        cluster: 'local',
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace: 'team-a',
        name: 'nb1-workspace',
      },
    ],
    message: `${
      dryRun ? 'Would delete' : 'Deleted'
    } Notebook team-a/nb1, PersistentVolumeClaim team-a/nb1-workspace in cluster local${
      dryRun ? '' : ' (run stopped)'
    }`,
    ...extra,
  };
}

async function openDialog(name: string | RegExp) {
  await userEvent.click(
    await screen.findByRole('button', { name: 'Delete from cluster' }),
  );
  return screen.findByRole('dialog', { name });
}

describe('RunDeleteAction', () => {
  it('deletes a notebook after confirmation, shows what was deleted and reloads the run', async () => {
    const api = mockKubeaiApi({
      getRun: jest
        .fn()
        .mockResolvedValueOnce(notebookRun())
        .mockResolvedValue(
          notebookRun({
            phase: 'Stopped',
            finishedAt: '2026-11-20T12:00:00.000Z',
          }),
        ),
      deleteNotebook: jest
        .fn()
        .mockImplementation((_target, query) =>
          Promise.resolve(deleteResult(Boolean(query?.dryRun))),
        ),
    });
    await renderWithApis(<RunView runId="nb1" />, { kubeai: api });
    const dialog = await openDialog('Delete Notebook team-a/nb1?');
    expect(dialog).toHaveTextContent(
      'The Notebook team-a/nb1 will be deleted from cluster local.',
    );
    // The dry run lists what the delete would remove.
    const preview = await within(dialog).findByRole('list', {
      name: 'Objects to delete',
    });
    expect(
      within(preview).getByText('Notebook team-a/nb1'),
    ).toBeInTheDocument();
    expect(
      within(preview).getByText('PersistentVolumeClaim team-a/nb1-workspace'),
    ).toBeInTheDocument();
    expect(api.deleteNotebook).toHaveBeenCalledTimes(1);
    expect(api.deleteNotebook).toHaveBeenCalledWith(
      { cluster: 'local', namespace: 'team-a', name: 'nb1' },
      { dryRun: true },
    );

    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Delete' }),
    );
    await waitFor(() =>
      expect(api.deleteNotebook).toHaveBeenLastCalledWith(
        { cluster: 'local', namespace: 'team-a', name: 'nb1' },
        { dryRun: false },
      ),
    );
    const done = await screen.findByRole('status', {
      name: 'Deleted from the cluster',
    });
    expect(done).toHaveTextContent('Deleted from cluster local:');
    expect(within(done).getByText('Notebook team-a/nb1')).toBeInTheDocument();
    expect(
      within(done).getByText('PersistentVolumeClaim team-a/nb1-workspace'),
    ).toBeInTheDocument();
    await waitFor(() =>
      expect(screen.queryByRole('dialog')).not.toBeInTheDocument(),
    );
    // The run is reloaded: it is Stopped now.
    await waitFor(() => expect(api.getRun).toHaveBeenCalledTimes(2));
    expect((await screen.findAllByText('Stopped')).length).toBeGreaterThan(0);
  });

  it('deletes nothing when the confirmation is cancelled', async () => {
    const api = mockKubeaiApi({
      getRun: jest.fn().mockResolvedValue(notebookRun()),
      deleteNotebook: jest.fn().mockResolvedValue(deleteResult(true)),
    });
    await renderWithApis(<RunView runId="nb1" />, { kubeai: api });
    const dialog = await openDialog('Delete Notebook team-a/nb1?');
    await within(dialog).findByRole('list', { name: 'Objects to delete' });
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Cancel' }),
    );
    await waitFor(() =>
      expect(screen.queryByRole('dialog')).not.toBeInTheDocument(),
    );
    expect(api.deleteNotebook).toHaveBeenCalledTimes(1);
    expect(api.deleteNotebook).toHaveBeenCalledWith(expect.anything(), {
      dryRun: true,
    });
    expect(api.getRun).toHaveBeenCalledTimes(1);
  });

  it('deletes a training task with the kind the run records, or lets the backend find it', async () => {
    const tfjob = run('t1', {
      phase: 'Running',
      observed: { kind: 'TFJob', apiVersion: 'kubeflow.org/v1', uid: 'u1' },
    });
    const result = {
      dryRun: false,
      object: {
        cluster: 'local',
        apiVersion: 'kubeflow.org/v1',
        kind: 'TFJob',
        namespace: 'ml',
        name: 'train-t1',
      },
      deleted: [
        {
          cluster: 'local',
          apiVersion: 'kubeflow.org/v1',
          kind: 'TFJob',
          namespace: 'ml',
          name: 'train-t1',
        },
      ],
      message: 'Deleted TFJob ml/train-t1 in cluster local (run stopped)',
    };
    const api = mockKubeaiApi({
      getRun: jest.fn().mockResolvedValue(tfjob),
      deleteJob: jest.fn().mockResolvedValue(result),
    });
    const { unmount } = await renderWithApis(<RunView runId="t1" />, {
      kubeai: api,
    });
    const dialog = await openDialog('Delete TFJob ml/train-t1?');
    expect(dialog).toHaveTextContent('deleted from cluster local');
    await within(dialog).findByRole('list', { name: 'Objects to delete' });
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Delete' }),
    );
    expect(
      await screen.findByText(
        'Deleted TFJob ml/train-t1 in cluster local (run stopped)',
      ),
    ).toBeInTheDocument();
    expect(api.deleteJob).toHaveBeenCalledWith(
      { cluster: 'local', namespace: 'ml', name: 'train-t1' },
      { kind: 'TFJob', dryRun: true },
    );
    expect(api.deleteJob).toHaveBeenLastCalledWith(
      { cluster: 'local', namespace: 'ml', name: 'train-t1' },
      { kind: 'TFJob', dryRun: false },
    );
    unmount();

    // No recorded kind: the backend finds it.
    const unknown = mockKubeaiApi({
      getRun: jest.fn().mockResolvedValue(run('t2', { phase: 'Running' })),
      deleteJob: jest.fn().mockResolvedValue(result),
    });
    await renderWithApis(<RunView runId="t2" />, { kubeai: unknown });
    const second = await openDialog('Delete training task ml/train-t2?');
    await within(second).findByRole('list', { name: 'Objects to delete' });
    expect(unknown.deleteJob).toHaveBeenCalledWith(
      { cluster: 'local', namespace: 'ml', name: 'train-t2' },
      { dryRun: true },
    );
  });

  it('deletes a pipeline through the pipelines route', async () => {
    const api = mockKubeaiApi({
      getRun: jest.fn().mockResolvedValue(
        run('p1', {
          kind: 'pipeline',
          name: 'nightly',
          phase: 'Running',
          observed: {
            kind: 'Workflow',
            apiVersion: 'argoproj.io/v1alpha1',
            uid: 'u',
          },
        }),
      ),
      deletePipeline: jest.fn().mockResolvedValue({
        dryRun: true,
        object: {
          cluster: 'local',
          apiVersion: 'argoproj.io/v1alpha1',
          kind: 'Workflow',
          namespace: 'ml',
          name: 'nightly',
        },
        deleted: [],
        message: 'Would delete',
      }),
    });
    await renderWithApis(<RunView runId="p1" />, { kubeai: api });
    const dialog = await openDialog('Delete Workflow ml/nightly?');
    await within(dialog).findByRole('list', { name: 'Objects to delete' });
    expect(api.deletePipeline).toHaveBeenCalledWith(
      { cluster: 'local', namespace: 'ml', name: 'nightly' },
      { dryRun: true },
    );
  });

  it('shows a 409 of the dry run in the dialog and does not offer the delete', async () => {
    const api = mockKubeaiApi({
      getRun: jest.fn().mockResolvedValue(notebookRun()),
      deleteNotebook: jest
        .fn()
        .mockRejectedValue(
          await responseError(
            409,
            'Notebook team-a/nb1 in cluster local is not managed by KubeAI',
          ),
        ),
    });
    await renderWithApis(<RunView runId="nb1" />, { kubeai: api });
    const dialog = await openDialog('Delete Notebook team-a/nb1?');
    expect(await within(dialog).findByRole('alert')).toHaveTextContent(
      'The delete would be refused: Notebook team-a/nb1 in cluster local is not managed by KubeAI (HTTP 409)',
    );
    expect(
      within(dialog).getByRole('button', { name: 'Delete' }),
    ).toBeDisabled();
    expect(api.deleteNotebook).toHaveBeenCalledTimes(1);
  });

  it('shows the error when the delete itself fails, without reloading', async () => {
    const api = mockKubeaiApi({
      getRun: jest.fn().mockResolvedValue(notebookRun()),
      deleteNotebook: jest
        .fn()
        .mockResolvedValueOnce(deleteResult(true))
        .mockRejectedValueOnce(
          await responseError(
            409,
            'Notebook team-a/nb1 in cluster local is not managed by KubeAI',
          ),
        ),
    });
    await renderWithApis(<RunView runId="nb1" />, { kubeai: api });
    const dialog = await openDialog('Delete Notebook team-a/nb1?');
    await within(dialog).findByRole('list', { name: 'Objects to delete' });
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Delete' }),
    );
    expect(await screen.findByText(/The delete failed/)).toBeInTheDocument();
    expect(
      screen.getByText(
        'Notebook team-a/nb1 in cluster local is not managed by KubeAI (HTTP 409)',
      ),
    ).toBeInTheDocument();
    expect(api.getRun).toHaveBeenCalledTimes(1);
    expect(
      screen.getByRole('button', { name: 'Delete from cluster' }),
    ).toBeEnabled();
  });

  it('is disabled with the reason when the object is already deleted, and absent without an object', async () => {
    const api = mockKubeaiApi({
      getRun: jest.fn().mockResolvedValue(
        notebookRun({
          phase: 'Stopped',
          observed: {
            kind: 'Notebook',
            apiVersion: 'kubeflow.org/v1',
            uid: 'u',
            deleted: true,
          },
        }),
      ),
    });
    const { unmount } = await renderWithApis(<RunView runId="nb1" />, {
      kubeai: api,
    });
    const reason = await screen.findByText(
      'The Notebook was already deleted from the cluster.',
    );
    const button = screen.getByRole('button', { name: 'Delete from cluster' });
    expect(button).toBeDisabled();
    expect(button).toHaveAttribute('aria-describedby', reason.id);
    unmount();

    const nameless = mockKubeaiApi({
      getRun: jest.fn().mockResolvedValue(run('x', { name: '' })),
    });
    await renderWithApis(<RunView runId="x" />, { kubeai: nameless });
    expect(
      await screen.findByRole('list', { name: 'Phase timeline' }),
    ).toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Delete from cluster' }),
    ).not.toBeInTheDocument();
  });
});

describe('run object helpers', () => {
  it('finds the training kind and names the object', () => {
    expect(
      trainingKindOf(run('a', { params: { objectKind: 'PyTorchJob' } })),
    ).toBe('PyTorchJob');
    expect(trainingKindOf(run('b', { params: { objectKind: 'Pod' } }))).toBe(
      undefined,
    );
    expect(runObjectLabel(run('c'))).toBe('training task');
    expect(runObjectLabel(run('d', { kind: 'notebook' }))).toBe('Notebook');
    expect(runObjectLabel(run('e', { kind: 'pipeline' }))).toBe('pipeline');
  });
});
