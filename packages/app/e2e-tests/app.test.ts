import { test, expect } from '@playwright/test';

test('the backend reports readiness', async ({ request }) => {
  const response = await request.get('/.backstage/health/v1/readiness');
  expect(response.status()).toBe(200);
  expect(await response.json()).toEqual({ status: 'ok' });
});

test('a guest signs in and sees the catalog table', async ({ page }, testInfo) => {
  await page.goto('/');

  const enterButton = page.getByRole('button', { name: 'Enter' });
  await expect(enterButton).toBeVisible();
  await enterButton.click();

  const nav = page.getByRole('navigation', { name: 'sidebar nav' });
  await expect(nav.getByRole('link', { name: 'Catalog', exact: true })).toBeVisible();

  const table = page.getByRole('table');
  await expect(table).toBeVisible();
  // The repo itself is in the catalog (catalog-info.yaml), so the table is never empty.
  await expect(table.getByRole('link', { name: 'kubeai-backstage' })).toBeVisible();

  // Kept as a test artifact: test-results/screenshots/catalog.png
  const screenshot = 'test-results/screenshots/catalog.png';
  await page.screenshot({ path: screenshot, fullPage: true });
  await testInfo.attach('catalog', { path: screenshot, contentType: 'image/png' });
});
