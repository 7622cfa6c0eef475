import useAsync from 'react-use/esm/useAsync';
import { useApi } from '@backstage/core-plugin-api';
import { InfoCard, Link } from '@backstage/core-components';
import { useEntity } from '@backstage/plugin-catalog-react';
import type { QueueUsage, ResourceUsage } from '@kubeai/plugin-kubeai-common';
import Box from '@material-ui/core/Box';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import { kubeaiApiRef } from '../../api/refs';
import { formatDate } from '../common/format';
import { useKubeaiPaths } from '../common/links';
import { AsyncContent, EmptyState } from '../common/States';

const GI = 2 ** 30;

/** An amount of the API (CPU in cores, memory in bytes, GPUs) for people. */
export function formatResourceAmount(resource: string, amount: number): string {
  const round = (n: number) => String(Math.round(n * 100) / 100);
  if (resource === 'memory') return `${round(amount / GI)} Gi`;
  return round(amount);
}

const COLORS = {
  used: '#1976d2',
  borrowed: '#f57c00',
  lent: '#9e9e9e',
  free: '#e0e0e0',
};

/**
 * One resource as a bar: the track is the larger of nominal quota and use; used within the
 * nominal quota, borrowed beyond it, lent out of the unused rest.
 */
function UsageBar(props: { flavor: string; row: ResourceUsage }) {
  const { row } = props;
  const total = Math.max(row.nominal, row.used, 1e-9);
  const pct = (n: number) => `${(100 * n) / total}%`;
  const inQuota = Math.min(row.used, row.nominal);
  const fmt = (n: number) => formatResourceAmount(row.resource, n);
  const label = `${row.resource} on ${props.flavor}: used ${fmt(
    row.used,
  )} of nominal ${fmt(row.nominal)}, borrowed ${fmt(row.borrowed)}, lent ${fmt(
    row.lent,
  )}`;
  return (
    <Box
      role="img"
      aria-label={label}
      title={label}
      display="flex"
      height={14}
      width="100%"
      style={{ background: COLORS.free, borderRadius: 3, overflow: 'hidden' }}
    >
      <div style={{ width: pct(inQuota), background: COLORS.used }} />
      <div style={{ width: pct(row.borrowed), background: COLORS.borrowed }} />
      <div style={{ width: pct(row.lent), background: COLORS.lent }} />
    </Box>
  );
}

function Legend() {
  return (
    <Box display="flex" style={{ gap: 16 }} mb={1}>
      {(['used', 'borrowed', 'lent'] as const).map(k => (
        <Typography key={k} variant="caption" component="span">
          <span
            style={{
              display: 'inline-block',
              width: 10,
              height: 10,
              marginRight: 4,
              background: COLORS[k],
            }}
          />
          {k}
        </Typography>
      ))}
    </Box>
  );
}

const cell = { padding: '4px 8px', textAlign: 'right' as const };

/** One ClusterQueue: per flavor and resource the numbers and a bar; then what waits. */
export function QueueUsageCard(props: { usage: QueueUsage }) {
  const { usage } = props;
  const paths = useKubeaiPaths();
  return (
    <InfoCard
      title={`Queue ${usage.clusterQueue}`}
      subheader={`cluster ${usage.cluster}${
        usage.cohort ? ` · cohort ${usage.cohort}` : ' · no cohort'
      } · ${usage.admitted} admitted, ${usage.pending.length} waiting`}
    >
      <Legend />
      {usage.flavors.map(f => (
        <Box key={f.flavor} mb={2}>
          <Typography variant="subtitle1" component="h3">
            Flavor {f.flavor}
          </Typography>
          <table
            aria-label={`Usage of ${usage.clusterQueue} on ${f.flavor}`}
            style={{ width: '100%', borderCollapse: 'collapse' }}
          >
            <thead>
              <tr>
                <th style={{ ...cell, textAlign: 'left' }}>Resource</th>
                <th style={cell}>Nominal</th>
                <th style={cell}>Used</th>
                <th style={cell}>Borrowed</th>
                <th style={cell}>Lent</th>
                <th style={{ ...cell, width: '40%' }} aria-label="Bar" />
              </tr>
            </thead>
            <tbody>
              {f.resources.map(r => (
                <tr key={r.resource}>
                  <th scope="row" style={{ ...cell, textAlign: 'left' }}>
                    {r.resource}
                  </th>
                  <td style={cell}>
                    {formatResourceAmount(r.resource, r.nominal)}
                  </td>
                  <td style={cell}>
                    {formatResourceAmount(r.resource, r.used)}
                  </td>
                  <td style={cell}>
                    {formatResourceAmount(r.resource, r.borrowed)}
                  </td>
                  <td style={cell}>
                    {formatResourceAmount(r.resource, r.lent)}
                  </td>
                  <td style={cell}>
                    <UsageBar flavor={f.flavor} row={r} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Box>
      ))}
      <Typography variant="subtitle1" component="h3">
        Waiting
      </Typography>
      {usage.pending.length === 0 ? (
        <Typography variant="body2">Nothing waits for quota.</Typography>
      ) : (
        <table
          aria-label={`Waiting in ${usage.clusterQueue}`}
          style={{ width: '100%', borderCollapse: 'collapse' }}
        >
          <thead>
            <tr>
              <th style={{ ...cell, textAlign: 'left' }}>Workload</th>
              <th style={{ ...cell, textAlign: 'left' }}>Run</th>
              <th style={{ ...cell, textAlign: 'left' }}>Requests</th>
              <th style={{ ...cell, textAlign: 'left' }}>Since</th>
              <th style={{ ...cell, textAlign: 'left' }}>Why</th>
            </tr>
          </thead>
          <tbody>
            {usage.pending.map(p => (
              <tr key={`${p.namespace}/${p.name}`}>
                <td style={{ ...cell, textAlign: 'left' }}>
                  {p.namespace}/{p.name}
                  {p.state === 'evicted' ? ' (evicted)' : ''}
                </td>
                <td style={{ ...cell, textAlign: 'left' }}>
                  {p.runId ? <Link to={paths.run(p.runId)}>run</Link> : '—'}
                </td>
                <td style={{ ...cell, textAlign: 'left' }}>
                  {Object.entries(p.requests)
                    .map(([r, n]) => `${r} ${formatResourceAmount(r, n)}`)
                    .join(', ')}
                </td>
                <td style={{ ...cell, textAlign: 'left' }}>
                  {p.since ? formatDate(p.since) : '—'}
                </td>
                <td style={{ ...cell, textAlign: 'left' }}>
                  {p.message ?? '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </InfoCard>
  );
}

/** Group → Pools: the team's ClusterQueue(s) — quota, use, borrowing, lending and what waits. */
export function TeamPoolsContent() {
  const { entity } = useEntity();
  const api = useApi(kubeaiApiRef);
  const team = entity.metadata.name;
  const state = useAsync(() => api.getPoolUsage({ team }), [api, team]);
  return (
    <AsyncContent
      state={state}
      loadingLabel="Loading the team's pools"
      errorTitle="Could not load the team's pools"
    >
      {list =>
        list.items.length === 0 ? (
          <EmptyState
            title="No queue"
            description={`No Kueue ClusterQueue named ${team} is observed in any cluster: platform admins create one with POST /api/kubeai/pools or the Team pool and quota template.`}
          />
        ) : (
          <Grid container spacing={3}>
            {list.items.map(u => (
              <Grid item xs={12} key={`${u.cluster}/${u.clusterQueue}`}>
                <QueueUsageCard usage={u} />
              </Grid>
            ))}
          </Grid>
        )
      }
    </AsyncContent>
  );
}
