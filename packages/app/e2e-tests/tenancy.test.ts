import { test, expect, type Page } from '@playwright/test';
import { demoUsers, saveScreenshot, signInAs, waitForEntity } from './helpers';

// Many teams on one portal, as the production config runs it (permission.policy: ownership).
// zhang.min is in cv-team; search-ranking-serving is search-reco's service (deployed to
// search-serving, owned by search-reco in app-config), shoe-brand-classifier-serving cv-team's
// (cv-serving). Both have deployments from scripts/seed-registry.mjs.
const user = demoUsers.cvTeam;
const servingTab = (name: string) =>
  `/catalog/default/inferenceservice/${name}/serving`;

async function openServing(page: Page, name: string) {
  await page.goto(servingTab(name));
  await expect(page.getByText('Traffic split')).toBeVisible();
}

test.beforeEach(async ({ request }) => {
  await waitForEntity(
    request,
    'inferenceservice:default/search-ranking-serving',
  );
  await waitForEntity(
    request,
    'inferenceservice:default/shoe-brand-classifier-serving',
  );
});

test("a member of cv-team sees no promote / roll back on search-reco's service, and has them on cv-team's", async ({
  page,
}, testInfo) => {
  await signInAs(page, user);

  await openServing(page, 'search-ranking-serving');
  // once the permissions are decided, the reason replaces the controls
  await expect(page.getByRole('note')).toContainText(
    'Read only: you may not change this deployment (permission kubeai.deployment.update on inferenceservice:default/search-ranking-serving and kubeai.cluster.object.create in local/search-serving)',
  );
  for (const name of [/^Promote/, /^Roll back$/, /^Update version$/]) {
    await expect(page.getByRole('button', { name })).toHaveCount(0);
  }
  await saveScreenshot(page, testInfo, 'tenancy-other-team-service');

  await openServing(page, 'shoe-brand-classifier-serving');
  await expect(
    page.getByRole('button', { name: 'Update version' }),
  ).toBeEnabled();
  await expect(page.getByRole('button', { name: /^Promote/ })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Roll back' })).toBeVisible();
  await expect(page.getByRole('note')).toHaveCount(0);
  await saveScreenshot(page, testInfo, 'tenancy-own-service');
});

test("and the other way round: a member of search-reco changes search-reco's service, not cv-team's", async ({
  page,
}) => {
  await signInAs(page, demoUsers.searchReco);
  await openServing(page, 'search-ranking-serving');
  await expect(
    page.getByRole('button', { name: 'Update version' }),
  ).toBeEnabled();
  await expect(page.getByRole('note')).toHaveCount(0);
  await openServing(page, 'shoe-brand-classifier-serving');
  await expect(page.getByRole('note')).toContainText(
    'Read only: you may not change this deployment',
  );
  await expect(page.getByRole('button', { name: /^Promote/ })).toHaveCount(0);
});

test("the namespace picker of a template offers cv-team's namespaces first, the others read only", async ({
  page,
}, testInfo) => {
  await signInAs(page, user);
  await page.goto('/create/templates/default/kubeai-notebook');
  await page.getByLabel('Cluster').click();
  await page.getByRole('option', { name: 'local' }).click();
  await page.getByLabel('Namespace').click();

  const listbox = page.getByRole('listbox');
  await expect(
    listbox.getByText('You can create here', { exact: true }),
  ).toBeVisible();
  await expect(
    listbox.getByText('Read only for you', { exact: true }),
  ).toBeVisible();
  const options = listbox.getByRole('option');
  await expect(options.filter({ hasText: /^cv-team/ })).toBeEnabled();
  const rows = await options.evaluateAll(items =>
    items.map(item => ({
      text: item.textContent ?? '',
      writable: item.getAttribute('aria-disabled') !== 'true',
    })),
  );
  const writable = rows.filter(r => r.writable);
  const readOnly = rows.filter(r => !r.writable);
  // writable first, and they are cv-team's
  expect(rows.slice(0, writable.length)).toEqual(writable);
  expect(writable.map(r => r.text)).toContain('cv-teamowned by cv-team');
  for (const r of writable) expect(r.text).toMatch(/owned by cv-team$/);
  // the other team's namespace and the platform's are there, read only, with the reason
  expect(readOnly.map(r => r.text)).toEqual(
    expect.arrayContaining([
      'search-recoowned by search-reco: read only for you',
      'team-ano owning team: platform admins only',
    ]),
  );
  await saveScreenshot(page, testInfo, 'tenancy-namespace-picker');

  // a read-only namespace cannot be chosen; cv-team can
  await expect(options.filter({ hasText: /^search-reco/ })).toBeDisabled();
  await options.filter({ hasText: /^cv-team/ }).click();
  // the menu closes; the field shows the choice (its name only)
  await expect(listbox).toBeHidden();
  await expect(page.getByRole('button', { name: /^Namespace/ })).toHaveText(
    'cv-team',
  );
});
