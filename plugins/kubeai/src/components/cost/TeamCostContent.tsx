import useAsync from 'react-use/esm/useAsync';
import { useApi } from '@backstage/core-plugin-api';
import { InfoCard } from '@backstage/core-components';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { useEntity } from '@backstage/plugin-catalog-react';
import type { BudgetStatus, CostReport } from '@kubeai/plugin-kubeai-common';
import Box from '@material-ui/core/Box';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import { kubeaiApiRef } from '../../api/refs';
import { AsyncContent, EmptyState } from '../common/States';

/** An amount as the API's messages write it: `1,034.20 EUR`. */
export function formatMoney(amount: number, currency: string): string {
  return `${amount.toLocaleString('en-US', {
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
  })} ${currency}`;
}

const BAR = '#1976d2';
const STATE_COLORS = { ok: '#43a047', warning: '#f57c00', over: '#e53935' };

/** Cost per month as SVG bars, with each month's amount as a label (and in the accessible name). */
export function MonthlyCostChart(props: {
  items: CostReport['items'];
  currency: string;
  width?: number;
  height?: number;
}) {
  const { items, currency, width = 640, height = 220 } = props;
  const margin = { top: 16, right: 8, bottom: 36, left: 8 };
  const max = Math.max(...items.map(i => i.cost), 1e-9);
  const slot = (width - margin.left - margin.right) / Math.max(items.length, 1);
  const plotH = height - margin.top - margin.bottom;
  const label = `Cost per month: ${items
    .map(i => `${i.key} ${formatMoney(i.cost, currency)}`)
    .join(', ')}`;
  return (
    <svg
      role="img"
      aria-label={label}
      width="100%"
      viewBox={`0 0 ${width} ${height}`}
    >
      <title>{label}</title>
      {items.map((item, i) => {
        const h = (item.cost / max) * plotH;
        const x = margin.left + i * slot + slot * 0.15;
        const y = margin.top + plotH - h;
        return (
          <g
            key={item.key}
            data-month={item.key}
            data-cost={item.cost.toFixed(2)}
          >
            <rect
              x={x}
              y={y}
              width={slot * 0.7}
              height={Math.max(h, 0.5)}
              fill={BAR}
            />
            <text
              x={x + slot * 0.35}
              y={height - 20}
              fontSize={10}
              textAnchor="middle"
            >
              {item.key}
            </text>
            <text
              x={x + slot * 0.35}
              y={Math.max(y - 3, 10)}
              fontSize={9}
              textAnchor="middle"
            >
              {Math.round(item.cost).toLocaleString('en-US')}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

/** The month's spending against the budget, as a bar; a warning from the API's `warning` state. */
export function BudgetBar(props: { budget: BudgetStatus; currency: string }) {
  const { budget, currency } = props;
  const share = Math.min(budget.share, 1);
  const label = `Budget ${budget.month}: ${formatMoney(
    budget.spent,
    currency,
  )} of ${formatMoney(budget.monthly, currency)} (${Math.floor(
    budget.share * 100,
  )} %)`;
  return (
    <Box>
      {budget.state !== 'ok' && (
        <Box mb={1}>
          <Typography
            role="alert"
            variant="body2"
            style={{ color: STATE_COLORS[budget.state], fontWeight: 500 }}
          >
            {budget.state === 'over' ? 'Over budget: ' : 'Warning: '}
            {budget.message}
            {budget.state === 'over' &&
              ' — new tasks are refused until next month (a platform admin may override).'}
          </Typography>
        </Box>
      )}
      <Typography variant="body2" gutterBottom>
        {label}
      </Typography>
      <Box
        role="meter"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={budget.monthly}
        aria-valuenow={budget.spent}
        height={14}
        width="100%"
        style={{ background: '#e0e0e0', borderRadius: 3, overflow: 'hidden' }}
      >
        <div
          style={{
            width: `${share * 100}%`,
            height: '100%',
            background: STATE_COLORS[budget.state],
          }}
        />
      </Box>
    </Box>
  );
}

/** Group (team) → Cost: cost per month (last 12), totals per model, the month against the budget. */
export function TeamCostContent() {
  const { entity } = useEntity();
  const api = useApi(kubeaiApiRef);
  const team = stringifyEntityRef(entity);
  const state = useAsync(async () => {
    const [months, models] = await Promise.all([
      api.getCost({ team, groupBy: 'month' }),
      api.getCost({ team, groupBy: 'model' }),
    ]);
    return { months, models };
  }, [api, team]);
  return (
    <AsyncContent
      state={state}
      loadingLabel="Loading the team's cost"
      errorTitle="Could not load the cost"
    >
      {({ months, models }) =>
        months.items.length === 0 && !months.budget ? (
          <EmptyState
            title="No cost yet"
            description={`No run of ${team}'s namespaces from ${months.from} to ${months.to}.`}
          />
        ) : (
          <Grid container spacing={3}>
            {months.budget && (
              <Grid item xs={12}>
                <InfoCard title="Budget">
                  <BudgetBar
                    budget={months.budget}
                    currency={months.currency}
                  />
                </InfoCard>
              </Grid>
            )}
            <Grid item xs={12}>
              <InfoCard
                title="Cost per month"
                subheader={`${months.from} to ${months.to}: ${formatMoney(
                  months.total,
                  months.currency,
                )}`}
              >
                <MonthlyCostChart
                  items={months.items}
                  currency={months.currency}
                />
                <CostTable
                  caption="Cost per month"
                  keyTitle="Month"
                  report={months}
                />
              </InfoCard>
            </Grid>
            <Grid item xs={12}>
              <InfoCard title="Cost per model">
                <CostTable
                  caption="Cost per model"
                  keyTitle="Model"
                  report={models}
                />
              </InfoCard>
            </Grid>
          </Grid>
        )
      }
    </AsyncContent>
  );
}

function CostTable(props: {
  caption: string;
  keyTitle: string;
  report: CostReport;
}) {
  const { report } = props;
  return (
    <table
      aria-label={props.caption}
      style={{ width: '100%', borderCollapse: 'collapse' }}
    >
      <thead>
        <tr>
          <th style={{ textAlign: 'left' }}>{props.keyTitle}</th>
          <th style={{ textAlign: 'right' }}>Runs</th>
          <th style={{ textAlign: 'right' }}>Cost</th>
          <th style={{ textAlign: 'right' }}>of which running</th>
        </tr>
      </thead>
      <tbody>
        {report.items.map(item => (
          <tr key={item.key}>
            <td>{item.key || '(none)'}</td>
            <td style={{ textAlign: 'right' }}>
              {item.runs.toLocaleString('en-US')}
            </td>
            <td style={{ textAlign: 'right' }}>
              {formatMoney(item.cost, report.currency)}
            </td>
            <td style={{ textAlign: 'right' }}>
              {formatMoney(item.live, report.currency)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
