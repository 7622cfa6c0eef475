import { CSSProperties, ReactNode, useMemo, useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { useApi } from '@backstage/core-plugin-api';
import { Link, Table, TableColumn } from '@backstage/core-components';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { useEntity } from '@backstage/plugin-catalog-react';
import type { CostReport, ModelVersion } from '@kubeai/plugin-kubeai-common';
import Box from '@material-ui/core/Box';
import FormControl from '@material-ui/core/FormControl';
import Grid from '@material-ui/core/Grid';
import InputLabel from '@material-ui/core/InputLabel';
import MenuItem from '@material-ui/core/MenuItem';
import Paper from '@material-ui/core/Paper';
import Select from '@material-ui/core/Select';
import Typography from '@material-ui/core/Typography';
import { useSearchParams } from 'react-router-dom';
import { kubeaiApiRef } from '../../api/refs';
import { CurveChart } from '../charts/CurveChart';
import { AliasChips, StatusChip } from '../common/Chips';
import { entityNameOf, formatDate, formatMetric } from '../common/format';
import { useKubeaiPaths } from '../common/links';
import { AsyncContent, EmptyState } from '../common/States';
import { ModelVersionImpact } from './ModelVersionImpact';
import { ModelVersionProvenance } from './ModelVersionProvenance';

const MAX_METRIC_COLUMNS = 6;
const COLORS = ['#1e88e5', '#e53935'];

/** The versions of the current Model: metrics, aliases, state; compare two versions. */
export function ModelVersionsContent() {
  const { entity } = useEntity();
  const api = useApi(kubeaiApiRef);
  const model = entityNameOf(entity);
  const state = useAsync(
    () => api.listModelVersions(model, { limit: 1000 }),
    [api, model.namespace, model.name],
  );
  // training cost per version (its run's cost); without it the table has no cost column
  const costs = useAsync(
    () =>
      api.getCost({ model: stringifyEntityRef(entity), groupBy: 'version' }),
    [api, model.namespace, model.name],
  );
  return (
    <AsyncContent
      state={state}
      loadingLabel="Loading model versions"
      errorTitle="Could not load the model versions"
    >
      {list =>
        list.items.length === 0 ? (
          <EmptyState
            title="No versions registered"
            description={`Register a version of ${stringifyEntityRef(
              entity,
            )} with POST /api/kubeai/models/${model.namespace}/${
              model.name
            }/versions (training pipelines do this when a run finishes).`}
          />
        ) : (
          <ModelVersionsView
            versions={list.items}
            total={list.totalItems}
            costs={costs.value}
          />
        )
      }
    </AsyncContent>
  );
}

/** Versions table and comparison, for a loaded list (newest first). */
export function ModelVersionsView(props: {
  versions: ModelVersion[];
  total?: number;
  /** `GET /cost?groupBy=version` of the model: each version's training cost. */
  costs?: CostReport;
}) {
  const { versions } = props;
  const paths = useKubeaiPaths();
  const [params] = useSearchParams();
  const metricKeys = useMemo(() => {
    const counts = new Map<string, number>();
    for (const v of versions) {
      for (const k of Object.keys(v.metrics)) {
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
    }
    return [...counts.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([k]) => k);
  }, [versions]);

  const requested = Number(params.get('version'));
  const production = versions.find(v => v.aliases.includes('production'));
  const initialB =
    versions.find(v => v.version === requested)?.version ?? versions[0].version;
  const initialA =
    (production && production.version !== initialB
      ? production.version
      : versions.find(v => v.version !== initialB)?.version) ?? initialB;
  const [a, setA] = useState<number>(initialA);
  const [b, setB] = useState<number>(initialB);

  const columns: TableColumn<ModelVersion>[] = [
    {
      title: 'Version',
      field: 'version',
      type: 'numeric',
      align: 'left',
      defaultSort: 'desc',
      render: v => `v${v.version}`,
      customFilterAndSearch: (term, v) => `v${v.version}`.includes(term),
    },
    {
      title: 'State',
      field: 'state',
      render: v => <StatusChip status={v.state} />,
    },
    {
      title: 'Aliases',
      field: 'aliases',
      render: v => <AliasChips aliases={v.aliases} />,
      customFilterAndSearch: (term, v) =>
        v.aliases.some(x => x.includes(term.toLowerCase())),
      customSort: (x, y) => x.aliases.length - y.aliases.length,
    },
    ...metricKeys.slice(0, MAX_METRIC_COLUMNS).map(
      (key): TableColumn<ModelVersion> => ({
        title: key,
        type: 'numeric',
        customSort: (x, y) =>
          (x.metrics[key] ?? -Infinity) - (y.metrics[key] ?? -Infinity),
        render: v => formatMetric(v.metrics[key]),
      }),
    ),
    { title: 'Framework', field: 'framework', emptyValue: '—' },
    ...(props.costs ? [costColumn(props.costs)] : []),
    {
      title: 'Run',
      field: 'runId',
      render: v =>
        v.runId ? (
          <Link to={paths.run(v.runId)}>{v.runId.slice(0, 8)}</Link>
        ) : (
          '—'
        ),
    },
    {
      title: 'Created',
      field: 'createdAt',
      render: v => formatDate(v.createdAt),
    },
    {
      title: 'Lineage',
      sorting: false,
      render: v => (
        <Link
          to={paths.lineage({
            entityRef: v.modelRef,
            version: String(v.version),
          })}
          aria-label={`Lineage of v${v.version}`}
        >
          Lineage
        </Link>
      ),
    },
  ];

  return (
    <Grid container spacing={3}>
      <Grid item xs={12}>
        <Table<ModelVersion>
          title="Versions"
          subtitle={
            props.total !== undefined && props.total > versions.length
              ? `Newest ${versions.length} of ${props.total}`
              : undefined
          }
          options={{
            paging: versions.length > 10,
            pageSize: 10,
            padding: 'dense',
          }}
          columns={columns}
          data={versions}
        />
      </Grid>
      <Grid item xs={12}>
        <ModelVersionProvenance versions={versions} initialVersion={initialB} />
      </Grid>
      <Grid item xs={12}>
        <ModelVersionImpact
          modelRef={versions[0].modelRef}
          versions={versions}
          initialVersion={initialB}
        />
      </Grid>
      <Grid item xs={12}>
        <Paper variant="outlined">
          <Box p={2}>
            <Typography variant="h6" component="h2" gutterBottom>
              Compare two versions
            </Typography>
            {versions.length < 2 ? (
              <Typography variant="body2" color="textSecondary">
                There is only one version; register another to compare.
              </Typography>
            ) : (
              <VersionComparison
                versions={versions}
                a={a}
                b={b}
                onChangeA={setA}
                onChangeB={setB}
              />
            )}
          </Box>
        </Paper>
      </Grid>
    </Grid>
  );
}

function VersionSelect(props: {
  id: string;
  label: string;
  value: number;
  versions: ModelVersion[];
  onChange(v: number): void;
}) {
  return (
    <FormControl size="small" style={{ minWidth: 200 }}>
      <InputLabel id={props.id}>{props.label}</InputLabel>
      <Select
        labelId={props.id}
        name={props.id}
        value={props.value}
        onChange={e => props.onChange(Number(e.target.value))}
      >
        {props.versions.map(v => (
          <MenuItem key={v.version} value={v.version}>
            v{v.version}
            {v.aliases.length ? ` (${v.aliases.join(', ')})` : ''}
          </MenuItem>
        ))}
      </Select>
    </FormControl>
  );
}

/** Metric differences and the ROC and PR curves of two versions. */
export function VersionComparison(props: {
  versions: ModelVersion[];
  a: number;
  b: number;
  onChangeA(v: number): void;
  onChangeB(v: number): void;
}) {
  const { versions } = props;
  const va = versions.find(v => v.version === props.a) ?? versions[0];
  const vb = versions.find(v => v.version === props.b) ?? versions[0];
  const keys = [
    ...new Set([...Object.keys(va.metrics), ...Object.keys(vb.metrics)]),
  ].sort();
  const nameA = `v${va.version}`;
  const nameB = `v${vb.version}`;
  return (
    <Grid container spacing={2}>
      <Grid item xs={12}>
        <Box display="flex" style={{ gap: 16 }}>
          <VersionSelect
            id="kubeai-compare-a"
            label="Version A"
            value={va.version}
            versions={versions}
            onChange={props.onChangeA}
          />
          <VersionSelect
            id="kubeai-compare-b"
            label="Version B"
            value={vb.version}
            versions={versions}
            onChange={props.onChangeB}
          />
        </Box>
      </Grid>
      <Grid item xs={12} md={4}>
        <table
          aria-label={`Metrics of ${nameA} and ${nameB}`}
          style={{ borderCollapse: 'collapse', width: '100%' }}
        >
          <thead>
            <tr>
              <Th>Metric</Th>
              <Th>{nameA}</Th>
              <Th>{nameB}</Th>
              <Th>
                {nameB} − {nameA}
              </Th>
            </tr>
          </thead>
          <tbody>
            {keys.length === 0 && (
              <tr>
                <td colSpan={4}>No metrics recorded.</td>
              </tr>
            )}
            {keys.map(k => {
              const x = va.metrics[k];
              const y = vb.metrics[k];
              const diff =
                x !== undefined && y !== undefined ? y - x : undefined;
              return (
                <tr key={k}>
                  <Td>{k}</Td>
                  <Td>{formatMetric(x)}</Td>
                  <Td>{formatMetric(y)}</Td>
                  <Td style={{ color: diffColor(diff) }}>
                    {diff === undefined
                      ? '—'
                      : `${diff > 0 ? '+' : ''}${formatMetric(diff)}`}
                  </Td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </Grid>
      <Grid item xs={12} md={4}>
        <CurveChart
          title="ROC curve"
          xLabel="False positive rate"
          yLabel="True positive rate"
          diagonal
          showArea
          series={[va, vb].map((v, i) => ({
            name: `v${v.version}`,
            color: COLORS[i],
            points: (v.curves?.roc ?? []).map(p => ({ x: p.fpr, y: p.tpr })),
          }))}
        />
      </Grid>
      <Grid item xs={12} md={4}>
        <CurveChart
          title="Precision-recall curve"
          xLabel="Recall"
          yLabel="Precision"
          showArea
          series={[va, vb].map((v, i) => ({
            name: `v${v.version}`,
            color: COLORS[i],
            points: (v.curves?.pr ?? []).map(p => ({
              x: p.recall,
              y: p.precision,
            })),
          }))}
        />
      </Grid>
    </Grid>
  );
}

function Th(props: { children: ReactNode }) {
  return (
    <th
      scope="col"
      style={{
        textAlign: 'left',
        padding: '4px 8px',
        borderBottom: '1px solid rgba(128,128,128,.4)',
      }}
    >
      {props.children}
    </th>
  );
}

function Td(props: { children: ReactNode; style?: CSSProperties }) {
  return (
    <td style={{ padding: '4px 8px', ...props.style }}>{props.children}</td>
  );
}

function diffColor(diff: number | undefined) {
  if (diff === undefined || diff === 0) return undefined;
  return diff > 0 ? '#2e7d32' : '#c62828';
}

/** The training cost of each version: the cost of the run that produced it (running: so far). */
function costColumn(report: CostReport): TableColumn<ModelVersion> {
  const byVersion = new Map(report.items.map(i => [i.key, i]));
  const of = (v: ModelVersion) => byVersion.get(String(v.version));
  return {
    title: `Training cost (${report.currency})`,
    type: 'numeric',
    customSort: (x, y) => (of(x)?.cost ?? -1) - (of(y)?.cost ?? -1),
    render: v => {
      const item = of(v);
      if (!item) return '—';
      const amount = item.cost.toLocaleString('en-US', {
        minimumFractionDigits: 2,
        maximumFractionDigits: 2,
      });
      return item.live > 0 ? `${amount} (running)` : amount;
    },
  };
}
