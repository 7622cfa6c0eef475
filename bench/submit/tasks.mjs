/*
 * The periodic-forecast training task of the submit benchmark: the daily volume of the
 * business-forecasting users is one Prophet forecast per (store, metric) series, each a CronJob
 * running once a day in the team's Kueue queue.
 */
const METRICS = [
  'gmv',
  'orders',
  'aov',
  'refunds',
  'dau',
  'new-users',
  'uv',
  'conversion',
];

/** The `POST /api/kubeai/jobs` body of task `i`. */
export function forecastTask(i, namespace) {
  const store = Math.floor(i / METRICS.length);
  const metric = METRICS[i % METRICS.length];
  return {
    cluster: 'local',
    namespace,
    name: `forecast-${metric}-store-${String(store).padStart(5, '0')}`,
    kind: 'CronJob',
    schedule: `${i % 60} ${1 + (i % 5)} * * *`,
    image: 'ghcr.io/acme/prophet-forecast:1.2',
    command: ['python', '-m', 'forecast'],
    args: ['--store', String(store), '--metric', metric, '--horizon', '28'],
    resources: { cpu: '500m', memory: '1Gi' },
    queue: { name: 'biz-forecasting', priorityClass: 'batch-low' },
    successfulJobsHistoryLimit: 1,
    failedJobsHistoryLimit: 1,
    modelRef: 'model:default/forecast-gmv',
    params: { store, metric, horizon: 28 },
  };
}
