import useAsync from 'react-use/esm/useAsync';
import { useApi } from '@backstage/core-plugin-api';
import { Link, Table, TableColumn } from '@backstage/core-components';
import type { Run } from '@kubeai/plugin-kubeai-common';
import Button from '@material-ui/core/Button';
import { kubeaiApiRef } from '../../api/refs';
import { StatusChip } from '../common/Chips';
import { formatDate } from '../common/format';
import { useKubeaiPaths } from '../common/links';
import { EmptyState, ErrorState, LoadingState } from '../common/States';
import { useRunLinks } from '../run/runLinks';
import { RUNS_LIMIT } from './RunsTab';

type Readiness = 'Ready' | 'Starting' | 'Not running';

/** A notebook is ready while its run is Running. */
function readiness(run: Run): Readiness {
  if (run.phase === 'Running') return 'Ready';
  if (run.phase === 'Pending') return 'Starting';
  return 'Not running';
}

const READY_STATUS: Record<Readiness, string> = {
  Ready: 'Succeeded',
  Starting: 'Pending',
  'Not running': 'Stopped',
};

interface NotebookRow {
  run: Run;
  name: string;
  ready: Readiness;
  where: string;
  owner: string;
  url?: string;
}

/** Notebook sessions: ready or not, and a link to open them. */
export function NotebooksTab() {
  const api = useApi(kubeaiApiRef);
  const paths = useKubeaiPaths();
  const links = useRunLinks();
  const state = useAsync(
    () => api.listRuns({ kind: 'notebook', limit: RUNS_LIMIT }),
    [api],
  );
  if (state.error) {
    return (
      <ErrorState error={state.error} title="Could not load the notebooks" />
    );
  }
  if (!state.value) return <LoadingState label="Loading notebooks" />;
  if (state.value.items.length === 0) {
    return (
      <EmptyState
        title="No notebooks yet"
        description="Notebook sessions started from the portal's templates appear here."
      />
    );
  }
  const rows: NotebookRow[] = state.value.items.map(run => ({
    run,
    name: run.name,
    ready: readiness(run),
    where: `${run.cluster}/${run.namespace}`,
    owner: run.createdBy,
    url: links.notebook(run),
  }));
  const columns: TableColumn<NotebookRow>[] = [
    {
      title: 'Name',
      field: 'name',
      highlight: true,
      defaultSort: 'asc',
      render: r => <Link to={paths.run(r.run.id)}>{r.name}</Link>,
    },
    {
      title: 'Ready',
      field: 'ready',
      render: r => (
        <StatusChip status={READY_STATUS[r.ready]} label={r.ready} />
      ),
    },
    { title: 'Phase', field: 'run.phase' },
    { title: 'Cluster', field: 'where' },
    { title: 'Owner', field: 'owner' },
    {
      title: 'Started',
      render: r => formatDate(r.run.startedAt ?? r.run.createdAt),
      customSort: (a, b) =>
        (a.run.startedAt ?? a.run.createdAt).localeCompare(
          b.run.startedAt ?? b.run.createdAt,
        ),
    },
    {
      title: 'Open',
      sorting: false,
      render: r =>
        r.url ? (
          <Button
            size="small"
            variant="outlined"
            href={r.url}
            target="_blank"
            rel="noopener noreferrer"
            disabled={r.ready !== 'Ready'}
            aria-label={`Open notebook ${r.name}`}
          >
            Open
          </Button>
        ) : (
          <span title="No URL known for this notebook">—</span>
        ),
    },
  ];
  return (
    <Table<NotebookRow>
      title={`Notebooks (${rows.length})`}
      options={{ paging: true, pageSize: 20, padding: 'dense' }}
      columns={columns}
      data={rows}
      filters={[
        { column: 'Ready', type: 'select' },
        { column: 'Owner', type: 'select' },
      ]}
    />
  );
}
