import useAsync from 'react-use/esm/useAsync';
import { useApi } from '@backstage/core-plugin-api';
import { Table, TableColumn } from '@backstage/core-components';
import { Entity } from '@backstage/catalog-model';
import {
  catalogApiRef,
  EntityRefLink,
  EntityRefLinks,
} from '@backstage/plugin-catalog-react';
import {
  DatasetEntityV1alpha1,
  DatasetVersion,
  formatDatasetSource,
  isDatasetEntity,
} from '@kubeai/plugin-kubeai-common';
import { kubeaiApiRef } from '../../api/refs';
import {
  entityNameOf,
  formatBytes,
  formatDate,
  mapWithConcurrency,
} from '../common/format';
import { EmptyState, ErrorState, LoadingState } from '../common/States';
import { ownerName, ownerRefs } from './catalog';

interface DatasetRow {
  entity: Entity;
  name: string;
  owner: string;
  sourceType: string;
  location: string;
  cache: string;
  latest?: DatasetVersion;
  versions?: number;
  registry: 'loading' | 'ok' | 'error';
}

/** Datasets of the catalog with their newest registered version. */
export function DatasetsTab() {
  const catalogApi = useApi(catalogApiRef);
  const api = useApi(kubeaiApiRef);
  const entities = useAsync(
    async () =>
      (await catalogApi.getEntities({ filter: { kind: 'Dataset' } })).items,
    [catalogApi],
  );
  const registry = useAsync(async () => {
    if (!entities.value) return undefined;
    return mapWithConcurrency(entities.value, 4, e =>
      api
        .listDatasetVersions(entityNameOf(e), { limit: 1 })
        .catch(() => undefined),
    );
  }, [api, entities.value]);

  if (entities.error) {
    return (
      <ErrorState error={entities.error} title="Could not load the datasets" />
    );
  }
  if (!entities.value) return <LoadingState label="Loading datasets" />;
  if (entities.value.length === 0) {
    return (
      <EmptyState
        title="No datasets yet"
        description="Register a Dataset entity (apiVersion kubeai.io/v1alpha1, kind Dataset) in the catalog."
      />
    );
  }
  const rows: DatasetRow[] = entities.value.map((entity, i) => {
    const ds = isDatasetEntity(entity)
      ? (entity as DatasetEntityV1alpha1)
      : undefined;
    const list = registry.value?.[i];
    const cache = ds?.spec.cache;
    return {
      entity,
      name: entity.metadata.title ?? entity.metadata.name,
      owner: ownerName(entity),
      sourceType: ds?.spec.source?.type ?? '',
      location: ds?.spec.source ? formatDatasetSource(ds.spec.source) : '',
      cache: cache ? `${cache.engine} ${cache.capacity}` : 'none',
      latest: list?.items[0],
      versions: list?.totalItems,
      registry: registryState(registry.loading, Boolean(list)),
    };
  });
  const columns: TableColumn<DatasetRow>[] = [
    {
      title: 'Name',
      field: 'name',
      highlight: true,
      defaultSort: 'asc',
      render: r => <EntityRefLink entityRef={r.entity} />,
    },
    {
      title: 'Owner',
      field: 'owner',
      render: r => (
        <EntityRefLinks entityRefs={ownerRefs(r.entity)} defaultKind="group" />
      ),
    },
    { title: 'Source', field: 'sourceType' },
    {
      title: 'Location',
      field: 'location',
      render: r => <code>{r.location}</code>,
    },
    { title: 'Cache', field: 'cache' },
    {
      title: 'Latest version',
      field: 'latest.version',
      render: r => {
        if (r.registry === 'loading') return '…';
        if (r.registry === 'error') return '?';
        if (!r.latest) return '—';
        return `${r.latest.version} (${formatBytes(
          r.latest.size,
        )}, ${formatDate(r.latest.createdAt)})`;
      },
    },
    {
      title: 'Versions',
      field: 'versions',
      type: 'numeric',
      align: 'left',
      render: r => (r.versions === undefined ? '—' : String(r.versions)),
    },
  ];
  return (
    <Table<DatasetRow>
      title={`Datasets (${rows.length})`}
      options={{ paging: true, pageSize: 20, padding: 'dense' }}
      columns={columns}
      data={rows}
      filters={[
        { column: 'Owner', type: 'multiple-select' },
        { column: 'Source', type: 'multiple-select' },
      ]}
    />
  );
}

function registryState(loading: boolean, ok: boolean): DatasetRow['registry'] {
  if (loading) return 'loading';
  return ok ? 'ok' : 'error';
}
