import useAsync from 'react-use/esm/useAsync';
import { useApi } from '@backstage/core-plugin-api';
import { Table, TableColumn } from '@backstage/core-components';
import { Entity } from '@backstage/catalog-model';
import {
  catalogApiRef,
  EntityRefLink,
  getEntityRelations,
} from '@backstage/plugin-catalog-react';
import type { Deployment } from '@kubeai/plugin-kubeai-common';
import { formatTraffic } from '../../api/InferenceServiceActions';
import { kubeaiApiRef } from '../../api/refs';
import { StatusChip } from '../common/Chips';
import { statusLabel } from '../common/deployment';
import { EmptyState, ErrorState, LoadingState } from '../common/States';
import { registryRef } from './catalog';

interface ServiceRow {
  entity: Entity;
  name: string;
  deployment?: Deployment;
  status: string;
  version: string;
  traffic: string;
  cluster: string;
}

/** Inference services of the catalog with their deployment (status, versions, traffic). */
export function ServicesTab() {
  const catalogApi = useApi(catalogApiRef);
  const api = useApi(kubeaiApiRef);
  const state = useAsync(async () => {
    const [entities, deployments] = await Promise.all([
      catalogApi.getEntities({ filter: { kind: 'InferenceService' } }),
      api.listDeployments({ limit: 1000 }),
    ]);
    return { entities: entities.items, deployments: deployments.items };
  }, [catalogApi, api]);

  if (state.error) {
    return (
      <ErrorState
        error={state.error}
        title="Could not load the inference services"
      />
    );
  }
  if (!state.value) return <LoadingState label="Loading inference services" />;
  if (state.value.entities.length === 0) {
    return (
      <EmptyState
        title="No inference services yet"
        description="Register an InferenceService entity (apiVersion kubeai.io/v1alpha1) in the catalog."
      />
    );
  }
  const byService = new Map(
    state.value.deployments.map(d => [d.serviceRef.toLowerCase(), d]),
  );
  const rows: ServiceRow[] = state.value.entities.map(entity => {
    const deployment = byService.get(registryRef(entity));
    const served = deployment
      ? [...deployment.traffic].sort((a, b) => b.percent - a.percent)
      : [];
    return {
      entity,
      name: entity.metadata.title ?? entity.metadata.name,
      deployment,
      status: deployment ? statusLabel(deployment) : 'Not deployed',
      version: served.map(t => `v${t.version}`).join(', ') || '—',
      traffic: deployment ? formatTraffic(deployment.traffic) : '—',
      cluster: deployment
        ? `${deployment.cluster}/${deployment.namespace}`
        : '—',
    };
  });
  const columns: TableColumn<ServiceRow>[] = [
    {
      title: 'Name',
      field: 'name',
      highlight: true,
      defaultSort: 'asc',
      render: r => <EntityRefLink entityRef={r.entity} />,
    },
    {
      title: 'Model',
      render: r => {
        const model =
          r.deployment?.modelRef ??
          getEntityRelations(r.entity, 'servesModel')[0];
        return model ? <EntityRefLink entityRef={model} /> : '—';
      },
      customSort: (a, b) =>
        String(a.deployment?.modelRef ?? '').localeCompare(
          String(b.deployment?.modelRef ?? ''),
        ),
    },
    {
      title: 'Status',
      field: 'status',
      render: r => <StatusChip status={r.status} />,
    },
    { title: 'Version served', field: 'version' },
    { title: 'Traffic', field: 'traffic' },
    { title: 'Cluster', field: 'cluster' },
  ];
  return (
    <Table<ServiceRow>
      title={`Inference services (${rows.length})`}
      options={{ paging: true, pageSize: 20, padding: 'dense' }}
      columns={columns}
      data={rows}
      filters={[
        { column: 'Status', type: 'multiple-select' },
        { column: 'Cluster', type: 'select' },
      ]}
    />
  );
}
