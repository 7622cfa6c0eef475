import { ReactNode } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { useApi } from '@backstage/core-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { catalogApiRef } from '@backstage/plugin-catalog-react';
import type { FieldExtensionComponentProps } from '@backstage/plugin-scaffolder-react';
import type { BudgetStatus, NamespaceInfo } from '@kubeai/plugin-kubeai-common';
import Box from '@material-ui/core/Box';
import ListItemText from '@material-ui/core/ListItemText';
import ListSubheader from '@material-ui/core/ListSubheader';
import MenuItem from '@material-ui/core/MenuItem';
import TextField from '@material-ui/core/TextField';
import { kubeaiApiRef } from '../../api/refs';
import { entityNameOf, errorMessage } from '../common/format';

type Props<T, O = {}> = FieldExtensionComponentProps<T, O>;

interface Option {
  value: string;
  label: string;
  /** A second line, e.g. who owns a namespace. */
  detail?: string;
  /** Shown but not selectable (e.g. a namespace the user may not write in). */
  disabled?: boolean;
  /** Options of one group follow each other under its heading. */
  group?: string;
}

/**
 * A group's heading in a select. The select gives every child the props of an option (role,
 * click handler, value); a heading takes none of them, so it is neither announced nor chosen as one.
 */
function GroupHeading(props: { title: string }) {
  return <ListSubheader>{props.title}</ListSubheader>;
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
  /** Show the field in its error state (the description says why). */
  invalid?: boolean;
  onChange(value: string): void;
}) {
  const { loading, error, options } = props;
  let helper: ReactNode = props.description;
  if (loading) helper = 'Loading…';
  else if (error) helper = `Could not load the options: ${errorMessage(error)}`;
  else if (options.length === 0) helper = props.emptyText;
  else if (props.rawErrors?.length) helper = props.rawErrors.join(', ');
  const items: ReactNode[] = [];
  options.forEach((o, i) => {
    if (o.group && o.group !== options[i - 1]?.group) {
      items.push(<GroupHeading key={`group:${o.group}`} title={o.group} />);
    }
    items.push(
      <MenuItem key={o.value} value={o.value} disabled={o.disabled}>
        {o.detail ? (
          <ListItemText primary={o.label} secondary={o.detail} />
        ) : (
          o.label
        )}
      </MenuItem>,
    );
  });
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
      error={
        Boolean(error) || Boolean(props.rawErrors?.length) || props.invalid
      }
      helperText={helper}
      SelectProps={{
        renderValue: value =>
          options.find(o => o.value === value)?.label ?? String(value),
      }}
      onChange={e => {
        const value = String(e.target.value);
        if (options.some(o => o.value === value && !o.disabled)) {
          props.onChange(value);
        }
      }}
    >
      {items}
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

/** `group:default/cv-team` → `cv-team`; other namespaces and kinds stay as they are. */
function ownerName(ref: string): string {
  return ref.replace(/^group:default\//, '');
}

/** Headings of the namespace picker's groups. */
export const NAMESPACE_GROUPS = {
  write: 'You can create here',
  read: 'Read only for you',
} as const;

/**
 * The namespaces as options: where the user may create objects first, then the read-only ones,
 * disabled, each with its owner (or why nobody but the platform writes there).
 */
export function namespaceOptions(items: NamespaceInfo[]): Option[] {
  // the backend lists writable namespaces first; a backend without `access` allows everything
  const writable = items.filter(n => n.access !== 'read');
  const readOnly = items.filter(n => n.access === 'read');
  const grouped = readOnly.length > 0;
  return [
    ...writable.map(n => ({
      value: n.name,
      label: n.name,
      detail: n.owner ? `owned by ${ownerName(n.owner)}` : undefined,
      group: grouped ? NAMESPACE_GROUPS.write : undefined,
    })),
    ...readOnly.map(n => ({
      value: n.name,
      label: n.name,
      detail: n.owner
        ? `owned by ${ownerName(n.owner)}: read only for you`
        : 'no owning team: platform admins only',
      disabled: true,
      group: NAMESPACE_GROUPS.read,
    })),
  ];
}

/** What the chosen namespace's team budget means for a new task there (a warning, or over it). */
export function budgetWarning(budget: BudgetStatus): string {
  const message =
    budget.message.charAt(0).toUpperCase() + budget.message.slice(1);
  return budget.state === 'over'
    ? `${message}: new tasks here are refused unless a platform admin overrides the budget.`
    : `${message}: new tasks here are refused once it is spent.`;
}

/**
 * `NamespacePicker`: a namespace of the cluster chosen in another field
 * (`GET /clusters/{c}/namespaces`): the ones the user may create in first, then the read-only ones
 * (disabled, with their owner); for a chosen namespace, a warning when its team is near or over its
 * monthly budget.
 */
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
  const items = namespaces.value?.items ?? [];
  const choices = namespaceOptions(items);
  const chosen = items.find(n => n.name === props.formData);
  // the owning team's budget this month, before anything is created there (GET /cost)
  const team =
    chosen?.access !== 'read' && chosen?.owner?.startsWith('group:')
      ? chosen.owner
      : undefined;
  const budget = useAsync(async () => {
    if (!team) return undefined;
    const month = new Date().toISOString().slice(0, 7);
    return (await api.getCost({ team, from: month, to: month })).budget;
  }, [api, team]);
  let description: ReactNode = props.schema?.description;
  if (chosen?.access === 'read') {
    description = `You may not create anything in ${chosen.name}: it is read only for you.`;
  } else if (items.length > 0 && choices.every(o => o.disabled)) {
    description = `Every namespace of cluster ${cluster} is read only for you.`;
  } else if (budget.value && budget.value.state !== 'ok') {
    description = budgetWarning(budget.value);
  }
  return (
    <PickerSelect
      id={props.idSchema?.$id ?? 'namespace'}
      label={titleOf(props, 'Namespace')}
      value={props.formData ?? ''}
      options={choices}
      loading={Boolean(cluster) && namespaces.loading}
      error={namespaces.error}
      emptyText={
        cluster
          ? `Cluster ${cluster} has no namespace you can use.`
          : 'Choose a cluster first.'
      }
      description={description}
      invalid={chosen?.access === 'read'}
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
