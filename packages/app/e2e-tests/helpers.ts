import { expect, type APIRequestContext, type Page } from '@playwright/test';

/** A guest token from the backend (guest sign-in is enabled in app-config.yaml). */
export async function guestToken(request: APIRequestContext): Promise<string> {
  const refresh = await request.get('/api/auth/guest/refresh');
  expect(refresh.status()).toBe(200);
  return (await refresh.json()).backstageIdentity.token;
}

/**
 * People of the example catalog (examples/org.yaml) the e2e run signs in as: `auth.providers.demo`
 * of app-config.yaml, turned on for the run by KUBEAI_DEMO_SIGN_IN=true (scripts/e2e.sh). Their
 * tokens carry their groups, which the production config's `ownership` policy decides by.
 */
export const demoUsers = {
  /** cv-team: owns namespace cv-team (its label) and cv-serving / cv-training (app-config). */
  cvTeam: { ref: 'user:default/zhang.min', title: 'Zhang Min' },
  /** search-reco: owns namespace search-reco and search-serving / search-training. */
  searchReco: { ref: 'user:default/wang.fang', title: 'Wang Fang' },
} as const;
export type DemoUser = (typeof demoUsers)[keyof typeof demoUsers];

/** A demo user's token, from the backend's demo sign-in provider. */
export async function userToken(
  request: APIRequestContext,
  user: DemoUser,
): Promise<string> {
  const res = await request.get('/api/auth/demo/refresh', {
    params: { user: user.ref },
  });
  expect(res.status(), await res.text()).toBe(200);
  return (await res.json()).backstageIdentity.token;
}

/** Signs in as a demo user from the sign-in page (their card, then Sign In). */
export async function signInAs(page: Page, user: DemoUser) {
  await page.goto('/');
  const card = page.getByRole('listitem').filter({ hasText: user.ref });
  await card.getByRole('button', { name: 'Sign In' }).click();
  const nav = page.getByRole('navigation', { name: 'sidebar nav' });
  await expect(
    nav.getByRole('link', { name: 'Catalog', exact: true }),
  ).toBeVisible();
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
          await request.get(
            `/api/catalog/entities/by-name/${kind}/${namespace}/${name}`,
            {
              headers: { Authorization: `Bearer ${token}` },
            },
          )
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
  await expect(
    nav.getByRole('link', { name: 'Catalog', exact: true }),
  ).toBeVisible();
}

/** Saves a full-page screenshot under test-results/screenshots/ and attaches it to the report. */
export async function saveScreenshot(
  page: Page,
  testInfo: {
    attach(
      name: string,
      options: { path: string; contentType: string },
    ): Promise<void>;
  },
  name: string,
) {
  const path = `test-results/screenshots/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}
