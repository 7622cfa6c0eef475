import { ReactNode, useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { useApi } from '@backstage/core-plugin-api';
import {
  InfoCard,
  Link,
  LinkButton,
  WarningPanel,
} from '@backstage/core-components';
import {
  useEntityRefLink,
  EntityRefLink,
} from '@backstage/plugin-catalog-react';
import type { Run } from '@kubeai/plugin-kubeai-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Grid from '@material-ui/core/Grid';
import Step from '@material-ui/core/Step';
import StepLabel from '@material-ui/core/StepLabel';
import Stepper from '@material-ui/core/Stepper';
import Typography from '@material-ui/core/Typography';
import { useParams } from 'react-router-dom';
import { kubeaiApiRef } from '../../api/refs';
import { ActivityCard } from '../activity/ActivityCard';
import { StatusChip } from '../common/Chips';
import { formatDate, formatDuration, isNotFound } from '../common/format';
import { useKubeaiPaths } from '../common/links';
import { AsyncContent, EmptyState } from '../common/States';
import { ENTITY_TAB_PATHS } from '../lineage/useLineageLinks';
import { RunAdmission } from './RunAdmission';
import { canDeleteRunObject, RunDeleteAction } from './RunDeleteAction';
import { isPeriodicTask, RunExecutions } from './RunExecutions';
import { RunLogs } from './RunLogs';
import { useRunLinks } from './runLinks';

/** `/kubeai/runs/:runId`. */
export function RunRoute() {
  const { runId } = useParams();
  return <RunView runId={runId ?? ''} />;
}

/** One run: phase timeline, parameters, inputs and outputs, logs link. */
export function RunView(props: { runId: string }) {
  const api = useApi(kubeaiApiRef);
  const paths = useKubeaiPaths();
  const [reload, setReload] = useState(0);
  const state = useAsync(async () => {
    try {
      return await api.getRun(props.runId);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }, [api, props.runId, reload]);
  return (
    <AsyncContent
      state={state}
      loadingLabel="Loading the run"
      errorTitle="Could not load the run"
    >
      {run =>
        run === null ? (
          <EmptyState
            title="Run not found"
            description={`There is no run ${props.runId} in the registry.`}
            action={
              <LinkButton
                role="link"
                variant="outlined"
                to={`${paths.base}/runs`}
              >
                All runs
              </LinkButton>
            }
          />
        ) : (
          <RunDetails run={run} onChanged={() => setReload(r => r + 1)} />
        )
      }
    </AsyncContent>
  );
}

/** The timeline of a run, derived from its timestamps and current phase. */
export function phaseSteps(run: Run) {
  const finished = ['Succeeded', 'Failed', 'Stopped'].includes(run.phase);
  const steps: Array<{
    label: string;
    at?: string;
    done: boolean;
    error?: boolean;
  }> = [
    { label: 'Created', at: run.createdAt, done: true },
    {
      label: run.phase === 'Pending' ? 'Pending' : 'Started',
      at: run.startedAt,
      done: Boolean(run.startedAt) || finished || run.phase === 'Running',
    },
    {
      label: 'Running',
      at: run.startedAt,
      done: Boolean(run.startedAt) && (finished || run.phase === 'Running'),
    },
    {
      label: finished ? run.phase : 'Finished',
      at: run.finishedAt,
      done: finished,
      error: run.phase === 'Failed',
    },
  ];
  return steps;
}

/** '0.14 EUR · 2 pod-hours on elastic', '… so far' while it runs (kubeai.cost prices). */
export function formatCost(cost: NonNullable<Run['cost']>): string {
  const amount = cost.amount.toLocaleString('en-US', {
    maximumFractionDigits: cost.amount < 1 ? 4 : 2,
  });
  const hours = cost.podHours.toLocaleString('en-US', {
    maximumFractionDigits: 2,
  });
  return `${amount} ${cost.currency} · ${hours} pod-hours${
    cost.flavor ? ` on ${cost.flavor}` : ''
  }${cost.final ? '' : ' so far'}`;
}

function Field(props: { label: string; children: ReactNode }) {
  return (
    <Grid item xs={12} sm={6} md={3}>
      <Typography variant="subtitle2" color="textSecondary" component="div">
        {props.label}
      </Typography>
      <Typography variant="body2" component="div">
        {props.children}
      </Typography>
    </Grid>
  );
}

/** Name → value rows (parameters, reported metrics). */
function KeyValueTable(props: {
  label: string;
  entries: Array<[string, unknown]>;
}) {
  return (
    <table
      aria-label={props.label}
      style={{ width: '100%', borderCollapse: 'collapse' }}
    >
      <tbody>
        {props.entries.map(([k, v]) => (
          <tr key={k}>
            <th
              scope="row"
              style={{ textAlign: 'left', padding: '2px 8px 2px 0' }}
            >
              {k}
            </th>
            <td style={{ padding: '2px 0' }}>
              <code>{String(v)}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A loaded run; `onChanged` reloads it (after its object was deleted). */
export function RunDetails(props: { run: Run; onChanged?: () => void }) {
  const { run } = props;
  const paths = useKubeaiPaths();
  const links = useRunLinks();
  const entityLink = useEntityRefLink();
  const steps = phaseSteps(run);
  const active = steps.findIndex(s => !s.done);
  const logs = links.logs(run);
  const notebook = links.notebook(run);
  const params = Object.entries(run.params).sort(([a], [b]) =>
    a.localeCompare(b),
  );
  // what the run's own code reported with its run credential (`kubeai report --metrics`)
  const metrics = Object.entries(run.metrics ?? {}).sort(([a], [b]) =>
    a.localeCompare(b),
  );

  return (
    <Grid container spacing={3}>
      <Grid item xs={12}>
        <Box
          display="flex"
          alignItems="center"
          flexWrap="wrap"
          style={{ gap: 12 }}
        >
          <Typography variant="h5" component="h2">
            {run.name}
          </Typography>
          <StatusChip status={run.phase} />
          <Typography variant="body2" color="textSecondary">
            {run.kind} run · {run.cluster}/{run.namespace}
          </Typography>
          <Box ml="auto" display="flex" style={{ gap: 8 }}>
            {logs ? (
              <Button
                variant="outlined"
                href={logs}
                target="_blank"
                rel="noopener noreferrer"
              >
                Logs
              </Button>
            ) : (
              <Typography variant="caption" color="textSecondary">
                No logs link for this run
              </Typography>
            )}
            {notebook && (
              <Button
                variant="outlined"
                href={notebook}
                target="_blank"
                rel="noopener noreferrer"
              >
                Open notebook
              </Button>
            )}
            <LinkButton role="link" to={paths.lineage({ runId: run.id })}>
              Lineage
            </LinkButton>
          </Box>
        </Box>
      </Grid>
      {canDeleteRunObject(run) && (
        <Grid item xs={12}>
          <RunDeleteAction run={run} onChanged={() => props.onChanged?.()} />
        </Grid>
      )}
      {run.message && (
        <Grid item xs={12}>
          <WarningPanel
            severity={run.phase === 'Failed' ? 'error' : 'info'}
            title={run.phase === 'Failed' ? 'The run failed' : 'Message'}
            message={run.message}
          />
        </Grid>
      )}
      {(run.admission || run.clusterQueue) && (
        <Grid item xs={12}>
          <RunAdmission run={run} />
        </Grid>
      )}
      <Grid item xs={12}>
        <InfoCard title="Phase timeline">
          <Stepper
            activeStep={active === -1 ? steps.length : active}
            alternativeLabel
            aria-label="Phase timeline"
            role="list"
          >
            {steps.map(s => (
              <Step key={s.label} completed={s.done} role="listitem">
                <StepLabel
                  error={s.error}
                  optional={
                    <Typography variant="caption">
                      {s.at ? formatDate(s.at) : '—'}
                    </Typography>
                  }
                >
                  {s.label}
                </StepLabel>
              </Step>
            ))}
          </Stepper>
          <Grid container spacing={2}>
            <Field label="Duration">
              {formatDuration(run.startedAt, run.finishedAt)}
            </Field>
            <Field label="Started">{formatDate(run.startedAt)}</Field>
            <Field label="Finished">{formatDate(run.finishedAt)}</Field>
            {run.cost && <Field label="Cost">{formatCost(run.cost)}</Field>}
            <Field label="Created by">{run.createdBy}</Field>
            <Field label="Model">
              {run.modelRef ? <EntityRefLink entityRef={run.modelRef} /> : '—'}
            </Field>
            <Field label="Kubernetes object">
              <code>{run.uid ?? run.name}</code>
            </Field>
            <Field label="Run id">
              <code>{run.id}</code>
            </Field>
            {run.parentRunId && (
              <Field label="Execution of">
                <Link to={paths.run(run.parentRunId)}>
                  {run.schedule?.name ?? run.parentRunId}
                </Link>
              </Field>
            )}
            <Field label="Last update">{formatDate(run.updatedAt)}</Field>
          </Grid>
        </InfoCard>
      </Grid>
      <Grid item xs={12} md={4}>
        <InfoCard title="Parameters">
          {params.length === 0 ? (
            <Typography variant="body2">No parameters recorded.</Typography>
          ) : (
            <KeyValueTable label="Parameters" entries={params} />
          )}
          {metrics.length > 0 && (
            <Box mt={2}>
              <Typography variant="subtitle2">Reported by the run</Typography>
              <KeyValueTable label="Metrics" entries={metrics} />
            </Box>
          )}
        </InfoCard>
      </Grid>
      <Grid item xs={12} md={4}>
        <InfoCard title="Inputs">
          {run.inputs.length === 0 ? (
            <Typography variant="body2">No inputs recorded.</Typography>
          ) : (
            <ul aria-label="Inputs" style={{ margin: 0, paddingLeft: 16 }}>
              {run.inputs.map(i => (
                <li key={`${i.datasetRef}@${i.version ?? ''}`}>
                  <EntityRefLink entityRef={i.datasetRef} />
                  {i.version ? ` version ${i.version}` : ' (no version)'}
                </li>
              ))}
            </ul>
          )}
        </InfoCard>
      </Grid>
      <Grid item xs={12} md={4}>
        <InfoCard title="Outputs">
          {run.outputs.length === 0 ? (
            <Typography variant="body2">No model version produced.</Typography>
          ) : (
            <ul aria-label="Outputs" style={{ margin: 0, paddingLeft: 16 }}>
              {run.outputs.map(o => (
                <li key={`${o.modelRef}@${o.version}`}>
                  <Link
                    to={`${entityLink(o.modelRef)}/${
                      ENTITY_TAB_PATHS.modelVersions
                    }?version=${o.version}`}
                  >
                    {o.modelRef} v{o.version}
                  </Link>
                </li>
              ))}
            </ul>
          )}
        </InfoCard>
      </Grid>
      {isPeriodicTask(run) && (
        <Grid item xs={12}>
          <RunExecutions run={run} />
        </Grid>
      )}
      <Grid item xs={12}>
        <RunLogs run={run} />
      </Grid>
      <Grid item xs={12}>
        {/* a deleted object stops the run: its new update time shows the delete */}
        <ActivityCard filter={{ runId: run.id }} reload={run.updatedAt} />
      </Grid>
    </Grid>
  );
}
