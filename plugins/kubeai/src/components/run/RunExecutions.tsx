import { useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { useApi } from '@backstage/core-plugin-api';
import { InfoCard, Link } from '@backstage/core-components';
import type { Run } from '@kubeai/plugin-kubeai-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import { kubeaiApiRef } from '../../api/refs';
import { StatusChip } from '../common/Chips';
import { formatDate, formatDuration } from '../common/format';
import { useKubeaiPaths } from '../common/links';
import { ErrorState, LoadingState } from '../common/States';

/** Executions per page (a periodic task may run thousands of times a day: never all at once). */
export const EXECUTIONS_PAGE_SIZE = 20;

/** Whether a run is a periodic task, whose executions the run page lists. */
export function isPeriodicTask(run: Run): boolean {
  const kind = run.observed?.kind ?? run.params.objectKind;
  return (
    Boolean(run.executions) || kind === 'CronJob' || kind === 'CronWorkflow'
  );
}

const cell = { textAlign: 'left' as const, padding: '4px 12px 4px 0' };

/** The executions of a periodic task (`GET /runs?parent=<id>`), newest first, paged. */
export function RunExecutions(props: { run: Run }) {
  const api = useApi(kubeaiApiRef);
  const paths = useKubeaiPaths();
  const [page, setPage] = useState(0);
  const state = useAsync(
    () =>
      api.listRuns({
        parent: props.run.id,
        limit: EXECUTIONS_PAGE_SIZE,
        offset: page * EXECUTIONS_PAGE_SIZE,
      }),
    [api, props.run.id, page],
  );
  const total = state.value?.totalItems ?? props.run.executions ?? 0;
  const first = page * EXECUTIONS_PAGE_SIZE;
  const shown = state.value?.items.length ?? 0;
  let content;
  if (state.error) {
    content = (
      <ErrorState error={state.error} title="Could not load the executions" />
    );
  } else if (state.loading && !state.value) {
    content = <LoadingState label="Loading the executions" />;
  } else if (!state.value || state.value.items.length === 0) {
    content = (
      <Typography variant="body2">
        {page === 0 ? 'No executions recorded yet.' : 'No more executions.'}
      </Typography>
    );
  } else {
    content = (
      <table
        aria-label="Executions"
        style={{ width: '100%', borderCollapse: 'collapse' }}
      >
        <thead>
          <tr>
            <th style={cell}>Execution</th>
            <th style={cell}>Phase</th>
            <th style={cell}>Started</th>
            <th style={cell}>Duration</th>
          </tr>
        </thead>
        <tbody>
          {state.value.items.map(r => (
            <tr key={r.id}>
              <td style={cell}>
                <Link to={paths.run(r.id)}>{r.name}</Link>
              </td>
              <td style={cell}>
                <StatusChip status={r.phase} />
              </td>
              <td style={cell}>{formatDate(r.startedAt)}</td>
              <td style={cell}>{formatDuration(r.startedAt, r.finishedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  }
  return (
    <InfoCard title={`Executions (${total})`}>
      {content}
      <Box
        display="flex"
        alignItems="center"
        justifyContent="flex-end"
        mt={1}
        style={{ gap: 8 }}
      >
        <Typography variant="caption" color="textSecondary">
          {shown > 0 ? `${first + 1}–${first + shown} of ${total}` : ''}
        </Typography>
        <Button
          size="small"
          disabled={page === 0 || state.loading}
          onClick={() => setPage(p => Math.max(0, p - 1))}
        >
          Newer
        </Button>
        <Button
          size="small"
          disabled={state.loading || first + shown >= total}
          onClick={() => setPage(p => p + 1)}
        >
          Older
        </Button>
      </Box>
    </InfoCard>
  );
}
