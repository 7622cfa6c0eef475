import { useMemo } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { useApi } from '@backstage/core-plugin-api';
import { Table, TableColumn } from '@backstage/core-components';
import { EntityRefLink, useEntity } from '@backstage/plugin-catalog-react';
import type { Deployment } from '@kubeai/plugin-kubeai-common';
import Grid from '@material-ui/core/Grid';
import { kubeaiApiRef } from '../../api/refs';
import { formatTraffic } from '../../api/InferenceServiceActions';
import { StatusChip } from '../common/Chips';
import { observedStatus, statusLabel } from '../common/deployment';
import { entityNameOf, formatDate } from '../common/format';
import { AsyncContent, EmptyState } from '../common/States';

interface VersionRow {
  version: number;
  services: Array<{ deployment: Deployment; percent: number }>;
  totalPercent: number;
}

/** Which inference services run which versions of the current Model, with their traffic. */
export function ModelDeploymentsContent() {
  const { entity } = useEntity();
  const api = useApi(kubeaiApiRef);
  const model = entityNameOf(entity);
  const state = useAsync(
    () => api.listModelDeployments(model),
    [api, model.namespace, model.name],
  );
  return (
    <AsyncContent
      state={state}
      loadingLabel="Loading deployments"
      errorTitle="Could not load the deployments"
    >
      {list =>
        list.items.length === 0 ? (
          <EmptyState
            title="Not deployed"
            description="No inference service serves a version of this model yet."
          />
        ) : (
          <ModelDeploymentsView deployments={list.items} />
        )
      }
    </AsyncContent>
  );
}

/** The two tables of the Deployments tab. */
export function ModelDeploymentsView(props: { deployments: Deployment[] }) {
  const { deployments } = props;
  const byVersion = useMemo(() => {
    const rows = new Map<number, VersionRow>();
    for (const d of deployments) {
      for (const t of d.traffic) {
        const row = rows.get(t.version) ?? {
          version: t.version,
          services: [],
          totalPercent: 0,
        };
        row.services.push({ deployment: d, percent: t.percent });
        row.totalPercent += t.percent;
        rows.set(t.version, row);
      }
    }
    return [...rows.values()].sort((a, b) => b.version - a.version);
  }, [deployments]);

  const serviceColumns: TableColumn<Deployment>[] = [
    {
      title: 'Inference service',
      field: 'serviceRef',
      highlight: true,
      render: d => <EntityRefLink entityRef={d.serviceRef} />,
    },
    {
      title: 'Versions (traffic)',
      render: d => formatTraffic(d.traffic),
      customFilterAndSearch: (term, d) =>
        formatTraffic(d.traffic).includes(term),
      customSort: (a, b) =>
        Math.max(0, ...a.traffic.map(t => t.version)) -
        Math.max(0, ...b.traffic.map(t => t.version)),
    },
    {
      title: 'Status',
      render: d => <StatusChip status={statusLabel(d)} />,
      customFilterAndSearch: (term, d) =>
        statusLabel(d).toLowerCase().includes(term.toLowerCase()),
    },
    { title: 'Cluster', field: 'cluster' },
    { title: 'Namespace', field: 'namespace' },
    { title: 'Revision', field: 'revision', type: 'numeric' },
    {
      title: 'Updated',
      field: 'updatedAt',
      render: d => formatDate(d.updatedAt),
    },
    {
      title: 'URL',
      sorting: false,
      render: d => {
        const url = observedStatus(d).url;
        return url ? (
          <a href={url} target="_blank" rel="noopener noreferrer">
            {url}
          </a>
        ) : (
          '—'
        );
      },
    },
  ];

  const versionColumns: TableColumn<VersionRow>[] = [
    {
      title: 'Version',
      field: 'version',
      type: 'numeric',
      align: 'left',
      render: r => `v${r.version}`,
    },
    {
      title: 'Services',
      render: r => (
        <>
          {r.services.map(s => (
            <div key={s.deployment.serviceRef}>
              <EntityRefLink entityRef={s.deployment.serviceRef} /> ({s.percent}
              %)
            </div>
          ))}
        </>
      ),
      customSort: (a, b) => a.services.length - b.services.length,
    },
    {
      title: 'Number of services',
      type: 'numeric',
      render: r => r.services.length,
      customSort: (a, b) => a.services.length - b.services.length,
    },
  ];

  return (
    <Grid container spacing={3}>
      <Grid item xs={12}>
        <Table<Deployment>
          title="Inference services"
          options={{
            paging: deployments.length > 10,
            pageSize: 10,
            padding: 'dense',
          }}
          columns={serviceColumns}
          data={deployments}
        />
      </Grid>
      <Grid item xs={12}>
        <Table<VersionRow>
          title="Which services run which version"
          options={{
            paging: byVersion.length > 10,
            pageSize: 10,
            padding: 'dense',
            search: false,
          }}
          columns={versionColumns}
          data={byVersion}
        />
      </Grid>
    </Grid>
  );
}
