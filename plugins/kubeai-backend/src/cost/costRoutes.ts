/**
 * `GET /cost` (totals per month, model, model version, team or flavor; everyone reads them, like
 * runs) and the budget gate of new tasks: `POST /jobs`, `/jobs/batch`, `/pipelines` and
 * `/notebooks` of a team whose month (folded + running) is over its budget are refused with a 403
 * naming the budget before anything is resolved, applied or recorded. A platform admin (who holds
 * `kubeai.pool.update`, like changing pools) may send `overrideBudget: true`; anyone else asking
 * for it gets a 403. From `kubeai.cost.warnAt` of the budget the answer carries a `Warning` header.
 */
import type { ApiRouter } from '@backstage/backend-openapi-utils';
import { InputError, NotAllowedError } from '@backstage/errors';
import { kubeaiPoolUpdatePermission } from '@kubeai/plugin-kubeai-common';
import type { KubeaiOpenApiSpec } from '@kubeai/plugin-kubeai-node';
import type { Request, Response, NextFunction } from 'express';
import { normalizeRef } from '../refs';
import type { Access } from '../service/access/Access';
import type { CostGroupBy, CostStore } from './CostStore';

const MONTH = /^[0-9]{4}-(0[1-9]|1[0-2])$/;
const GROUPS: CostGroupBy[] = ['month', 'model', 'version', 'team', 'flavor'];

/** `n` months before `month` (YYYY-MM). */
export function monthsBefore(month: string, n: number): string {
  const [y, m] = month.split('-').map(Number);
  const d = new Date(Date.UTC(y, m - 1 - n, 1));
  return d.toISOString().slice(0, 7);
}

export function registerCostRoutes(
  api: ApiRouter<KubeaiOpenApiSpec>,
  options: { cost: CostStore; access: Access; now?: () => Date },
): void {
  const { cost, access } = options;
  const now = options.now ?? (() => new Date());

  api.get('/cost', async (req, res) => {
    await access.credentials(req);
    const q = req.query as Record<string, string | undefined>;
    for (const key of ['from', 'to'] as const) {
      if (q[key] !== undefined && !MONTH.test(q[key]!)) {
        throw new InputError(
          `request/query/${key}: a month as YYYY-MM, not '${q[key]}'`,
        );
      }
    }
    const groupBy = (q.groupBy ?? 'month') as CostGroupBy;
    if (!GROUPS.includes(groupBy)) {
      throw new InputError(
        `request/query/groupBy: one of ${GROUPS.join(', ')}, not '${
          q.groupBy
        }'`,
      );
    }
    if (groupBy === 'version' && !q.model) {
      throw new InputError(
        'request/query/groupBy: version needs request/query/model',
      );
    }
    const at = now();
    const to = q.to ?? at.toISOString().slice(0, 7);
    const from = q.from ?? monthsBefore(to, 11);
    if (from > to) {
      throw new InputError(
        `request/query/from: ${from} is after request/query/to ${to}`,
      );
    }
    const team = q.team ? normalizeRef(q.team) : undefined;
    const model = q.model ? normalizeRef(q.model) : undefined;
    const report = await cost.report({ team, model, from, to, groupBy }, at);
    const budget = team ? await cost.budgetStatus(team, at) : undefined;
    res.json({
      currency: report.currency,
      from,
      to,
      groupBy,
      ...(team ? { team } : {}),
      ...(model ? { model } : {}),
      total: report.total,
      items: report.items,
      ...(budget ? { budget } : {}),
    });
  });

  /** The budget gate of one route (validated body; before the route's own handler). */
  const gate = async (req: Request, res: Response, next: NextFunction) => {
    const body = req.body as Record<string, any>;
    const items: Array<Record<string, any>> = Array.isArray(body.items)
      ? body.items
      : [body];
    // the route's own handler never sees the field (its builders know nothing of budgets)
    const override = [body, ...items].some(b => b.overrideBudget === true);
    for (const b of [body, ...items]) delete b.overrideBudget;
    // no budgets: nothing to decide (unless someone asks to override one)
    if (cost.config.budgets.size === 0 && !override) {
      next();
      return;
    }
    const credentials = await access.credentials(req);
    if (override) {
      try {
        await access.authorize(credentials, [
          { permission: kubeaiPoolUpdatePermission },
        ]);
      } catch (error) {
        if ((error as Error)?.name !== 'NotAllowedError') throw error;
        throw new NotAllowedError(
          'request/body/overrideBudget: only platform admins (kubeai.pool.update) may override a team budget',
        );
      }
    }
    const places = [
      ...new Set(
        items
          .filter(
            i =>
              typeof i.cluster === 'string' && typeof i.namespace === 'string',
          )
          .map(i => `${i.cluster}/${i.namespace}`),
      ),
    ];
    const teams = [
      ...new Set(
        [
          ...(
            await cost.teams(
              places.map(p => {
                const [cluster, ...rest] = p.split('/');
                return { cluster, namespace: rest.join('/') };
              }),
            )
          ).values(),
        ].filter(Boolean),
      ),
    ];
    const warnings: string[] = [];
    for (const team of teams) {
      const status = await cost.budgetStatus(team, now());
      if (!status || status.state === 'ok') continue;
      // a dry run writes nothing: it is told, not refused
      if (status.state === 'over' && !override && body.dryRun !== true) {
        throw new NotAllowedError(status.message);
      }
      warnings.push(
        status.state === 'over'
          ? `${status.message}; allowed: overridden by a platform admin`
          : status.message,
      );
    }
    if (warnings.length) {
      res.setHeader(
        'Warning',
        warnings.map(w => `199 kubeai ${JSON.stringify(w)}`).join(', '),
      );
    }
    next();
  };
  for (const path of [
    '/jobs',
    '/jobs/batch',
    '/pipelines',
    '/notebooks',
  ] as const) {
    (api as any).post(path, gate);
  }
}
