/*
 * Foundation checks against the real local kube-apiserver (`yarn cluster:start`) with the upstream
 * KServe CRD: custom objects round-trip, structural-schema validation answers 422 with the field,
 * and RBAC confines the restricted user to namespace team-a.
 */
import { randomBytes } from 'node:crypto';
import { loadLocalKubeConfig, purgeNamespaces } from '../__testUtils__/localCluster';

// The first import of the ESM-only client can take seconds on a busy 2-core machine.
jest.setTimeout(60_000);

const suffix = randomBytes(3).toString('hex');
const namespace = `kubeai-foundation-${suffix}`;

const isvc = (name: string, model: Record<string, unknown>) => ({
  apiVersion: 'serving.kserve.io/v1beta1',
  kind: 'InferenceService',
  metadata: { name, namespace },
  spec: { predictor: { model } },
});
const isvcApi = {
  group: 'serving.kserve.io',
  version: 'v1beta1',
  plural: 'inferenceservices',
};

/** Runs `call` and returns the ApiException it throws (code and parsed body). */
async function apiError(call: () => Promise<unknown>) {
  try {
    await call();
  } catch (e: any) {
    const body = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
    return { code: e.code as number, body };
  }
  throw new Error('expected the apiserver to refuse the request');
}

describe('local control plane', () => {
  let admin: Awaited<ReturnType<typeof loadLocalKubeConfig>>;

  beforeAll(async () => {
    admin = await loadLocalKubeConfig('kubeai-admin');
    const core = admin.kubeConfig.makeApiClient(admin.k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  afterAll(async () => {
    // Everything in it, then the namespace (no namespace controller runs to do it).
    await purgeNamespaces(namespace);
  });

  it('creates a KServe InferenceService and reads it back', async () => {
    const objects = admin.kubeConfig.makeApiClient(admin.k8s.CustomObjectsApi);
    await objects.createNamespacedCustomObject({
      ...isvcApi,
      namespace,
      body: isvc('shoe-brand', {
        modelFormat: { name: 'pytorch' },
        storageUri: 's3://models/shoe-brand/3',
      }),
    });

    const stored: any = await objects.getNamespacedCustomObject({
      ...isvcApi,
      namespace,
      name: 'shoe-brand',
    });
    expect(stored.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(stored.spec.predictor.model).toEqual({
      modelFormat: { name: 'pytorch' },
      storageUri: 's3://models/shoe-brand/3',
    });
  });

  it('rejects an InferenceService without a model format name with 422 naming the field', async () => {
    const objects = admin.kubeConfig.makeApiClient(admin.k8s.CustomObjectsApi);
    const error = await apiError(() =>
      objects.createNamespacedCustomObject({
        ...isvcApi,
        namespace,
        body: isvc('no-format', {
          modelFormat: {},
          storageUri: 's3://models/x/1',
        }),
      }),
    );
    expect(error.code).toBe(422);
    expect(error.body.reason).toBe('Invalid');
    expect(error.body.message).toContain(
      'spec.predictor.model.modelFormat.name',
    );
    const missing = await objects
      .getNamespacedCustomObject({ ...isvcApi, namespace, name: 'no-format' })
      .catch((e: any) => e.code);
    expect(missing).toBe(404);
  });

  it('lets the restricted user write in team-a only', async () => {
    const restricted = await loadLocalKubeConfig('kubeai-restricted');
    const core = restricted.kubeConfig.makeApiClient(restricted.k8s.CoreV1Api);
    const configMap = (name: string) => ({
      metadata: { name },
      data: { purpose: 'rbac-check' },
    });

    const denied = await apiError(() =>
      core.createNamespacedConfigMap({
        namespace,
        body: configMap(`denied-${suffix}`),
      }),
    );
    expect(denied.code).toBe(403);
    expect(denied.body.message).toContain(`in the namespace "${namespace}"`);

    const name = `allowed-${suffix}`;
    const created = await core.createNamespacedConfigMap({
      namespace: 'team-a',
      body: configMap(name),
    });
    expect(created.metadata?.namespace).toBe('team-a');
    await core.deleteNamespacedConfigMap({ name, namespace: 'team-a' });
  });
});
