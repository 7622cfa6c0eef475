import { test, expect } from '@playwright/test';
import { demoUsers, saveScreenshot, signInAs, waitForEntity } from './helpers';

// The registry is seeded by scripts/seed-registry.mjs (examples/registry/demo.yaml): v3 of
// shoe-brand-classifier is served by inferenceservice:default/shoe-brand-classifier-serving
// (cv-serving/shoe-brand-classifier in cluster local), its production version.
const model = '/catalog/default/model/shoe-brand-classifier';

test('the impact of retiring a served model version lists its services, and its archive is refused', async ({
  page,
  request,
}, testInfo) => {
  await waitForEntity(request, 'model:default/shoe-brand-classifier');
  // cv-team owns the model: the archive button is enabled for its members
  await signInAs(page, demoUsers.cvTeam);
  await page.goto(`${model}/versions?version=3`);

  const impact = page.getByRole('region', { name: 'Impact of retiring v3' });
  const services = impact.getByRole('list', {
    name: /^Inference services \(\d+\)$/,
  });
  await expect(
    services.locator(
      'a[href$="/catalog/default/inferenceservice/shoe-brand-classifier-serving"]',
    ),
  ).toBeVisible();
  await expect(services).toContainText(
    'cv-serving/shoe-brand-classifier in local',
  );
  await expect(services).toContainText(/v3 \d+% \(deployed\)/);
  await saveScreenshot(page, testInfo, 'model-version-impact');

  // the archive shows the impact again and the server's refusal; nothing changes
  await impact.getByRole('button', { name: 'Archive v3' }).click();
  const dialog = page.getByRole('dialog', { name: 'Archive v3?' });
  await expect(
    dialog.getByRole('list', { name: /^Inference services \(\d+\)$/ }),
  ).toContainText('cv-serving/shoe-brand-classifier');
  await dialog.getByRole('button', { name: 'Archive', exact: true }).click();
  await expect(dialog).toContainText('v3 was not archived');
  await expect(dialog).toContainText(
    'cannot be archived while it serves traffic: cv-serving/shoe-brand-classifier in cluster local',
  );
  await saveScreenshot(page, testInfo, 'model-version-archive-refused');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(
    impact.getByRole('button', { name: 'Archive v3' }),
  ).toBeVisible();
});
