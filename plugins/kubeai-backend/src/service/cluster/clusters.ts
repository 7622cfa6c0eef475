/**
 * The clusters of `kubernetes.clusterLocatorMethods`, their namespaces, and the catalog entities
 * the portal registered.
 */
import {
  clusterNamespaceRef,
  kubeaiClusterObjectCreatePermission,
} from '@kubeai/plugin-kubeai-common';
import type { ClusterNamespace } from '../../tenancy/NamespaceDirectory';
import { compact, type ClusterApi, type ClusterContext } from './context';

/** Registers `GET /clusters`, `GET /clusters/{cluster}/namespaces` and `GET /catalog-entities`. */
export function registerClusterListRoutes(
  api: ClusterApi,
  ctx: ClusterContext,
): void {
  const { store, assertCluster } = ctx;

  // ------------------------------------------------------------------ clusters

  api.get('/clusters', async (_req, res) => {
    const items = ctx.gateway?.listClusters() ?? [];
    res.json({ items, totalItems: items.length });
  });

  // writable first: what a namespace picker offers on top
  api.get('/clusters/:cluster/namespaces', async (req, res) => {
    const { cluster } = req.params;
    const gateway = assertCluster(cluster, 'path');
    const credentials = await ctx.access.credentials(req);
    const namespaces: ClusterNamespace[] = ctx.namespaces
      ? await ctx.namespaces.list(cluster)
      : (await gateway.namespaces(cluster)).map(namespace => ({
          cluster,
          namespace,
          exists: true,
        }));
    const writable = await ctx.access.allowed(
      credentials,
      namespaces.map(n => ({
        permission: kubeaiClusterObjectCreatePermission,
        resourceRef: clusterNamespaceRef(cluster, n.namespace),
      })),
    );
    const items = namespaces
      .map((n, i) =>
        compact({
          name: n.namespace,
          owner: n.owner,
          ownerSource: n.ownerSource,
          access: writable[i] ? ('write' as const) : ('read' as const),
        }),
      )
      .sort(
        (a, b) =>
          Number(b.access === 'write') - Number(a.access === 'write') ||
          a.name.localeCompare(b.name),
      );
    res.json({ cluster, items, totalItems: items.length });
  });

  api.get('/catalog-entities', async (req, res) => {
    res.json(await store.listPortalEntities(req.query));
  });
}
