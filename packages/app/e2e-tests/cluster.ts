import {
  request as playwrightRequest,
  type APIRequestContext,
} from '@playwright/test';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * The local control plane as cluster admin, for checking what the portal really did on the cluster.
 * scripts/e2e.sh exports KUBEAI_CLUSTER_URL / KUBEAI_CLUSTER_TOKEN (from `yarn cluster:env`).
 */
export async function clusterAdmin(): Promise<APIRequestContext> {
  const url = process.env.KUBEAI_CLUSTER_URL;
  const token = process.env.KUBEAI_CLUSTER_TOKEN;
  if (!url || !token) {
    throw new Error(
      'KUBEAI_CLUSTER_URL / KUBEAI_CLUSTER_TOKEN are not set: run yarn cluster:start and eval "$(yarn -s cluster:env)"',
    );
  }
  return playwrightRequest.newContext({
    baseURL: url,
    // The control plane's own CA signed its certificate; this is a loopback test connection.
    ignoreHTTPSErrors: true,
    extraHTTPHeaders: { Authorization: `Bearer ${token}` },
  });
}

/** Creates a namespace unless it exists; true when this call created it. */
export async function ensureNamespace(
  kube: APIRequestContext,
  name: string,
): Promise<boolean> {
  const res = await kube.post('/api/v1/namespaces', {
    data: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
  });
  if (res.status() !== 201 && res.status() !== 409) {
    throw new Error(
      `creating namespace ${name}: ${res.status()} ${await res.text()}`,
    );
  }
  return res.status() === 201;
}

/**
 * Deletes an object at once, if it exists: its finalizers cleared first (no controller runs on the
 * local control plane to clear a PVC's `kubernetes.io/pvc-protection` or an `orphan` finalizer).
 */
export async function removeObject(
  kube: APIRequestContext,
  objectPath: string,
) {
  const current = await kube.get(objectPath);
  if (current.status() === 404) return;
  if ((await current.json()).metadata?.finalizers?.length) {
    await kube.patch(objectPath, {
      headers: { 'Content-Type': 'application/merge-patch+json' },
      data: { metadata: { finalizers: null } },
    });
  }
  const res = await kube.delete(
    `${objectPath}?gracePeriodSeconds=0&propagationPolicy=Background`,
  );
  if (res.status() !== 404 && !res.ok()) {
    throw new Error(
      `deleting ${objectPath}: ${res.status()} ${await res.text()}`,
    );
  }
}

/**
 * Deletes everything in the namespaces, then the namespaces (scripts/test-cleanup.mjs purge: no
 * namespace controller runs on the local control plane to do it).
 */
export function purgeNamespaces(...names: string[]) {
  execFileSync(
    process.execPath,
    [
      path.resolve(__dirname, '../../../scripts/test-cleanup.mjs'),
      'purge',
      ...names,
    ],
    { stdio: 'inherit', timeout: 120_000 },
  );
}

/**
 * Lets a Backstage group edit in a namespace, as the portal impersonates it (`backstage:` + the
 * group ref, kubeai.tenancy.impersonation): a RoleBinding to the local control plane's ClusterRole
 * `kubeai:namespace-edit` (scripts/cluster/setup.mjs binds it in the team namespaces). Returns the
 * removal.
 */
export async function grantGroupEdit(
  kube: APIRequestContext,
  namespace: string,
  groupRef: string,
): Promise<() => Promise<void>> {
  const name = `kubeai-e2e-edit-${groupRef.replace(/[^a-z0-9]+/g, '-')}`;
  const collection = `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`;
  const res = await kube.post(collection, {
    data: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name, namespace },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'kubeai:namespace-edit',
      },
      subjects: [
        {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'Group',
          name: `backstage:${groupRef}`,
        },
      ],
    },
  });
  if (res.status() !== 201 && res.status() !== 409) {
    throw new Error(
      `binding ${groupRef} in ${namespace}: ${res.status()} ${await res.text()}`,
    );
  }
  return () => removeObject(kube, `${collection}/${name}`);
}
