import { test, expect } from '@playwright/test';
import { saveScreenshot, signInAsGuest, waitForEntity } from './helpers';

test('the backend reports readiness', async ({ request }) => {
  const response = await request.get('/.backstage/health/v1/readiness');
  expect(response.status()).toBe(200);
  expect(await response.json()).toEqual({ status: 'ok' });
});

test('a guest signs in and sees the catalog table', async ({ page, request }, testInfo) => {
  await waitForEntity(request, 'component:default/kubeai-backstage');
  await signInAsGuest(page);

  const nav = page.getByRole('navigation', { name: 'sidebar nav' });
  await expect(nav.getByRole('link', { name: 'Catalog', exact: true })).toBeVisible();

  // The catalog table (material-table renders its header and body as two tables).
  const table = page.getByRole('table').filter({ hasText: 'Owner' });
  await expect(table).toBeVisible();
  // The repo itself is in the catalog (catalog-info.yaml), so the table is never empty.
  await expect(
    page.getByRole('row').filter({ hasText: 'KubeAI for Backstage' }).first(),
  ).toBeVisible();

  await saveScreenshot(page, testInfo, 'catalog');
});
