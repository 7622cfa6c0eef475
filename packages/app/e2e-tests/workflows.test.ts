import { test, expect } from '@playwright/test';
import { clusterAdmin, ensureNamespace } from './cluster';
import { guestToken, saveScreenshot, signInAsGuest, waitForEntity } from './helpers';

const isvcPath = '/apis/serving.kserve.io/v1beta1/namespaces/cv-serving/inferenceservices/shoe-brand-classifier';

test('roll back a canary from the inference service page changes the InferenceService on the cluster', async ({ page, request }, testInfo) => {
  await waitForEntity(request, 'inferenceservice:default/shoe-brand-classifier-serving');
  const kube = await clusterAdmin();
  await ensureNamespace(kube, 'cv-serving');

  // Serve v3, then send 10% to v4 as a canary — through the portal's API, as the scaffolder would.
  const token = await guestToken(request);
  const deploy = (body: object) =>
    request.post('/api/kubeai/inference-services', {
      headers: { Authorization: `Bearer ${token}` },
      data: {
        cluster: 'local',
        namespace: 'cv-serving',
        name: 'shoe-brand-classifier',
        serviceRef: 'inferenceservice:default/shoe-brand-classifier-serving',
        model: 'model:default/shoe-brand-classifier',
        ...body,
      },
    });
  const stable = await deploy({ modelVersion: 3 });
  expect(stable.status(), await stable.text()).toBeLessThan(300);
  const canary = await deploy({ modelVersion: 4, canaryTrafficPercent: 10 });
  expect(canary.status(), await canary.text()).toBeLessThan(300);

  const before = await (await kube.get(isvcPath)).json();
  expect(before.spec.predictor.canaryTrafficPercent).toBe(10);
  expect(before.spec.predictor.model.storageUri).toBe('s3://kubeai-models/cv/shoe-brand-classifier/4');

  await signInAsGuest(page);
  await page.goto('/catalog/default/inferenceservice/shoe-brand-classifier-serving/serving');
  await expect(page.getByText('Traffic split')).toBeVisible();
  await saveScreenshot(page, testInfo, 'inference-service-canary');

  await page.getByRole('button', { name: 'Roll back' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toContainText('Roll back to revision');
  await dialog.getByRole('button', { name: 'Roll back' }).click();
  await expect(page.getByRole('status')).toContainText('Done.');
  await saveScreenshot(page, testInfo, 'inference-service-rolled-back');

  // The cluster object is back on v3's artifact with no canary.
  await expect
    .poll(async () => {
      const isvc = await (await kube.get(isvcPath)).json();
      return [isvc.spec.predictor.model.storageUri, isvc.spec.predictor.canaryTrafficPercent ?? null];
    })
    .toEqual(['s3://kubeai-models/cv/shoe-brand-classifier/3', null]);
});

test('create a notebook from its template: the task succeeds and the Notebook exists', async ({ page }, testInfo) => {
  const kube = await clusterAdmin();
  const name = `e2e-notebook-${Date.now().toString(36)}`;

  await signInAsGuest(page);
  await page.goto('/create');
  await expect(page.getByText('Jupyter notebook').first()).toBeVisible();
  await page.goto('/create/templates/default/kubeai-notebook');

  await page.getByLabel('Cluster').click();
  await page.getByRole('option', { name: 'local' }).click();
  await page.getByLabel('Namespace').click();
  await page.getByRole('option', { name: 'team-a' }).click();
  await page.getByRole('textbox', { name: /^Name/ }).fill(name);
  await page.getByRole('button', { name: 'Next' }).click();
  // Second step: the defaults (scipy image, 1 CPU, 4Gi, no GPU, 10Gi workspace).
  await page.getByRole('button', { name: 'Review' }).click();
  await page.getByRole('button', { name: 'Create' }).click();

  // The template's output link appears only once every step has succeeded.
  await expect(page.getByText('Create the notebook', { exact: true })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Open in the portal' })).toBeVisible({ timeout: 60_000 });
  await saveScreenshot(page, testInfo, 'notebook-task');

  const notebook = await kube.get(`/apis/kubeflow.org/v1/namespaces/team-a/notebooks/${name}`);
  expect(notebook.status()).toBe(200);
  const object = await notebook.json();
  expect(object.metadata.labels['app.kubernetes.io/managed-by']).toBe('kubeai');
  await kube.delete(`/apis/kubeflow.org/v1/namespaces/team-a/notebooks/${name}`);
});
