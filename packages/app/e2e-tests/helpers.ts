import { expect, type APIRequestContext, type Page } from '@playwright/test';

/** A guest token from the backend (guest sign-in is enabled in app-config.yaml). */
export async function guestToken(request: APIRequestContext): Promise<string> {
  const refresh = await request.get('/api/auth/guest/refresh');
  expect(refresh.status()).toBe(200);
  return (await refresh.json()).backstageIdentity.token;
}

/** Waits until the catalog has processed an entity (`kind:namespace/name`). */
export async function waitForEntity(request: APIRequestContext, ref: string) {
  const token = await guestToken(request);
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

/** Signs in as guest on the current page. */
export async function signInAsGuest(page: Page) {
  await page.goto('/');
  const enterButton = page.getByRole('button', { name: 'Enter' });
  await expect(enterButton).toBeVisible();
  await enterButton.click();
  const nav = page.getByRole('navigation', { name: 'sidebar nav' });
  await expect(nav.getByRole('link', { name: 'Catalog', exact: true })).toBeVisible();
}

/** Saves a full-page screenshot under test-results/screenshots/ and attaches it to the report. */
export async function saveScreenshot(
  page: Page,
  testInfo: { attach(name: string, options: { path: string; contentType: string }): Promise<void> },
  name: string,
) {
  const path = `test-results/screenshots/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}
