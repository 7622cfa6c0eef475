/**
 * The read action about a team (MCP tool `kubeai.get-team-usage`): what the team's runs cost, per
 * month and per model, against its monthly budget, and how it uses its pools — quota, use,
 * borrowing and lending of its Kueue ClusterQueue per flavor, and what waits for quota. Three GET
 * calls of the KubeAI API with the caller's token (`/cost` twice, `/pools/usage`), as the team's
 * Cost and Pools tabs show them.
 */
import type { CostReport, PoolUsageList } from '@kubeai/plugin-kubeai-common';
import {
  parseRef,
  type JsonValue,
  type KubeaiActionDefinition,
} from './actionParts';

/** Most models and pending workloads listed in an answer (the costliest / oldest first). */
export const TEAM_USAGE_CAPS = { models: 20, pending: 20 } as const;

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

const round = (n: number) => Math.round(n * 100) / 100;

/** Amounts as an agent reads them: CPU cores and GPUs as they are, memory in GiB. */
function readable(resource: string, amount: number) {
  return resource === 'memory' ? round(amount / 2 ** 30) : round(amount);
}
const UNITS: Record<string, string> = { cpu: 'cores', memory: 'GiB' };
const unit = (resource: string) => UNITS[resource] ?? '';

export const teamUsageRead: KubeaiActionDefinition = {
  id: 'kubeai:team:usage',
  name: 'get-team-usage',
  title: "A team's cost, budget and pool usage",
  readOnly: true,
  description: `What a team (a catalog Group) spends and uses. Cost: the total of its runs (training tasks, notebooks, pipelines, periodic executions in its namespaces) per month and per model over the months \`from\`…\`to\` (default the last 12), priced by the portal's price table per CPU-, GiB- and GPU-hour of each run's flavor (\`GET /api/kubeai/cost\`), and its budget for the current month (state ok / warning / over — over budget, its new tasks are refused). Pools: per cluster, its Kueue ClusterQueue per flavor (e.g. regular, elastic, gpu): nominal quota, used, borrowed from the cohort, lent to it, and the workloads waiting for quota (\`GET /api/kubeai/pools/usage\`). Memory in GiB, CPU in cores. Use it for "what did cv-team spend this month", "is search-reco over budget", "why are forecasting's runs pending". At most ${TEAM_USAGE_CAPS.models} models (costliest first) and ${TEAM_USAGE_CAPS.pending} waiting workloads per queue (oldest first) are listed, with totals.`,
  examples: [
    {
      title: 'What did the forecasting team spend, and is it over budget?',
      input: { team: 'group:default/biz-forecasting' },
    },
  ],
  input: z =>
    z.object({
      team: z
        .string()
        .min(1)
        .max(255)
        .describe(
          'The team: a Group entity ref such as "group:default/cv-team" (or "cv-team").',
        ),
      from: z
        .string()
        .regex(MONTH)
        .optional()
        .describe('First month, YYYY-MM (default: 11 months before `to`).'),
      to: z
        .string()
        .regex(MONTH)
        .optional()
        .describe('Last month, YYYY-MM (default: the current month).'),
    }),
  output: z =>
    z.object({
      team: z.string(),
      currency: z.string(),
      from: z.string(),
      to: z.string(),
      total: z.number().describe('Cost of the months from…to.'),
      months: z.array(
        z.object({
          month: z.string(),
          cost: z.number(),
          runs: z.number(),
        }),
      ),
      models: z
        .array(
          z.object({ model: z.string(), cost: z.number(), runs: z.number() }),
        )
        .describe('Costliest first; runs without a model under "".'),
      totalModels: z.number(),
      budget: z
        .object({
          month: z.string(),
          monthly: z.number(),
          spent: z.number(),
          state: z.enum(['ok', 'warning', 'over']),
          message: z.string(),
        })
        .optional()
        .describe('Absent when the team has no budget.'),
      pools: z.array(
        z.object({
          cluster: z.string(),
          clusterQueue: z.string(),
          cohort: z.string().optional(),
          admitted: z.number(),
          flavors: z.array(
            z.object({
              flavor: z.string(),
              resources: z.array(
                z.object({
                  resource: z.string(),
                  unit: z.string(),
                  nominal: z.number(),
                  used: z.number(),
                  borrowed: z.number(),
                  lent: z.number(),
                }),
              ),
            }),
          ),
          pending: z.array(
            z.object({
              namespace: z.string(),
              name: z.string(),
              runId: z.string().optional(),
              since: z.string().optional(),
            }),
          ),
          totalPending: z.number(),
        }),
      ),
      summary: z.string(),
    }),
  async run(client, input, options) {
    const group = parseRef(String(input.team), 'group');
    const team = `group:${group.namespace}/${group.name}`.toLocaleLowerCase(
      'en-US',
    );
    const query = {
      team,
      ...(input.from ? { from: String(input.from) } : {}),
      ...(input.to ? { to: String(input.to) } : {}),
    };
    const request = { token: options.token };
    const [byMonth, byModel, usage]: [CostReport, CostReport, PoolUsageList] =
      await Promise.all([
        client.getCost({ ...query, groupBy: 'month' }, request),
        client.getCost({ ...query, groupBy: 'model' }, request),
        // a team's ClusterQueue is named after it (POST /pools, the team-pool template)
        client.getPoolUsage({ team: group.name }, request),
      ]);
    const models = [...byModel.items].sort((a, b) => b.cost - a.cost);
    const pools = usage.items.map(queue => ({
      cluster: queue.cluster,
      clusterQueue: queue.clusterQueue,
      ...(queue.cohort ? { cohort: queue.cohort } : {}),
      admitted: queue.admitted,
      flavors: queue.flavors.map(f => ({
        flavor: f.flavor,
        resources: f.resources.map(r => ({
          resource: r.resource,
          unit: unit(r.resource),
          nominal: readable(r.resource, r.nominal),
          used: readable(r.resource, r.used),
          borrowed: readable(r.resource, r.borrowed),
          lent: readable(r.resource, r.lent),
        })),
      })),
      pending: queue.pending.slice(0, TEAM_USAGE_CAPS.pending).map(p => ({
        namespace: p.namespace,
        name: p.name,
        ...(p.runId ? { runId: p.runId } : {}),
        ...(p.since ? { since: p.since } : {}),
      })),
      totalPending: queue.pending.length,
    }));
    const budget = byMonth.budget;
    const money = (n: number) => `${round(n)} ${byMonth.currency}`;
    const waiting = pools.reduce((n, p) => n + p.totalPending, 0);
    const summary = [
      `${team} spent ${money(byMonth.total)} in ${byMonth.from}…${
        byMonth.to
      } (${byMonth.items.reduce((n, i) => n + i.runs, 0)} runs)`,
      models[0]
        ? `most on ${models[0].key || 'runs without a model'} (${money(
            models[0].cost,
          )})`
        : undefined,
      budget ? budget.message : 'no budget set',
      pools.length
        ? `${pools.length} queue(s), ${waiting} workload(s) waiting for quota`
        : 'no pool (Kueue ClusterQueue) observed',
    ]
      .filter(Boolean)
      .join('; ');
    return {
      team,
      currency: byMonth.currency,
      from: byMonth.from,
      to: byMonth.to,
      total: round(byMonth.total),
      months: byMonth.items.map(i => ({
        month: i.key,
        cost: round(i.cost),
        runs: i.runs,
      })),
      models: models.slice(0, TEAM_USAGE_CAPS.models).map(i => ({
        model: i.key,
        cost: round(i.cost),
        runs: i.runs,
      })),
      totalModels: models.length,
      ...(budget
        ? {
            budget: {
              month: budget.month,
              monthly: budget.monthly,
              spent: round(budget.spent),
              state: budget.state,
              message: budget.message,
            },
          }
        : {}),
      pools,
      summary: `${summary}.`,
    } as unknown as Record<string, JsonValue>;
  },
};
