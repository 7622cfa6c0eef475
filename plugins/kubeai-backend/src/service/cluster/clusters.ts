/**
 * The clusters of `kubernetes.clusterLocatorMethods`, their namespaces, and the catalog entities
 * the portal registered.
 */
import type { ClusterApi, ClusterContext } from './context';

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

  api.get('/clusters/:cluster/namespaces', async (req, res) => {
    const gateway = assertCluster(req.params.cluster, 'path');
    const names = await gateway.namespaces(req.params.cluster);
    res.json({
      cluster: req.params.cluster,
      items: names.map(name => ({ name })),
      totalItems: names.length,
    });
  });

  api.get('/catalog-entities', async (req, res) => {
    res.json(await store.listPortalEntities(req.query));
  });
}
