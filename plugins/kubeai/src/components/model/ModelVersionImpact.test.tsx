import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { Impact } from '@kubeai/plugin-kubeai-common';
import {
  mockKubeaiApi,
  modelEntity,
  modelVersion,
  renderWithApis,
  responseError,
} from '../../__testUtils__';
import { ModelVersionImpact } from './ModelVersionImpact';

jest.setTimeout(30_000);

const versions = [
  modelVersion(3, { aliases: ['production'] }),
  modelVersion(2),
];

const empty: Impact = {
  entityRef: 'model:default/ranker',
  services: [],
  pipelines: [],
  runs: [],
  modelVersions: [],
  models: [],
  totals: { services: 0, pipelines: 0, runs: 0, modelVersions: 0, models: 0 },
};

/** v3 is served by a deployment and, as the cluster reports, by an InferenceService nobody deployed. */
const servedV3: Impact = {
  ...empty,
  version: '3',
  services: [
    {
      serviceRef: 'inferenceservice:default/ranker-serving',
      cluster: 'local',
      namespace: 'search-serving',
      name: 'ranker-serving',
      modelRef: 'model:default/ranker',
      versions: [{ version: 3, percent: 90, source: 'recorded' }],
      sources: ['recorded'],
      via: 'model:default/ranker@3',
    },
    {
      serviceRef: 'inferenceservice:default/local.adhoc.ranker-test',
      cluster: 'local',
      namespace: 'adhoc',
      name: 'ranker-test',
      modelRef: 'model:default/ranker',
      versions: [{ version: 3, percent: 100, source: 'discovered' }],
      sources: ['discovered'],
      phase: 'Ready',
      via: 'model:default/ranker@3',
    },
  ],
  models: [
    {
      entityRef: 'model:default/blender',
      relation: 'dependsOn',
      via: 'model:default/ranker',
    },
  ],
  totals: { ...empty.totals, services: 2, models: 1 },
};

const impactOf = (query: { version?: string }) =>
  Promise.resolve(
    query.version === '3' ? servedV3 : { ...empty, version: query.version },
  );

function render(
  api = mockKubeaiApi(),
  permission: 'allow' | 'deny' = 'allow',
  modelRef = 'model:default/ranker',
) {
  return renderWithApis(
    <ModelVersionImpact
      modelRef={modelRef}
      versions={versions}
      initialVersion={3}
    />,
    { kubeai: api, entity: modelEntity, permission },
  );
}

describe('ModelVersionImpact', () => {
  it('lists the services serving the version and the models depending on the model', async () => {
    const api = mockKubeaiApi({ getImpact: jest.fn(impactOf) });
    await render(api);
    const section = screen.getByRole('region', {
      name: 'Impact of retiring v3',
    });
    const services = await within(section).findByRole('list', {
      name: 'Inference services (2)',
    });
    expect(within(services).getByText('ranker-serving')).toBeInTheDocument();
    expect(
      within(services).getByText(/v3 90% \(deployed\)/),
    ).toBeInTheDocument();
    expect(
      within(services).getByText(/v3 100% \(not deployed through the portal\)/),
    ).toBeInTheDocument();
    expect(
      within(section).getByRole('list', { name: 'Models (1)' }),
    ).toHaveTextContent('depends on ranker');
    expect(api.getImpact).toHaveBeenCalledWith({
      entityRef: 'model:default/ranker',
      version: '3',
    });

    // another version: its own impact
    await userEvent.click(screen.getByLabelText('Version to retire'));
    await userEvent.click(screen.getByRole('option', { name: 'v2' }));
    expect(
      await screen.findByText(/Nothing depends on this version/),
    ).toBeInTheDocument();
  });

  it('shows the impact before archiving, and the refusal while a service serves the version', async () => {
    const api = mockKubeaiApi({
      getImpact: jest.fn(impactOf),
      updateModelVersion: jest
        .fn()
        .mockRejectedValue(
          await responseError(
            409,
            'request/body/state: version 3 of model:default/ranker cannot be archived while it serves traffic: search-serving/ranker-serving in cluster local (inferenceservice:default/ranker-serving, 90%); move the traffic to another version first (deploy, promote or roll back)',
          ),
        ),
    });
    await render(api);
    await userEvent.click(
      await screen.findByRole('button', { name: 'Archive v3' }),
    );
    const dialog = await screen.findByRole('dialog', { name: 'Archive v3?' });
    expect(
      await within(dialog).findByRole('list', {
        name: 'Inference services (2)',
      }),
    ).toHaveTextContent('ranker-serving');
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Archive' }),
    );
    expect(
      await within(dialog).findByText(/v3 was not archived/),
    ).toBeInTheDocument();
    expect(
      within(dialog).getByText(/cannot be archived while it serves traffic/),
    ).toBeInTheDocument();
    expect(api.updateModelVersion).toHaveBeenCalledWith(
      { namespace: 'default', name: 'ranker' },
      3,
      { state: 'archived' },
    );
  });

  it('archives a version nothing serves', async () => {
    const api = mockKubeaiApi({
      getImpact: jest.fn(impactOf),
      updateModelVersion: jest
        .fn()
        .mockResolvedValue(modelVersion(2, { state: 'archived' })),
    });
    await render(api);
    await userEvent.click(screen.getByLabelText('Version to retire'));
    await userEvent.click(screen.getByRole('option', { name: 'v2' }));
    await userEvent.click(
      await screen.findByRole('button', { name: 'Archive v2' }),
    );
    const dialog = await screen.findByRole('dialog', { name: 'Archive v2?' });
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Archive' }),
    );
    expect(await screen.findByText('v2 is archived.')).toBeInTheDocument();
    await waitFor(() =>
      expect(screen.queryByRole('dialog')).not.toBeInTheDocument(),
    );
  });

  it('disables the archive without the permission, and says why', async () => {
    const api = mockKubeaiApi({ getImpact: jest.fn(impactOf) });
    // a model of its own: usePermission's cache (SWR, deduplicated for 2 s) still holds the
    // earlier tests' decision on model:default/ranker
    await render(api, 'deny', 'model:default/ranker-readonly');
    expect(
      await screen.findByRole('button', { name: 'Archive v3' }),
    ).toBeDisabled();
    expect(
      screen.getByText(/not allowed to archive versions of this model/),
    ).toBeInTheDocument();
  });
});
