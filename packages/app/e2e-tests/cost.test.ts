import { test, expect } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { demoUsers, saveScreenshot, signInAs, userToken } from './helpers';

// A team's cost on its Group page (Cost tab) against GET /cost: the plot's bars and labels, the
// totals per month and per model, and the budget meter carry the API's numbers. The test records
// one finished run in cv-team's namespace cv-training (POST /runs: 2 cpu, 4Gi for an hour, no
// flavor → app-config's default prices: 2 × 0.04 + 4 × 0.005 = 0.10 EUR), so the month has a cost.
// Registry runs have no DELETE: the run stays, like the runs of the other e2e tests.
const TEAM = 'group:default/cv-team';

/** As the Cost tab writes an amount (TeamCostContent's formatMoney). */
const money = (amount: number, currency: string) =>
  `${amount.toLocaleString('en-US', {
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
  })} ${currency}`;

test("the team page's cost plot and totals show the numbers of GET /cost", async ({
  page,
  request,
}, testInfo) => {
  const token = await userToken(request, demoUsers.cvTeam);
  const headers = { Authorization: `Bearer ${token}` };
  const now = Date.now();
  const created = await request.post('/api/kubeai/runs', {
    headers,
    data: {
      kind: 'training',
      cluster: 'local',
      namespace: 'cv-training',
      name: `e2e-cost-${randomBytes(3).toString('hex')}`,
      phase: 'Succeeded',
      startedAt: new Date(now - 2 * 3600_000).toISOString(),
      finishedAt: new Date(now - 3600_000).toISOString(),
      params: { cpu: '2', memory: '4Gi' },
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  const run = await (
    await request.get(`/api/kubeai/runs/${(await created.json()).id}`, {
      headers,
    })
  ).json();
  expect(run.cost).toMatchObject({ currency: 'EUR', podHours: 1, final: true });
  expect(run.cost.amount).toBeCloseTo(0.1, 9);

  const report = async (groupBy: string) => {
    const res = await request.get('/api/kubeai/cost', {
      headers,
      params: { team: TEAM, groupBy },
    });
    expect(res.status(), await res.text()).toBe(200);
    return res.json();
  };
  const months = await report('month');
  const models = await report('model');
  const month = new Date(now - 3600_000).toISOString().slice(0, 7);
  expect(months.items.map((i: any) => i.key)).toContain(month);

  await signInAs(page, demoUsers.cvTeam);
  await page.goto('/catalog/default/group/cv-team/cost');
  const chart = page.getByRole('img', { name: /^Cost per month:/ });
  await expect(chart).toHaveAccessibleName(
    `Cost per month: ${months.items
      .map((i: any) => `${i.key} ${money(i.cost, months.currency)}`)
      .join(', ')}`,
  );
  await expect(chart.locator('rect')).toHaveCount(months.items.length);
  const perMonth = page.getByRole('table', { name: 'Cost per month' });
  for (const item of months.items) {
    await expect(
      perMonth.getByRole('row', { name: new RegExp(`^${item.key}`) }),
    ).toContainText(money(item.cost, months.currency));
  }
  const perModel = page.getByRole('table', { name: 'Cost per model' });
  await expect(perModel.getByRole('row')).toHaveCount(models.items.length + 1);
  for (const item of models.items) {
    await expect(perModel).toContainText(money(item.cost, models.currency));
  }
  if (months.budget) {
    await expect(page.getByRole('meter')).toHaveAccessibleName(
      `Budget ${months.budget.month}: ${money(
        months.budget.spent,
        months.currency,
      )} of ${money(months.budget.monthly, months.currency)} (${Math.floor(
        months.budget.share * 100,
      )} %)`,
    );
  }
  await saveScreenshot(page, testInfo, 'team-cost');
});
