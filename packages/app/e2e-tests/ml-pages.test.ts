import { test, expect } from '@playwright/test';
import { saveScreenshot, signInAsGuest, waitForEntity } from './helpers';

// The registry is seeded by scripts/seed-registry.mjs (examples/registry/demo.yaml) before these run:
// shoe-brand-classifier has versions 1–4 with ROC / PR curves, v3 production, v4 canary.
const model = '/catalog/default/model/shoe-brand-classifier';

test.beforeEach(async ({ page, request }) => {
  await waitForEntity(request, 'model:default/shoe-brand-classifier');
  await signInAsGuest(page);
});

test('compare two model versions: metric diff and their ROC and PR curves', async ({ page }, testInfo) => {
  await page.goto(`${model}/versions`);
  const versions = page.getByRole('table').filter({ hasText: 'production' });
  await expect(versions.first()).toBeVisible();

  await page.getByLabel('Version A').click();
  await page.getByRole('option', { name: /^v3/ }).click();
  await page.getByLabel('Version B').click();
  await page.getByRole('option', { name: /^v4/ }).click();

  const metrics = page.getByRole('table', { name: 'Metrics of v3 and v4' });
  await expect(metrics).toBeVisible();
  // auc 0.938 → 0.951 in the demo registry
  await expect(metrics.getByRole('row').filter({ hasText: 'auc' })).toContainText('+0.013');
  await expect(page.getByRole('img', { name: /ROC curve/ })).toBeVisible();
  await expect(page.getByRole('img', { name: /Precision-recall curve/ })).toBeVisible();
  await saveScreenshot(page, testInfo, 'model-versions-compare');
});

test('lineage of a model leads to the service that runs it', async ({ page }, testInfo) => {
  await page.goto(`${model}/lineage`);
  await expect(page.getByRole('toolbar', { name: 'Lineage graph controls' })).toBeVisible();
  const nodes = page.getByRole('list', { name: 'Lineage nodes' });
  await expect(nodes.getByRole('button', { name: /shoe-brand-images@v4/ })).toBeVisible();
  await saveScreenshot(page, testInfo, 'model-lineage');

  await nodes.getByRole('button', { name: /shoe-brand-classifier-serving/ }).click();
  await expect(page.getByTestId('lineage-status')).toContainText('shoe-brand-classifier-serving');
  await page.getByRole('link', { name: 'Open inference service' }).click();
  await expect(page).toHaveURL(/\/catalog\/default\/inferenceservice\/shoe-brand-classifier-serving/);
  await expect(page.getByRole('heading', { name: 'Shoe brand recognition service' }).first()).toBeVisible();
});
