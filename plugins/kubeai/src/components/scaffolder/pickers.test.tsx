import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  datasetEntity,
  mockKubeaiApi,
  modelEntity,
  modelVersion,
  renderWithApis,
  responseError,
} from '../../__testUtils__';
import {
  ClusterPicker,
  DatasetPicker,
  ModelVersionPicker,
  NamespacePicker,
} from './pickers';
import {
  clusterPickerField,
  datasetPickerField,
  modelVersionPickerField,
  namespacePickerField,
} from './fields';

jest.setTimeout(30_000);

/** The props the scaffolder form passes to a field. */
function fieldProps(extra: Record<string, any> = {}) {
  return {
    schema: { title: extra.title },
    uiSchema: extra.uiSchema ?? {},
    idSchema: { $id: extra.id ?? 'root_field' },
    formData: extra.formData,
    formContext: { formData: extra.form ?? {} },
    onChange: extra.onChange ?? jest.fn(),
    onBlur: jest.fn(),
    onFocus: jest.fn(),
    disabled: false,
    required: true,
    rawErrors: [],
    registry: {} as any,
    name: 'field',
  } as any;
}

async function choose(label: RegExp, option: string) {
  await userEvent.click(await screen.findByRole('button', { name: label }));
  await userEvent.click(await screen.findByRole('option', { name: option }));
}

