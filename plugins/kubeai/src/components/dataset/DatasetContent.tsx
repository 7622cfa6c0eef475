import { ReactNode } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { useApi } from '@backstage/core-plugin-api';
import { InfoCard, Link, Table, TableColumn } from '@backstage/core-components';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { useEntity } from '@backstage/plugin-catalog-react';
import {
  DatasetEntityV1alpha1,
  DatasetVersion,
  formatDatasetSource,
  isDatasetEntity,
} from '@kubeai/plugin-kubeai-common';
import Box from '@material-ui/core/Box';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import { kubeaiApiRef } from '../../api/refs';
import { StatusChip } from '../common/Chips';
import { entityNameOf, formatBytes, formatDate } from '../common/format';
import { useKubeaiPaths } from '../common/links';
import { AsyncContent, EmptyState } from '../common/States';
import { ImpactView } from '../model/ImpactView';

/** The KubeAI tab of a Dataset: source and cache, versions, and what depends on it. */
export function DatasetContent() {
  const { entity } = useEntity();
  return (
    <Grid container spacing={3}>
      <Grid item xs={12} md={5}>
        <DatasetSourceCard entity={entity as DatasetEntityV1alpha1} />
      </Grid>
      <Grid item xs={12} md={7}>
        <DatasetImpactCard />
      </Grid>
      <Grid item xs={12}>
        <DatasetVersionsTable />
      </Grid>
    </Grid>
  );
}

function Field(props: { label: string; children: ReactNode }) {
  return (
    <Box mb={1.5}>
      <Typography variant="subtitle2" color="textSecondary" component="div">
        {props.label}
      </Typography>
      <Typography variant="body2" component="div">
        {props.children}
      </Typography>
    </Box>
  );
}

/** Where the data lives and its cache. */
export function DatasetSourceCard(props: { entity: DatasetEntityV1alpha1 }) {
  const { entity } = props;
  if (!isDatasetEntity(entity) || !entity.spec?.source) {
    return (
      <InfoCard title="Source">
        <Typography variant="body2">
          This entity has no dataset source in its spec.
        </Typography>
      </InfoCard>
    );
  }
  const { source, cache, format } = entity.spec;
  return (
    <InfoCard title="Source and cache">
      <Field label="Source">
        <code>{formatDatasetSource(source)}</code>
      </Field>
      <Field label="Source type">{source.type}</Field>
      <Field label="Format">{format ?? '—'}</Field>
      <Field label="Cache">
        {cache ? (
          <>
            <StatusChip status="live" label="Configured" />{' '}
            {[cache.engine, cache.capacity, cache.medium]
              .filter(Boolean)
              .join(' · ')}
          </>
        ) : (
          <StatusChip status="stopped" label="No cache" />
        )}
      </Field>
      {cache && (
        <Typography variant="caption" color="textSecondary">
          Configured in the catalog entity; the cluster does not report the
          cache runtime&apos;s state to the portal yet.
        </Typography>
      )}
    </InfoCard>
  );
}

/** The versions of the current Dataset (digest, size, date). */
export function DatasetVersionsTable() {
  const { entity } = useEntity();
  const api = useApi(kubeaiApiRef);
  const dataset = entityNameOf(entity);
  const state = useAsync(
    () => api.listDatasetVersions(dataset, { limit: 1000 }),
    [api, dataset.namespace, dataset.name],
  );
  const paths = useKubeaiPaths();
  const columns: TableColumn<DatasetVersion>[] = [
    { title: 'Version', field: 'version', highlight: true },
    {
      title: 'Digest',
      field: 'digest',
      render: v =>
        v.digest ? (
          <code title={v.digest}>
            {v.digest.length > 24 ? `${v.digest.slice(0, 24)}…` : v.digest}
          </code>
        ) : (
          '—'
        ),
    },
    {
      title: 'Size',
      field: 'size',
      type: 'numeric',
      render: v => formatBytes(v.size),
    },
    {
      title: 'Created',
      field: 'createdAt',
      defaultSort: 'desc',
      render: v => formatDate(v.createdAt),
    },
    { title: 'Location', field: 'uri', render: v => <code>{v.uri}</code> },
    { title: 'Registered by', field: 'createdBy' },
    {
      title: 'Lineage',
      sorting: false,
      render: v => (
        <Link
          to={paths.lineage({ entityRef: v.datasetRef, version: v.version })}
          aria-label={`Lineage of version ${v.version}`}
        >
          Lineage
        </Link>
      ),
    },
  ];
  return (
    <AsyncContent
      state={state}
      loadingLabel="Loading dataset versions"
      errorTitle="Could not load the dataset versions"
    >
      {list =>
        list.items.length === 0 ? (
          <EmptyState
            title="No versions registered"
            description={`Register a version of ${stringifyEntityRef(
              entity,
            )} with POST /api/kubeai/datasets/${dataset.namespace}/${
              dataset.name
            }/versions.`}
          />
        ) : (
          <Table<DatasetVersion>
            title="Versions"
            subtitle={
              list.totalItems > list.items.length
                ? `Newest ${list.items.length} of ${list.totalItems}`
                : undefined
            }
            options={{
              paging: list.items.length > 10,
              pageSize: 10,
              padding: 'dense',
            }}
            columns={columns}
            data={list.items}
          />
        )
      }
    </AsyncContent>
  );
}

/**
 * What retiring the current Dataset would break (`GET /impact`): services serving versions its
 * runs produced, pipelines and periodic tasks reading it, runs, and models downstream (also those
 * the catalog says are trained on it).
 */
export function DatasetImpactCard() {
  const { entity } = useEntity();
  const paths = useKubeaiPaths();
  const entityRef = stringifyEntityRef(entity);
  return (
    <InfoCard
      title="Impact"
      subheader="What breaks if this dataset is retired"
      deepLink={{
        title: 'Open the lineage',
        link: paths.lineage({ entityRef }),
      }}
    >
      <ImpactView entityRef={entityRef} noun="dataset" />
    </InfoCard>
  );
}
