import useAsync from 'react-use/esm/useAsync';
import { useApi } from '@backstage/core-plugin-api';
import { Table, TableColumn } from '@backstage/core-components';
import { Entity } from '@backstage/catalog-model';
import {
  catalogApiRef,
  EntityRefLink,
  EntityRefLinks,
} from '@backstage/plugin-catalog-react';
import type { KubeaiApi } from '@kubeai/plugin-kubeai-common';
import { kubeaiApiRef } from '../../api/refs';
import { entityNameOf, isNotFound, mapWithConcurrency } from '../common/format';
import { EmptyState, ErrorState, LoadingState } from '../common/States';
import { ownerName, ownerRefs, registryRef } from './catalog';

/** A row of the Models tab. */
export interface ModelRow {
  entity: Entity;
  name: string;
  owner: string;
  type: string;
  lifecycle: string;
  latest?: number;
  versions?: number;
  production?: number;
  services?: number;
  /** The registry summary is still loading or failed. */
  registry: 'loading' | 'ok' | 'error';
}

/** Latest and production version of a model; errors other than "not found" are reported. */
export async function modelSummary(api: KubeaiApi, entity: Entity) {
  const name = entityNameOf(entity);
  const [list, production] = await Promise.all([
    api.listModelVersions(name, { limit: 1 }),
    api.getModelVersionByAlias(name, 'production').catch(error => {
      if (isNotFound(error)) return undefined;
      throw error;
    }),
  ]);
  return {
    latest: list.items[0]?.version,
    versions: list.totalItems,
    production: production?.version,
  };
}

/** Models of the catalog with their registry summary. */
export function ModelsTab() {
  const catalogApi = useApi(catalogApiRef);
  const api = useApi(kubeaiApiRef);
  const entities = useAsync(
    async () =>
      (await catalogApi.getEntities({ filter: { kind: 'Model' } })).items,
    [catalogApi],
  );
  const registry = useAsync(async () => {
    if (!entities.value) return undefined;
    const [summaries, deployments] = await Promise.all([
      mapWithConcurrency(entities.value, 4, e =>
        modelSummary(api, e).catch(() => undefined),
      ),
      api.listDeployments({ limit: 1000 }),
    ]);
    const services = new Map<string, Set<string>>();
    for (const d of deployments.items) {
      const key = d.modelRef.toLowerCase();
      if (!services.has(key)) services.set(key, new Set());
      if (d.traffic.some(t => t.percent > 0))
        services.get(key)!.add(d.serviceRef);
    }
    return { summaries, services };
  }, [api, entities.value]);

  if (entities.error) {
    return (
      <ErrorState error={entities.error} title="Could not load the models" />
    );
  }
  if (!entities.value) return <LoadingState label="Loading models" />;
  if (entities.value.length === 0) {
    return (
      <EmptyState
        title="No models yet"
        description="Register a Model entity (apiVersion kubeai.io/v1alpha1, kind Model) in the catalog, or create one from a template."
      />
    );
  }

  const rows: ModelRow[] = entities.value.map((entity, i) => {
    const summary = registry.value?.summaries[i];
    const spec = (entity.spec ?? {}) as Record<string, unknown>;
    return {
      entity,
      name: entity.metadata.title ?? entity.metadata.name,
      owner: ownerName(entity),
      type: String(spec.type ?? ''),
      lifecycle: String(spec.lifecycle ?? ''),
      latest: summary?.latest,
      versions: summary?.versions,
      production: summary?.production,
      services: registry.value
        ? registry.value.services.get(registryRef(entity))?.size ?? 0
        : undefined,
      registry: registryState(
        registry.loading,
        Boolean(registry.error || (registry.value && !summary)),
      ),
    };
  });

  const registryCell = (row: ModelRow, value?: number, prefix = 'v') => {
    if (row.registry === 'loading') return <span aria-label="loading">…</span>;
    if (row.registry === 'error')
      return <span title="The registry did not answer">?</span>;
    return value === undefined ? '—' : `${prefix}${value}`;
  };

  const columns: TableColumn<ModelRow>[] = [
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
    { title: 'Type', field: 'type' },
    { title: 'Lifecycle', field: 'lifecycle' },
    {
      title: 'Latest version',
      field: 'latest',
      type: 'numeric',
      align: 'left',
      render: r => registryCell(r, r.latest),
    },
    {
      title: 'Production version',
      field: 'production',
      type: 'numeric',
      align: 'left',
      render: r => registryCell(r, r.production),
    },
    {
      title: 'Services',
      field: 'services',
      type: 'numeric',
      align: 'left',
      render: r =>
        r.services === undefined
          ? registryCell(r, undefined)
          : String(r.services),
    },
  ];
  return (
    <>
      {registry.error && (
        <ErrorState
          error={registry.error}
          title="The registry did not answer; versions and services are missing"
        />
      )}
      <Table<ModelRow>
        title={`Models (${rows.length})`}
        options={{ paging: true, pageSize: 20, padding: 'dense' }}
        columns={columns}
        data={rows}
        filters={[
          { column: 'Owner', type: 'multiple-select' },
          { column: 'Type', type: 'multiple-select' },
          { column: 'Lifecycle', type: 'select' },
        ]}
      />
    </>
  );
}

function registryState(
  loading: boolean,
  failed: boolean,
): ModelRow['registry'] {
  if (loading) return 'loading';
  return failed ? 'error' : 'ok';
}
