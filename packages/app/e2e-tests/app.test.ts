import { test, expect, type APIRequestContext } from '@playwright/test';

test('the backend reports readiness', async ({ request }) => {
  const response = await request.get('/.backstage/health/v1/readiness');
  expect(response.status()).toBe(200);
  expect(await response.json()).toEqual({ status: 'ok' });
});

/** Waits until the catalog has processed an entity, asking the API as a guest. */
async function waitForEntity(request: APIRequestContext, ref: string) {
  const refresh = await request.get('/api/auth/guest/refresh');
  const token = (await refresh.json()).backstageIdentity.token;
  const [kind, rest] = ref.split(':');
  const [namespace, name] = rest.split('/');
  await expect
    .poll(
      async () =>
        (
          await request.get(`/api/catalog/entities/by-name/${kind}/${namespace}/${name}`, {
            headers: { Authorization: `Bearer ${token}` },
          })
        ).status(),
      { timeout: 60_000, message: `${ref} never appeared in the catalog` },
    )
    .toBe(200);
}

test('a guest signs in and sees the catalog table', async ({ page, request }, testInfo) => {
  await waitForEntity(request, 'component:default/kubeai-backstage');
  await page.goto('/');

  const enterButton = page.getByRole('button', { name: 'Enter' });
  await expect(enterButton).toBeVisible();
  await enterButton.click();

  const nav = page.getByRole('navigation', { name: 'sidebar nav' });
  await expect(nav.getByRole('link', { name: 'Catalog', exact: true })).toBeVisible();

  // The catalog table (material-table renders its header and body as two tables).
  const table = page.getByRole('table').filter({ hasText: 'Owner' });
  await expect(table).toBeVisible();
  // The repo itself is in the catalog (catalog-info.yaml), so the table is never empty.
  await expect(
    page.getByRole('row').filter({ hasText: 'KubeAI for Backstage' }).first(),
  ).toBeVisible();

  // Kept as a test artifact: test-results/screenshots/catalog.png
  const screenshot = 'test-results/screenshots/catalog.png';
  await page.screenshot({ path: screenshot, fullPage: true });
  await testInfo.attach('catalog', { path: screenshot, contentType: 'image/png' });
});