describe('scaffolder pickers', () => {
  it('ClusterPicker lists the portal clusters', async () => {
    const onChange = jest.fn();
    const api = mockKubeaiApi({
      listClusters: jest.fn().mockResolvedValue({
        items: [
          { name: 'local', url: 'https://127.0.0.1:6443' },
          { name: 'prod', url: 'https://prod' },
        ],
        totalItems: 2,
      }),
    });
    await renderWithApis(<ClusterPicker {...fieldProps({ onChange })} />, {
      kubeai: api,
    });
    await choose(/Cluster/, 'prod');
    expect(onChange).toHaveBeenCalledWith('prod');
  });

  it('ClusterPicker shows errors and an empty list', async () => {
    const api = mockKubeaiApi({
      listClusters: jest
        .fn()
        .mockRejectedValue(await responseError(503, 'gateway down')),
    });
    const { unmount } = await renderWithApis(
      <ClusterPicker {...fieldProps()} />,
      { kubeai: api },
    );
    expect(
      await screen.findByText(
        'Could not load the options: gateway down (HTTP 503)',
      ),
    ).toBeInTheDocument();
    unmount();
    const empty = mockKubeaiApi({
      listClusters: jest.fn().mockResolvedValue({ items: [], totalItems: 0 }),
    });
    await renderWithApis(<ClusterPicker {...fieldProps()} />, {
      kubeai: empty,
    });
    expect(
      await screen.findByText(/No cluster is configured/),
    ).toBeInTheDocument();
  });

  it('NamespacePicker lists the namespaces of the cluster field', async () => {
    const onChange = jest.fn();
    const api = mockKubeaiApi({
      listClusterNamespaces: jest.fn().mockResolvedValue({
        cluster: 'prod',
        items: [{ name: 'ml' }, { name: 'serving' }],
        totalItems: 2,
      }),
    });
    await renderWithApis(
      <NamespacePicker
        {...fieldProps({
          onChange,
          form: { targetCluster: 'prod' },
          uiSchema: { 'ui:options': { clusterField: 'targetCluster' } },
        })}
      />,
      { kubeai: api },
    );
    await choose(/Namespace/, 'serving');
    expect(api.listClusterNamespaces).toHaveBeenCalledWith('prod');
    expect(onChange).toHaveBeenCalledWith('serving');
  });

  it('NamespacePicker offers the writable namespaces first, with their owners, and the read-only ones disabled with the reason', async () => {
    const onChange = jest.fn();
    const api = mockKubeaiApi({
      listClusterNamespaces: jest.fn().mockResolvedValue({
        cluster: 'local',
        // as the backend answers for a member of cv-team: writable first
        items: [
          {
            name: 'cv-serving',
            owner: 'group:default/cv-team',
            ownerSource: 'config',
            access: 'write',
          },
          {
            name: 'cv-team',
            owner: 'group:default/cv-team',
            ownerSource: 'label',
            access: 'write',
          },
          { name: 'default', access: 'read' },
          {
            name: 'search-reco',
            owner: 'group:default/search-reco',
            ownerSource: 'label',
            access: 'read',
          },
        ],
        totalItems: 4,
      }),
    });
    await renderWithApis(
      <NamespacePicker
        {...fieldProps({ onChange, form: { cluster: 'local' } })}
      />,
      { kubeai: api },
    );
    await userEvent.click(
      await screen.findByRole('button', { name: /Namespace/ }),
    );
    const listbox = await screen.findByRole('listbox');
    // headings and options in order
    expect(
      Array.from(listbox.children).map(
        item =>
          `${item.getAttribute('role') ?? 'heading'}: ${item.textContent}`,
      ),
    ).toEqual([
      'heading: You can create here',
      'option: cv-servingowned by cv-team',
      'option: cv-teamowned by cv-team',
      'heading: Read only for you',
      'option: defaultno owning team: platform admins only',
      'option: search-recoowned by search-reco: read only for you',
    ]);
    const option = (name: RegExp) => screen.getByRole('option', { name });
    expect(option(/^cv-team/)).not.toHaveAttribute('aria-disabled', 'true');
    expect(option(/^search-reco/)).toHaveAttribute('aria-disabled', 'true');
    expect(option(/^default/)).toHaveAttribute('aria-disabled', 'true');

    // a heading and a read-only namespace are no choice (the latter takes no clicks at all)
    await userEvent.click(screen.getByText('Read only for you'));
    await expect(userEvent.click(option(/^search-reco/))).rejects.toThrow(
      /pointer-events: none/,
    );
    expect(onChange).not.toHaveBeenCalled();
    await userEvent.click(option(/^cv-team/));
    expect(onChange).toHaveBeenCalledWith('cv-team');
  });

  it('NamespacePicker says when a chosen namespace or the whole cluster is read only', async () => {
    const api = mockKubeaiApi({
      listClusterNamespaces: jest.fn().mockResolvedValue({
        cluster: 'local',
        items: [
          {
            name: 'search-reco',
            owner: 'group:default/search-reco',
            access: 'read',
          },
        ],
        totalItems: 1,
      }),
    });
    const { unmount } = await renderWithApis(
      <NamespacePicker {...fieldProps({ form: { cluster: 'local' } })} />,
      { kubeai: api },
    );
    expect(
      await screen.findByText(
        'Every namespace of cluster local is read only for you.',
      ),
    ).toBeInTheDocument();
    unmount();
    await renderWithApis(
      <NamespacePicker
        {...fieldProps({ form: { cluster: 'local' }, formData: 'search-reco' })}
      />,
      { kubeai: api },
    );
    expect(
      await screen.findByText(
        'You may not create anything in search-reco: it is read only for you.',
      ),
    ).toBeInTheDocument();
  });

  it("NamespacePicker warns when the chosen namespace's team is near or over its budget", async () => {
    const month = new Date().toISOString().slice(0, 7);
    const budget = (state: 'ok' | 'warning' | 'over', message: string) => ({
      currency: 'EUR',
      from: month,
      to: month,
      groupBy: 'month',
      team: 'group:default/cv-team',
      total: 0,
      items: [],
      budget: {
        team: 'group:default/cv-team',
        month,
        monthly: 1000,
        spent: 850,
        share: 0.85,
        state,
        message,
      },
    });
    const api = mockKubeaiApi({
      listClusterNamespaces: jest.fn().mockResolvedValue({
        cluster: 'local',
        items: [
          { name: 'cv', owner: 'group:default/cv-team', access: 'write' },
        ],
        totalItems: 1,
      }),
      getCost: jest
        .fn()
        .mockResolvedValueOnce(
          budget(
            'warning',
            `team group:default/cv-team has spent 85 % of its budget of 1,000 EUR for ${month} (850.00 EUR)`,
          ),
        )
        .mockResolvedValueOnce(
          budget(
            'over',
            `team group:default/cv-team is over its budget of 1,000 EUR for ${month} (spent 1,020.00 EUR)`,
          ),
        )
        .mockResolvedValueOnce(
          budget('ok', 'team group:default/cv-team has spent 10.00 EUR'),
        ),
    });
    const picker = () => (
      <NamespacePicker
        {...fieldProps({ form: { cluster: 'local' }, formData: 'cv' })}
      />
    );
    const first = await renderWithApis(picker(), { kubeai: api });
    expect(
      await screen.findByText(
        `Team group:default/cv-team has spent 85 % of its budget of 1,000 EUR for ${month} (850.00 EUR): new tasks here are refused once it is spent.`,
      ),
    ).toBeInTheDocument();
    expect(api.getCost).toHaveBeenCalledWith({
      team: 'group:default/cv-team',
      from: month,
      to: month,
    });
    first.unmount();
    const second = await renderWithApis(picker(), { kubeai: api });
    expect(
      await screen.findByText(
        `Team group:default/cv-team is over its budget of 1,000 EUR for ${month} (spent 1,020.00 EUR): new tasks here are refused unless a platform admin overrides the budget.`,
      ),
    ).toBeInTheDocument();
    second.unmount();
    await renderWithApis(picker(), { kubeai: api });
    await waitFor(() => expect(api.getCost).toHaveBeenCalledTimes(3));
    expect(screen.queryByText(/refused/)).not.toBeInTheDocument();
  });

  it('NamespacePicker asks for a cluster first', async () => {
    await renderWithApis(<NamespacePicker {...fieldProps()} />);
    expect(screen.getByText('Choose a cluster first.')).toBeInTheDocument();
  });

  it('ModelVersionPicker picks a model and a version or alias', async () => {
    const onChange = jest.fn();
    const api = mockKubeaiApi({
      listModelVersions: jest.fn().mockResolvedValue({
        items: [
          modelVersion(4, { aliases: ['canary'] }),
          modelVersion(3, { aliases: ['production'] }),
        ],
        totalItems: 2,
      }),
    });
    await renderWithApis(<ModelVersionPicker {...fieldProps({ onChange })} />, {
      kubeai: api,
      entities: [modelEntity, datasetEntity],
    });
    await choose(/Model/, 'ranker');
    expect(onChange).toHaveBeenLastCalledWith({
      model: 'model:default/ranker',
      modelVersion: undefined,
    });
  });

  it('ModelVersionPicker offers aliases and versions of the chosen model', async () => {
    const onChange = jest.fn();
    const api = mockKubeaiApi({
      listModelVersions: jest.fn().mockResolvedValue({
        items: [
          modelVersion(4, { aliases: ['canary'] }),
          modelVersion(3, { aliases: ['production'] }),
        ],
        totalItems: 2,
      }),
    });
    await renderWithApis(
      <ModelVersionPicker
        {...fieldProps({
          onChange,
          formData: { model: 'model:default/ranker' },
        })}
      />,
      { kubeai: api, entities: [modelEntity] },
    );
    await waitFor(() =>
      expect(api.listModelVersions).toHaveBeenCalledWith(
        { namespace: 'default', name: 'ranker' },
        { state: 'live', limit: 1000 },
      ),
    );
    await choose(/Version or alias/, 'production (now v3)');
    expect(onChange).toHaveBeenLastCalledWith({
      model: 'model:default/ranker',
      modelVersion: 'production',
    });
    await choose(/Version or alias/, 'v4');
    expect(onChange).toHaveBeenLastCalledWith({
      model: 'model:default/ranker',
      modelVersion: 4,
    });
  });

  it('DatasetPicker picks a dataset, and a version with withVersion', async () => {
    const onChange = jest.fn();
    const api = mockKubeaiApi({
      listDatasetVersions: jest.fn().mockResolvedValue({
        items: [
          {
            datasetRef: 'dataset:default/clicks',
            version: '2026-11-20',
            uri: 'x',
            createdBy: 'u',
            createdAt: '2026-11-20T00:00:00Z',
          },
        ],
        totalItems: 1,
      }),
    });
    const { unmount } = await renderWithApis(
      <DatasetPicker {...fieldProps({ onChange })} />,
      { kubeai: api, entities: [modelEntity, datasetEntity] },
    );
    await choose(/Dataset/, 'clicks');
    expect(onChange).toHaveBeenLastCalledWith('dataset:default/clicks');
    unmount();

    await renderWithApis(
      <DatasetPicker
        {...fieldProps({
          onChange,
          formData: { datasetRef: 'dataset:default/clicks' },
          uiSchema: { 'ui:options': { withVersion: true } },
        })}
      />,
      { kubeai: api, entities: [datasetEntity] },
    );
    await choose(/^Version/, '2026-11-20');
    expect(onChange).toHaveBeenLastCalledWith({
      datasetRef: 'dataset:default/clicks',
      version: '2026-11-20',
    });
  });

  it('are registered under the names the templates use', () => {
    const fields = JSON.stringify([
      clusterPickerField,
      namespacePickerField,
      modelVersionPickerField,
      datasetPickerField,
    ]);
    for (const name of [
      'ClusterPicker',
      'NamespacePicker',
      'ModelVersionPicker',
      'DatasetPicker',
    ]) {
      expect(fields).toContain(`"${name}"`);
    }
  });
});
