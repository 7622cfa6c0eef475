import { ReactNode } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { useApi } from '@backstage/core-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { catalogApiRef } from '@backstage/plugin-catalog-react';
import type { FieldExtensionComponentProps } from '@backstage/plugin-scaffolder-react';
import Box from '@material-ui/core/Box';
import MenuItem from '@material-ui/core/MenuItem';
import TextField from '@material-ui/core/TextField';
import { kubeaiApiRef } from '../../api/refs';
import { entityNameOf, errorMessage } from '../common/format';

type Props<T, O = {}> = FieldExtensionComponentProps<T, O>;

interface Option {
  value: string;
  label: string;
}

/** A labelled select with loading, error and empty states. */
function PickerSelect(props: {
  id: string;
  label: string;
  value: string;
  options: Option[];
  loading: boolean;
  error?: unknown;
  emptyText: string;
  description?: ReactNode;
  required?: boolean;
  rawErrors?: string[];
  disabled?: boolean;
  onChange(value: string): void;
}) {
  const { loading, error, options } = props;
  let helper: ReactNode = props.description;
  if (loading) helper = 'Loading…';
  else if (error) helper = `Could not load the options: ${errorMessage(error)}`;
  else if (options.length === 0) helper = props.emptyText;
  else if (props.rawErrors?.length) helper = props.rawErrors.join(', ');
  return (
    <TextField
      id={props.id}
      select
      fullWidth
      margin="normal"
      label={props.label}
      value={options.some(o => o.value === props.value) ? props.value : ''}
      required={props.required}
      disabled={props.disabled || loading || options.length === 0}
      error={Boolean(error) || Boolean(props.rawErrors?.length)}
      helperText={helper}
      onChange={e => props.onChange(String(e.target.value))}
    >
      {options.map(o => (
        <MenuItem key={o.value} value={o.value}>
          {o.label}
        </MenuItem>
      ))}
    </TextField>
  );
}

/** The catalog's entities of `kind` as select options (value: the entity ref). */
function useEntityOptions(kind: 'Model' | 'Dataset') {
  const catalogApi = useApi(catalogApiRef);
  const entities = useAsync(
    async () =>
      (
        await catalogApi.getEntities({
          filter: { kind },
          fields: [
            'kind',
            'metadata.name',
            'metadata.namespace',
            'metadata.title',
          ],
        })
      ).items,
    [catalogApi, kind],
  );
  const options: Option[] = (entities.value ?? []).map(e => ({
    value: stringifyEntityRef(e),
    label: e.metadata.title ?? e.metadata.name,
  }));
  return { options, loading: entities.loading, error: entities.error };
}

function titleOf(props: Props<any, any>, fallback: string): string {
  return (
    (props.uiSchema?.['ui:title'] as string | undefined) ??
    props.schema?.title ??
    fallback
  );
}

/** `ClusterPicker`: a cluster the portal can create objects in (`GET /clusters`). */
export function ClusterPicker(props: Props<string>) {
  const api = useApi(kubeaiApiRef);
  const clusters = useAsync(() => api.listClusters(), [api]);
  return (
    <PickerSelect
      id={props.idSchema?.$id ?? 'cluster'}
      label={titleOf(props, 'Cluster')}
      value={props.formData ?? ''}
      options={(clusters.value?.items ?? []).map(c => ({
        value: c.name,
        label: c.name,
      }))}
      loading={clusters.loading}
      error={clusters.error}
      emptyText="No cluster is configured in the portal (kubernetes.clusterLocatorMethods)."
      description={props.schema?.description}
      required={props.required}
      rawErrors={props.rawErrors}
      disabled={props.disabled}
      onChange={v => props.onChange(v)}
    />
  );
}

/** Options of {@link NamespacePicker}. */
export interface NamespacePickerOptions {
  /** A fixed cluster. */
  cluster?: string;
  /** The form field holding the cluster (default `cluster`). */
  clusterField?: string;
}

/** `NamespacePicker`: a namespace of the cluster chosen in another field (`GET /clusters/{c}/namespaces`). */
export function NamespacePicker(props: Props<string, NamespacePickerOptions>) {
  const api = useApi(kubeaiApiRef);
  const options = props.uiSchema?.['ui:options'] ?? {};
  const formData = (props.formContext?.formData ?? {}) as Record<
    string,
    unknown
  >;
  const cluster =
    options.cluster ??
    (formData[options.clusterField ?? 'cluster'] as string | undefined);
  const namespaces = useAsync(
    async () => (cluster ? api.listClusterNamespaces(cluster) : undefined),
    [api, cluster],
  );
  return (
    <PickerSelect
      id={props.idSchema?.$id ?? 'namespace'}
      label={titleOf(props, 'Namespace')}
      value={props.formData ?? ''}
      options={(namespaces.value?.items ?? []).map(n => ({
        value: n.name,
        label: n.name,
      }))}
      loading={Boolean(cluster) && namespaces.loading}
      error={namespaces.error}
      emptyText={
        cluster
          ? `Cluster ${cluster} has no namespace you can use.`
          : 'Choose a cluster first.'
      }
      description={props.schema?.description}
      required={props.required}
      rawErrors={props.rawErrors}
      disabled={props.disabled}
      onChange={v => props.onChange(v)}
    />
  );
}

