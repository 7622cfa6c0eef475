import { ReactNode, useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { useApi } from '@backstage/core-plugin-api';
import { InfoCard, Link, Table, TableColumn } from '@backstage/core-components';
import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  EntityRefLink,
  useEntity,
  useEntityRefLink,
} from '@backstage/plugin-catalog-react';
import type {
  Deployment,
  DeploymentRevision,
  TrafficTarget,
} from '@kubeai/plugin-kubeai-common';
import Box from '@material-ui/core/Box';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import { formatTraffic } from '../../api/InferenceServiceActions';
import { kubeaiApiRef } from '../../api/refs';
import { StatusChip } from '../common/Chips';
import { observedStatus, statusLabel } from '../common/deployment';
import { entityNameOf, formatDate, isNotFound } from '../common/format';
import { EmptyState, ErrorState, LoadingState } from '../common/States';
import { ENTITY_TAB_PATHS } from '../lineage/useLineageLinks';
import { ServiceActions } from './ServiceActions';

const TRAFFIC_COLORS = ['#1e88e5', '#ff9800', '#43a047', '#8e24aa', '#e53935'];

/** The Serving tab of an InferenceService: status, URL, versions, traffic, revisions, actions. */
export function InferenceServiceContent() {
  const { entity } = useEntity();
  const api = useApi(kubeaiApiRef);
  const service = entityNameOf(entity);
  const entityRef = stringifyEntityRef(entity);
  const [reload, setReload] = useState(0);
  const state = useAsync(async () => {
    try {
      const [deployment, revisions] = await Promise.all([
        api.getDeployment(service),
        api.listDeploymentRevisions(service, { limit: 100 }),
      ]);
      return { deployment, revisions: revisions.items };
    } catch (error) {
      if (isNotFound(error)) return { deployment: undefined, revisions: [] };
      throw error;
    }
  }, [api, service.namespace, service.name, reload]);

  if (state.error) {
    return (
      <ErrorState error={state.error} title="Could not load the deployment" />
    );
  }
  if (!state.value) {
    return <LoadingState label="Loading the deployment" />;
  }
  const { deployment, revisions } = state.value;
  if (!deployment) {
    return (
      <EmptyState
        title="No deployment recorded"
        description="The registry has no deployment for this inference service yet; it is recorded when the service is deployed from the portal or by a pipeline (POST /api/kubeai/deployments)."
      />
    );
  }
  return (
    <Grid container spacing={3}>
      <Grid item xs={12} md={6}>
        <ServiceStatusCard deployment={deployment} />
      </Grid>
      <Grid item xs={12} md={6}>
        <InfoCard title="Traffic split">
          <TrafficBar
            traffic={deployment.traffic}
            modelRef={deployment.modelRef}
          />
          <Box mt={3}>
            <Typography variant="subtitle2" component="h3" gutterBottom>
              Change the deployment
            </Typography>
            <ServiceActions
              entityRef={entityRef}
              service={service}
              deployment={deployment}
              revisions={revisions}
              onChanged={() => setReload(r => r + 1)}
            />
          </Box>
        </InfoCard>
      </Grid>
      <Grid item xs={12}>
        <RevisionsTable revisions={revisions} current={deployment.revision} />
      </Grid>
    </Grid>
  );
}

function Field(props: { label: string; children: ReactNode }) {
  return (
    <Grid item xs={12} sm={6}>
      <Typography variant="subtitle2" color="textSecondary" component="div">
        {props.label}
      </Typography>
      <Typography variant="body2" component="div">
        {props.children}
      </Typography>
    </Grid>
  );
}

