import { test, expect } from '@playwright/test';
import {
  clusterAdmin,
  ensureNamespace,
  grantGroupEdit,
  purgeNamespaces,
  removeObject,
} from './cluster';
import {
  demoUsers,
  saveScreenshot,
  signInAs,
  userToken,
  waitForEntity,
} from './helpers';

// The production config decides by ownership: each test acts as a member of the team that owns
// the namespace and the entities it changes (cv-team: namespaces cv-serving by app-config and
// cv-team by its label, the shoe-brand models and services by their spec.owner).
const user = demoUsers.cvTeam;

const isvcPath =
  '/apis/serving.kserve.io/v1beta1/namespaces/cv-serving/inferenceservices/shoe-brand-classifier';

/** What a test left on the cluster, removed after it whether it passed or not. */
const cleanups: Array<() => Promise<void> | void> = [];
test.afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

test('roll back a canary from the inference service page changes the InferenceService on the cluster', async ({
  page,
  request,
}, testInfo) => {
  await waitForEntity(
    request,
    'inferenceservice:default/shoe-brand-classifier-serving',
  );
  const kube = await clusterAdmin();
  if (await ensureNamespace(kube, 'cv-serving')) {
    cleanups.push(() => purgeNamespaces('cv-serving'));
  } else {
    cleanups.push(() => removeObject(kube, isvcPath));
  }
  // The portal writes as the user (impersonation): the cluster's RBAC must let cv-team edit in
  // its serving namespace, as the control plane does in the team namespaces.
  cleanups.push(
    await grantGroupEdit(kube, 'cv-serving', 'group:default/cv-team'),
  );

  // Serve v3, then send 10% to v4 as a canary — through the portal's API, as the scaffolder would.
  const token = await userToken(request, user);
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
  expect(before.spec.predictor.model.storageUri).toBe(
    's3://kubeai-models/cv/shoe-brand-classifier/4',
  );

  await signInAs(page, user);
  await page.goto(
    '/catalog/default/inferenceservice/shoe-brand-classifier-serving/serving',
  );
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
      return [
        isvc.spec.predictor.model.storageUri,
        isvc.spec.predictor.canaryTrafficPercent ?? null,
      ];
    })
    .toEqual(['s3://kubeai-models/cv/shoe-brand-classifier/3', null]);
});

test('create a notebook from its template, then delete it from its run page', async ({
  page,
  request,
}, testInfo) => {
  // Three pages (template, run, delete) and a scaffolder task: more than one page's 60 s on a busy machine.
  test.slow();
  const kube = await clusterAdmin();
  const name = `e2e-notebook-${Date.now().toString(36)}`;
  const notebookPath = `/apis/kubeflow.org/v1/namespaces/cv-team/notebooks/${name}`;

  await signInAs(page, user);
  await page.goto('/create');
  await expect(page.getByText('Jupyter notebook').first()).toBeVisible();
  await page.goto('/create/templates/default/kubeai-notebook');

  await page.getByLabel('Cluster').click();
  await page.getByRole('option', { name: 'local' }).click();
  await page.getByLabel('Namespace').click();
  // cv-team's own namespace (labelled kubeai.io/owner by the control plane), writable for them
  await page.getByRole('option', { name: /^cv-team/ }).click();
  await page.getByRole('textbox', { name: /^Name/ }).fill(name);
  await page.getByRole('button', { name: 'Next' }).click();
  // Second step: the defaults (scipy image, 1 CPU, 4Gi, no GPU, 10Gi workspace).
  await page.getByRole('button', { name: 'Review' }).click();
  await page.getByRole('button', { name: 'Create' }).click();

  // The template's output link appears only once every step has succeeded.
  await expect(
    page.getByText('Create the notebook', { exact: true }),
  ).toBeVisible();
  await expect(
    page.getByRole('link', { name: 'Open in the portal' }),
  ).toBeVisible({ timeout: 60_000 });
  await saveScreenshot(page, testInfo, 'notebook-task');

  try {
    const notebook = await kube.get(notebookPath);
    expect(notebook.status()).toBe(200);
    const object = await notebook.json();
    expect(object.metadata.labels['app.kubernetes.io/managed-by']).toBe(
      'kubeai',
    );

    // The notebook's run, as the registry recorded it.
    const token = await userToken(request, user);
    const runs = await request.get('/api/kubeai/runs', {
      headers: { Authorization: `Bearer ${token}` },
      params: { kind: 'notebook', limit: 1000 },
    });
    expect(runs.status(), await runs.text()).toBe(200);
    const run = (await runs.json()).items.find(
      (r: { cluster: string; namespace: string; name: string }) =>
        r.cluster === 'local' && r.namespace === 'cv-team' && r.name === name,
    );
    expect(run, `no run recorded for notebook cv-team/${name}`).toBeTruthy();

    // Delete it from its run page: the confirmation names it and lists the dry run's objects.
    await page.goto(`/kubeai/runs/${run.id}`);
    await expect(page.getByRole('heading', { name })).toBeVisible();
    // Its pod logs, read through the backend from the apiserver: no controller here made a pod.
    await expect(page.getByText(/No pods to read logs from/)).toBeVisible();
    await page.getByRole('button', { name: 'Delete from cluster' }).click();
    const dialog = page.getByRole('dialog', {
      name: `Delete Notebook cv-team/${name}?`,
    });
    await expect(dialog).toContainText(`will be deleted from cluster local`);
    await expect(
      dialog.getByRole('list', { name: 'Objects to delete' }),
    ).toContainText(`Notebook cv-team/${name}`);
    await saveScreenshot(page, testInfo, 'notebook-delete-confirm');
    await dialog.getByRole('button', { name: 'Delete' }).click();

    const done = page.getByRole('status', { name: 'Deleted from the cluster' });
    await expect(done).toContainText(`Notebook cv-team/${name}`);
    // The run is reloaded: Stopped.
    await expect(
      page.getByText('Stopped', { exact: true }).first(),
    ).toBeVisible();
    await saveScreenshot(page, testInfo, 'notebook-deleted');

    // Gone from the apiserver (or on its way out).
    await expect
      .poll(async () => {
        const res = await kube.get(notebookPath);
        if (res.status() === 404) return 'gone';
        const current = await res.json();
        return current.metadata?.deletionTimestamp
          ? 'gone'
          : `still there (${res.status()})`;
      })
      .toBe('gone');
    const after = await request.get(`/api/kubeai/runs/${run.id}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect((await after.json()).phase).toBe('Stopped');
  } finally {
    // Leaves nothing behind when a step above failed (404 once the portal deleted it); the
    // workspace claim's pvc-protection finalizer would keep it Terminating (no controller here).
    await removeObject(kube, notebookPath);
    await removeObject(
      kube,
      `/api/v1/namespaces/cv-team/persistentvolumeclaims/${name}-workspace`,
    );
  }
});
