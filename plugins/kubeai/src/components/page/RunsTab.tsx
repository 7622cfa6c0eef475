import { useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { useApi } from '@backstage/core-plugin-api';
import { Link, Table, TableColumn } from '@backstage/core-components';
import { EntityRefLink } from '@backstage/plugin-catalog-react';
import type { Run, RunKind, RunPhase } from '@kubeai/plugin-kubeai-common';
import Box from '@material-ui/core/Box';
import FormControl from '@material-ui/core/FormControl';
import InputLabel from '@material-ui/core/InputLabel';
import MenuItem from '@material-ui/core/MenuItem';
import Select from '@material-ui/core/Select';
import { kubeaiApiRef } from '../../api/refs';
import { StatusChip } from '../common/Chips';
import { durationMs, formatDate, formatDuration } from '../common/format';
import { useKubeaiPaths } from '../common/links';
import { EmptyState, ErrorState, LoadingState } from '../common/States';

const KINDS: RunKind[] = ['training', 'notebook', 'pipeline'];
const PHASES: RunPhase[] = [
  'Pending',
  'Running',
  'Succeeded',
  'Failed',
  'Stopped',
  'Unknown',
];
/** How many runs the tab loads (newest first); the filters narrow on the server. */
export const RUNS_LIMIT = 500;

/** Runs (training tasks, notebook sessions, pipeline runs), newest first. */
export function RunsTab() {
  const api = useApi(kubeaiApiRef);
  const paths = useKubeaiPaths();
  const [kind, setKind] = useState<RunKind | ''>('');
  const [phase, setPhase] = useState<RunPhase | ''>('');
  const state = useAsync(
    () =>
      api.listRuns({
        kind: kind || undefined,
        phase: phase || undefined,
        limit: RUNS_LIMIT,
      }),
    [api, kind, phase],
  );

  const filters = (
    <Box
      display="flex"
      style={{ gap: 16 }}
      mb={2}
      aria-label="Run filters"
      role="group"
    >
      <FormControl size="small" style={{ minWidth: 160 }}>
        <InputLabel id="kubeai-runs-kind" shrink>
          Kind
        </InputLabel>
        <Select
          labelId="kubeai-runs-kind"
          name="kubeai-runs-kind"
          value={kind}
          displayEmpty
          onChange={e => setKind(e.target.value as RunKind | '')}
        >
          <MenuItem value="">All kinds</MenuItem>
          {KINDS.map(k => (
            <MenuItem key={k} value={k}>
              {k}
            </MenuItem>
          ))}
        </Select>
      </FormControl>
      <FormControl size="small" style={{ minWidth: 160 }}>
        <InputLabel id="kubeai-runs-phase" shrink>
          Phase
        </InputLabel>
        <Select
          labelId="kubeai-runs-phase"
          name="kubeai-runs-phase"
          value={phase}
          displayEmpty
          onChange={e => setPhase(e.target.value as RunPhase | '')}
        >
          <MenuItem value="">All phases</MenuItem>
          {PHASES.map(p => (
            <MenuItem key={p} value={p}>
              {p}
            </MenuItem>
          ))}
        </Select>
      </FormControl>
    </Box>
  );

  const columns: TableColumn<Run>[] = [
    {
      title: 'Name',
      field: 'name',
      highlight: true,
      render: r => <Link to={paths.run(r.id)}>{r.name}</Link>,
    },
    { title: 'Kind', field: 'kind' },
    {
      title: 'Phase',
      field: 'phase',
      render: r => <StatusChip status={r.phase} />,
    },
    {
      title: 'Duration',
      customSort: (a, b) =>
        (durationMs(a.startedAt, a.finishedAt) ?? -1) -
        (durationMs(b.startedAt, b.finishedAt) ?? -1),
      render: r => formatDuration(r.startedAt, r.finishedAt),
    },
    {
      title: 'Model',
      field: 'modelRef',
      render: r =>
        r.modelRef ? <EntityRefLink entityRef={r.modelRef} /> : '—',
    },
    {
      title: 'Outputs',
      render: r =>
        r.outputs.length ? r.outputs.map(o => `v${o.version}`).join(', ') : '—',
      sorting: false,
    },
    {
      title: 'Cluster',
      render: r => `${r.cluster}/${r.namespace}`,
      customSort: (a, b) =>
        `${a.cluster}/${a.namespace}`.localeCompare(
          `${b.cluster}/${b.namespace}`,
        ),
    },
    {
      title: 'Started',
      field: 'startedAt',
      defaultSort: 'desc',
      render: r => formatDate(r.startedAt ?? r.createdAt),
      customSort: (a, b) =>
        (a.startedAt ?? a.createdAt).localeCompare(b.startedAt ?? b.createdAt),
    },
    { title: 'By', field: 'createdBy' },
  ];

  if (state.error) {
    return (
      <>
        {filters}
        <ErrorState error={state.error} title="Could not load the runs" />
      </>
    );
  }
  if (!state.value) {
    return (
      <>
        {filters}
        <LoadingState label="Loading runs" />
      </>
    );
  }
  const runs = state.value.items;
  return (
    <>
      {filters}
      {runs.length === 0 ? (
        <EmptyState
          title={kind || phase ? 'No runs match these filters' : 'No runs yet'}
          description="Training tasks, notebook sessions and pipeline runs appear here once they are recorded in the registry."
        />
      ) : (
        <Table<Run>
          title={`Runs (${state.value.totalItems})`}
          subtitle={
            state.value.totalItems > runs.length
              ? `Newest ${runs.length} of ${state.value.totalItems}; use the filters to narrow`
              : undefined
          }
          options={{ paging: true, pageSize: 20, padding: 'dense' }}
          columns={columns}
          data={runs}
          filters={[
            { column: 'Kind', type: 'multiple-select' },
            { column: 'Phase', type: 'multiple-select' },
            { column: 'By', type: 'select' },
          ]}
        />
      )}
    </>
  );
}