/** Status, URL and the versions a deployment serves. */
export function ServiceStatusCard(props: { deployment: Deployment }) {
  const { deployment } = props;
  const status = observedStatus(deployment);
  const entityLink = useEntityRefLink();
  const served = [...deployment.traffic].sort((a, b) => b.percent - a.percent);
  return (
    <InfoCard title="Status">
      <Grid container spacing={2}>
        <Field label="Status">
          <StatusChip status={statusLabel(deployment)} />
          {status.message && (
            <Typography variant="caption" component="div">
              {status.message}
            </Typography>
          )}
        </Field>
        <Field label="URL">
          {status.url ? (
            <a href={status.url} target="_blank" rel="noopener noreferrer">
              {status.url}
            </a>
          ) : (
            'Not reported'
          )}
        </Field>
        <Field label="Model">
          <EntityRefLink entityRef={deployment.modelRef} />
        </Field>
        <Field label="Current version">
          {served.length === 0
            ? 'None'
            : served.map(t => (
                <div key={t.version}>
                  <Link
                    to={`${entityLink(deployment.modelRef)}/${
                      ENTITY_TAB_PATHS.modelVersions
                    }?version=${t.version}`}
                  >
                    v{t.version}
                  </Link>{' '}
                  ({t.percent}%)
                </div>
              ))}
        </Field>
        <Field label="Where">
          <code>
            {deployment.cluster}/{deployment.namespace}/{deployment.name}
          </code>
        </Field>
        <Field label="Revision">{deployment.revision}</Field>
        <Field label="Last change">
          {formatDate(deployment.updatedAt)} by {deployment.updatedBy}
        </Field>
        <Field label="Last report from the cluster">
          {formatDate(deployment.observedAt)}
        </Field>
      </Grid>
    </InfoCard>
  );
}

/** A stacked bar of the traffic shares, with a text equivalent. */
export function TrafficBar(props: {
  traffic: TrafficTarget[];
  modelRef?: string;
}) {
  const traffic = [...props.traffic].sort((a, b) => a.version - b.version);
  if (!traffic.length) {
    return (
      <Typography variant="body2">No version receives traffic.</Typography>
    );
  }
  return (
    <Box>
      <Box
        display="flex"
        height={28}
        borderRadius={4}
        overflow="hidden"
        role="img"
        aria-label={`Traffic split: ${formatTraffic(traffic)}`}
      >
        {traffic.map((t, i) => (
          <Box
            key={t.version}
            width={`${t.percent}%`}
            bgcolor={TRAFFIC_COLORS[i % TRAFFIC_COLORS.length]}
            color="#fff"
            display="flex"
            alignItems="center"
            justifyContent="center"
            fontSize={12}
            title={`v${t.version}: ${t.percent}%`}
          >
            {t.percent >= 10 ? `v${t.version} ${t.percent}%` : ''}
          </Box>
        ))}
      </Box>
      <Typography variant="body2" style={{ marginTop: 8 }}>
        {formatTraffic(traffic)}
      </Typography>
    </Box>
  );
}

/** The revision history of a deployment, newest first. */
export function RevisionsTable(props: {
  revisions: DeploymentRevision[];
  current: number;
}) {
  const columns: TableColumn<DeploymentRevision>[] = [
    {
      title: 'Revision',
      field: 'revision',
      type: 'numeric',
      align: 'left',
      defaultSort: 'desc',
      render: r =>
        r.revision === props.current ? `${r.revision} (current)` : r.revision,
    },
    {
      title: 'Model',
      field: 'modelRef',
      render: r => <EntityRefLink entityRef={r.modelRef} />,
    },
    {
      title: 'Traffic',
      render: r => formatTraffic(r.traffic),
      customFilterAndSearch: (term, r) =>
        formatTraffic(r.traffic).includes(term),
      sorting: false,
    },
    { title: 'Message', field: 'message', emptyValue: '—' },
    { title: 'By', field: 'createdBy' },
    { title: 'When', field: 'createdAt', render: r => formatDate(r.createdAt) },
  ];
  return (
    <Table<DeploymentRevision>
      title="Revision history"
      options={{
        paging: props.revisions.length > 10,
        pageSize: 10,
        padding: 'dense',
      }}
      columns={columns}
      data={props.revisions}
      emptyContent={
        <Box p={2}>
          <Typography variant="body2">No revisions recorded.</Typography>
        </Box>
      }
    />
  );
}
