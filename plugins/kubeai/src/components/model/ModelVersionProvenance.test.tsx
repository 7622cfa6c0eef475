import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ModelVersion } from '@kubeai/plugin-kubeai-common';
import {
  mockKubeaiApi,
  modelEntity,
  modelVersion,
  renderWithApis,
  responseError,
  run,
} from '../../__testUtils__';
import {
  datasetVersionLabel,
  ModelVersionProvenance,
} from './ModelVersionProvenance';

jest.setTimeout(30_000);

const trainingId = '1a2b3c4d-5e6f-4a1b-8c2d-0123456789ab';
const pipelineId = '9f8e7d6c-5b4a-4f3e-8d2c-ba9876543210';
const retrainId = '77aa88bb-0000-4000-8000-000000000001';

const training = run(trainingId, {
  namespace: 'cv-training',
  name: 'shoe-brand-train-3',
  inputs: [
    { datasetRef: 'dataset:default/shoe-images', version: '2026-11-01' },
    { datasetRef: 'dataset:default/clicks', version: 'v7' },
    { datasetRef: 'dataset:team-a/labels' },
  ],
  observed: {
    kind: 'Job',
    apiVersion: 'batch/v1',
    uid: 'u1',
    deleted: true,
    deletedAt: '2026-11-22T00:00:00.000Z',
  },
});

/** A version a pipeline's register step recorded with its run credential. */
const pipeline = run(pipelineId, {
  kind: 'pipeline',
  namespace: 'ml',
  name: 'retrain-x7k2',
  phase: 'Running',
  finishedAt: undefined,
  inputs: [],
  createdBy: `run:${retrainId}`,
  parentRunId: retrainId,
  schedule: { kind: 'CronWorkflow', name: 'nightly-retrain' },
  observed: { kind: 'Workflow', apiVersion: 'argoproj.io/v1alpha1', uid: 'u2' },
});

const versions: ModelVersion[] = [
  modelVersion(5, { runId: undefined }),
  modelVersion(4, { runId: pipelineId, createdBy: `run:${pipelineId}` }),
  modelVersion(3, { runId: trainingId, aliases: ['production'] }),
  modelVersion(2, { runId: 'deleted-run-id-0001' }),
  modelVersion(1, { runId: 'broken-run' }),
];

async function render(initialVersion: number) {
  const api = mockKubeaiApi({
    getRun: jest.fn(async (id: string) => {
      if (id === trainingId) return training;
      if (id === pipelineId) return pipeline;
      if (id === 'broken-run') throw await responseError(500, 'db down');
      throw await responseError(404, `run ${id} not found`);
    }),
  });
  await renderWithApis(
    <ModelVersionProvenance
      versions={versions}
      initialVersion={initialVersion}
    />,
    { kubeai: api, entity: modelEntity },
  );
  return api;
}

async function choose(version: number) {
  await userEvent.click(screen.getByLabelText('Provenance of'));
  await userEvent.click(
    screen.getByRole('option', { name: new RegExp(`^v${version}\\b`) }),
  );
}

describe('ModelVersionProvenance', () => {
  it('shows the run that trained the version and the dataset versions it read, linked', async () => {
    const api = await render(3);
    const section = screen.getByRole('region', { name: 'Provenance of v3' });
    const line = await within(section).findByText(/trained by run/);
    expect(line).toHaveTextContent(
      'v3 trained by run 1a2b3c4d (training Job cv-training/shoe-brand-train-3 in local, Succeeded) on dataset shoe-images v2026-11-01, dataset clicks v7, dataset team-a/labels (no version recorded)',
    );
    expect(api.getRun).toHaveBeenCalledWith(trainingId);
    expect(
      within(line).getByRole('link', { name: `Run ${trainingId}` }),
    ).toHaveAttribute('href', `/kubeai/runs/${trainingId}`);
    expect(
      within(line).getByRole('link', { name: 'shoe-images' }),
    ).toHaveAttribute('href', '/catalog/default/dataset/shoe-images');
    expect(
      within(line).getByRole('link', { name: 'v2026-11-01' }),
    ).toHaveAttribute('href', '/catalog/default/dataset/shoe-images/versions');
    expect(
      within(line).getByRole('link', { name: 'team-a/labels' }),
    ).toHaveAttribute('href', '/catalog/team-a/dataset/labels');

    const details = within(section).getByRole('list', {
      name: 'Provenance details',
    });
    expect(details).toHaveTextContent(
      /Run created by alice; finished 2026-11-20 \d\d:30\./,
    );
    expect(details).toHaveTextContent('Its Job was deleted from the cluster');
    expect(details).toHaveTextContent('v3 registered by alice with the run id');
  });

  it('shows a pipeline run, the run that created it and the periodic task it belongs to', async () => {
    await render(4);
    const section = screen.getByRole('region', { name: 'Provenance of v4' });
    const line = await within(section).findByText(/trained by run/);
    expect(line).toHaveTextContent(
      'v4 trained by run 9f8e7d6c (pipeline Workflow ml/retrain-x7k2 in local, Running) with no dataset input recorded',
    );
    const details = within(section).getByRole('list', {
      name: 'Provenance details',
    });
    expect(
      within(details).getByRole('link', { name: 'run 77aa88bb' }),
    ).toHaveAttribute('href', `/kubeai/runs/${retrainId}`);
    expect(
      within(details).getByRole('link', { name: 'nightly-retrain' }),
    ).toHaveAttribute('href', `/kubeai/runs/${retrainId}`);
    expect(details).toHaveTextContent(
      'v4 registered by the run itself (its run credential)',
    );
    // still running: when it was created
    expect(details).toHaveTextContent(
      /Run created by run 77aa88bb on 2026-11-20 \d\d:59\./,
    );
  });

  it('says how to link a version registered without a run', async () => {
    const api = await render(5);
    const section = screen.getByRole('region', { name: 'Provenance of v5' });
    expect(section).toHaveTextContent('v5 is not linked to a training run.');
    expect(section).toHaveTextContent('kubeai register --artifact');
    expect(section).toHaveTextContent('KUBEAI_RUN_ID');
    expect(api.getRun).not.toHaveBeenCalled();
  });

  it('says so when the run is not in the registry, and shows other errors as the server says them', async () => {
    await render(2);
    expect(
      await screen.findByText(/which is not in the registry/),
    ).toHaveTextContent(
      'v2 names run deleted-run-id-0001, which is not in the registry (deleted, or never recorded).',
    );

    await choose(1);
    expect(
      await screen.findByText(/Could not load run broken-r/),
    ).toBeInTheDocument();
    expect(screen.getByText(/db down/)).toBeInTheDocument();

    // and back to a version with a run: its provenance, nothing left of the error
    await choose(3);
    expect(
      await screen.findByRole('region', { name: 'Provenance of v3' }),
    ).toHaveTextContent('trained by run 1a2b3c4d');
    expect(screen.queryByText(/db down/)).not.toBeInTheDocument();
  });

  it('puts a v before numeric dataset versions only', () => {
    expect(datasetVersionLabel('3')).toBe('v3');
    expect(datasetVersionLabel('v3')).toBe('v3');
    expect(datasetVersionLabel('2026-11-01')).toBe('v2026-11-01');
    expect(datasetVersionLabel('ds=20261201')).toBe('ds=20261201');
  });
});