/** The value of {@link ModelVersionPicker}: the fields of a deployment request. */
export interface ModelVersionValue {
  /** Model entity ref. */
  model?: string;
  /** A version number or an alias (`production`). */
  modelVersion?: number | string;
}

/** Options of {@link ModelVersionPicker}. */
export interface ModelVersionPickerOptions {
  /** Offer aliases (`production`, `canary`) besides version numbers (default true). */
  allowAliases?: boolean;
  /** Offer archived versions too (default: live only). */
  includeArchived?: boolean;
}

/** `ModelVersionPicker`: a Model of the catalog and one of its versions (number or alias). */
export function ModelVersionPicker(
  props: Props<ModelVersionValue, ModelVersionPickerOptions>,
) {
  const api = useApi(kubeaiApiRef);
  const options = props.uiSchema?.['ui:options'] ?? {};
  const value = props.formData ?? {};
  const id = props.idSchema?.$id ?? 'modelVersion';
  const models = useEntityOptions('Model');
  const versions = useAsync(
    async () =>
      value.model
        ? api.listModelVersions(entityNameOf(value.model), {
            state: options.includeArchived ? undefined : 'live',
            limit: 1000,
          })
        : undefined,
    [api, value.model, options.includeArchived],
  );
  const versionOptions: Option[] = [];
  if (versions.value) {
    if (options.allowAliases ?? true) {
      const aliases = new Map<string, number>();
      for (const v of versions.value.items) {
        for (const a of v.aliases)
          if (!aliases.has(a)) aliases.set(a, v.version);
      }
      for (const [alias, version] of aliases) {
        versionOptions.push({
          value: alias,
          label: `${alias} (now v${version})`,
        });
      }
    }
    for (const v of versions.value.items) {
      versionOptions.push({
        value: String(v.version),
        label: `v${v.version}${v.state === 'archived' ? ' (archived)' : ''}`,
      });
    }
  }
  return (
    <Box>
      <PickerSelect
        id={`${id}-model`}
        label={titleOf(props, 'Model')}
        value={value.model ?? ''}
        options={models.options}
        loading={models.loading}
        error={models.error}
        emptyText="There is no Model in the catalog."
        description={props.schema?.description}
        required={props.required}
        rawErrors={props.rawErrors}
        disabled={props.disabled}
        onChange={model => props.onChange({ model, modelVersion: undefined })}
      />
      <PickerSelect
        id={`${id}-version`}
        label="Version or alias"
        value={
          value.modelVersion !== undefined ? String(value.modelVersion) : ''
        }
        options={versionOptions}
        loading={Boolean(value.model) && versions.loading}
        error={versions.error}
        emptyText={
          value.model
            ? 'This model has no registered version.'
            : 'Choose a model first.'
        }
        required={props.required}
        disabled={props.disabled || !value.model}
        onChange={v =>
          props.onChange({
            model: value.model,
            modelVersion: /^\d+$/.test(v) ? Number(v) : v,
          })
        }
      />
    </Box>
  );
}

/** The value of {@link DatasetPicker} with `withVersion`. */
export interface DatasetVersionValue {
  datasetRef?: string;
  version?: string;
}

/** Options of {@link DatasetPicker}. */
export interface DatasetPickerOptions {
  /** Also pick a registered version; the value becomes `{ datasetRef, version }`. */
  withVersion?: boolean;
}

/**
 * `DatasetPicker`: a Dataset of the catalog (the value is its entity ref), optionally with one of
 * its registered versions (`ui:options.withVersion`).
 */
export function DatasetPicker(
  props: Props<string | DatasetVersionValue, DatasetPickerOptions>,
) {
  const api = useApi(kubeaiApiRef);
  const withVersion = props.uiSchema?.['ui:options']?.withVersion ?? false;
  const id = props.idSchema?.$id ?? 'dataset';
  const current =
    typeof props.formData === 'string'
      ? { datasetRef: props.formData }
      : props.formData ?? {};
  const datasets = useEntityOptions('Dataset');
  const versions = useAsync(
    async () =>
      withVersion && current.datasetRef
        ? api.listDatasetVersions(entityNameOf(current.datasetRef), {
            limit: 1000,
          })
        : undefined,
    [api, withVersion, current.datasetRef],
  );
  return (
    <Box>
      <PickerSelect
        id={withVersion ? `${id}-dataset` : id}
        label={titleOf(props, 'Dataset')}
        value={current.datasetRef ?? ''}
        options={datasets.options}
        loading={datasets.loading}
        error={datasets.error}
        emptyText="There is no Dataset in the catalog."
        description={props.schema?.description}
        required={props.required}
        rawErrors={props.rawErrors}
        disabled={props.disabled}
        onChange={ref =>
          props.onChange(withVersion ? { datasetRef: ref } : ref)
        }
      />
      {withVersion && (
        <PickerSelect
          id={`${id}-version`}
          label="Version"
          value={current.version ?? ''}
          options={(versions.value?.items ?? []).map(v => ({
            value: v.version,
            label: v.version,
          }))}
          loading={Boolean(current.datasetRef) && versions.loading}
          error={versions.error}
          emptyText={
            current.datasetRef
              ? 'This dataset has no registered version.'
              : 'Choose a dataset first.'
          }
          disabled={props.disabled || !current.datasetRef}
          onChange={version =>
            props.onChange({ datasetRef: current.datasetRef, version })
          }
        />
      )}
    </Box>
  );
}
