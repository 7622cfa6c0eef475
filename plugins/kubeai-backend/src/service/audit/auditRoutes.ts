/** `GET /audit-events`: the audit trail, newest first (see ./AuditTrail.ts). */
import type { ApiRouter } from '@backstage/backend-openapi-utils';
import type { KubeaiOpenApiSpec } from '@kubeai/plugin-kubeai-node';
import type { AuditStore } from '../../database/AuditStore';
import type { AuditTrail } from './AuditTrail';

export function registerAuditRoutes(
  api: ApiRouter<KubeaiOpenApiSpec>,
  options: { store: AuditStore; trail: AuditTrail },
): void {
  api.get('/audit-events', async (req, res) => {
    // the events of answers this replica already sent are stored first: a page reads its own writes
    await options.trail.flushed();
    res.json(await options.store.list(req.query));
  });
}
