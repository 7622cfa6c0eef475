import { ReactNode, useMemo } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { useApi } from '@backstage/core-plugin-api';
import { InfoCard, Link, Table, TableColumn } from '@backstage/core-components';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { EntityRefLink, useEntity } from '@backstage/plugin-catalog-react';
import {
  DatasetEntityV1alpha1,
  DatasetVersion,
  formatDatasetSource,
  isDatasetEntity,
  LineageGraph,
  LineageNode,
} from '@kubeai/plugin-kubeai-common';
import Box from '@material-ui/core/Box';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import { kubeaiApiRef } from '../../api/refs';
import { StatusChip } from '../common/Chips';
import { entityNameOf, formatBytes, formatDate } from '../common/format';
import { useKubeaiPaths } from '../common/links';
import { AsyncContent, EmptyState } from '../common/States';

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

/** The models, runs and inference services downstream of a lineage graph's start. */
export function impactOf(graph: LineageGraph) {
  const pick = (type: LineageNode['type']) =>
    graph.nodes.filter(n => n.type === type);
  return {
    models: pick('model'),
    modelVersions: pick('modelVersion'),
    runs: pick('run'),
    services: pick('inferenceService'),
  };
}

/** What depends on the current Dataset: models, runs and services downstream of it. */
export function DatasetImpactCard() {
  const { entity } = useEntity();
  const api = useApi(kubeaiApiRef);
  const paths = useKubeaiPaths();
  const entityRef = stringifyEntityRef(entity);
  const state = useAsync(
    () => api.getLineage({ entityRef, direction: 'downstream', depth: 3 }),
    [api, entityRef],
  );
  const impact = useMemo(
    () => (state.value ? impactOf(state.value) : undefined),
    [state.value],
  );
  return (
    <InfoCard
      title="Impact"
      subheader="What depends on this dataset (three hops downstream)"
      deepLink={{
        title: 'Open the lineage',
        link: paths.lineage({ entityRef }),
      }}
    >
      <AsyncContent
        state={{ ...state, value: impact }}
        loadingLabel="Loading the impact"
        errorTitle="Could not load the impact"
      >
        {i =>
          i.models.length + i.runs.length + i.services.length === 0 ? (
            <Typography variant="body2">
              Nothing depends on this dataset yet: no run has read it.
            </Typography>
          ) : (
            <Grid container spacing={2}>
              <ImpactList
                title={`Models (${i.models.length})`}
                items={i.models.map(n => (
                  <EntityRefLink key={n.id} entityRef={n.entityRef!} />
                ))}
              />
              <ImpactList
                title={`Runs (${i.runs.length})`}
                items={i.runs.map(n => (
                  <Link key={n.id} to={paths.run(n.runId ?? '')}>
                    {n.label}
                  </Link>
                ))}
              />
              <ImpactList
                title={`Inference services (${i.services.length})`}
                items={i.services.map(n => (
                  <EntityRefLink key={n.id} entityRef={n.entityRef!} />
                ))}
              />
            </Grid>
          )
        }
      </AsyncContent>
    </InfoCard>
  );
}

const IMPACT_LIMIT = 20;

function ImpactList(props: { title: string; items: JSX.Element[] }) {
  return (
    <Grid item xs={12} sm={4}>
      <Typography variant="subtitle2" component="h3">
        {props.title}
      </Typography>
      {props.items.length === 0 ? (
        <Typography variant="body2" color="textSecondary">
          None
        </Typography>
      ) : (
        <ul style={{ paddingLeft: 16, margin: 0 }} aria-label={props.title}>
          {props.items.slice(0, IMPACT_LIMIT).map(item => (
            <li key={item.key}>{item}</li>
          ))}
          {props.items.length > IMPACT_LIMIT && (
            <li>
              and {props.items.length - IMPACT_LIMIT} more (see the lineage)
            </li>
          )}
        </ul>
      )}
    </Grid>
  );
}
