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
