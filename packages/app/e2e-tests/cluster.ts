import { request as playwrightRequest, type APIRequestContext } from '@playwright/test';

/**
 * The local control plane as cluster admin, for checking what the portal really did on the cluster.
 * scripts/e2e.sh exports KUBEAI_CLUSTER_URL / KUBEAI_CLUSTER_TOKEN (from `yarn cluster:env`).
 */
export async function clusterAdmin(): Promise<APIRequestContext> {
  const url = process.env.KUBEAI_CLUSTER_URL;
  const token = process.env.KUBEAI_CLUSTER_TOKEN;
  if (!url || !token) {
    throw new Error('KUBEAI_CLUSTER_URL / KUBEAI_CLUSTER_TOKEN are not set: run yarn cluster:start and eval "$(yarn -s cluster:env)"');
  }
  return playwrightRequest.newContext({
    baseURL: url,
    // The control plane's own CA signed its certificate; this is a loopback test connection.
    ignoreHTTPSErrors: true,
    extraHTTPHeaders: { Authorization: `Bearer ${token}` },
  });
}

/** Creates a namespace unless it exists. */
export async function ensureNamespace(kube: APIRequestContext, name: string) {
  const res = await kube.post('/api/v1/namespaces', {
    data: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
  });
  if (res.status() !== 201 && res.status() !== 409) {
    throw new Error(`creating namespace ${name}: ${res.status()} ${await res.text()}`);
  }
}
