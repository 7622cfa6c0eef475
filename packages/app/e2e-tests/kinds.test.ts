import { test, expect } from '@playwright/test';
import { saveScreenshot, signInAsGuest, waitForEntity } from './helpers';

test.beforeEach(async ({ request }) => {
  await waitForEntity(request, 'model:default/shoe-brand-classifier');
  await waitForEntity(request, 'inferenceservice:default/shoe-brand-classifier-serving');
});

test('the catalog kind filter lists the ML kinds and shows the models', async ({ page }, testInfo) => {
  await signInAsGuest(page);

  await page.getByLabel('Kind').click();
  const options = page.getByRole('option');
  await expect(options.filter({ hasText: /^Model$/ })).toBeVisible();
  await expect(options.filter({ hasText: /^Dataset$/ })).toBeVisible();
  await expect(options.filter({ hasText: /^InferenceService$/ })).toBeVisible();
  await options.filter({ hasText: /^Model$/ }).click();

  await expect(page.getByRole('heading', { name: 'All Models (17)' }).first()).toBeVisible();
  await expect(
    page.getByRole('row').filter({ hasText: 'Shoe brand classifier' }).first(),
  ).toBeVisible();
  await saveScreenshot(page, testInfo, 'catalog-models');
});

test('a model page shows its datasets and the service that serves it', async ({ page }, testInfo) => {
  await signInAsGuest(page);
  await page.goto('/catalog/default/model/shoe-brand-classifier');

  await expect(page.getByRole('heading', { name: 'Shoe brand classifier' }).first()).toBeVisible();
  const relations = page.getByText('Relations and links').locator('xpath=ancestor::*[contains(@class,"MuiCard-root")][1]');
  await expect(relations).toBeVisible();
  await expect(relations.getByRole('link', { name: /shoe-brand-images|Shoe brand images/ })).toBeVisible();
  await expect(
    relations.getByRole('link', { name: /shoe-brand-classifier-serving|Shoe brand recognition service/ }),
  ).toBeVisible();

  // The catalog graph card draws the same relations.
  const graph = page.locator('svg').filter({ hasText: /Shoe brand recognition service|shoe-brand-classifier-serving/ });
  await expect(graph.first()).toBeVisible();
  await saveScreenshot(page, testInfo, 'model-page');
});
