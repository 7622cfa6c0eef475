import { test, expect } from '@playwright/test';
import {
  demoUsers,
  saveScreenshot,
  signInAs,
  userToken,
  waitForEntity,
} from './helpers';

// The registry is seeded by scripts/seed-registry.mjs (examples/registry/demo.yaml): version n of
// shoe-brand-classifier is produced by the succeeded training run cv-training/shoe-brand-train-<n>,
// which read version `v<n>` of dataset:default/shoe-brand-images.
const model = '/catalog/default/model/shoe-brand-classifier';

test('a model version shows the run that trained it and the dataset version it read', async ({
  page,
  request,
}, testInfo) => {
  await waitForEntity(request, 'model:default/shoe-brand-classifier');
  // the run id is the registry's, not the demo file's: read it as the page will
  const token = await userToken(request, demoUsers.cvTeam);
  const res = await request.get(
    '/api/kubeai/models/default/shoe-brand-classifier/versions/3',
    { headers: { Authorization: `Bearer ${token}` } },
  );
  expect(res.status(), await res.text()).toBe(200);
  const { runId } = (await res.json()) as { runId?: string };
  expect(runId).toBeTruthy();

  await signInAs(page, demoUsers.cvTeam);
  await page.goto(`${model}/versions?version=3`);
  const provenance = page.getByRole('region', { name: 'Provenance of v3' });
  await expect(provenance).toContainText(
    `v3 trained by run ${runId!.slice(0, 8)}`,
  );
  await expect(provenance).toContainText(
    'cv-training/shoe-brand-train-3 in local, Succeeded',
  );
  await expect(provenance).toContainText('on dataset shoe-brand-images v3');
  await expect(
    provenance.getByRole('link', { name: 'shoe-brand-images' }),
  ).toHaveAttribute('href', /\/catalog\/default\/dataset\/shoe-brand-images$/);
  await saveScreenshot(page, testInfo, 'model-version-provenance');

  // the run link opens the run, which lists the same dataset version as its input
  await provenance.getByRole('link', { name: `Run ${runId}` }).click();
  await expect(page).toHaveURL(new RegExp(`/kubeai/runs/${runId}$`));
  await expect(
    page.getByRole('heading', { name: 'shoe-brand-train-3' }),
  ).toBeVisible();
  // the link shows the dataset's name, then its catalog title once the catalog answered (a race
  // the assertion must not depend on): the version, and the link to that dataset
  const inputs = page.getByRole('list', { name: 'Inputs' });
  await expect(inputs).toContainText('version v3');
  await expect(inputs.getByRole('link')).toHaveAttribute(
    'href',
    /\/catalog\/default\/dataset\/shoe-brand-images$/,
  );
});
